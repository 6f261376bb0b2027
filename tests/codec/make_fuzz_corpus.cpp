// Writes a seed corpus for codec_fuzz_decode: valid encodings of random
// messages of every type, each prefixed with the envelope bytes the fuzz
// target expects (source rank, own rank, MPI tag). Usage:
//   codec_fuzz_corpus DIR [COUNT]

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "codec/codec.hpp"
#include "raft/rng.hpp"
#include "random_message.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " DIR [COUNT]\n";
    return 2;
  }
  const std::string dir = argv[1];
  const int count = argc > 2 ? std::atoi(argv[2]) : 256;
  raft::Rng rng(7);
  for (int i = 0; i < count; ++i) {
    raft::codec::testing::RandomMessageOptions options{4, 16};
    if (i % 32 == 0) options = {64, 8};
    raft::Message m = raft::codec::testing::random_message(rng, options);
    // Envelope bytes hold ids 0..255 only.
    m.from = static_cast<raft::NodeId>(rng.uniform(0, 7));
    m.to = static_cast<raft::NodeId>(rng.uniform(0, 7));
    std::string bytes;
    bytes.push_back(static_cast<char>(m.from));
    bytes.push_back(static_cast<char>(m.to));
    bytes.push_back(static_cast<char>(raft::codec::mpi_tag(m.type)));
    if (raft::codec::encode_into(m, bytes)) return 1;
    std::ofstream(dir + "/seed-" + std::to_string(i), std::ios::binary) << bytes;
  }
  std::cout << "wrote " << count << " seeds to " << dir << "\n";
  return 0;
}
