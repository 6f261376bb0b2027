// What the Raft event stream costs the nodes: raft_node jobs of 3, 7 and 15
// ranks at the product's default timeouts, each with web_monitor watched by
// one open page (an /api/events?history=1 stream, so the monitor polls every
// 250 ms and pulls every node's /events each round), run twice: with events
// recorded (the default budget: 20 message events per second per node
// beyond one sampled heartbeat per link and second) and
// without (RAFT_EVENTS_PER_SECOND=0, the monitor still polling /status).
// For each: a quiet window (CPU of the whole job from /proc, Raft messages
// per second from /metrics, events recorded per second from /events, history
// records the monitor stored per second), then a window of closed-loop
// writes (4 clients) measured the same way plus writes per second.
// Usage: raft_events_bench [--sizes 3,7,15] [--window 20] [--json out.json]
//          [--svg_prefix bench/results/events] [--replot saved.json]
#include <atomic>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include <httplib.h>

#include "bench_cluster.hpp"
#include "bench_flags.hpp"
#include "idle_cpu.hpp"
#include "kv_load.hpp"
#include "machine_info.hpp"
#include "prometheus_text.hpp"
#include "stop_on_signal.hpp"
#include "svg_chart.hpp"

using namespace raft::bench;
using raft::launcher::Cluster;

namespace {

constexpr int kMinTimeout = 2000, kMaxTimeout = 4000, kHeartbeat = 750, kInitialDelay = 1000;
constexpr int kWriters = 4;

/// Counters summed over the nodes (and the monitor's last history id).
struct Counters {
  double sent = 0;
  double events = 0;  ///< each node's last event sequence number, summed
  double records = 0;
};

Counters counters(const Cluster& c) {
  Counters k;
  for (int i = 0; i < c.size(); ++i) {
    k.sent += metric_sum(c.get(i, "/metrics").raw, "raft_messages_sent_total");
    const HttpReply e = c.get(i, "/events?after=0&limit=1");
    const Json body = Json::parse(e.raw, nullptr, false);
    if (body.is_object() && body["last_seq"].is_number())
      k.events += body["last_seq"].get<double>();
  }
  httplib::Client monitor("127.0.0.1", c.monitor_port());
  monitor.set_read_timeout(5, 0);
  if (auto r = monitor.Get("/api/history?after=0&limit=1"); r && r->status == 200) {
    const Json body = Json::parse(r->body, nullptr, false);
    if (body.is_object() && body["last_id"].is_number()) k.records = body["last_id"].get<double>();
  }
  return k;
}

/// An open page's event stream, read and thrown away until stopped.
class Watcher {
 public:
  explicit Watcher(int port)
      : thread_([this, port] {
          httplib::Client client("127.0.0.1", port);
          client.set_read_timeout(2, 0);
          while (!stop_) {
            client.Get("/api/events?history=1", [&](const char*, std::size_t n) {
              bytes_ += n;
              return !stop_.load();
            });
          }
        }) {}
  ~Watcher() {
    stop_ = true;
    thread_.join();
  }
  std::uint64_t bytes() const { return bytes_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> bytes_{0};
  std::thread thread_;
};

/// One measured window; `load` runs beside it (or nothing when empty).
Json window(Cluster& c, const Watcher& w, double seconds, int leader_port, bool writes) {
  const Counters before = counters(c);
  const std::uint64_t bytes_before = w.bytes();
  LoadResult load;
  std::thread writer;
  if (writes) writer = std::thread([&] { load = kv_write_load(leader_port, kWriters, seconds); });
  const IdleCpu cpu = measure_idle_cpu(c.job().pid(), seconds);
  if (writer.joinable()) writer.join();
  const Counters after = counters(c);
  const double s = cpu.window_s;
  Json r = {{"window_s", s},
            {"cpu_percent_of_one_core_ranks", cpu.total_percent},
            {"cpu_percent_per_rank_mean", cpu.total_percent / c.size()},
            {"messages_per_s", (after.sent - before.sent) / s},
            {"events_recorded_per_s", (after.events - before.events) / s},
            {"history_records_per_s", (after.records - before.records) / s},
            {"sse_kib_per_minute", static_cast<double>(w.bytes() - bytes_before) / 1024 / s * 60},
            {"loadavg", load_average().one}};
  if (writes) {
    r["writes_per_s"] = load.writes_per_s;
    r["write_errors"] = load.errors;
  }
  return r;
}

Json run(int nodes, bool events, double seconds) {
  raft::launcher::LocalClusterSpec spec{.nodes = nodes,
                                        .min_election_timeout_ms = kMinTimeout,
                                        .max_election_timeout_ms = kMaxTimeout,
                                        .heartbeat_interval_ms = kHeartbeat,
                                        .initial_delay_ms = kInitialDelay,
                                        .fsync = "never"};
  const auto cluster = start_cluster(spec, [&](raft::launcher::ClusterOptions& o) {
    o.monitor_port = raft::launcher::free_port_range(1);
    o.env["RAFT_EVENTS_PER_SECOND"] = events ? "20" : "0";
  });
  Cluster& c = *cluster;
  int leader = -1;
  long term = 0;
  wait_stable(c, &leader, &term, std::to_string(nodes) + " ranks starting");
  Watcher watcher(c.monitor_port());
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the monitor at its fast cadence
  const Json idle = window(c, watcher, seconds, c.port(leader), false);
  const Json busy = window(c, watcher, seconds, c.port(leader), true);
  std::printf(
      "%5d %7s | idle %6.2f %% %7.1f msg/s %6.1f ev/s | writes %7.1f/s %6.2f %% %6.1f ev/s\n",
      nodes, events ? "on" : "off", idle["cpu_percent_of_one_core_ranks"].get<double>(),
      idle["messages_per_s"].get<double>(), idle["events_recorded_per_s"].get<double>(),
      busy["writes_per_s"].get<double>(), busy["cpu_percent_of_one_core_ranks"].get<double>(),
      busy["events_recorded_per_s"].get<double>());
  return {{"nodes", nodes}, {"events", events}, {"idle", idle}, {"writes", busy}};
}

void write_charts(const Json& out, const std::string& prefix) {
  Series idle_on{"idle, events on", {}, false, false, {}},
      idle_off{"idle, events off", {}, false, false, {}};
  Series busy_on{"writes, events on", {}, false, false, {}},
      busy_off{"writes, events off", {}, false, false, {}};
  for (const Json& r : out["runs"]) {
    const double n = r["nodes"].get<double>();
    const bool on = r["events"].get<bool>();
    (on ? idle_on : idle_off)
        .points.emplace_back(n, r["idle"]["cpu_percent_of_one_core_ranks"].get<double>());
    (on ? busy_on : busy_off)
        .points.emplace_back(n, r["writes"]["cpu_percent_of_one_core_ranks"].get<double>());
  }
  ChartSpec spec;
  spec.x_label = "MPI ranks (oversubscribed)";
  spec.x_ticks_at_data = true;
  spec.note = "default timeouts, a monitor page open; " + load_note(out);
  spec.title = "CPU of the whole job with and without Raft events";
  spec.y_label = "% of one core";
  write_text_file(prefix + "_cpu.svg",
                  line_chart_svg(spec, {idle_on, idle_off, busy_on, busy_off}));
}

}  // namespace

int main(int argc, char** argv) {
  stop_children_on_signal();
  std::vector<int> sizes = {3, 7, 15};
  double seconds = 20;
  OutputFlags output;
  const bool ok = parse_flags(argc, argv, "--svg_prefix", output,
                              [&](const std::string& flag, const std::string& value) {
                                if (flag == "--sizes") {
                                  sizes = int_list(value, 1);
                                } else if (flag == "--window") {
                                  seconds = number_at_least(value, 1);
                                } else {
                                  return false;
                                }
                                return true;
                              });
  if (!ok) return 2;
  if (const auto code = replot(output, write_charts)) return *code;
  Json out = {{"bench", "raft_events_bench"},
              {"machine", machine_json()},
              {"config",
               {{"min_election_timeout_ms", kMinTimeout},
                {"max_election_timeout_ms", kMaxTimeout},
                {"heartbeat_interval_ms", kHeartbeat},
                {"writers", kWriters},
                {"window_s", seconds},
                {"fsync", "never"}}},
              {"runs", Json::array()}};
  std::printf("nodes  events | idle: CPU of all ranks, messages/s, events/s | writes\n");
  try {
    for (int n : sizes) {
      for (bool events : {true, false}) out["runs"].push_back(run(n, events, seconds));
    }
  } catch (const std::exception& e) {
    std::cerr << "raft_events_bench: " << e.what() << "\n";
    return 1;
  }
  write_outputs(output, out, write_charts);
  return 0;
}
