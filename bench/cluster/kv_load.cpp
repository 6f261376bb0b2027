#include "kv_load.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

#include "stats.hpp"

namespace raft::bench {

namespace {

using Clock = std::chrono::steady_clock;

/// What every client thread shares: the clock's start and end, the
/// errors by kind.
struct SharedLoad {
  Clock::time_point start, end;
  std::mutex errors_mutex;
  std::map<std::string, ErrorKind> kinds;
  std::atomic<std::size_t> errors{0};

  void record_error(const httplib::Result& r, Clock::time_point at) {
    ++errors;
    std::string kind;
    if (!r) {
      kind = "no answer: " + httplib::to_string(r.error());
    } else {
      const auto body = nlohmann::json::parse(r->body, nullptr, false);
      kind = "HTTP " + std::to_string(r->status);
      if (body.is_object() && body.contains("error")) kind += ": " + body["error"].dump();
    }
    std::lock_guard lock(errors_mutex);
    ErrorKind& e = kinds[kind];
    if (e.count++ == 0) e.first_at_s = std::chrono::duration<double>(at - start).count();
  }
};

httplib::Result send(httplib::Client& c, const WriteRequest& w) {
  if (w.method == "POST") return c.Post(w.path, w.headers, w.body, w.content_type);
  return c.Put(w.path, w.headers, w.body, w.content_type);
}

/// One client: writes back to back until the end; its latencies in ms.
std::vector<double> run_client(int port, int client, const WriteSpeller& spell, int read_timeout_s,
                               SharedLoad& shared) {
  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  c.set_connection_timeout(read_timeout_s, 0);
  c.set_read_timeout(read_timeout_s, 0);
  c.set_write_timeout(read_timeout_s, 0);
  std::vector<double> latencies_ms;
  for (int i = 0; Clock::now() < shared.end; ++i) {
    const WriteRequest w = spell(client, i);
    const auto t0 = Clock::now();
    const httplib::Result r = send(c, w);
    const auto t1 = Clock::now();
    if (r && r->status == 200) {
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    } else {
      shared.record_error(r, t1);
    }
  }
  return latencies_ms;
}

}  // namespace

nlohmann::json LoadResult::to_json() const {
  nlohmann::json kinds = nlohmann::json::object();
  for (const auto& [kind, e] : error_kinds) {
    kinds[kind] = {{"count", e.count}, {"first_at_s", e.first_at_s}};
  }
  return {{"concurrency", concurrency}, {"writes", ops},
          {"seconds", seconds},         {"writes_per_s", writes_per_s},
          {"p50_ms", p50_ms},           {"p99_ms", p99_ms},
          {"max_ms", max_ms},           {"errors", errors},
          {"error_kinds", kinds}};
}

LoadResult kv_write_load(int port, int concurrency, double seconds, const WriteSpeller& spell,
                         int read_timeout_s) {
  SharedLoad shared;
  shared.start = Clock::now();
  shared.end = shared.start +
               std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(concurrency));
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      latencies[static_cast<std::size_t>(t)] = run_client(port, t, spell, read_timeout_s, shared);
    });
  }
  for (auto& th : threads) th.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  LoadResult r;
  r.concurrency = concurrency;
  r.ops = all.size();
  r.errors = shared.errors;
  r.seconds = std::chrono::duration<double>(Clock::now() - shared.start).count();
  r.writes_per_s = static_cast<double>(r.ops) / r.seconds;
  r.p50_ms = percentile(all, 50);
  r.p99_ms = percentile(all, 99);
  r.max_ms = maximum(all);
  r.error_kinds = std::move(shared.kinds);
  return r;
}

}  // namespace raft::bench
