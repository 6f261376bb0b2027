#!/usr/bin/env bash
# The cluster across hosts, on one machine: three network namespaces joined
# by a bridge play three hosts. mpirun (in the root namespace) reaches them
# through an rsh-style agent that runs `ip netns exec HOST sh -c "..."`;
# discovery and the monitor listen on the bridge's address in the root
# namespace. Then:
#   a leader is elected; discovery lists every rank under its namespace's
#   address; the monitor shows every node there; mutating endpoints refuse a
#   request without the auth token; pausing the leader through the monitor
#   gives a new one; SIGINT to launch_cluster stops every process in every
#   namespace (checked by PID and by `ip netns pids`).
# Everything it creates (namespaces, bridge, veth pairs, files) is removed on
# exit, pass or fail. Names carry this script's PID, and the subnet is one no
# interface uses yet, so parallel runs do not collide. Traffic goes only to
# the namespaces' addresses and loopback. No /etc/hosts entries are made: the
# hostfile holds addresses.
#
# Usage: run_multihost.sh BUILD_DIR     exit 0 pass, 1 fail, 77 skipped
set -uo pipefail

readonly SKIP=77
BUILD_DIR="$(cd "${1:?usage: run_multihost.sh BUILD_DIR}" && pwd)"
readonly BUILD_DIR
readonly HOSTS=3

skip() {
  echo "SKIPPED: $*" >&2
  exit "$SKIP"
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
say() { echo "[$(date +%H:%M:%S)] $*"; }

# ---- can we run at all? --------------------------------------------------------------------

[[ "$(id -u)" -eq 0 ]] || skip "the multihost test needs root (it creates network namespaces)"
command -v ip >/dev/null 2>&1 || skip "the multihost test needs iproute2 ('ip'); run scripts/bootstrap.sh"
command -v python3 >/dev/null 2>&1 || skip "the multihost test needs python3 for its HTTP checks"
command -v mpirun >/dev/null 2>&1 || skip "the multihost test needs mpirun (openmpi-bin)"
for program in launch_cluster raft_node discovery_server web_monitor; do
  [[ -x "$BUILD_DIR/$program" ]] || fail "$BUILD_DIR/$program is missing; build it first"
done

readonly ID=$$
readonly TAG="rmh${ID}"             # interface names: at most 15 characters
readonly BRIDGE="${TAG}b"
WORK="$(mktemp -d "/tmp/raft-multihost-${ID}.XXXXXX")"
readonly WORK
NAMESPACES=()
LAUNCHER_PID=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$LAUNCHER_PID" ]] && kill -0 "$LAUNCHER_PID" 2>/dev/null; then
    # Its own process group (setsid): the launcher and everything it started.
    kill -TERM -- "-$LAUNCHER_PID" 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$LAUNCHER_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$LAUNCHER_PID" 2>/dev/null
  fi
  local ns pid
  for ns in "${NAMESPACES[@]}"; do
    # Only processes inside our own namespaces, by PID.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null   # takes its end of the veth pair, and so both ends
  done
  ip link del "$BRIDGE" 2>/dev/null
  for i in $(seq 0 $((HOSTS - 1))); do ip link del "${TAG}v$i" 2>/dev/null; done
  if ((status != 0)) && [[ -d "$WORK" ]]; then
    echo "---- launch_cluster output ----" >&2
    tail -n 60 "$WORK/launcher.log" >&2 2>/dev/null
    for f in "$WORK"/data/node-*/node.log; do
      [[ -f "$f" ]] || continue
      echo "---- $f (last lines) ----" >&2
      tail -n 15 "$f" >&2
    done
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the hosts -------------------------------------------------------------------------------

# A /24 in 10.199.0.0/16 that no interface on this machine is using.
SUBNET=""
for offset in $(seq 0 249); do
  octet=$(((ID + offset) % 250 + 1))
  if ! ip -4 -o addr show | grep -q " 10\.199\.${octet}\."; then
    SUBNET="10.199.${octet}"
    break
  fi
done
[[ -n "$SUBNET" ]] || fail "no free /24 in 10.199.0.0/16"
readonly SUBNET
readonly BRIDGE_ADDR="${SUBNET}.1"

say "making $HOSTS hosts on ${SUBNET}.0/24 (bridge $BRIDGE)"
ip link add "$BRIDGE" type bridge || skip "cannot create a bridge (no CAP_NET_ADMIN here?)"
ip addr add "${BRIDGE_ADDR}/24" dev "$BRIDGE" || fail "cannot address the bridge"
ip link set "$BRIDGE" up || fail "cannot bring the bridge up"
HOST_ADDRS=()
for i in $(seq 0 $((HOSTS - 1))); do
  ns="${TAG}-h$i"
  addr="${SUBNET}.$((10 + i))"
  ip netns add "$ns" || skip "cannot create network namespace $ns (no privilege for ip netns here?)"
  NAMESPACES+=("$ns")
  ip link add "${TAG}v$i" type veth peer name "${TAG}p$i" || fail "cannot create a veth pair"
  ip link set "${TAG}v$i" master "$BRIDGE" up || fail "cannot attach ${TAG}v$i to the bridge"
  ip link set "${TAG}p$i" netns "$ns" || fail "cannot move ${TAG}p$i into $ns"
  ip -n "$ns" addr add "${addr}/24" dev "${TAG}p$i" || fail "cannot address $ns"
  ip -n "$ns" link set "${TAG}p$i" up || fail "cannot bring up ${TAG}p$i in $ns"
  ip -n "$ns" link set lo up || fail "cannot bring up loopback in $ns"
  HOST_ADDRS+=("$addr")
  echo "$addr $ns" >>"$WORK/hostmap"
  echo "$addr slots=1" >>"$WORK/hostfile"
done


# The rsh agent: mpirun calls it as `agent [options] HOST COMMAND...`, as it
# would call ssh; it runs COMMAND inside HOST's namespace instead.
cat >"$WORK/netns_agent.sh" <<EOF
#!/bin/sh
while [ \$# -gt 0 ]; do
  case "\$1" in
    -*) shift ;;
    *) break ;;
  esac
done
host="\$1"
shift
ns=\$(awk -v h="\$host" '\$1 == h { print \$2 }' "$WORK/hostmap")
if [ -z "\$ns" ]; then
  echo "netns_agent: unknown host \$host" >&2
  exit 255
fi
exec ip netns exec "\$ns" sh -c "\$*"
EOF
chmod +x "$WORK/netns_agent.sh"

# ---- HTTP helpers (python3: JSON, no proxies) ----------------------------------------------

# http METHOD URL [BODY] [TOKEN] -> prints "STATUS BODY"
http() {
  python3 - "$@" <<'EOF'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 and sys.argv[3] else None
token = sys.argv[4] if len(sys.argv) > 4 else ""
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
req = urllib.request.Request(url, data=body, method=method)
if body is not None:
    req.add_header("Content-Type", "application/json")
if token:
    req.add_header("Authorization", "Bearer " + token)
try:
    with opener.open(req, timeout=5) as r:
        print(r.status, r.read().decode(errors="replace").replace("\n", " "))
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(errors="replace").replace("\n", " "))
except Exception as e:
    print(0, str(e).replace("\n", " "))
EOF
}

# json_eval URL EXPR -> prints EXPR evaluated with `d` = the JSON at URL
json_eval() {
  python3 - "$@" <<'EOF'
import json, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(sys.argv[1], timeout=5) as r:
        d = json.load(r)
    print(eval(sys.argv[2]))
except Exception as e:
    print("ERROR", e)
EOF
}

# wait_until SECONDS DESCRIPTION COMMAND... : polls COMMAND until it succeeds.
wait_until() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    "$@" && return 0
    if [[ -n "$LAUNCHER_PID" ]] && ! kill -0 "$LAUNCHER_PID" 2>/dev/null; then
      fail "launch_cluster exited while waiting for: $what"
    fi
    sleep 0.5
  done
  fail "timed out after ${limit}s waiting for: $what"
}

# ---- the cluster -----------------------------------------------------------------------------

# Any ports will do on addresses only this test has; still, not the defaults.
readonly DISCOVERY_PORT=$((21000 + ID % 1000))
readonly MONITOR_PORT=$((22000 + ID % 1000))
readonly BASE_PORT=23000
readonly DISCOVERY="http://${BRIDGE_ADDR}:${DISCOVERY_PORT}"
readonly MONITOR="http://${BRIDGE_ADDR}:${MONITOR_PORT}"

say "starting launch_cluster across ${HOST_ADDRS[*]}"
# PMIX_MCA_gds=hash: PMIx's shared-memory data store fails between these
# "hosts" (they share /dev/shm but not a network); the hash store does not.
# setsid: its own process group, so the cleanup can stop all of it at once.
PMIX_MCA_gds=hash setsid "$BUILD_DIR/launch_cluster" \
  --nodes "$HOSTS" \
  --hostfile "$WORK/hostfile" \
  --bind "$BRIDGE_ADDR" \
  --discovery_port "$DISCOVERY_PORT" \
  --monitor_port "$MONITOR_PORT" \
  --base_port "$BASE_PORT" \
  --mpi_if "${SUBNET}.0/24" \
  --mca "plm_rsh_agent=$WORK/netns_agent.sh" \
  --data_dir "$WORK/data" \
  --fresh \
  --fsync never \
  --min_election_timeout 1000 \
  --max_election_timeout 2000 \
  --heartbeat_interval 200 \
  --initial_delay_ms 500 \
  --leader_timeout_s 90 \
  </dev/null >"$WORK/launcher.log" 2>&1 &
LAUNCHER_PID=$!

cluster_up() { grep -q "is up" "$WORK/launcher.log"; }
wait_until 120 "launch_cluster to report the cluster up" cluster_up
say "launch_cluster reports the cluster up"
TOKEN="$(sed -n 's/^  Auth token: \([^ ]*\) .*/\1/p' "$WORK/launcher.log" | head -n1)"
[[ -n "$TOKEN" ]] || fail "launch_cluster printed no auth token for a multi-host run"
grep -q "Monitor:    ${MONITOR}/#token=${TOKEN}" "$WORK/launcher.log" ||
  fail "launch_cluster did not print the monitor URL on the bridge address"

# ---- 1. a leader, and every rank registered under its namespace's address ------------------

leader_known() { [[ "$(json_eval "$DISCOVERY/state" 'd.get("leader") is not None')" == True ]]; }
wait_until 60 "discovery to know a leader" leader_known

EXPECTED_ADDRS="$(for a in "${HOST_ADDRS[@]}"; do echo "$a"; done | sort | tr '\n' ' ')"
registered_everywhere() {
  local got
  got="$(json_eval "$DISCOVERY/state" \
    '" ".join(sorted(v.rsplit(":", 1)[0] for v in d["nodes"].values())) + " "')"
  [[ "$got" == "$EXPECTED_ADDRS" ]]
}
wait_until 30 "discovery to list one rank per namespace address" registered_everywhere
NODES="$(json_eval "$DISCOVERY/state" \
  '" ".join(k + "=" + v for k, v in sorted(d["nodes"].items(), key=lambda kv: int(kv[0])))')"
say "discovery lists: $NODES"
for entry in $NODES; do
  rank="${entry%%=*}"
  address="${entry#*=}"
  [[ "${address##*:}" == "$((BASE_PORT + rank))" ]] || fail "rank $rank registered port ${address##*:}"
  # The rank answers at that address, from inside its namespace.
  got="$(json_eval "http://$address/status" 'd["rank"]')"
  [[ "$got" == "$rank" ]] || fail "http://$address/status answered rank '$got', expected $rank"
done
for ns in "${NAMESPACES[@]}"; do
  count=0
  for pid in $(ip netns pids "$ns"); do
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == raft_node ]] && count=$((count + 1))
  done
  ((count == 1)) || fail "namespace $ns runs $count raft_node processes, expected 1"
done
say "one raft_node per namespace, each registered under its own address"

# ---- 2. the monitor shows every node at its registered address -------------------------------

monitor_sees_all() {
  [[ "$(json_eval "$MONITOR/api/cluster" \
    'sum(1 for n in d["nodes"] if n.get("reachable") and n.get("registered") and n["state"] != "offline" and n["api_url"].split("//")[1].rsplit(":", 1)[0] in "'"$EXPECTED_ADDRS"'".split())')" == "$HOSTS" ]]
}
wait_until 30 "the monitor to show all $HOSTS nodes at their registered addresses" monitor_sees_all
LEADER="$(json_eval "$DISCOVERY/state" 'd["leader"]')"
TERM_BEFORE="$(json_eval "$DISCOVERY/state" 'd["leader_term"]')"
say "monitor shows all $HOSTS nodes; leader is node $LEADER (term $TERM_BEFORE)"

# ---- 3. mutating endpoints want the token ------------------------------------------------------

leader_address="$(json_eval "$DISCOVERY/state" 'd["nodes"][d["leader"]]')"
answer="$(http POST "http://$leader_address/command" '{"cmd":"check_timers"}')"
[[ "${answer%% *}" == 401 ]] || fail "node /command without the token answered: $answer"
answer="$(http POST "http://$leader_address/command" '{"cmd":"check_timers"}' "wrong-token-0000000")"
[[ "${answer%% *}" == 401 ]] || fail "node /command with a wrong token answered: $answer"
answer="$(http POST "http://$leader_address/command" '{"cmd":"check_timers"}' "$TOKEN")"
[[ "${answer%% *}" == 200 ]] || fail "node /command with the token answered: $answer"
answer="$(http PUT "http://$leader_address/kv/colour" 'green')"
[[ "${answer%% *}" == 401 ]] || fail "node PUT /kv without the token answered: $answer"
answer="$(http POST "$DISCOVERY/register" '{"node_id":"9","address":"10.0.0.9:1"}')"
[[ "${answer%% *}" == 401 ]] || fail "discovery /register without the token answered: $answer"
answer="$(http POST "$DISCOVERY/reset" '')"
[[ "${answer%% *}" == 401 ]] || fail "discovery /reset without the token answered: $answer"
answer="$(http POST "$MONITOR/api/nodes/$LEADER/command" '{"cmd":"pause"}')"
[[ "${answer%% *}" == 401 ]] || fail "monitor command proxy without the token answered: $answer"
say "node, discovery and monitor refuse writes without the token (401)"

# ---- 4. pausing the leader gives a new one -------------------------------------------------------

answer="$(http POST "$MONITOR/api/nodes/$LEADER/command" '{"cmd":"pause"}' "$TOKEN")"
[[ "${answer%% *}" == 200 ]] || fail "pausing node $LEADER through the monitor answered: $answer"
new_leader() {
  [[ "$(json_eval "$DISCOVERY/state" \
    'd.get("leader") not in (None, "'"$LEADER"'") and d["leader_term"] > '"$TERM_BEFORE")" == True ]]
}
wait_until 60 "a new leader after pausing node $LEADER" new_leader
say "node $LEADER paused; new leader is node $(json_eval "$DISCOVERY/state" 'd["leader"]') (term $(json_eval "$DISCOVERY/state" 'd["leader_term"]'))"

# ---- 5. Ctrl+C stops every process in every namespace --------------------------------------------

PIDS="$LAUNCHER_PID $(ps -o pid= --ppid "$LAUNCHER_PID" | tr '\n' ' ')"
for ns in "${NAMESPACES[@]}"; do PIDS+=" $(ip netns pids "$ns" | tr '\n' ' ')"; done
say "sending SIGINT to launch_cluster (pid $LAUNCHER_PID); watching pids:$(echo " $PIDS" | tr -s ' ')"
kill -INT "$LAUNCHER_PID"
deadline=$((SECONDS + 40))
while kill -0 "$LAUNCHER_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
kill -0 "$LAUNCHER_PID" 2>/dev/null && fail "launch_cluster still runs 40 s after SIGINT"
wait "$LAUNCHER_PID"
launcher_status=$?
LAUNCHER_PID=""
((launcher_status == 0)) || fail "launch_cluster exited with $launcher_status after SIGINT, expected 0"
grep -q "stopped every process" "$WORK/launcher.log" || fail "launch_cluster did not confirm the stop"
for pid in $PIDS; do
  # A zombie has been stopped; only a live process counts.
  if [[ -d "/proc/$pid" ]] && [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]]; then
    fail "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) still runs after SIGINT"
  fi
done
for ns in "${NAMESPACES[@]}"; do
  left="$(ip netns pids "$ns" | tr '\n' ' ')"
  [[ -z "${left// /}" ]] || fail "namespace $ns still has processes after SIGINT: $left"
done
say "SIGINT stopped every process in every namespace; launch_cluster exited 0"
echo "PASS: multihost cluster over $HOSTS network-namespace hosts"
