# Installing the programs (`cmake --install`) and the Debian package
# (`cpack -G DEB`, from the build folder), so a cluster's hosts can
# `apt install ./raft-mpi_*.deb` instead of building at the same path
# everywhere. docs/OPERATIONS.md, "Installing the .deb", has the commands.
#
# Layout under the prefix (/usr in the package):
#   bin/                   launch_cluster, raft_node, discovery_server,
#                          web_monitor, raft_chaos: side by side, since
#                          launch_cluster and raft_chaos start the others
#                          from their own folder. The monitor's page is
#                          compiled into web_monitor: no data files.
#   share/raft-mpi/        raft.sbatch, the batch script for Slurm
#   share/doc/raft-mpi/    README and the operator's and API documents
include(GNUInstallDirs)

set(RAFT_INSTALLED_PROGRAMS launch_cluster raft_node discovery_server web_monitor raft_chaos)
install(TARGETS ${RAFT_INSTALLED_PROGRAMS} RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(PROGRAMS "${PROJECT_SOURCE_DIR}/scripts/raft.sbatch"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/raft-mpi")
install(FILES "${PROJECT_SOURCE_DIR}/README.md" "${PROJECT_SOURCE_DIR}/docs/OPERATIONS.md"
              "${PROJECT_SOURCE_DIR}/docs/API.md" "${PROJECT_SOURCE_DIR}/docs/SECURITY.md"
        DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/raft-mpi")

set(CPACK_PACKAGE_NAME raft-mpi)
set(CPACK_PACKAGE_VENDOR "raft-mpi")
# The Maintainer field: whoever builds the package for their site says who
# they are (-DRAFT_PACKAGE_CONTACT="Name <mail>").
set(RAFT_PACKAGE_CONTACT "raft-mpi builders <root@localhost>"
    CACHE STRING "Maintainer of the .deb: Name <mail>")
set(CPACK_PACKAGE_CONTACT "${RAFT_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Raft consensus cluster over MPI, with discovery and monitor")
set(CPACK_PACKAGE_DESCRIPTION
    "One Raft node per MPI rank with a replicated key-value store, a discovery
service, a web monitor and a launcher that starts them on one host, across
hosts (hostfile) or inside a Slurm allocation (salloc, sbatch).")
set(CPACK_PACKAGE_INSTALL_DIRECTORY raft-mpi)
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)  # as Debian ships programs; the build folder keeps the symbols
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # raft-mpi_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries the programs link (libopenmpi3, libspdlog1.10, libfmt9,
# libcpp-httplib0.11, libc6, ...) come from dpkg-shlibdeps; what they only
# run needs naming: mpirun (openmpi-bin) starts the ranks.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "openmpi-bin")
# srun and salloc, for running inside a Slurm allocation.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "slurm-client")
include(CPack)
