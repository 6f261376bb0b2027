#pragma once
/// JSON views of the node's published state and of the loop's replies: the
/// exact shapes of SPEC.md ("Node HTTP API"), plus documented extra fields.
/// Pure functions over plain values; thread-safe; they never throw on any
/// bytes (invalid UTF-8 is escaped, see utf8.hpp).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "raft/types.hpp"
#include "runtime/node_status.hpp"
#include "runtime/replies.hpp"
#include "util/node_id_json.hpp"

namespace raft::http {

/// A status code and a JSON body, the result of mapping a reply.
struct JsonAnswer {
  int http_status = 200;
  nlohmann::json body;
};

/// Milliseconds on std::chrono::steady_clock: the clock of
/// NodeStatus::published_at_ms, used to age the timers of a snapshot.
std::uint64_t steady_now_ms();

/// Node ids as SPEC.md spells them: "3", null for kNoNode, ["0","1"].
using util::id_list_json;
using util::node_id_json;

/// Serialises without ever throwing: invalid UTF-8 that slipped into a string
/// is replaced by U+FFFD instead of raising nlohmann's type_error 316.
std::string dump_json(const nlohmann::json& value);

/// {"ok":false,"error":message}.
nlohmann::json error_json(std::string_view message);

/// GET /status. SPEC fields, exactly: node_id, rank, state, term, leader_id,
/// log_length, commit_index, last_applied, voted_for, paused, crashed.
/// Extra fields: cluster_size, first_index, snapshot_index, kv_keys,
/// pre_voting, transfer_target, partitioned [ranks], peers [{id, match_index,
/// next_index, progress_state, partitioned}], storage_error (string or null),
/// uptime_ms, leader_url (string or null) and
/// timers {election_timeout_ms, election_elapsed_ms, heartbeat_interval_ms,
///         since_leader_contact_ms (null if never heard from a leader),
///         election_timeout_min_ms, election_timeout_max_ms,
///         initial_remaining_ms, running}.
/// Timers are aged by `now_ms - published_at_ms` (the loop publishes at least
/// every 100 ms) unless the node is paused or crashed, whose clock stands still.
nlohmann::json status_json(const runtime::NodeStatus& status, std::uint64_t now_ms,
                           const std::optional<std::string>& leader_url);

/// Entries show at most this much of their data unless asked for all of it:
/// a page polling 100 entries of 1 MiB values each second would be a storm.
inline constexpr std::size_t kDefaultEntryDataBytes = 4096;

/// One entry: {"index","term","type","data"}; data is the entry's bytes as
/// text (invalid UTF-8 escaped as \xNN, then "data_base64" holds the exact
/// bytes); "data_bytes" is the full size and "truncated":true marks data cut
/// to `max_data_bytes`. A KV command also gets
/// "kv":{"op","key","value_bytes","client_id","seq"} (+"expected_bytes" for cas).
nlohmann::json entry_json(const runtime::EntryView& entry, std::size_t max_data_bytes);

/// GET /entries: {"entries":[...],"commit_index","first_index","last_index"}.
/// A reply with an error status becomes {"ok":false,"error":...}.
JsonAnswer entries_answer(const runtime::EntriesReply& reply, std::size_t max_data_bytes);

/// POST /command: {"ok":true,"result":...} plus reply.fields, or
/// {"ok":false,"error":...} plus reply.fields, with reply.http_status.
JsonAnswer command_answer(const runtime::CommandReply& reply);

/// The base URL ("http://host:port") of node `rank`: its address in `known`
/// (from discovery) when present and plausible, else
/// http://<bind>:<base_port + rank> (a wildcard bind becomes 127.0.0.1).
std::string node_url(NodeId rank, const std::map<NodeId, std::string>& known,
                     const std::string& bind, int base_port);

/// Which /kv request a reply answers.
enum class KvRequestKind { Read, Write };

/// Maps a KvReply to SPEC's answers:
///  200 write {"ok":true,"index","term","found","duplicate"};
///  200 read  {"ok":true,"key","value"} (+"value_base64" when not UTF-8);
///  404 {"ok":false,"error":"key not found"};
///  307 {"ok":false,"error":"not leader","leader_id","leader_url"};
///  503 {"ok":false,"error":"no leader known","leader_id":null,"leader_url":null}
///      (error is the loop's reason when it has another: paused, crashed, ...);
///  409 cas mismatch {"ok":false,"error",...,"index","term"};
///  anything else {"ok":false,"error"}.
/// `leader_url` is the base URL of reply.leader_id (empty when unknown).
JsonAnswer kv_answer(const runtime::KvReply& reply, KvRequestKind kind, std::string_view key,
                     const std::string& leader_url);

/// {"ok":false,"error":"timed out waiting for the cluster; ..."} with 504.
JsonAnswer timeout_answer(KvRequestKind kind);

/// The loop's command history merged with the commands answered outside the
/// loop (show_known_nodes, sync_known_nodes), both oldest first and formatted
/// "HH:MM:SS - name": a stable merge on the time prefix (loop lines first on
/// ties), keeping the last `max_lines`. Lines without a time prefix sort as
/// they come. Across midnight the order is by time of day, which is good
/// enough for a history of the last minutes.
std::vector<std::string> merge_command_history(const std::vector<std::string>& loop,
                                               const std::vector<std::string>& local,
                                               std::size_t max_lines);

/// {"0":"127.0.0.1:7000",...} for show_known_nodes.
nlohmann::json known_nodes_json(const std::map<NodeId, std::string>& known);

}  // namespace raft::http
