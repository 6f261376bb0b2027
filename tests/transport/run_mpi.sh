#!/usr/bin/env bash
# Runs an MPI program for ctest:
#   run_mpi.sh MPIEXEC NUMPROC_FLAG NPROCS PROGRAM [ARGS...]
# With Open MPI it adds --oversubscribe (3 ranks on a 2-core machine) and,
# when run as root (CI, containers), --allow-run-as-root, which Open MPI
# otherwise refuses. Extra mpirun flags can come from MPIRUN_EXTRA_FLAGS,
# e.g. MPIRUN_EXTRA_FLAGS="--mca btl self,tcp" to test over TCP.
set -euo pipefail
if [[ $# -lt 4 ]]; then
  echo "usage: $0 MPIEXEC NUMPROC_FLAG NPROCS PROGRAM [ARGS...]" >&2
  exit 2
fi
mpiexec=$1 np_flag=$2 nprocs=$3
shift 3
flags=()
# (Open MPI refuses even --version as root, hence the variables for the probe.)
if OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "$mpiexec" --version 2>&1 |
  grep -qE "Open MPI|OpenRTE"; then
  flags+=(--oversubscribe)
  if [[ $(id -u) -eq 0 ]]; then flags+=(--allow-run-as-root); fi
fi
# shellcheck disable=SC2206  # word splitting of the extra flags is wanted
extra=(${MPIRUN_EXTRA_FLAGS:-})
exec "$mpiexec" "${flags[@]}" "${extra[@]}" "$np_flag" "$nprocs" "$@"
