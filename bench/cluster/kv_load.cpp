#include "kv_load.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

#include "http_connection.hpp"
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

  void record_error(const HttpAnswer& r, Clock::time_point at) {
    ++errors;
    std::string kind;
    if (r.status == 0) {
      kind = "no answer: " + r.error;
    } else {
      const auto body = nlohmann::json::parse(r.body, nullptr, false);
      kind = "HTTP " + std::to_string(r.status);
      if (body.is_object() && body.contains("error")) kind += ": " + body["error"].dump();
    }
    std::lock_guard lock(errors_mutex);
    ErrorKind& e = kinds[kind];
    if (e.count++ == 0) e.first_at_s = std::chrono::duration<double>(at - start).count();
  }
};

/// Sends one write and waits for its answer, through `client`'s kind of
/// connection.
class Sender {
 public:
  Sender(int port, LoadClient client, int read_timeout_s)
      : one_write_("127.0.0.1", port, std::chrono::seconds(read_timeout_s)),
        httplib_("127.0.0.1", port),
        client_(client) {
    httplib_.set_keep_alive(true);
    httplib_.set_tcp_nodelay(true);
    httplib_.set_connection_timeout(read_timeout_s, 0);
    httplib_.set_read_timeout(read_timeout_s, 0);
    httplib_.set_write_timeout(read_timeout_s, 0);
  }

  HttpAnswer send(const WriteRequest& w) {
    if (client_ == LoadClient::OneWrite) {
      std::vector<std::pair<std::string, std::string>> headers(w.headers.begin(), w.headers.end());
      headers.emplace_back("Content-Type", w.content_type);
      return one_write_.request(w.method, w.path, headers, w.body);
    }
    const httplib::Result r = w.method == "POST"
                                  ? httplib_.Post(w.path, w.headers, w.body, w.content_type)
                                  : httplib_.Put(w.path, w.headers, w.body, w.content_type);
    HttpAnswer a;
    if (!r) {
      a.error = httplib::to_string(r.error());
      return a;
    }
    a.status = r->status;
    a.body = r->body;
    return a;
  }

 private:
  HttpConnection one_write_;
  httplib::Client httplib_;
  LoadClient client_;
};

/// One client: writes back to back until the end; its latencies in ms.
std::vector<double> run_client(int port, int client, const WriteSpeller& spell,
                               const LoadOptions& options, SharedLoad& shared) {
  Sender sender(port, options.client, options.read_timeout_s);
  std::vector<double> latencies_ms;
  for (int i = 0; Clock::now() < shared.end; ++i) {
    const WriteRequest w = spell(client, i);
    const auto t0 = Clock::now();
    const HttpAnswer r = sender.send(w);
    const auto t1 = Clock::now();
    if (r.status == 200) {
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
                         const LoadOptions& options) {
  SharedLoad shared;
  shared.start = Clock::now();
  shared.end = shared.start +
               std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(concurrency));
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      latencies[static_cast<std::size_t>(t)] = run_client(port, t, spell, options, shared);
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
