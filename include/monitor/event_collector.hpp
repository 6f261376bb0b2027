#pragma once
/// EventCollector: gathers the cluster's history into the HistoryStore.
///
/// On each poller round it asks every node for the Raft events it recorded
/// since the last ones it took (GET /events?after=SEQ, see
/// runtime/raft_events.hpp), and after the round adds the monitor's own
/// status frames: a compact record of each node's state, term, leader,
/// commit, faults and election timer whenever one of them changed (the
/// timer alone: at most once a second, or on every round while the node has
/// not heard from a leader for two heartbeats, so a timer running out is
/// seen growing). A round's records are stored in time order.
///
/// Records (docs/API.md, GET /api/history):
///   node events:  the node's event fields (whitelisted, bounded) + "node";
///   {"k":"boot","node","boot"}: the node started (its numbering restarts);
///   {"k":"gap","node","lost"}: events the node overwrote before we read them;
///   {"k":"status","node","t",...}: a status frame.
///
/// What nodes send is data: only known fields of the expected types are
/// kept, strings are cut short, and a node's answer is capped in size.
///
/// Thread-safety: every member may be called from any thread; the poller
/// calls events_path() and on_events() from its workers in parallel.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitor/cluster_poller.hpp"
#include "monitor/history_store.hpp"

namespace raft::monitor {

/// How the monitor writes status frames.
struct FrameOptions {
  /// A frame whose only news is the timer is written at most this often.
  std::uint64_t timer_every_ms = 1000;
};

/// A node's event (one element of GET /events' "events") as a history record
/// of node `id`; nullopt when it is malformed.
std::optional<nlohmann::json> event_record(NodeId id, const nlohmann::json& event);

/// The status frame of one node from a round (`probe` of `target`); `t_us`
/// is when it was taken.
nlohmann::json status_frame(const NodeTarget& target, const NodeProbe& probe, std::uint64_t t_us);

class EventCollector final : public RoundObserver {
 public:
  /// `store` must outlive the collector. The cursors start where the
  /// store's history left off, so a restarted monitor does not store twice
  /// what it had already.
  explicit EventCollector(HistoryStore& store, FrameOptions options = {});

  // RoundObserver
  std::string extra_path(NodeId id) override;
  void on_extra(NodeId id, const FetchResult& answer) override;
  void on_round(const ClusterSnapshot& snapshot) override;

  /// Events seen lost (overwritten on a node before we read them), in total.
  std::uint64_t lost_total() const;

 private:
  struct Cursor {
    std::uint64_t boot = 0;  ///< 0: not heard from yet
    std::uint64_t seq = 0;   ///< the last event taken
  };
  struct LastFrame {
    std::string key;  ///< the frame without its timer and time
    std::uint64_t at_ms = 0;
  };

  void restore_cursors();
  void take_events(NodeId id, const nlohmann::json& body, std::vector<nlohmann::json>& out);
  bool frame_due(NodeId id, const nlohmann::json& frame, std::uint64_t now_ms);

  HistoryStore& store_;
  const FrameOptions options_;
  mutable std::mutex mutex_;
  std::map<NodeId, Cursor> cursors_;
  std::map<NodeId, LastFrame> frames_;
  std::vector<nlohmann::json> pending_;  ///< this round's records so far
  std::uint64_t lost_total_ = 0;
};

}  // namespace raft::monitor
