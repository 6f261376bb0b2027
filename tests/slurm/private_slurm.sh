# shellcheck shell=bash disable=SC2034,SC2317
# (SC2034: the SLURM_ variables are for the sourcing script; SC2317: small
# functions are called through _slurm_wait.)
# A private Slurm on one machine, for tests (sourced by run_slurm.sh; bash).
#
# slurm_up N brings up munged, slurmctld and N slurmd, each slurmd on a host
# of its own made of namespaces:
#   - a network namespace with one address on a bridge (the "cluster
#     network"); slurmctld and the submitting shell stay in the root
#     namespace, on the bridge's address, like a login node;
#   - a UTS namespace, so the node's hostname is its NodeName (Open MPI and
#     launch_cluster recognise the node they run on by it);
#   - a mount namespace with its own /tmp and /dev/shm (Slurm's PMIx plugin
#     and Open MPI keep per-node files there under fixed names, which would
#     collide between "hosts" sharing one /tmp) and an /etc/hosts that
#     names every node, as a cluster's name service would.
# Everything else, /var/tmp (where $SLURM_WORK lives) included, is shared
# between the nodes like a cluster's shared file system, and so are the
# folders under /tmp listed in SLURM_SHARED_DIRS (a clean clone there).
# slurmd is entered with nsenter rather than `ip netns exec`, which mounts a
# fresh /sys and so hides the cgroup hierarchy slurmd 22.05 insists on.
#
# It needs root. slurm_up returns 77 (skip) with SLURM_SKIP_REASON set when
# this machine cannot run it (no Slurm installed, no namespaces, slurmctld
# does not start) and 1 on any other failure. slurm_down removes every
# process, namespace, link and file it made, by PID and by name; names carry
# $$ so parallel runs do not collide. Clients find the cluster through
# SLURM_CONF, which slurm_up exports.

SLURM_NODES=()       # node names, node0..
SLURM_NODE_NS=()     # their network namespaces
SLURM_NODE_ADDRS=()  # their addresses on the bridge
SLURM_DAEMON_PIDS=() # munged, slurmctld and every slurmd, by PID
SLURM_SHARED_DIRS=() # folders under /tmp that every node sees (set before slurm_up)
SLURM_WORK=""
SLURM_SKIP_REASON=""
SLURM_BRIDGE_ADDR=""

_slurm_tag="rsl$$"  # interface names: at most 15 characters
_slurm_bridge="${_slurm_tag}b"

_slurm_skip() {
  SLURM_SKIP_REASON="$*"
  return 77
}

_slurm_log() { echo "[$(date +%H:%M:%S)] slurm: $*"; }

# _slurm_wait SECONDS COMMAND...: polls COMMAND until it succeeds.
_slurm_wait() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

_slurm_check_tools() {
  [[ "$(id -u)" -eq 0 ]] || _slurm_skip "a private Slurm needs root (slurmd, namespaces)" || return
  local tool
  for tool in munged slurmctld slurmd salloc sbatch srun scancel squeue scontrol sinfo; do
    command -v "$tool" >/dev/null 2>&1 ||
      _slurm_skip "$tool is not installed (apt-get install slurmctld slurmd slurm-client munge)" ||
      return
  done
  for tool in ip nsenter unshare python3; do
    command -v "$tool" >/dev/null 2>&1 || _slurm_skip "$tool is not installed" || return
  done
}

# A free /24 in 10.197.0.0/16 and a free TCP port for slurmctld.
_slurm_pick_network() {
  local offset octet
  for offset in $(seq 0 249); do
    octet=$((($$ + offset) % 250 + 1))
    if ! ip -4 -o addr show | grep -q " 10\.197\.${octet}\."; then
      SLURM_SUBNET="10.197.${octet}"
      break
    fi
  done
  [[ -n "${SLURM_SUBNET:-}" ]] || { echo "no free /24 in 10.197.0.0/16" >&2; return 1; }
  SLURM_BRIDGE_ADDR="${SLURM_SUBNET}.1"
  SLURMCTLD_PORT="$(python3 -c '
import socket, sys
for port in range(20000 + int(sys.argv[1]) % 10000, 32000):
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
            print(port)
            break
        except OSError:
            pass' "$$")"
  [[ -n "$SLURMCTLD_PORT" ]] || { echo "no free port for slurmctld" >&2; return 1; }
}

_slurm_make_hosts() {
  local count=$1 i ns addr
  ip link add "$_slurm_bridge" type bridge || _slurm_skip "cannot create a bridge (no CAP_NET_ADMIN?)" || return
  ip addr add "${SLURM_BRIDGE_ADDR}/24" dev "$_slurm_bridge" || return 1
  ip link set "$_slurm_bridge" up || return 1
  cp /etc/hosts "$SLURM_WORK/hosts"
  for ((i = 0; i < count; i++)); do
    ns="${_slurm_tag}-n$i"
    addr="${SLURM_SUBNET}.$((10 + i))"
    ip netns add "$ns" || _slurm_skip "cannot create network namespace $ns" || return
    SLURM_NODE_NS+=("$ns")
    ip link add "${_slurm_tag}v$i" type veth peer name "${_slurm_tag}p$i" || return 1
    ip link set "${_slurm_tag}v$i" master "$_slurm_bridge" up || return 1
    ip link set "${_slurm_tag}p$i" netns "$ns" || return 1
    ip -n "$ns" addr add "${addr}/24" dev "${_slurm_tag}p$i" || return 1
    ip -n "$ns" link set "${_slurm_tag}p$i" up || return 1
    ip -n "$ns" link set lo up || return 1
    SLURM_NODES+=("node$i")
    SLURM_NODE_ADDRS+=("$addr")
    echo "$addr node$i" >>"$SLURM_WORK/hosts"
  done
}

_slurm_start_munge() {
  local dir="$SLURM_WORK/munge"
  mkdir -m 700 "$dir" || return 1
  dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none || return 1
  chmod 400 "$dir/munge.key"
  # -f: the socket's folder is private to root, which munged warns about.
  munged -f --socket="$dir/munge.sock" --key-file="$dir/munge.key" --pid-file="$dir/munged.pid" \
    --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" ||
    _slurm_skip "munged does not start: $(tail -n 3 "$dir/munged.log" 2>/dev/null)" || return
  _slurm_wait 10 test -s "$dir/munged.pid" || return 1
  SLURM_DAEMON_PIDS+=("$(cat "$dir/munged.pid")")
}

_slurm_write_conf() {
  local w="$SLURM_WORK" i
  # proctrack/linuxproc and task/affinity: no cgroups needed (sites use
  # proctrack/cgroup, which also catches processes that leave the tree).
  # KillWait as Slurm's default, 30 s between scancel's SIGTERM and its
  # SIGKILL: what stops the cluster sooner is launch_cluster itself.
  # config_overrides: every node has 4 CPUs whatever this machine has, so
  # the jobs' shapes (-N 3 -n 5) fit everywhere.
  cat >"$w/slurm.conf" <<EOF
ClusterName=raft$$
SlurmctldHost=$(hostname -s)($SLURM_BRIDGE_ADDR)
SlurmctldPort=$SLURMCTLD_PORT
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$w/munge/munge.sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$w/ctld
SlurmdSpoolDir=$w/spool/%n
SlurmctldPidFile=$w/slurmctld.pid
SlurmdPidFile=$w/slurmd-%n.pid
SlurmctldLogFile=$w/slurmctld.log
SlurmdLogFile=$w/slurmd-%n.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
KillWait=30
EOF
  for ((i = 0; i < ${#SLURM_NODES[@]}; i++)); do
    echo "NodeName=${SLURM_NODES[$i]} NodeAddr=${SLURM_NODE_ADDRS[$i]} CPUs=4 State=UNKNOWN" >>"$w/slurm.conf"
  done
  echo "PartitionName=raft Nodes=ALL Default=YES MaxTime=INFINITE State=UP" >>"$w/slurm.conf"
  mkdir -p "$w/ctld" "$w/spool"
  export SLURM_CONF="$w/slurm.conf"
}

# _slurm_private_tmp NODE: the shell commands that give a node its own /tmp
# while folders of SLURM_SHARED_DIRS under /tmp (the build and the sources of
# a clean clone there) stay visible, as on a cluster's shared file system:
# the old /tmp is held at a side mount point, the tmpfs goes on top, and each
# shared folder is bound back at its own path.
_slurm_private_tmp() {
  local hold="$SLURM_WORK/tmp-$1" dir commands
  commands="mkdir -p '$hold' && mount --bind /tmp '$hold' && mount -t tmpfs -o mode=1777 tmpfs /tmp"
  for dir in "${SLURM_SHARED_DIRS[@]}"; do
    [[ "$dir" == /tmp/* ]] || continue
    commands+=" && mkdir -p '$dir' && mount --bind '$hold/${dir#/tmp/}' '$dir'"
  done
  echo "$commands"
}

_slurm_start_daemons() {
  local w="$SLURM_WORK" i node
  slurmctld -f "$SLURM_CONF" -i ||
    _slurm_skip "slurmctld does not start: $(tail -n 3 "$w/slurmctld.log" 2>/dev/null)" || return
  _slurm_wait 20 test -s "$w/slurmctld.pid" ||
    _slurm_skip "slurmctld did not start: $(tail -n 3 "$w/slurmctld.log" 2>/dev/null)" || return
  SLURM_DAEMON_PIDS+=("$(cat "$w/slurmctld.pid")")
  _slurm_wait 20 scontrol ping ||
    _slurm_skip "slurmctld does not answer: $(tail -n 3 "$w/slurmctld.log" 2>/dev/null)" || return
  for ((i = 0; i < ${#SLURM_NODES[@]}; i++)); do
    node="${SLURM_NODES[$i]}"
    mkdir -p "$w/spool/$node"
    nsenter --net="/run/netns/${SLURM_NODE_NS[$i]}" unshare --uts --mount --propagation private \
      sh -c "hostname $node && $(_slurm_private_tmp "$node") &&
             mount -t tmpfs -o mode=1777 tmpfs /dev/shm && mount --bind '$w/hosts' /etc/hosts &&
             exec slurmd -f '$SLURM_CONF' -N $node" ||
      { echo "slurmd on $node does not start: $(tail -n 3 "$w/slurmd-$node.log")" >&2; return 1; }
    _slurm_wait 20 test -s "$w/slurmd-$node.pid" || return 1
    SLURM_DAEMON_PIDS+=("$(cat "$w/slurmd-$node.pid")")
  done
  local idle="${#SLURM_NODES[@]}"
  all_idle() { [[ "$(sinfo -h -t idle -o '%D')" == "$idle" ]]; }
  _slurm_wait 60 all_idle ||
    { echo "the nodes did not become idle: $(sinfo -h 2>&1)" >&2; return 1; }
}

# slurm_up N: see the top of this file. 0 up, 77 skip, 1 failure.
slurm_up() {
  local count=$1
  _slurm_check_tools || return
  SLURM_WORK="$(mktemp -d "/var/tmp/raft-slurm-$$.XXXXXX")" || return 1
  _slurm_pick_network || return 1
  _slurm_make_hosts "$count" || return
  _slurm_start_munge || return
  _slurm_write_conf || return 1
  _slurm_start_daemons || return
  _slurm_log "up: slurmctld on ${SLURM_BRIDGE_ADDR}:$SLURMCTLD_PORT, $(sinfo -h -o '%D nodes %N %T')"
}

# The PIDs of processes in node i's namespace other than its slurmd.
slurm_node_pids() {
  local pid daemon skip
  for pid in $(ip netns pids "${SLURM_NODE_NS[$1]}" 2>/dev/null); do
    skip=0
    for daemon in "${SLURM_DAEMON_PIDS[@]}"; do [[ "$pid" == "$daemon" ]] && skip=1; done
    ((skip)) || echo "$pid"
  done
}

# slurm_down: stops and removes everything slurm_up made. Keeps
# $SLURM_WORK when SLURM_KEEP_WORK=1 (for a failure's logs).
slurm_down() {
  local job pid ns i
  if [[ -n "${SLURM_CONF:-}" ]] && [[ -f "$SLURM_CONF" ]]; then
    for job in $(squeue -h -o %i 2>/dev/null); do scancel "$job" 2>/dev/null; done
  fi
  for pid in "${SLURM_DAEMON_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${SLURM_DAEMON_PIDS[@]}"; do
    _slurm_wait 10 test ! -d "/proc/$pid" || kill -KILL "$pid" 2>/dev/null
  done
  for ns in "${SLURM_NODE_NS[@]}"; do
    # Only processes inside our own namespaces, by PID.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  ip link del "$_slurm_bridge" 2>/dev/null
  for ((i = 0; i < ${#SLURM_NODE_NS[@]}; i++)); do ip link del "${_slurm_tag}v$i" 2>/dev/null; done
  if [[ -n "$SLURM_WORK" ]] && [[ "${SLURM_KEEP_WORK:-0}" != 1 ]]; then rm -rf "$SLURM_WORK"; fi
}
