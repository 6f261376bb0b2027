// The operator commands of SPEC.md, run on the node's loop thread.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <set>
#include <string_view>

#include <spdlog/spdlog.h>

#include "node_driver_impl.hpp"
#include "util/node_id_json.hpp"

namespace raft::runtime {

namespace {

using util::id_list_json;
using util::node_id_json;

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

CommandReply from_result(const Result& r, std::string success) {
  if (r.ok()) return ok(std::move(success), {{"term", r.term}});
  CommandReply reply = refused(r.error);
  reply.fields["leader_id"] = node_id_json(r.leader_hint);
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

std::string not_a_rank(const std::string& text, int size) {
  return "'" + text + "' is not a rank of this cluster (0.." + std::to_string(size - 1) + ")";
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
      *error = not_a_rank(a, size);
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

using Args = std::vector<std::string>;
using Impl = NodeDriver::Impl;

// ---- elections ------------------------------------------------------------

CommandReply trigger_election(Impl& d, const Args&) {
  Result r = d.node->trigger_election();
  return from_result(r, "election started for term " + std::to_string(d.node->term()));
}

CommandReply become_follower(Impl& d, const Args&) {
  Result r = d.node->become_follower();
  return from_result(r, "now FOLLOWER in term " + std::to_string(d.node->term()));
}

CommandReply force_timeout(Impl& d, const Args&) {
  Result r = d.node->force_timeout();
  return from_result(r, d.node->role() == Role::Candidate
                            ? "election timer expired: election for term " +
                                  std::to_string(d.node->term()) + " started"
                            : "election timer expired: PreVote for term " +
                                  std::to_string(d.node->term() + 1) + " started");
}

CommandReply transfer_leadership(Impl& d, const Args& args) {
  if (args.size() != 1) {
    return refused("transfer_leadership needs one rank: transfer_leadership R");
  }
  std::optional<NodeId> target = parse_rank(args[0], d.ranks());
  if (!target) return refused(not_a_rank(args[0], d.ranks()));
  Result r = d.node->transfer_leadership(*target);
  return from_result(r, "transferring leadership to node " + args[0]);
}

// ---- inspection -------------------------------------------------------------

CommandReply check_timers(Impl& d, const Args&) {
  const NodeStatus s = d.last_status ? *d.last_status : NodeStatus{};
  nlohmann::json f = {
      {"election_timeout_ms", s.election_timeout_ms},
      {"election_elapsed_ms", s.election_elapsed_ms},
      {"time_since_last_heartbeat_ms",
       s.heard_from_leader ? nlohmann::json(s.since_leader_contact_ms) : nlohmann::json()},
      {"heartbeat_interval_ms", s.heartbeat_interval_ms},
      {"election_timeout_range_ms", {s.election_timeout_min_ms, s.election_timeout_max_ms}},
      {"paused", d.paused}};
  std::string since =
      s.heard_from_leader ? std::to_string(s.since_leader_contact_ms) + " ms" : "never";
  return ok("election timeout " + std::to_string(s.election_timeout_ms) + " ms (" +
                std::to_string(s.election_elapsed_ms) + " ms elapsed), last heartbeat " + since +
                (s.heard_from_leader ? " ago" : "") + ", heartbeat interval " +
                std::to_string(s.heartbeat_interval_ms) + " ms",
            std::move(f));
}

nlohmann::json peers_json(const NodeStatus& s) {
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
  return peers;
}

CommandReply state_details(Impl& d, const Args&) {
  d.publish(/*force=*/true);
  const NodeStatus& s = *d.last_status;
  nlohmann::json details = {{"rank", s.rank},
                            {"cluster_size", s.cluster_size},
                            {"state", role_name(s.role)},
                            {"term", s.term},
                            {"voted_for", node_id_json(s.voted_for)},
                            {"leader_id", node_id_json(s.leader_id)},
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
                            {"transfer_target", node_id_json(s.transfer_target)},
                            {"peers", peers_json(s)},
                            {"election_timeout_ms", s.election_timeout_ms},
                            {"election_elapsed_ms", s.election_elapsed_ms},
                            {"heartbeat_interval_ms", s.heartbeat_interval_ms},
                            {"data_dir", d.options.node_dir.string()},
                            {"fsync", d.options.fsync ? "always" : "never"},
                            {"storage_error", s.storage_error}};
  return ok(std::string(role_name(s.role)) + " in term " + std::to_string(s.term),
            {{"details", std::move(details)}});
}

// ---- the log ------------------------------------------------------------------

CommandReply submit(Impl& d, const Args& args) {
  if (args.empty() || args[0].empty()) return refused("submit needs text: submit TEXT");
  if (args[0].size() > kMaxValueBytes) return refused("the text is larger than 1 MiB", 413);
  Result r = d.node->propose(EntryType::Command, args[0]);
  if (!r.ok()) return from_result(r, {});
  return ok("appended at index " + std::to_string(r.index) + " in term " + std::to_string(r.term) +
                "; it commits once a majority has it",
            {{"index", r.index}, {"term", r.term}});
}

CommandReply snapshot(Impl& d, const Args&) {
  std::string error;
  if (!d.take_snapshot(&error)) return refused("no snapshot taken: " + error);
  return ok("snapshot at index " + std::to_string(d.node->log().snapshot().last_index) +
                "; the log now starts at " + std::to_string(d.node->log().first_index()),
            {{"snapshot_index", d.node->log().snapshot().last_index}});
}

// ---- process faults -------------------------------------------------------------

CommandReply pause(Impl& d, const Args&) {
  if (d.paused) return refused("the node is already paused");
  d.paused = true;
  d.pause_started_ms = steady_ms();
  d.log->warn(
      "paused: Raft messages are received and dropped, nothing is sent, timers stand still");
  return ok("paused: Raft messages are dropped and timers stand still");
}

CommandReply resume(Impl& d, const Args&) {
  if (!d.paused) return refused("the node is not paused");
  d.paused_total_ms += steady_ms() - d.pause_started_ms;
  d.paused = false;
  d.log->warn("resumed");
  return ok("resumed");
}

CommandReply crash(Impl& d, const Args&) {
  if (d.paused) {
    d.paused_total_ms += steady_ms() - d.pause_started_ms;
    d.paused = false;
  }
  d.crashed = true;
  d.fail_everything("the node crashed");
  d.drop_volatile_state();
  d.log->warn("crashed: all volatile state dropped; restart rebuilds it from {}",
              d.options.node_dir.string());
  return ok("crashed: volatile state dropped; 'restart' recovers from disk");
}

CommandReply restart(Impl& d, const Args&) {
  if (!d.crashed && !d.storage_failed()) return refused("the node is not crashed");
  if (d.node) d.drop_volatile_state();  // a failed store not yet stopped by the loop
  try {
    d.open_and_recover();
  } catch (const std::exception& e) {
    d.drop_volatile_state();
    d.storage_error = e.what();
    d.log->critical("restart failed: {}", e.what());
    return refused(std::string("restart failed: ") + e.what(), 500);
  }
  d.crashed = false;
  d.storage_error.clear();
  const RaftLog& log = d.node->log();
  return ok("restarted from disk: term " + std::to_string(d.node->term()) + ", log up to index " +
                std::to_string(log.last_index()) + ", snapshot at " +
                std::to_string(log.snapshot().last_index),
            {{"term", d.node->term()}, {"log_length", log.last_index()}});
}

// ---- network faults: each command adds to its own set of the LinkFilter;
// only heal empties them, so the kinds of cut combine (a drop_to and a
// drop_from make a partition).

/// One kind of cut: the command, the LinkFilter set it adds to, the field
/// that reports the set, and the sentence around the ranks.
struct CutKind {
  const char* command;
  std::set<NodeId> LinkFilter::*set;
  const char* field;
  const char* before;
  const char* after;
};

CommandReply cut(Impl& d, const CutKind& kind, const Args& args) {
  std::string error;
  const auto ranks = parse_peer_ranks(kind.command, args, d.ranks(), d.options.raft.id, &error);
  if (!ranks) return refused(error);
  std::set<NodeId>& set = d.ready.links().*kind.set;
  set.insert(ranks->begin(), ranks->end());
  const std::vector<NodeId> all(set.begin(), set.end());
  return ok(kind.before + join(all) + kind.after, {{kind.field, all}});
}

CommandReply partition(Impl& d, const Args& args) {
  return cut(d,
             {"partition", &LinkFilter::partitioned, "partitioned",
              "dropping all traffic to and from node(s) ", ""},
             args);
}

CommandReply drop_from(Impl& d, const Args& args) {
  return cut(d,
             {"drop_from", &LinkFilter::drop_from, "dropping_from",
              "dropping every message received from node(s) ", " (still sending to them)"},
             args);
}

CommandReply drop_to(Impl& d, const Args& args) {
  return cut(d,
             {"drop_to", &LinkFilter::drop_to, "dropping_to",
              "dropping every message sent to node(s) ", " (still receiving from them)"},
             args);
}

CommandReply heal(Impl& d, const Args& args) {
  if (!args.empty()) return refused("heal takes no arguments");
  d.ready.links().heal();
  d.delays->clear_delays();
  return ok("healed: traffic flows to and from every node",
            {{"partitioned", nlohmann::json::array()},
             {"dropping_from", nlohmann::json::array()},
             {"dropping_to", nlohmann::json::array()},
             {"delaying", nlohmann::json::object()}});
}

nlohmann::json delaying_json(const std::map<NodeId, std::uint32_t>& delays) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [rank, ms] : delays) out[std::to_string(rank)] = ms;
  return out;
}

/// `delay R1 R2 ... MS` or `delay all MS`: messages to those ranks are held
/// for MS before they leave (0 clears); `heal` clears every delay.
CommandReply delay(Impl& d, const Args& args) {
  constexpr const char* kUsage =
      "delay needs ranks and milliseconds: delay R1 R2 ... MS, or delay all MS";
  if (args.size() < 2) return refused(kUsage);
  const std::string& ms_text = args.back();
  std::uint32_t ms = 0;
  const auto [end, ec] = std::from_chars(ms_text.data(), ms_text.data() + ms_text.size(), ms);
  if (ec != std::errc() || end != ms_text.data() + ms_text.size() ||
      ms > transport::DelayingTransport::kMaxDelayMs) {
    return refused("'" + ms_text + "' is not a delay in milliseconds (0.." +
                   std::to_string(transport::DelayingTransport::kMaxDelayMs) + ")");
  }
  const Args rank_args(args.begin(), args.end() - 1);
  std::vector<NodeId> ranks;
  // Every rank of the job, not just the initial voters: spares may be
  // members by now, and a standby rank still hears from the leader.
  if (rank_args.size() == 1 && rank_args[0] == "all") {
    for (NodeId r = 0; r < d.ranks(); ++r) {
      if (r != d.options.raft.id) ranks.push_back(r);
    }
  } else {
    std::string error;
    auto parsed = parse_peer_ranks("delay", rank_args, d.ranks(), d.options.raft.id, &error);
    if (!parsed) return refused(error);
    ranks = std::move(*parsed);
  }
  if (ranks.empty()) return refused("there is no other node to delay messages to");
  for (NodeId r : ranks) d.delays->set_delay(r, ms);
  const std::string what =
      ms == 0 ? "no longer delaying messages to node(s) " : "holding each message to node(s) ";
  return ok(what + join(ranks) + (ms == 0 ? "" : " for " + std::to_string(ms) + " ms"),
            {{"delaying", delaying_json(d.delays->delays())}});
}

/// One row per operator command: the table that validation, dispatch and
/// driver_commands() (the HTTP layer's list and help) all read. The order is
/// the original demo's.
// ---- membership: one server at a time, through the log (raft/membership.hpp)

nlohmann::json conf_json(const ConfState& conf) {
  return {{"voters", id_list_json(conf.voters)},
          {"learners", id_list_json(conf.learners)},
          {"promoting", id_list_json(conf.promoting)},
          {"config_index", conf.index}};
}

CommandReply change_membership(Impl& d, ConfChangeType type, const Args& args) {
  const std::string name(conf_change_type_name(type));
  if (args.size() != 1) return refused(name + " needs one rank: " + name + " R");
  const std::optional<NodeId> rank = parse_rank(args[0], d.ranks());
  if (!rank) return refused(not_a_rank(args[0], d.ranks()));
  const Result r = d.node->change_membership(ConfChange{type, *rank});
  if (!r.ok()) return from_result(r, "");
  nlohmann::json fields = conf_json(d.node->conf_state());
  fields["index"] = r.index;
  fields["term"] = r.term;
  return ok(name + " " + args[0] + ": configuration entry at index " + std::to_string(r.index) +
                " (" + describe_conf(d.node->conf_state()) +
                "), in effect now, done once committed",
            std::move(fields));
}

CommandReply add_node(Impl& d, const Args& a) {
  return change_membership(d, ConfChangeType::AddNode, a);
}
CommandReply add_learner(Impl& d, const Args& a) {
  return change_membership(d, ConfChangeType::AddLearner, a);
}
CommandReply promote(Impl& d, const Args& a) {
  return change_membership(d, ConfChangeType::Promote, a);
}
CommandReply remove_node(Impl& d, const Args& a) {
  return change_membership(d, ConfChangeType::Remove, a);
}

CommandReply show_config(Impl& d, const Args&) {
  if (!d.node) return refused("the node is crashed; restart it first");
  const ConfState& conf = d.node->conf_state();
  const ConfState& committed = d.node->committed_conf_state();
  nlohmann::json fields = conf_json(conf);
  fields["committed"] = conf.index <= d.node->commit_index();
  fields["committed_config"] = conf_json(committed);
  return ok(describe_conf(conf) + " at index " + std::to_string(conf.index) +
                (conf.index <= d.node->commit_index() ? " (committed)" : " (not committed yet)"),
            std::move(fields));
}

struct CommandSpec {
  std::string_view name;
  /// Refused while paused: it needs the node's timers and messages.
  bool needs_running;
  /// Answers on a crashed node and on one whose storage failed.
  bool read_only;
  CommandReply (*handler)(Impl&, const Args&);
};

constexpr CommandSpec kCommands[] = {
    {"trigger_election", true, false, trigger_election},
    {"become_follower", true, false, become_follower},
    {"check_timers", false, true, check_timers},
    {"force_timeout", true, false, force_timeout},
    {"state_details", false, true, state_details},
    {"submit", true, false, submit},
    {"pause", false, false, pause},
    {"resume", false, false, resume},
    {"crash", false, false, crash},
    {"restart", false, false, restart},
    {"partition", false, false, partition},
    {"drop_from", false, false, drop_from},
    {"drop_to", false, false, drop_to},
    {"heal", false, false, heal},
    {"delay", false, false, delay},
    {"transfer_leadership", true, false, transfer_leadership},
    {"snapshot", false, false, snapshot},
    {"add_node", true, false, add_node},
    {"add_learner", true, false, add_learner},
    {"promote", true, false, promote},
    {"remove_node", true, false, remove_node},
    {"show_config", false, true, show_config},
};

const CommandSpec* find_command(std::string_view name) {
  for (const CommandSpec& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& driver_commands() {
  static const std::vector<std::string> commands = [] {
    std::vector<std::string> names;
    for (const CommandSpec& c : kCommands) names.emplace_back(c.name);
    return names;
  }();
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
    d->recorder->command(line, reply.ok, wall_us());
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

CommandReply NodeDriver::Impl::execute(const std::string& name, const Args& args) {
  const CommandSpec* spec = find_command(name);
  if (spec == nullptr) return refused("unknown command '" + name + "'");
  // Only restart touches a crashed node, and a failed store takes no changes.
  if (crashed && spec->handler != restart && !spec->read_only) {
    return refused("the node is crashed; restart it first");
  }
  if (!crashed && storage_failed() && !spec->read_only && spec->handler != restart) {
    return refused("storage failed, the node refuses changes: " + storage_error);
  }
  if (paused && spec->needs_running) return refused("the node is paused; resume it first");
  return spec->handler(*this, args);
}

}  // namespace raft::runtime
