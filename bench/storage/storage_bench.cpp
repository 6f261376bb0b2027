// storage_bench: appended entries per second through FileStore with fsync, at
// batch sizes 1, 16 and 256 (one sync per batch), beside a raw
// write(2)+fdatasync(2) loop writing the same bytes per batch into the same
// folder: the physical limit of the disk. Prints both side by side with their
// ratio, and optionally writes the figures as JSON.
//
//   storage_bench [--dir PATH] [--seconds S] [--rounds R] [--payload_bytes N] [--json FILE]
//
// Each side runs S seconds per batch size, in R alternating rounds.
//
// --dir defaults to a fresh folder under the current directory (not /tmp,
// which may be a tmpfs where fdatasync costs nothing).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage/file_format.hpp"
#include "storage/file_store.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using raft::storage::FileStore;

struct Result {
  std::size_t batch = 0;
  double store_entries_per_s = 0;
  double raw_entries_per_s = 0;
  double store_syncs_per_s = 0;
  double raw_syncs_per_s = 0;
  std::uint64_t store_fdatasyncs = 0;
};

std::vector<raft::Entry> make_batch(raft::Index first, std::size_t count, std::size_t payload) {
  std::vector<raft::Entry> entries(count);
  for (std::size_t i = 0; i < count; ++i) {
    entries[i].index = first + i;
    entries[i].term = 1;
    entries[i].type = raft::EntryType::Command;
    entries[i].data.assign(payload, static_cast<char>('a' + (first + i) % 26));
  }
  return entries;
}

/// Appends batches with one sync each for `seconds`; returns {entries, syncs, s}.
struct Run {
  std::uint64_t entries = 0;
  std::uint64_t syncs = 0;
  double seconds = 0;
};

Run run_store(const fs::path& dir, std::size_t batch, std::size_t payload, double seconds,
              std::uint64_t& fdatasyncs) {
  fs::remove_all(dir);
  FileStore store(dir);
  store.load();
  raft::Index next = 1;
  Run run;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    store.append(make_batch(next, batch, payload));
    next += batch;
    store.save_hard_state({1, 0, next - 1});  // commit moves with every batch, as on a leader
    store.sync();
    run.entries += batch;
    ++run.syncs;
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  fdatasyncs = store.stats().fdatasyncs;
  return run;
}

Run run_raw(const fs::path& dir, std::size_t batch, std::size_t payload, double seconds) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path path = dir / "raw.log";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  // The same bytes per batch as FileStore writes: framed records plus a hard state.
  const raft::Entry sample = make_batch(1, 1, payload)[0];
  const std::string bytes(batch * raft::storage::format::entry_record_bytes(sample) + 29, 'r');
  Run run;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()) ||
        ::fdatasync(fd) != 0) {
      std::perror(path.c_str());
      std::exit(1);
    }
    run.entries += batch;
    ++run.syncs;
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir;
  double seconds = 3.0;
  int rounds = 6;
  std::size_t payload = 100;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--dir" && has_value) {
      dir = argv[++i];
    } else if (arg == "--seconds" && has_value) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--rounds" && has_value) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--payload_bytes" && has_value) {
      payload = static_cast<std::size_t>(std::atol(argv[++i]));
    } else if (arg == "--json" && has_value) {
      json_path = argv[++i];
    } else {
      std::fprintf(
          stderr,
          "usage: %s [--dir PATH] [--seconds S] [--rounds R] [--payload_bytes N] [--json FILE]\n",
          argv[0]);
      return 2;
    }
  }
  const bool own_dir = dir.empty();
  if (own_dir) dir = fs::current_path() / ("storage-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);

  std::printf(
      "FileStore vs raw write+fdatasync in %s, %zu-byte payloads, %.1f s per side in %d rounds\n",
      dir.c_str(), payload, seconds, rounds);
  std::printf("%6s %16s %16s %8s %12s %12s\n", "batch", "store entries/s", "raw entries/s", "ratio",
              "store syncs/s", "raw syncs/s");
  std::vector<Result> results;
  for (std::size_t batch : {1u, 16u, 256u}) {
    Result r;
    r.batch = batch;
    // Alternate short rounds so both sides see the same disk weather (other
    // tenants' I/O changes fdatasync latency by 10x on shared machines).
    Run raw, store;
    for (int round = 0; round < rounds; ++round) {
      const Run a = run_raw(dir / "raw", batch, payload, seconds / rounds);
      std::uint64_t fdatasyncs = 0;
      const Run b = run_store(dir / "store", batch, payload, seconds / rounds, fdatasyncs);
      raw.entries += a.entries;
      raw.syncs += a.syncs;
      raw.seconds += a.seconds;
      store.entries += b.entries;
      store.syncs += b.syncs;
      store.seconds += b.seconds;
      r.store_fdatasyncs += fdatasyncs;
    }
    r.raw_entries_per_s = static_cast<double>(raw.entries) / raw.seconds;
    r.raw_syncs_per_s = static_cast<double>(raw.syncs) / raw.seconds;
    r.store_entries_per_s = static_cast<double>(store.entries) / store.seconds;
    r.store_syncs_per_s = static_cast<double>(store.syncs) / store.seconds;
    std::printf("%6zu %16.0f %16.0f %8.2f %12.0f %12.0f\n", batch, r.store_entries_per_s,
                r.raw_entries_per_s, r.store_entries_per_s / r.raw_entries_per_s,
                r.store_syncs_per_s, r.raw_syncs_per_s);
    std::fflush(stdout);
    results.push_back(r);
  }
  // Recovery speed, on the log the last (largest) run left behind.
  {
    const auto start = Clock::now();
    FileStore store(dir / "store");
    const raft::RecoveredState state = store.load();
    const double load_s = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("recovery: load() of %zu entries took %.2f s (%.0f entries/s)\n",
                state.entries.size(), load_s, static_cast<double>(state.entries.size()) / load_s);
  }
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << "{\"payload_bytes\":" << payload << ",\"seconds_per_side\":" << seconds
        << ",\"rounds\":" << rounds << ",\"dir\":\"" << dir.string() << "\",\"results\":[";
    for (std::size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      out << (i ? "," : "") << "{\"batch\":" << r.batch
          << ",\"store_entries_per_s\":" << r.store_entries_per_s
          << ",\"raw_entries_per_s\":" << r.raw_entries_per_s
          << ",\"ratio\":" << r.store_entries_per_s / r.raw_entries_per_s
          << ",\"store_syncs_per_s\":" << r.store_syncs_per_s
          << ",\"raw_syncs_per_s\":" << r.raw_syncs_per_s
          << ",\"store_fdatasyncs\":" << r.store_fdatasyncs << "}";
    }
    out << "]}\n";
  }
  if (own_dir) fs::remove_all(dir);
  return 0;
}
