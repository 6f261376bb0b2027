// EventCollector: the nodes' Raft events and the monitor's status frames into
// the history (see event_collector.hpp).
#include "monitor/event_collector.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string_view>
#include <utility>

#include "discovery/address.hpp"
#include "http/json_views.hpp"
#include "http/utf8.hpp"

namespace raft::monitor {

namespace {

using nlohmann::json;

/// Events asked for per node and round; a node keeps 4096, so a monitor
/// polling every 250 ms keeps up with 4000 a second.
constexpr int kEventsPerRequest = 1000;
/// Operator command text kept per event.
constexpr std::size_t kTextBytesMax = 200;
/// How far back a restarted monitor looks for where it left off.
constexpr std::size_t kRestoreLines = 50'000;

constexpr std::array<std::string_view, 7> kKinds = {"send",     "drop",    "state",  "commit",
                                                    "snapshot", "command", "sampled"};
constexpr std::array<std::string_view, 11> kMessages = {
    "vote", "vote_resp", "prevote",     "prevote_resp", "append", "append_resp",
    "snap", "snap_resp", "timeout_now", "removed",      "hb"};
constexpr std::array<std::string_view, 5> kStates = {"INITIAL", "FOLLOWER", "CANDIDATE", "LEADER",
                                                     "STANDBY"};

template <std::size_t N>
bool one_of(const json& value, const std::array<std::string_view, N>& allowed) {
  if (!value.is_string()) return false;
  const std::string& text = value.get_ref<const std::string&>();
  return std::find(allowed.begin(), allowed.end(), text) != allowed.end();
}

/// A non-negative integer, however the JSON library stored it.
bool is_count(const json& value) {
  return value.is_number_unsigned() ||
         (value.is_number_integer() && value.get<std::int64_t>() >= 0);
}

bool is_rank_or_null(const json& value) {
  return value.is_null() ||
         (value.is_string() && discovery::parse_node_id(value.get_ref<const std::string&>()));
}

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

/// Copies the fields of `from` named in `names` that pass `valid`.
template <typename Valid>
void copy_fields(const json& from, json& to, std::initializer_list<const char*> names,
                 Valid valid) {
  for (const char* name : names) {
    auto it = from.find(name);
    if (it != from.end() && valid(*it)) to[name] = *it;
  }
}

const json* field(const json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

json rank_list(const json& status, const char* name) {
  json out = json::array();
  const json* list = field(status, name);
  if (list == nullptr || !list->is_array()) return out;
  for (const json& v : *list) {
    if (is_count(v) && out.size() < 256) out.push_back(v);
  }
  return out;
}

/// A list of node ids as /status sends voters and learners: decimal strings.
json id_list(const json& status, const char* name) {
  json out = json::array();
  const json* list = field(status, name);
  if (list == nullptr || !list->is_array()) return out;
  for (const json& v : *list) {
    if (v.is_string() && discovery::parse_node_id(v.get_ref<const std::string&>()) &&
        out.size() < 256) {
      out.push_back(v);
    }
  }
  return out;
}

}  // namespace

std::optional<json> event_record(NodeId id, const json& event) {
  if (!event.is_object()) return std::nullopt;
  const json* kind = field(event, "k");
  const json* seq = field(event, "seq");
  const json* t = field(event, "t");
  if (kind == nullptr || !one_of(*kind, kKinds) || seq == nullptr || !is_count(*seq) ||
      t == nullptr || !is_count(*t)) {
    return std::nullopt;
  }
  json r = {{"k", *kind}, {"node", std::to_string(id)}, {"seq", *seq}, {"t", *t}};
  copy_fields(
      event, r,
      {"term", "index", "commit", "count", "hold_ms", "timeout_ms", "elapsed_ms", "window_ms"},
      is_count);
  copy_fields(event, r, {"ok", "hb", "paused", "crashed", "pre_vote"},
              [](const json& v) { return v.is_boolean(); });
  copy_fields(event, r, {"peer", "leader", "vote"}, is_rank_or_null);
  copy_fields(event, r, {"type"}, [](const json& v) { return one_of(v, kMessages); });
  copy_fields(event, r, {"state"}, [](const json& v) { return one_of(v, kStates); });
  copy_fields(event, r, {"dir"}, [](const json& v) { return v == "in" || v == "out"; });
  copy_fields(event, r, {"how"}, [](const json& v) { return v == "taken" || v == "installed"; });
  copy_fields(event, r, {"why"}, [](const json& v) {
    return v == "paused" || v == "crashed" || v == "storage" || v == "partition" || v == "cut" ||
           v == "queue_full";
  });
  if (const json* text = field(event, "text"); text != nullptr && text->is_string()) {
    r["text"] = http::escape_invalid_utf8(
        http::truncate_utf8(text->get_ref<const std::string&>(), kTextBytesMax));
  }
  if (const json* left = field(event, "left_out"); left != nullptr && left->is_object()) {
    json counts = json::object();
    for (const auto& [name, count] : left->items()) {
      if (one_of(json(name), kMessages) && is_count(count)) counts[name] = count;
    }
    r["left_out"] = std::move(counts);
  }
  return r;
}

json status_frame(const NodeTarget& target, const NodeProbe& probe, std::uint64_t t_us) {
  json f = {{"k", "status"},
            {"node", std::to_string(target.id)},
            {"t", t_us},
            {"reachable", probe.reachable}};
  if (!probe.reachable || !probe.status.is_object()) {
    f["state"] = "offline";
    return f;
  }
  const json& s = probe.status;
  copy_fields(s, f, {"state"}, [](const json& v) { return one_of(v, kStates); });
  copy_fields(s, f, {"term", "commit_index", "log_length", "first_index"}, is_count);
  copy_fields(s, f, {"leader_id", "voted_for"}, is_rank_or_null);
  copy_fields(s, f, {"paused", "crashed", "pre_voting"},
              [](const json& v) { return v.is_boolean(); });
  f["storage_failed"] = s.contains("storage_error") && s["storage_error"].is_string();
  f["partitioned"] = rank_list(s, "partitioned");
  f["dropping_from"] = rank_list(s, "dropping_from");
  f["dropping_to"] = rank_list(s, "dropping_to");
  json delaying = json::object();
  if (const json* d = field(s, "delaying"); d != nullptr && d->is_object()) {
    for (const auto& [rank, ms] : d->items()) {
      if (discovery::parse_node_id(rank) && is_count(ms)) delaying[rank] = ms;
    }
  }
  f["delaying"] = std::move(delaying);
  // The membership the node sees, so the ring can be drawn as it was at any
  // time; a node too old to report it leaves the page to assume all are voters.
  if (s.contains("voters")) {
    f["voters"] = id_list(s, "voters");
    f["learners"] = id_list(s, "learners");
    copy_fields(s, f, {"config_index"}, is_count);
  }
  if (const json* timers = field(s, "timers"); timers != nullptr && timers->is_object()) {
    copy_fields(*timers, f, {"election_timeout_ms", "election_elapsed_ms", "heartbeat_interval_ms"},
                is_count);
    copy_fields(*timers, f, {"running"}, [](const json& v) { return v.is_boolean(); });
  }
  return f;
}

EventCollector::EventCollector(HistoryStore& store, FrameOptions options)
    : store_(store), options_(options) {
  restore_cursors();
}

void EventCollector::restore_cursors() {
  for (const std::string& line : store_.tail(kRestoreLines)) {
    const json r = json::parse(line, nullptr, false);
    if (!r.is_object() || !r.contains("node") || !r["node"].is_string()) continue;
    const std::optional<NodeId> id =
        discovery::parse_node_id(r["node"].get_ref<const std::string&>());
    if (!id) continue;
    Cursor& cursor = cursors_[*id];
    if (r.value("k", "") == "boot" && r.contains("boot") && is_count(r["boot"])) {
      cursor = Cursor{r["boot"].get<std::uint64_t>(), 0};
    } else if (r.contains("seq") && is_count(r["seq"])) {
      cursor.seq = std::max(cursor.seq, r["seq"].get<std::uint64_t>());
    }
  }
}

std::string EventCollector::extra_path(NodeId id) {
  std::lock_guard lock(mutex_);
  const Cursor& cursor = cursors_[id];
  return "/events?after=" + std::to_string(cursor.seq) +
         "&limit=" + std::to_string(kEventsPerRequest);
}

void EventCollector::on_extra(NodeId id, const FetchResult& answer) {
  if (answer.status != 200) return;  // an older node without /events, or trouble
  const json body = json::parse(answer.body, nullptr, false);
  if (!body.is_object()) return;
  std::vector<json> records;
  std::lock_guard lock(mutex_);
  take_events(id, body, records);
  for (json& r : records) pending_.push_back(std::move(r));
}

void EventCollector::take_events(NodeId id, const json& body, std::vector<json>& out) {
  const json* boot = field(body, "boot");
  const json* events = field(body, "events");
  if (boot == nullptr || !is_count(*boot) || events == nullptr || !events->is_array()) {
    return;
  }
  Cursor& cursor = cursors_[id];
  const std::uint64_t boot_us = boot->get<std::uint64_t>();
  const json* last_seq = field(body, "last_seq");
  const std::uint64_t node_last =
      last_seq != nullptr && is_count(*last_seq) ? last_seq->get<std::uint64_t>() : 0;
  if (cursor.boot != boot_us) {
    out.push_back({{"k", "boot"}, {"node", std::to_string(id)}, {"boot", boot_us}, {"t", boot_us}});
    // A node that (re)started numbers its events from 1 again: what was
    // asked for after the old numbering may have skipped its first events,
    // so they come on the next round, from 0. A cursor restored without its
    // boot (cursor.boot 0) is kept unless the node is behind it.
    const bool restarted = cursor.boot != 0 || node_last < cursor.seq;
    cursor.boot = boot_us;
    if (restarted) {
      cursor.seq = 0;
      return;
    }
  }
  const json* lost = field(body, "lost");
  if (lost != nullptr && is_count(*lost) && lost->get<std::uint64_t>() > 0) {
    lost_total_ += lost->get<std::uint64_t>();
    out.push_back({{"k", "gap"},
                   {"node", std::to_string(id)},
                   {"lost", *lost},
                   {"t", events->empty() ? json(0) : (*events)[0].value("t", json(0))}});
  }
  for (const json& event : *events) {
    std::optional<json> r = event_record(id, event);
    if (!r) continue;
    const std::uint64_t seq = (*r)["seq"].get<std::uint64_t>();
    if (seq <= cursor.seq) continue;  // already stored
    cursor.seq = seq;
    out.push_back(std::move(*r));
  }
}

namespace {

/// Whether a node's timer can start an election: not when it is STANDBY,
/// nor when its frame lists voters that do not include it (a learner).
bool may_campaign(NodeId id, const json& frame) {
  if (frame.value("state", "") == "STANDBY") return false;
  const json* voters = field(frame, "voters");
  if (voters == nullptr || !voters->is_array()) return true;
  const std::string self = std::to_string(id);
  return std::find(voters->begin(), voters->end(), json(self)) != voters->end();
}

}  // namespace

bool EventCollector::frame_due(NodeId id, const json& frame, std::uint64_t now_ms) {
  json quiet = frame;
  for (const char* name : {"t", "election_elapsed_ms", "election_timeout_ms"}) quiet.erase(name);
  std::string key = http::dump_json(quiet);
  LastFrame& last = frames_[id];
  bool due = key != last.key || now_ms >= last.at_ms + options_.timer_every_ms;
  // A timer that may be running out is shown as it runs; standby nodes and
  // learners never campaign, so theirs (running, never reset) is not.
  if (!due && frame.value("state", "") != "LEADER" && frame.value("running", false) &&
      may_campaign(id, frame)) {
    const std::uint64_t elapsed = frame.value("election_elapsed_ms", std::uint64_t{0});
    const std::uint64_t heartbeat = frame.value("heartbeat_interval_ms", std::uint64_t{0});
    due = heartbeat > 0 && elapsed > 2 * heartbeat;
  }
  if (due) last = LastFrame{std::move(key), now_ms};
  return due;
}

void EventCollector::on_round(const ClusterSnapshot& snapshot) {
  const std::uint64_t now_ms = wall_ms();
  std::vector<json> records;
  {
    std::lock_guard lock(mutex_);
    records.swap(pending_);
    for (std::size_t i = 0; i < snapshot.targets.size(); ++i) {
      const NodeProbe none;
      const NodeProbe& probe = i < snapshot.probes.size() ? snapshot.probes[i] : none;
      json frame = status_frame(snapshot.targets[i], probe, now_ms * 1000);
      if (frame_due(snapshot.targets[i].id, frame, now_ms)) records.push_back(std::move(frame));
    }
  }
  std::stable_sort(records.begin(), records.end(), [](const json& a, const json& b) {
    return a.value("t", std::uint64_t{0}) < b.value("t", std::uint64_t{0});
  });
  if (!records.empty()) store_.append(records, now_ms);
}

std::uint64_t EventCollector::lost_total() const {
  std::lock_guard lock(mutex_);
  return lost_total_;
}

}  // namespace raft::monitor
