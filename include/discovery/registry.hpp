#pragma once
/// The discovery server's registry: which node is at which address, which
/// node reported itself leader (and in which term), and when each node was
/// last heard from. Everything the HTTP server does except the sockets:
/// request validation, the state, its JSON views and its persistence, so that
/// all of it is tested without a network.
///
/// STATE FILE (written atomically: <file>.tmp, fsync, rename, fsync of the
/// directory; a leftover <file>.tmp is an interrupted save and is removed):
///
///   {"format":"raft_discovery_state","version":1,
///    "nodes":{"0":"127.0.0.1:7000",...},"leader":"0","leader_term":3}
///
/// It is written on every change of membership or leader, never for a
/// heartbeat: last-seen times live in memory only. After a restart the
/// members are therefore "not heard from yet" (alive:false,
/// last_seen_ms_ago:null) until their next heartbeat, one second later.
///
/// TIME: every method that needs the time takes `now_ms`, a reading of a
/// monotonic millisecond clock chosen by the caller (tests pass any value).
///
/// THREAD-SAFETY: all public methods are thread-safe (one internal mutex;
/// the HTTP server calls them from its worker threads). A save happens under
/// that mutex, so saves are serialized and never interleave.
///
/// ERRORS: load() throws RegistryError naming the file when it cannot be read
/// or does not parse. A failed save throws RegistryError naming the file; the
/// change it was saving is then NOT applied in memory either, so memory and
/// disk never disagree. The handle_* methods never throw: they turn bad
/// requests into 400 and failed saves into 500 replies.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "raft/types.hpp"

namespace spdlog {
class logger;
}

namespace raft::discovery {

/// A state file that cannot be read, parsed or written. what() is one line
/// that names the file.
class RegistryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SetLeaderRequest;

/// The JSON type of every view: keeps keys in insertion order, so nodes are
/// listed 0, 1, 2, ..., 10 rather than in string order.
using Json = nlohmann::ordered_json;

/// What the HTTP layer answers: a status code and a JSON body that always
/// holds "ok" (and "error", one sentence, when ok is false).
struct Reply {
  int status = 200;
  Json body;
};

/// Limits that keep a misbehaving client from growing the registry without
/// bound (and the state file with it).
inline constexpr std::size_t kMembersMax = 4096;
/// The state file is refused above this size rather than read into memory.
inline constexpr std::uintmax_t kStateFileBytesMax = 16 * 1024 * 1024;

struct Member {
  std::string address;
  /// When the node last registered (its heartbeat); nullopt when it has not
  /// been heard from since this server started (members loaded from disk).
  std::optional<TimeMs> last_seen_ms;
  /// Set once the silence was logged, so that it is logged once, and the
  /// return is logged too.
  bool silence_logged = false;
};

class Registry {
 public:
  struct Options {
    /// Empty: keep everything in memory only (tests).
    std::filesystem::path state_file;
    /// A member not heard from for this long is shown alive:false.
    TimeMs alive_timeout_ms = 3000;
    /// One line per registration change and leader change; null: no logging.
    std::shared_ptr<spdlog::logger> logger;
    /// The ranks of the job (node ids 0..ranks-1); a registration or leader
    /// claim for another id is refused. 0: any id (a bare server, tests).
    NodeId ranks = 0;
  };

  /// A leader claim more than this above the term held is refused: Raft
  /// moves one term per election (PreVote keeps partitioned nodes from
  /// inflating it), so a jump of a million is a forgery that would otherwise
  /// make every later true claim look stale.
  static constexpr Term kTermJumpMax = 1'000'000;

  enum class RegisterOutcome {
    Added,          ///< a new node
    Moved,          ///< a known node with a new address
    Heartbeat,      ///< a known node, same address: only last_seen changed
    Removed,        ///< deregistered
    NotRegistered,  ///< deregistering a node that was not registered
  };

  enum class LeaderOutcome {
    Changed,    ///< a new leader or a new term: saved
    Unchanged,  ///< the same node and term as held
    Ignored,    ///< the term is lower than the one held
  };

  explicit Registry(Options options);

  /// Reads the state file if it exists (an absent file is an empty registry)
  /// and removes a leftover temporary file. Throws RegistryError naming the
  /// file when it is unreadable, too large, or not a valid state file.
  void load();

  /// Forgets everything (like POST /reset), and saves the empty registry.
  /// Used for --reset, so a corrupt state file is replaced without reading it.
  void reset();

  /// Registers `id` at `address` (already validated) or refreshes its heartbeat.
  /// Throws RegistryError when the save fails, std::length_error when the
  /// registry is full (kMembersMax).
  RegisterOutcome register_node(NodeId id, const std::string& address, TimeMs now_ms);

  /// Forgets `id`; if it was the leader, no leader is known any more (the
  /// held term stays, so stale reports are still ignored).
  RegisterOutcome deregister_node(NodeId id);

  /// Applies the leader term rule: a lower term than the one held is ignored;
  /// the same or a higher term replaces the leader. Terms start at 1. The
  /// reporting node need not be registered (reports may overtake the
  /// registration after a discovery restart).
  LeaderOutcome set_leader(NodeId id, Term term);

  /// Logs (once each) members that have fallen silent for alive_timeout_ms.
  /// Returns their ids. Called periodically by the server; views do not need it.
  std::vector<NodeId> sweep(TimeMs now_ms);

  /// GET /state: {"nodes":{..},"leader":"0"|null,"leader_term":N,"members":{..}}.
  /// leader_term is the highest term reported since the last reset (0: none).
  Json state_json(TimeMs now_ms) const;

  /// The HTTP handlers: parse and validate the body, apply, answer.
  /// A registration must name a rank of the job (Options::ranks), and come
  /// from the IP address it registers (address_is_from; for a
  /// deregistration, the one registered): else 403. `peer_ip` empty skips
  /// that check.
  Reply handle_register(std::string_view body, TimeMs now_ms, std::string_view peer_ip = {});
  /// A leader claim must come from a registered rank, from the address it
  /// registered (address_is_from; `peer_ip` empty skips that check), with a
  /// term at most kTermJumpMax above the term held; else 403 or 400.
  Reply handle_set_leader(std::string_view body, std::string_view peer_ip = {});
  Reply handle_reset();
  Reply handle_state(TimeMs now_ms) const;

  /// Snapshots for tests and logs.
  std::map<NodeId, Member> members() const;
  std::optional<NodeId> leader() const;
  Term leader_term() const;
  bool alive(NodeId id, TimeMs now_ms) const;
  const std::filesystem::path& state_file() const { return options_.state_file; }

 private:
  struct State {
    std::map<NodeId, Member> members;
    std::optional<NodeId> leader;
    Term leader_term = 0;
  };

  /// The state in a state file's `text`; throws RegistryError naming `path`.
  static State parse_state(const std::string& text, const std::filesystem::path& path);
  /// Why a well-formed registration (address) or deregistration (nullopt)
  /// of `id` from `peer_ip` is refused (see handle_register).
  std::optional<Reply> refuse_registration(NodeId id, const std::optional<std::string>& address,
                                           std::string_view peer_ip) const;
  /// Why a well-formed leader claim is refused (see handle_set_leader).
  std::optional<Reply> refuse_leader_claim(const SetLeaderRequest& claim,
                                           std::string_view peer_ip) const;
  /// Writes `next` atomically (if there is a state file); throws RegistryError.
  void save(const State& next) const;
  bool alive_locked(const Member& member, TimeMs now_ms) const;
  /// Adds nodes, leader, leader_term and members to `out`.
  void write_state(Json& out, TimeMs now_ms) const;

  Options options_;
  mutable std::mutex mutex_;
  State state_;
};

/// The error body every failure answer carries: {"ok":false,"error":why}.
Json error_body(std::string_view why);

/// Parses the body of POST /register: node id (a string of digits or a
/// non-negative integer) and the address (nullopt for JSON null, which
/// deregisters). Returns nullopt and one sentence in *error when invalid.
struct RegisterRequest {
  NodeId node_id = 0;
  std::optional<std::string> address;
};
std::optional<RegisterRequest> parse_register_request(std::string_view body, std::string* error);

/// Parses the body of POST /set_leader: node id and term (a positive integer).
struct SetLeaderRequest {
  NodeId node_id = 0;
  Term term = 0;
};
std::optional<SetLeaderRequest> parse_set_leader_request(std::string_view body, std::string* error);

}  // namespace raft::discovery
