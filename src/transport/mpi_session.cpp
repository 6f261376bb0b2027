#include <cstdlib>
#include <stdexcept>
#include <string>

#include "transport/mpi_transport.hpp"

namespace raft::transport {

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized != 0) throw std::logic_error("MpiSession: MPI is already initialised");
  int provided = MPI_THREAD_SINGLE;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    throw std::runtime_error("MpiSession: MPI_Init_thread failed");
  }
  if (provided < MPI_THREAD_FUNNELED) {
    // Other threads (HTTP) exist in every node, so SINGLE is not enough even
    // though only the loop thread calls MPI.
    MPI_Finalize();
    throw std::runtime_error("MpiSession: MPI provides thread level " + std::to_string(provided) +
                             ", MPI_THREAD_FUNNELED (" + std::to_string(MPI_THREAD_FUNNELED) +
                             ") is needed");
  }
  thread_level_ = provided;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

void MpiSession::abort(int exit_code) const noexcept {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort does not return; this satisfies [[noreturn]]
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized == 0) MPI_Finalize();
}

}  // namespace raft::transport
