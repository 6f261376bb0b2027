#!/usr/bin/env bash
# The .deb, installed into a clean Debian root and run from there:
#   1. cpack builds raft-mpi_<version>_<arch>.deb from the build folder;
#      its Depends names Open MPI (library and mpirun) and spdlog;
#   2. mmdebstrap makes a fresh root of this machine's Debian release with
#      only the Essential packages and installs the .deb into it: apt
#      resolves the Depends the package declares, and nothing else is
#      there (no build folder, no -dev packages, none of this machine's
#      libraries);
#   3. in that root (chroot, in a mount namespace of its own with /proc,
#      /sys, /dev and a private /tmp and /dev/shm) every program's
#      libraries resolve (ldd), and /usr/bin/launch_cluster starts a
#      3-rank cluster from the installed programs; check_cluster.py (of
#      tests/slurm) checks one agreed leader, writes through the monitor and
#      a failover; the monitor serves its page (compiled into web_monitor);
#   4. SIGINT stops it: launch_cluster exits 0 and no process is left in
#      the root.
# Downloads from the Debian mirror ($RAFT_PACKAGE_MIRROR, default
# deb.debian.org) and keeps them in BUILD_DIR/package-test-apt-cache for the
# next run. About 100 s (mmdebstrap unpacking the root is most of it).
#
# Usage: run_package.sh BUILD_DIR     exit 0 pass, 1 fail, 77 skipped
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly HERE
# shellcheck source=tests/slurm/script_lib.sh
source "$HERE/../slurm/script_lib.sh"
take_build_dir "run_package.sh BUILD_DIR" "$@"
readonly MIRROR="${RAFT_PACKAGE_MIRROR:-http://deb.debian.org/debian}"
readonly CACHE="$BUILD_DIR/package-test-apt-cache"


[[ "$(id -u)" -eq 0 ]] || skip "installing into a root with mmdebstrap and chroot needs root"
for tool in cpack mmdebstrap unshare chroot python3 dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (apt-get install mmdebstrap)"
done
[[ -f "$BUILD_DIR/CPackConfig.cmake" ]] || fail "$BUILD_DIR has no CPackConfig.cmake; configure it first"
# shellcheck source=/dev/null
SUITE="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
[[ -n "$SUITE" ]] || skip "cannot tell this machine's Debian release from /etc/os-release"
python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=10)" \
  "$MIRROR/dists/$SUITE/Release" 2>/dev/null || skip "the Debian mirror $MIRROR is not reachable"

WORK="$(mktemp -d "/var/tmp/raft-package-$$.XXXXXX")"
readonly WORK ROOT="$WORK/root"
LAUNCHER_PID=""

# PIDs of processes whose root directory is ROOT.
pids_in_root() {
  local proc
  for proc in /proc/[0-9]*; do
    [[ "$(readlink "$proc/root" 2>/dev/null)" == "$ROOT" ]] && echo "${proc#/proc/}"
  done
}

cleanup() {
  local status=$? pid
  trap - EXIT INT TERM
  [[ -z "$LAUNCHER_PID" ]] || kill -TERM "$LAUNCHER_PID" 2>/dev/null
  for pid in $(pids_in_root); do kill -KILL "$pid" 2>/dev/null; done
  ((status == 0 || status == SKIP)) || show_tails 30 "$WORK/mmdebstrap.log" "$WORK/cluster.log"
  # The root's mounts were made in the cluster's own mount namespace, gone
  # with its processes: nothing is mounted under WORK here.
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. the package ----------------------------------------------------------------------------

say "cpack -G DEB"
cpack --config "$BUILD_DIR/CPackConfig.cmake" -G DEB -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 ||
  fail "cpack failed: $(tail -n 5 "$WORK/cpack.log")"
debs=("$WORK"/pkg/raft-mpi_*.deb)
[[ ${#debs[@]} -eq 1 && -f "${debs[0]}" ]] || fail "cpack made no raft-mpi_*.deb"
DEB="${debs[0]}"
depends="$(dpkg-deb -f "$DEB" Depends)"
say "$(basename "$DEB"): Depends: $depends"
for needed in libopenmpi3 openmpi-bin libspdlog libcpp-httplib; do
  [[ "$depends" == *"$needed"* ]] || fail "the package does not declare $needed"
done

# ---- 2. a clean root with the package installed -------------------------------------------------

say "mmdebstrap: $SUITE Essential packages + the .deb and what it declares"
mkdir -p "$CACHE"
# shellcheck disable=SC2016 # "$1" is the hook's, expanded by mmdebstrap
mmdebstrap --variant=essential --mode=root --include="$DEB" \
  --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
  --skip=download/empty --skip=essential/unlink \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
  --setup-hook="sync-in $CACHE /var/cache/apt/archives/" \
  --customize-hook="sync-out /var/cache/apt/archives $CACHE" \
  "$SUITE" "$ROOT" "$MIRROR" >"$WORK/mmdebstrap.log" 2>&1 ||
  fail "installing the .deb into a fresh $SUITE root failed (see above)"
chroot "$ROOT" dpkg -s raft-mpi >/dev/null 2>&1 || fail "raft-mpi is not installed in the root"
for program in launch_cluster raft_node discovery_server web_monitor raft_chaos; do
  [[ -x "$ROOT/usr/bin/$program" ]] || fail "/usr/bin/$program is missing from the installed package"
  missing="$(chroot "$ROOT" ldd "/usr/bin/$program" | grep 'not found')"
  [[ -z "$missing" ]] || fail "/usr/bin/$program lacks libraries the package does not declare: $missing"
done
[[ -x "$ROOT/usr/share/raft-mpi/raft.sbatch" ]] || fail "raft.sbatch is not installed"
[[ ! -e "$ROOT$BUILD_DIR" ]] || fail "the build folder is visible inside the root"
# shellcheck disable=SC2016 # dpkg-query's own ${...} fields
say "installed: $(chroot "$ROOT" dpkg-query -W -f '${Package} ${Version}' raft-mpi); every program's libraries resolve"

# ---- 3. a cluster from the installed programs ---------------------------------------------------

read -r DISCOVERY_PORT MONITOR_PORT BASE_PORT < <(python3 -c '
import socket
def free(n):
    for base in range(24000, 32000, 10):
        ok = True
        for p in range(base, base + n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
base = free(6)
print(base, base + 1, base + 3)')
[[ -n "$BASE_PORT" ]] || fail "no free loopback ports"
TOKEN="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
say "launch_cluster --nodes 3 in the root (discovery :$DISCOVERY_PORT, monitor :$MONITOR_PORT)"
submitted=$(date +%s.%N)
# A mount namespace of its own: the root's /proc, /sys, /dev, /tmp and
# /dev/shm mounts vanish with it. setsid: its own process group.
# shellcheck disable=SC2016 # the inner shell expands its own arguments
RAFT_AUTH_TOKEN="$TOKEN" setsid unshare --mount --propagation private --fork sh -c '
  root=$1; shift
  mount -t proc proc "$root/proc" && mount --rbind /sys "$root/sys" &&
  mount --rbind /dev "$root/dev" && mount -t tmpfs tmpfs "$root/dev/shm" &&
  mount -t tmpfs tmpfs "$root/tmp" && exec chroot "$root" "$@"' sh "$ROOT" \
  /usr/bin/launch_cluster --nodes 3 --data_dir /var/lib/raft-test --fsync never \
  --min_election_timeout 1000 --max_election_timeout 2000 --heartbeat_interval 200 \
  --initial_delay_ms 500 --discovery_port "$DISCOVERY_PORT" --monitor_port "$MONITOR_PORT" \
  --base_port "$BASE_PORT" </dev/null >"$WORK/cluster.log" 2>&1 &
LAUNCHER_PID=$!

deadline=$((SECONDS + 90))
until grep -qs "is up" "$WORK/cluster.log"; do
  kill -0 "$LAUNCHER_PID" 2>/dev/null || fail "launch_cluster exited before the cluster was up"
  ((SECONDS < deadline)) || fail "the cluster was not up within 90 s"
  sleep 0.2
done
page="$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$MONITOR_PORT/', timeout=5).read().decode())")"
[[ "$page" == *"<title>Raft cluster"* ]] || fail "the installed web_monitor does not serve its page"
python3 "$HERE/../slurm/check_cluster.py" --discovery "http://127.0.0.1:$DISCOVERY_PORT" \
  --monitor "http://127.0.0.1:$MONITOR_PORT" --token "$TOKEN" --ranks 3 --hosts 1 \
  --since "$submitted" --label installed --log "$WORK/cluster.log" || fail "check_cluster.py failed"

# ---- 4. SIGINT stops everything ---------------------------------------------------------------------

inside="$(pids_in_root | tr '\n' ' ')"
say "SIGINT to launch_cluster; processes in the root: $inside"
# The chroot'ed launch_cluster is the one process in the root whose parent is not.
for pid in $inside; do
  parent="$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)"
  [[ "$(readlink "/proc/$parent/root" 2>/dev/null)" == "$ROOT" ]] || kill -INT "$pid"
done
wait "$LAUNCHER_PID"
status=$?
LAUNCHER_PID=""
((status == 0)) || fail "launch_cluster exited with $status after SIGINT, expected 0"
grep -q "stopped every process" "$WORK/cluster.log" || fail "launch_cluster did not confirm the stop"
left="$(pids_in_root | tr '\n' ' ')"
[[ -z "${left// /}" ]] || fail "processes still run in the root after SIGINT: $left"
echo "PASS: the .deb installs into a clean $SUITE root and runs a cluster from /usr/bin"
