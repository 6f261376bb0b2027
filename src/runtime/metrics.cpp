#include "runtime/metrics.hpp"

#include <cstdio>

namespace raft::runtime {

namespace {

void line(std::string& out, const std::string& name, const std::string& labels, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += buf;
  out += '\n';
}

void header(std::string& out, const std::string& name, const char* type, const char* help) {
  out += "# HELP " + name + ' ' + help + '\n';
  out += "# TYPE " + name + ' ' + type + '\n';
}

void gauge(std::string& out, const std::string& name, const char* help, double value) {
  header(out, name, "gauge", help);
  line(out, name, {}, value);
}

void counter(std::string& out, const std::string& name, const char* help, double value) {
  header(out, name, "counter", help);
  line(out, name, {}, value);
}

/// A counter with one sample per Raft message type, labelled type="...".
void counter_by_type(std::string& out, const std::string& name, const char* help,
                     const std::array<std::atomic<std::uint64_t>, Metrics::kTypes>& counts) {
  header(out, name, "counter", help);
  for (std::size_t t = kMessageTypeMin; t < Metrics::kTypes; ++t) {
    line(out, name, "type=\"" + std::string(message_type_name(static_cast<MessageType>(t))) + "\"",
         static_cast<double>(counts[t].load()));
  }
}

}  // namespace

void Histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::render(const std::string& name, const std::string& labels, std::string& out) const {
  const std::string sep = labels.empty() ? "" : labels + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    char le[32];
    std::snprintf(le, sizeof le, "%g", kBounds[i]);
    line(out, name + "_bucket", sep + "le=\"" + le + "\"", static_cast<double>(cumulative));
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  line(out, name + "_bucket", sep + "le=\"+Inf\"", static_cast<double>(cumulative));
  line(out, name + "_sum", labels, static_cast<double>(sum_micros_.load()) / 1e6);
  line(out, name + "_count", labels, static_cast<double>(count_.load()));
}

void Metrics::count_http_request(const std::string& method, int status) {
  std::lock_guard lock(http_mutex_);
  ++http_requests_[{method, status}];
}

std::string Metrics::render_prometheus() const {
  std::string out;
  out.reserve(8192);
  gauge(out, "raft_term", "current Raft term", static_cast<double>(term.load()));
  gauge(out, "raft_state", "0 INITIAL, 1 FOLLOWER, 2 CANDIDATE, 3 LEADER", role.load());
  gauge(out, "raft_commit_index", "highest index known committed",
        static_cast<double>(commit_index.load()));
  gauge(out, "raft_last_applied", "highest index applied to the key-value store",
        static_cast<double>(last_applied.load()));
  gauge(out, "raft_log_length", "last index in the log", static_cast<double>(log_length.load()));
  gauge(out, "raft_paused", "1 while the node is paused", paused.load());
  gauge(out, "raft_crashed", "1 while the node is crashed (volatile state dropped)",
        crashed.load());
  counter(out, "raft_elections_started_total", "elections this node started (real votes)",
          static_cast<double>(elections_started.load()));
  counter(out, "raft_pre_votes_started_total", "PreVote rounds this node started",
          static_cast<double>(pre_votes_started.load()));
  counter(out, "raft_elections_won_total", "times this node became leader",
          static_cast<double>(elections_won.load()));
  counter(out, "raft_leader_changes_total", "leader changes this node saw",
          static_cast<double>(leader_changes.load()));
  counter(out, "raft_entries_applied_total", "entries applied to the state machine",
          static_cast<double>(entries_applied.load()));
  counter(out, "raft_snapshots_taken_total", "local snapshots (log compactions)",
          static_cast<double>(snapshots_taken.load()));
  counter(out, "raft_snapshots_installed_total", "snapshots received from a leader",
          static_cast<double>(snapshots_installed.load()));
  counter(out, "raft_kv_writes_total", "key-value writes answered",
          static_cast<double>(kv_writes.load()));
  counter(out, "raft_kv_reads_total", "key-value reads answered",
          static_cast<double>(kv_reads.load()));

  counter_by_type(out, "raft_messages_sent_total", "Raft messages sent, by type", messages_sent);
  counter_by_type(out, "raft_messages_received_total", "Raft messages received, by type",
                  messages_received);
  counter(out, "raft_messages_dropped_total",
          "messages dropped: paused, partitioned, or the peer's send queue full",
          static_cast<double>(messages_dropped.load()));
  counter(out, "raft_decode_errors_total", "received messages rejected by the decoder",
          static_cast<double>(decode_errors.load()));
  header(out, "raft_fsync_seconds", "histogram", "fsync (fdatasync) latency of one storage sync");
  fsync_seconds.render("raft_fsync_seconds", {}, out);
  header(out, "raft_write_stage_seconds", "histogram",
         "one write on the leader, by stage: queued, leader_sync, replicate_commit, total");
  write_queue_seconds.render("raft_write_stage_seconds", "stage=\"queued\"", out);
  write_leader_sync_seconds.render("raft_write_stage_seconds", "stage=\"leader_sync\"", out);
  write_replicate_commit_seconds.render("raft_write_stage_seconds", "stage=\"replicate_commit\"",
                                        out);
  write_total_seconds.render("raft_write_stage_seconds", "stage=\"total\"", out);

  header(out, "raft_http_requests_total", "counter", "HTTP requests served, by method and status");
  std::lock_guard lock(http_mutex_);
  for (const auto& [key, n] : http_requests_) {
    line(out, "raft_http_requests_total",
         "method=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"",
         static_cast<double>(n));
  }
  return out;
}

}  // namespace raft::runtime
