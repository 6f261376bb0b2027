#pragma once
/// What a benchmark ran on: cores, CPU model, load average, kernel and time,
/// read from /proc so a figure is never quoted without its machine. The load
/// average matters here: the bench machine is shared and noisy.

#include <string>

#include <nlohmann/json.hpp>

namespace raft::bench {

/// Load averages (1, 5, 15 minutes) from /proc/loadavg; zeros if unreadable.
struct LoadAverage {
  double one = 0, five = 0, fifteen = 0;
};
LoadAverage load_average();

/// {"nproc", "cpu_model", "mem_total_kib", "kernel", "utc", "loadavg": [1, 5, 15]},
/// plus "commit" from $RAFT_BENCH_COMMIT when set.
nlohmann::json machine_json();

/// "load average A-B" from a result's machine.loadavg (start) and
/// loadavg_at_end (1-minute values), for chart captions.
std::string load_note(const nlohmann::json& result);

}  // namespace raft::bench
