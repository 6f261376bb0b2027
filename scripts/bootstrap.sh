#!/usr/bin/env bash
# Installs the Debian packages this project builds, tests and runs with.
#
# Idempotent: prints nothing and touches nothing when every package is already
# installed. Otherwise it runs `apt-get update` once and installs only what is
# missing. Works as root, or as a user with sudo; fails with one clear line if
# neither is available. Meant for Debian 12 (the project's machines and CI).
set -euo pipefail

# The one list of packages. Keep it sorted by purpose; add new ones here.
PACKAGES=(
  # toolchain
  build-essential
  g++
  cmake
  ninja-build
  pkg-config
  ccache          # scripts/test.sh uses it when present: repeated builds in minutes
  clang-tidy      # tests: style.function_size (no function in src/ over 80 lines)
  # MPI transport (Open MPI: headers, mpirun)
  libopenmpi-dev
  openmpi-bin
  # HTTP, JSON, logging, command line
  libcpp-httplib-dev
  nlohmann-json3-dev
  libspdlog-dev
  libfmt-dev
  libcli11-dev
  # tests and benchmarks
  iproute2        # tests/multihost: network namespaces as hosts (ip netns, veth, bridge)
  python3         # tests/multihost: its HTTP and JSON checks
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  etcd-server     # bench/cluster: raft_cluster_bench measures etcd beside our cluster
  mmdebstrap      # tests/package: installs the .deb into a fresh Debian root
  slurmctld       # tests/slurm: a private real Slurm (controller, nodes, client, auth)
  slurmd
  slurm-client
  munge
)

die() {
  echo "bootstrap.sh: $*" >&2
  exit 1
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  die "this script needs a Debian-based system (dpkg-query and apt-get not found)"
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  die "missing packages (${missing[*]}) and cannot install them: run as root or install sudo"
fi

echo "bootstrap.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
