// Microbenchmarks of the MPI message codec: the hot messages of a busy
// cluster (a 256-entry AppendEntries, a heartbeat, its response), encoded into
// a reused buffer and decoded into a reused Message as the transport does,
// and decoded into a fresh Message for comparison.

#include <span>
#include <string>

#include <benchmark/benchmark.h>

#include "codec/codec.hpp"

namespace {

raft::Message append_entries(std::size_t count, std::size_t data_bytes) {
  raft::Message m;
  m.type = raft::MessageType::AppendEntries;
  m.from = 0;
  m.to = 3;
  m.term = 42;
  m.prev_log_index = 1'000'000;
  m.prev_log_term = 41;
  m.commit = 999'990;
  m.read_ctx = 17;
  for (std::size_t i = 0; i < count; ++i) {
    m.entries.push_back(raft::Entry{42, m.prev_log_index + 1 + i, raft::EntryType::Command,
                                    std::string(data_bytes, static_cast<char>('a' + i % 26))});
  }
  return m;
}

raft::Message append_response() {
  raft::Message m;
  m.type = raft::MessageType::AppendResponse;
  m.from = 3;
  m.to = 0;
  m.term = 42;
  m.success = true;
  m.match_index = 1'000'256;
  m.read_ctx = 17;
  return m;
}

void encode_bench(benchmark::State& state, const raft::Message& m) {
  std::string buffer;
  for (auto _ : state) {
    buffer.clear();
    auto error = raft::codec::encode_into(m, buffer);
    benchmark::DoNotOptimize(error);
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buffer.size()));
  state.counters["bytes"] = static_cast<double>(buffer.size());
}

void decode_reused_bench(benchmark::State& state, const raft::Message& m) {
  const std::string bytes = raft::codec::encode(m);
  raft::Message out;
  for (auto _ : state) {
    auto error = raft::codec::decode_into(std::as_bytes(std::span(bytes)), m.from, m.to,
                                          raft::codec::mpi_tag(m.type), out);
    benchmark::DoNotOptimize(error);
    benchmark::DoNotOptimize(out.entries.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

void decode_fresh_bench(benchmark::State& state, const raft::Message& m) {
  const std::string bytes = raft::codec::encode(m);
  for (auto _ : state) {
    auto result =
        raft::codec::decode(bytes.data(), bytes.size(), m.from, m.to, raft::codec::mpi_tag(m.type));
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

// 256 small entries (12 bytes: within std::string's inline buffer) and 256
// entries of 100 bytes (one heap block each on decode).
BENCHMARK_CAPTURE(encode_bench, append_256x12B, append_entries(256, 12));
BENCHMARK_CAPTURE(decode_reused_bench, append_256x12B, append_entries(256, 12));
BENCHMARK_CAPTURE(decode_fresh_bench, append_256x12B, append_entries(256, 12));
BENCHMARK_CAPTURE(encode_bench, append_256x100B, append_entries(256, 100));
BENCHMARK_CAPTURE(decode_reused_bench, append_256x100B, append_entries(256, 100));
BENCHMARK_CAPTURE(decode_fresh_bench, append_256x100B, append_entries(256, 100));
BENCHMARK_CAPTURE(encode_bench, heartbeat, append_entries(0, 0));
BENCHMARK_CAPTURE(decode_reused_bench, heartbeat, append_entries(0, 0));
BENCHMARK_CAPTURE(encode_bench, append_response, append_response());
BENCHMARK_CAPTURE(decode_reused_bench, append_response, append_response());

}  // namespace

BENCHMARK_MAIN();
