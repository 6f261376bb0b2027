#!/usr/bin/env bash
# launch_cluster inside Slurm allocations, against a real Slurm (22.05 on
# Debian 12) brought up privately on this machine by private_slurm.sh: five
# nodes, each a network, UTS and mount namespace, slurmctld and the
# submitting shell in the root namespace like a login node. Five jobs:
#   - `salloc -N 3 -n 3 launch_cluster` and `salloc -N 3 -n 5 launch_cluster
#     --slurm_launch mpirun`: from the "login node" launch_cluster moves to
#     the allocation's first node, then starts the ranks (srun --mpi=pmix
#     where Slurm has PMIx, the default; mpirun when asked);
#   - `sbatch scripts/raft.sbatch` as is (3 ranks), and `sbatch -N 3 -n 5
#     scripts/raft.sbatch` with mpirun and with srun.
# For each: every rank registered, spread over the allocation's nodes; one
# agreed leader; a write through the monitor (refused without the token);
# the leader paused through the monitor and a new one elected; a second
# write and both read back (check_cluster.py). Then `scancel` and every
# process of the job, on every node and on the login node, is gone (by PID,
# and each node's namespace holds nothing but its slurmd); the job leaves
# the queue. Prints FIGURE lines: time from submission to a leader, the
# failover, scancel to nothing left, per job.
#
# Usage: run_slurm.sh BUILD_DIR        exit 0 pass, 1 fail, 77 skipped
# Needs root, Slurm and munge installed (apt-get install slurmctld slurmd
# slurm-client munge), iproute2, python3 and Open MPI. About 45 s.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=tests/slurm/script_lib.sh
source "$HERE/script_lib.sh"
take_build_dir "run_slurm.sh BUILD_DIR" "$@"
readonly SBATCH_SCRIPT="$HERE/../../scripts/raft.sbatch"
# Raft's timing for a test: elections within seconds.
readonly RAFT_FLAGS=(--fsync never --min_election_timeout 1000 --max_election_timeout 2000
  --heartbeat_interval 200 --initial_delay_ms 500 --leader_timeout_s 120)


for program in launch_cluster raft_node discovery_server web_monitor; do
  [[ -x "$BUILD_DIR/$program" ]] || fail "$BUILD_DIR/$program is missing; build it first"
done
command -v mpirun >/dev/null 2>&1 || skip "mpirun (openmpi-bin) is missing"
# shellcheck source=tests/slurm/private_slurm.sh
source "$HERE/private_slurm.sh"
# Each private node has its own /tmp; a clone and build there stay shared.
SLURM_SHARED_DIRS=("$(cd "$HERE/../.." && pwd -P)" "$(cd "$BUILD_DIR" && pwd -P)")

SALLOC_PID=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [[ -z "$SALLOC_PID" ]] || kill -TERM "$SALLOC_PID" 2>/dev/null
  if ((status != 0 && status != SKIP)) && [[ -n "$SLURM_WORK" ]]; then
    show_tails 25 "$SLURM_WORK"/*.out "$SLURM_WORK"/*.log "$SLURM_WORK"/raft-*/cluster.log
  fi
  slurm_down
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

slurm_up 5
case $? in
  0) ;;
  77) skip "$SLURM_SKIP_REASON" ;;
  *) fail "could not bring up the private Slurm" ;;
esac
export RAFT_BIN="$BUILD_DIR"

# wait_file SECONDS FILE PATTERN: until FILE holds a line matching PATTERN.
wait_file() {
  local deadline=$((SECONDS + $1))
  until grep -q "$3" "$2" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "timed out after $1 s waiting for '$3' in $2"
    grep '^launch_cluster: ' "$2" 2>/dev/null | grep -qv 'running on its first node' &&
      fail "launch_cluster stopped: $(grep '^launch_cluster: ' "$2" | tail -n 1)"
    sleep 0.2
  done
}

# check_job LABEL OUTPUT LOG RANKS HOSTS SUBMITTED: the cluster the banner in
# OUTPUT describes passes check_cluster.py (discovery logs to LOG).
check_job() {
  local label=$1 output=$2 log=$3 ranks=$4 hosts=$5 submitted=$6 monitor token discovery
  wait_file 120 "$output" "is up"
  monitor="$(sed -n 's|^  Monitor: *\(http://[^/]*\)/#token=.*|\1|p' "$output" | head -n 1)"
  token="$(sed -n 's|^  Monitor: *http://[^/]*/#token=\(.*\)|\1|p' "$output" | head -n 1)"
  discovery="$(sed -n 's|^  Discovery: *\(http://[^/]*\)/state|\1|p' "$output" | head -n 1)"
  [[ -n "$monitor" && -n "$token" && -n "$discovery" ]] || fail "no monitor, token or discovery in $output"
  [[ "$monitor" == "http://${SLURM_NODE_ADDRS[0]}:"* ]] ||
    fail "the monitor is at $monitor, not on the first node (${SLURM_NODE_ADDRS[0]})"
  grep -q "^  Slurm: " "$output" || fail "the banner does not name the Slurm job"
  say "monitor at $monitor; checking the cluster"
  python3 "$HERE/check_cluster.py" --discovery "$discovery" --monitor "$monitor" --token "$token" \
    --ranks "$ranks" --hosts "$hosts" --since "$submitted" --label "$label" --log "$log" |
    tee -a "$SLURM_WORK/figures" ||
    fail "check_cluster.py failed"
}

# job_pids [EXTRA_PID...]: every process on the nodes other than slurmd,
# plus the given ones and all their descendants.
job_pids() {
  local i
  for ((i = 0; i < ${#SLURM_NODES[@]}; i++)); do slurm_node_pids "$i"; done
  (($# == 0)) || ps -e -o pid=,ppid= | awk -v roots="$*" '
    { parent[$1] = $2 }
    END {
      n = split(roots, r, " ")
      for (i = 1; i <= n; i++) keep[r[i]] = 1
      do {
        grew = 0
        for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grew = 1 }
      } while (grew)
      for (p in keep) print p
    }'
}

alive() { [[ -d "/proc/$1" ]] && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

# cancel_and_check LABEL JOB RANKS [EXTRA_PID...]: scancel, then nothing of
# the job is left anywhere.
cancel_and_check() {
  local label=$1 job=$2 ranks=$3 pids pid count=0 start left i
  shift 3
  pids="$(job_pids "$@" | sort -un | tr '\n' ' ')"
  for pid in $pids; do [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == raft_node ]] && count=$((count + 1)); done
  ((count == ranks)) || fail "job $job runs $count raft_node processes, expected $ranks"
  say "scancel $job; watching $(wc -w <<<"$pids") processes: $pids"
  start=$(date +%s.%N)
  scancel "$job" || fail "scancel $job failed"
  local deadline=$((SECONDS + 60))
  while :; do
    left=""
    for pid in $pids; do alive "$pid" && left+=" $pid($(cat "/proc/$pid/comm" 2>/dev/null))"; done
    [[ -z "$left" ]] && break
    ((SECONDS < deadline)) || fail "60 s after scancel $job these still run:$left"
    sleep 0.1
  done
  echo "FIGURE $label scancel_to_clean_s $(python3 -c "import time; print('%.2f' % (time.time() - $start))")" |
    tee -a "$SLURM_WORK/figures"
  for ((i = 0; i < ${#SLURM_NODES[@]}; i++)); do
    left="$(slurm_node_pids "$i" | tr '\n' ' ')"
    [[ -z "${left// /}" ]] || fail "${SLURM_NODES[$i]} still runs $left after scancel $job"
  done
  gone() { [[ -z "$(squeue -h -j "$job" -o %i 2>/dev/null)" ]]; }
  _slurm_wait 60 gone || fail "job $job is still in the queue: $(squeue -h -j "$job")"
  say "scancel $job: every process on every node is gone and the job left the queue"
}

# Which launcher --slurm_launch auto picks here: srun where Slurm has PMIx.
auto_launch=mpirun
srun --mpi=list 2>&1 | grep -q '^[[:space:]]*pmix' && auto_launch=srun
say "srun --mpi=list names pmix: --slurm_launch auto means $auto_launch here"

# run_salloc NODES RANKS LAUNCH: `salloc -N NODES -n RANKS launch_cluster`
# from the login node (launch_cluster moves to the first node), checked and
# cancelled.
run_salloc() {
  local nodes=$1 ranks=$2 launch=$3 label log submitted job
  label="salloc-$ranks-$(launcher_name "$launch")"
  log="$SLURM_WORK/$label.log"
  say "salloc -N $nodes -n $ranks launch_cluster --slurm_launch $launch"
  submitted=$(date +%s.%N)
  # setsid: salloc must not take this shell's terminal.
  setsid salloc -N "$nodes" -n "$ranks" --job-name="$label" "$BUILD_DIR/launch_cluster" \
    --slurm_launch "$launch" --data_dir "$SLURM_WORK/$label-data" "${RAFT_FLAGS[@]}" \
    </dev/null >"$log" 2>&1 &
  SALLOC_PID=$!
  wait_file 60 "$log" "Granted job allocation"
  job="$(sed -n 's/.*Granted job allocation \([0-9]*\).*/\1/p' "$log")"
  check_job "$label" "$log" "$log" "$ranks" "$nodes" "$submitted"
  grep -q "running on its first node, ${SLURM_NODES[0]}" "$log" ||
    fail "launch_cluster did not move to the first node"
  check_launcher "$log" "$launch"
  cancel_and_check "$label" "$job" "$ranks" "$SALLOC_PID"
  SALLOC_PID=""
}

# run_sbatch NODES RANKS LAUNCH: `sbatch -N NODES -n RANKS raft.sbatch`, as a
# user submits it, checked and cancelled; "" for NODES and RANKS keeps the
# script's own shape (3 nodes, 3 tasks).
run_sbatch() {
  local nodes=$1 ranks=$2 launch=$3 label shape=() submitted job out rank
  [[ -z "$nodes" ]] || shape=(-N "$nodes" -n "$ranks")
  label="sbatch-${ranks:-3}-$(launcher_name "$launch")"
  say "sbatch ${shape[*]} raft.sbatch --slurm_launch $launch"
  submitted=$(date +%s.%N)
  job="$(sbatch --parsable "${shape[@]}" --chdir="$SLURM_WORK" "$SBATCH_SCRIPT" \
    --slurm_launch "$launch" "${RAFT_FLAGS[@]}")" || fail "sbatch failed"
  out="$SLURM_WORK/raft-$job.out"
  check_job "$label" "$out" "$SLURM_WORK/raft-$job/cluster.log" "${ranks:-3}" "${nodes:-3}" "$submitted"
  check_launcher "$out" "$launch"
  for ((rank = 0; rank < ${ranks:-3}; rank++)); do
    [[ -d "$SLURM_WORK/raft-$job/data/node-$rank" ]] || fail "no state for rank $rank in the job folder"
  done
  cancel_and_check "$label" "$job" "${ranks:-3}"
  grep -q "stopped every process" "$out" || fail "launch_cluster did not stop its processes on scancel"
}

# launcher_name LAUNCH: what --slurm_launch LAUNCH starts the ranks with.
launcher_name() { if [[ "$1" == auto ]]; then echo "auto:$auto_launch"; else echo "$1"; fi; }

# check_launcher OUTPUT LAUNCH: the banner names the launcher LAUNCH stands for.
check_launcher() {
  local want="${2#auto:}"
  [[ "$want" != auto ]] || want="$auto_launch"
  grep -q "ranks started by $want" "$1" || fail "the ranks were not started by $want: $(grep Slurm: "$1")"
}

run_salloc 3 3 auto
run_salloc 3 5 mpirun
run_sbatch "" "" auto
# RAFT_SLURM_ROUNDS=N repeats these N times, to compare the launchers.
for ((round = 1; round <= ${RAFT_SLURM_ROUNDS:-1}; round++)); do
  run_sbatch 3 5 mpirun
  run_sbatch 3 5 srun
done

say "figures (median over the runs, seconds):"
python3 - "$SLURM_WORK/figures" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    if line.startswith("FIGURE "):
        _, label, name, value = line.split()
        runs[(label, name)].append(float(value))
for (label, name), values in sorted(runs.items()):
    print("  %-18s %-27s %6.2f  (%d run%s: %s)" % (label, name, statistics.median(values),
          len(values), "" if len(values) == 1 else "s", " ".join("%.2f" % v for v in values)))
EOF
echo "PASS: salloc and sbatch jobs on a private Slurm of ${#SLURM_NODES[@]} nodes"
