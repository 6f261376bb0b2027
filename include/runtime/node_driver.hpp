#pragma once
/// NodeDriver: the one loop that owns a node's Raft state.
///
/// It is the only thread that touches raft::Node, the storage, the key-value
/// state machine and the transport (so the only thread calling MPI). Each pass:
/// receive messages, tick the clock, run queued requests, then for the Ready:
/// persist (one sync for the whole pass), send, apply, answer waiting requests,
/// compact when due, publish a NodeStatus.
///
/// Other threads (HTTP handlers) only call the thread-safe methods below:
/// requests go into a queue and come back as futures; status() returns the
/// last published snapshot. No lock is held across I/O or across a Raft step.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "raft/config.hpp"
#include "runtime/kv_command.hpp"
#include "runtime/loop_wait.hpp"
#include "runtime/metrics.hpp"
#include "runtime/node_status.hpp"
#include "runtime/raft_event_recorder.hpp"
#include "runtime/raft_events.hpp"
#include "runtime/replies.hpp"
#include "transport/transport.hpp"

namespace spdlog {
class logger;
}

namespace raft::runtime {

struct NodeOptions {
  /// id, voters (all ranks), timeouts, initial delay. The seed is mixed with
  /// the start time by the caller so restarts draw new timeouts.
  Config raft;
  /// This node's own folder (<data_dir>/node-<rank>).
  std::filesystem::path node_dir;
  /// false = `--fsync never`: fast, and an OS crash may lose acknowledged writes.
  bool fsync = true;
  /// Compact the log once this many entries were applied since the last snapshot.
  std::size_t snapshot_every_entries = 10'000;
  /// ... or once this many bytes of entries were: 10,000 entries of 1 MiB
  /// would otherwise keep 10 GiB of log in memory. 0: by count only.
  std::size_t snapshot_every_bytes = 64 * 1024 * 1024;
  /// Upper bound on writes waiting for their entry to be applied.
  std::size_t max_pending_writes = 100'000;
  /// ... and on their bytes: a leader without a quorum cannot commit, and
  /// its log would grow in memory with every write it accepts.
  std::size_t pending_write_bytes_max = 64 * 1024 * 1024;
  /// The node refuses writes that would grow its key-value store beyond
  /// this many bytes (keys and values), with 507 and a clear error, before
  /// the machine runs out of memory. Deletes are always taken. 0: no quota.
  std::size_t kv_bytes_max = 1024 * 1024 * 1024;
  /// While traffic flows, the loop checks for work this long after it last
  /// served some before it sleeps in the kernel (loop_wait.hpp: kSpinWindow
  /// explains why). 0: it always sleeps at once.
  std::chrono::microseconds spin_window{kSpinWindowDefault};
  /// The Raft events this node records for the monitor (raft_events.hpp):
  /// their budget (events_per_second 0: none) and how many the ring keeps.
  RecorderOptions events;
  std::size_t event_capacity = RaftEventLog::kDefaultCapacity;
  /// Called on the loop thread right after a status with a new role, term,
  /// leader, or pause/crash state is published (the discovery client reports
  /// leadership at once instead of polling for it). Must not block.
  std::function<void()> on_leadership_change;
};

/// The commands of SPEC.md that the loop executes (show_known_nodes and
/// sync_known_nodes belong to the discovery client, outside the loop).
const std::vector<std::string>& driver_commands();

/// The most entry bytes one /entries answer copies off the loop.
inline constexpr std::size_t kEntriesAnswerBytesMax = 4 * 1024 * 1024;

class NodeDriver {
 public:
  /// Opens the node's storage and recovers its state. Throws
  /// raft::StorageError (naming the file) if the data cannot be trusted.
  NodeDriver(NodeOptions options, std::unique_ptr<transport::Transport> transport,
             std::shared_ptr<spdlog::logger> logger, std::shared_ptr<Metrics> metrics);
  ~NodeDriver();
  NodeDriver(const NodeDriver&) = delete;
  NodeDriver& operator=(const NodeDriver&) = delete;

  /// Runs the loop on the calling thread until stop(). Call from the thread
  /// that initialised MPI.
  void run();

  // ---- thread-safe ---------------------------------------------------------
  /// Asks the loop to finish its pass, sync, and return from run().
  void stop();
  std::shared_ptr<const NodeStatus> status() const;
  /// Runs one of driver_commands() with its arguments on the loop.
  std::future<CommandReply> command(std::string name, std::vector<std::string> args);
  /// Receives a key-value answer, once, on the loop's thread (so it must
  /// not block it): an HTTP server answers from there without waking one
  /// of its own threads. A request the loop never took (it stopped first)
  /// is never answered: the caller keeps a deadline.
  using KvDone = std::function<void(KvReply)>;
  /// put / delete / cas; answered once the entry is committed and applied.
  void kv_write(KvCommand command, KvDone done);
  /// Linearizable (ReadIndex) unless `stale`.
  void kv_read(std::string key, bool stale, KvDone done);
  /// The same, for a caller that waits (tests).
  std::future<KvReply> kv_write(KvCommand command);
  std::future<KvReply> kv_read(std::string key, bool stale);
  /// Copies of the log's entries from `from`, at most `limit` of them. Each
  /// holds at most `data_bytes_max` of its bytes (always enough for a KV
  /// command's header and key), and all of them together at most
  /// kEntriesAnswerBytesMax, so a page of 1 MiB values costs the loop
  /// kilobytes, not a gigabyte.
  std::future<EntriesReply> entries(Index from, std::size_t limit, std::size_t data_bytes_max);
  /// "15:04:05 - trigger_election", oldest first (the last 100).
  std::vector<std::string> command_history() const;
  /// The Raft events recorded after sequence number `after` (GET /events).
  RaftEventLog::Page events(std::uint64_t after, std::size_t limit) const;
  /// When this driver started (wall_us()): a reader that sees it change
  /// knows the sequence numbers started again.
  std::uint64_t started_us() const;

  /// The loop's state (node_driver_impl.hpp); named here so the command
  /// handlers of node_driver_commands.cpp can be free functions over it.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace raft::runtime
