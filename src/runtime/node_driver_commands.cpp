// The operator commands of SPEC.md, run on the node's loop thread.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>

#include <spdlog/spdlog.h>

#include "node_driver_impl.hpp"

namespace raft::runtime {

namespace {

std::uint64_t steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

CommandReply ok(std::string result, nlohmann::json fields = nlohmann::json::object()) {
  CommandReply r;
  r.result = std::move(result);
  r.fields = std::move(fields);
  return r;
}

CommandReply refused(std::string error, int status = 400) {
  CommandReply r;
  r.http_status = status;
  r.ok = false;
  r.error = std::move(error);
  return r;
}

nlohmann::json node_json(NodeId id) {
  return id == kNoNode ? nlohmann::json() : nlohmann::json(std::to_string(id));
}

CommandReply from_result(const Result& r, std::string success) {
  if (r.ok()) return ok(std::move(success), {{"term", r.term}});
  CommandReply reply = refused(r.error);
  reply.fields["leader_id"] = node_json(r.leader_hint);
  return reply;
}

std::optional<NodeId> parse_rank(const std::string& text, int size) {
  int value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value >= size) {
    return std::nullopt;
  }
  return value;
}

/// Parses the ranks of partition, drop_from and drop_to: each must be a rank of
/// this cluster other than `self`. On a bad one, `error` gets one sentence.
std::optional<std::vector<NodeId>> parse_peer_ranks(const std::string& command,
                                                    const std::vector<std::string>& args, int size,
                                                    NodeId self, std::string* error) {
  if (args.empty()) {
    *error = command + " needs ranks: " + command + " R1 R2 ...";
    return std::nullopt;
  }
  std::vector<NodeId> ranks;
  for (const std::string& a : args) {
    std::optional<NodeId> r = parse_rank(a, size);
    if (!r) {
      *error = "'" + a + "' is not a rank of this cluster (0.." + std::to_string(size - 1) + ")";
      return std::nullopt;
    }
    if (*r == self) {
      *error = command == "partition" ? "a node cannot partition itself from itself"
                                      : "a node cannot " + command + " itself";
      return std::nullopt;
    }
    ranks.push_back(*r);
  }
  return ranks;
}

std::string join(const std::vector<NodeId>& ids) {
  std::string out;
  for (NodeId id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

}  // namespace

const std::vector<std::string>& driver_commands() {
  static const std::vector<std::string> commands = {
      "trigger_election", "become_follower", "check_timers", "force_timeout", "state_details",
      "submit",           "pause",           "resume",       "crash",         "restart",
      "partition",        "drop_from",       "drop_to",      "heal",          "transfer_leadership",
      "snapshot"};
  return commands;
}

std::future<CommandReply> NodeDriver::command(std::string name, std::vector<std::string> args) {
  auto promise = std::make_shared<std::promise<CommandReply>>();
  std::future<CommandReply> future = promise->get_future();
  impl_->enqueue([d = impl_.get(), promise, name = std::move(name), args = std::move(args)] {
    CommandReply reply;
    try {
      reply = d->execute(name, args);
    } catch (const std::exception& e) {
      reply = refused(std::string("the command failed: ") + e.what(), 500);
    }
    std::string line = name;
    for (const std::string& a : args) line += " " + (a.size() > 60 ? a.substr(0, 60) + "..." : a);
    d->record_history(line);
    if (reply.ok) {
      d->log->info("command {}: {}", line, reply.result);
    } else {
      d->log->info("command {} refused: {}", line, reply.error);
    }
    d->publish(/*force=*/true);
    promise->set_value(std::move(reply));
  });
  return future;
}

void NodeDriver::Impl::record_history(const std::string& line) {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
  std::lock_guard lock(history_mutex);
  history.push_back(std::string(stamp) + " - " + line);
  while (history.size() > kHistoryLines) history.pop_front();
}

CommandReply NodeDriver::Impl::execute(const std::string& name,
                                       const std::vector<std::string>& args) {
  const auto& known = driver_commands();
  if (std::find(known.begin(), known.end(), name) == known.end()) {
    return refused("unknown command '" + name + "'");
  }
  const bool read_only = name == "state_details" || name == "check_timers";
  if (crashed && name != "restart" && !read_only) {
    return refused("the node is crashed; restart it first");
  }
  if (!crashed && storage_failed() && !read_only) {
    return refused("storage failed, the node refuses changes: " + storage_error);
  }
  const bool needs_running = name == "trigger_election" || name == "become_follower" ||
                             name == "force_timeout" || name == "submit" ||
                             name == "transfer_leadership";
  if (paused && needs_running) return refused("the node is paused; resume it first");
  const int size = static_cast<int>(options.raft.voters.size());

  if (name == "trigger_election") {
    Result r = node->trigger_election();
    return from_result(r, "election started for term " + std::to_string(node->term()));
  }
  if (name == "become_follower") {
    Result r = node->become_follower();
    return from_result(r, "now FOLLOWER in term " + std::to_string(node->term()));
  }
  if (name == "force_timeout") {
    Result r = node->force_timeout();
    return from_result(r, node->role() == Role::Candidate
                              ? "election timer expired: election for term " +
                                    std::to_string(node->term()) + " started"
                              : "election timer expired: PreVote for term " +
                                    std::to_string(node->term() + 1) + " started");
  }
  if (name == "check_timers") {
    const NodeStatus s = last_status ? *last_status : NodeStatus{};
    nlohmann::json f = {
        {"election_timeout_ms", s.election_timeout_ms},
        {"election_elapsed_ms", s.election_elapsed_ms},
        {"time_since_last_heartbeat_ms",
         s.heard_from_leader ? nlohmann::json(s.since_leader_contact_ms) : nlohmann::json()},
        {"heartbeat_interval_ms", s.heartbeat_interval_ms},
        {"election_timeout_range_ms", {s.election_timeout_min_ms, s.election_timeout_max_ms}},
        {"paused", paused}};
    std::string since =
        s.heard_from_leader ? std::to_string(s.since_leader_contact_ms) + " ms" : "never";
    return ok("election timeout " + std::to_string(s.election_timeout_ms) + " ms (" +
                  std::to_string(s.election_elapsed_ms) + " ms elapsed), last heartbeat " + since +
                  (s.heard_from_leader ? " ago" : "") + ", heartbeat interval " +
                  std::to_string(s.heartbeat_interval_ms) + " ms",
              std::move(f));
  }
  if (name == "state_details") {
    publish(/*force=*/true);
    const NodeStatus& s = *last_status;
    nlohmann::json peers = nlohmann::json::array();
    for (const PeerStatus& p : s.peers) {
      peers.push_back({{"id", std::to_string(p.id)},
                       {"match_index", p.match_index},
                       {"next_index", p.next_index},
                       {"state", p.progress_state},
                       {"partitioned", p.partitioned},
                       {"dropping_from", p.dropping_from},
                       {"dropping_to", p.dropping_to}});
    }
    nlohmann::json details = {{"rank", s.rank},
                              {"cluster_size", s.cluster_size},
                              {"state", role_name(s.role)},
                              {"term", s.term},
                              {"voted_for", node_json(s.voted_for)},
                              {"leader_id", node_json(s.leader_id)},
                              {"pre_voting", s.pre_voting},
                              {"log_first_index", s.first_index},
                              {"log_last_index", s.log_length},
                              {"snapshot_index", s.snapshot_index},
                              {"commit_index", s.commit_index},
                              {"last_applied", s.last_applied},
                              {"kv_keys", s.kv_keys},
                              {"paused", s.paused},
                              {"crashed", s.crashed},
                              {"partitioned", s.partitioned},
                              {"dropping_from", s.dropping_from},
                              {"dropping_to", s.dropping_to},
                              {"transfer_target", node_json(s.transfer_target)},
                              {"peers", peers},
                              {"election_timeout_ms", s.election_timeout_ms},
                              {"election_elapsed_ms", s.election_elapsed_ms},
                              {"heartbeat_interval_ms", s.heartbeat_interval_ms},
                              {"data_dir", options.node_dir.string()},
                              {"fsync", options.fsync ? "always" : "never"},
                              {"storage_error", s.storage_error}};
    return ok(std::string(role_name(s.role)) + " in term " + std::to_string(s.term),
              {{"details", std::move(details)}});
  }
  if (name == "submit") {
    if (args.empty() || args[0].empty()) return refused("submit needs text: submit TEXT");
    if (args[0].size() > kMaxValueBytes) return refused("the text is larger than 1 MiB", 413);
    Result r = node->propose(EntryType::Command, args[0]);
    if (!r.ok()) return from_result(r, {});
    return ok("appended at index " + std::to_string(r.index) + " in term " +
                  std::to_string(r.term) + "; it commits once a majority has it",
              {{"index", r.index}, {"term", r.term}});
  }
  if (name == "pause") {
    if (paused) return refused("the node is already paused");
    paused = true;
    pause_started_ms = steady_ms();
    log->warn(
        "paused: Raft messages are received and dropped, nothing is sent, timers stand still");
    return ok("paused: Raft messages are dropped and timers stand still");
  }
  if (name == "resume") {
    if (!paused) return refused("the node is not paused");
    paused_total_ms += steady_ms() - pause_started_ms;
    paused = false;
    log->warn("resumed");
    return ok("resumed");
  }
  if (name == "crash") {
    if (paused) {
      paused_total_ms += steady_ms() - pause_started_ms;
      paused = false;
    }
    crashed = true;
    fail_everything("the node crashed");
    node.reset();
    kv.reset();
    file_store.reset();
    log->warn("crashed: all volatile state dropped; restart rebuilds it from {}",
              options.node_dir.string());
    return ok("crashed: volatile state dropped; 'restart' recovers from disk");
  }
  if (name == "restart") {
    if (!crashed) return refused("the node is not crashed");
    try {
      open_and_recover();
    } catch (const std::exception& e) {
      storage_error = e.what();
      log->critical("restart failed: {}", e.what());
      return refused(std::string("restart failed: ") + e.what(), 500);
    }
    crashed = false;
    return ok("restarted from disk: term " + std::to_string(node->term()) + ", log up to index " +
                  std::to_string(node->log().last_index()) + ", snapshot at " +
                  std::to_string(node->log().snapshot().last_index),
              {{"term", node->term()}, {"log_length", node->log().last_index()}});
  }
  if (name == "partition" || name == "drop_from" || name == "drop_to") {
    std::string error;
    const auto ranks = parse_peer_ranks(name, args, size, options.raft.id, &error);
    if (!ranks) return refused(error);
    return cut(name, *ranks);
  }
  if (name == "heal") {
    if (!args.empty()) return refused("heal takes no arguments");
    ready.links().heal();
    return ok("healed: traffic flows to and from every node",
              {{"partitioned", nlohmann::json::array()},
               {"dropping_from", nlohmann::json::array()},
               {"dropping_to", nlohmann::json::array()}});
  }
  if (name == "transfer_leadership") {
    if (args.size() != 1)
      return refused("transfer_leadership needs one rank: transfer_leadership R");
    std::optional<NodeId> target = parse_rank(args[0], size);
    if (!target) {
      return refused("'" + args[0] + "' is not a rank of this cluster (0.." +
                     std::to_string(size - 1) + ")");
    }
    Result r = node->transfer_leadership(*target);
    return from_result(r, "transferring leadership to node " + args[0]);
  }
  if (name == "snapshot") {
    std::string error;
    if (!take_snapshot(&error)) return refused("no snapshot taken: " + error);
    return ok("snapshot at index " + std::to_string(node->log().snapshot().last_index) +
                  "; the log now starts at " + std::to_string(node->log().first_index()),
              {{"snapshot_index", node->log().snapshot().last_index}});
  }
  return refused("unknown command '" + name + "'");
}

CommandReply NodeDriver::Impl::cut(const std::string& name, const std::vector<NodeId>& ranks) {
  // Each command adds to its own set; only heal empties them, so the three
  // kinds of cut can be combined (a drop_to and a drop_from make a partition).
  LinkFilter& links = ready.links();
  if (name == "partition") {
    links.partitioned.insert(ranks.begin(), ranks.end());
    std::vector<NodeId> all(links.partitioned.begin(), links.partitioned.end());
    return ok("dropping all traffic to and from node(s) " + join(all), {{"partitioned", all}});
  }
  if (name == "drop_from") {
    links.drop_from.insert(ranks.begin(), ranks.end());
    std::vector<NodeId> all(links.drop_from.begin(), links.drop_from.end());
    return ok(
        "dropping every message received from node(s) " + join(all) + " (still sending to them)",
        {{"dropping_from", all}});
  }
  links.drop_to.insert(ranks.begin(), ranks.end());
  std::vector<NodeId> all(links.drop_to.begin(), links.drop_to.end());
  return ok("dropping every message sent to node(s) " + join(all) + " (still receiving from them)",
            {{"dropping_to", all}});
}

}  // namespace raft::runtime
