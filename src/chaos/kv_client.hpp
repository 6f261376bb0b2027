#pragma once
// KvClient: one chaos client. It runs one operation at a time against the
// cluster's /kv API, follows 307 redirects to the leader, and retries an
// operation (writes with the same X-Client-Id and X-Request-Seq, so the
// cluster applies it at most once) until the answer is definitive or the
// operation's deadline passes. Each operation ends in the history as ok, fail
// (certainly not applied) or unknown (may have been applied): an answer it
// does not expect to a write leaves the write unknown, and one it cannot read
// fails a read with a note starting "malformed answer". Owned by one thread.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>

#include "chaos/history.hpp"

namespace raft::chaos {

using Clock = std::chrono::steady_clock;

struct ClientOptions {
  int index = 0;
  std::string client_id;
  int base_port = 0;
  int nodes = 3;
  Clock::time_point epoch;  ///< time zero of the history
  std::chrono::milliseconds write_deadline{12000};
  std::chrono::milliseconds read_deadline{6000};
};

class KvClient {
 public:
  KvClient(ClientOptions options, HistoryRecorder& history);

  Operation read(const std::string& key);
  /// GET /kv/{key}?stale=true: the copy of one node, a different one each
  /// time (the next on a failure), never redirected.
  Operation stale_read(const std::string& key);
  Operation write(const std::string& key, const std::string& value);
  Operation cas(const std::string& key, const std::string& expected, const std::string& value);
  /// DELETE /kv/{key}: 200 with "found" whether or not the key existed.
  Operation remove(const std::string& key);

 private:
  /// A new operation of `kind` on `key`, with the history's next id.
  Operation begin(OpKind kind, const std::string& key);
  /// Where an operation stands between its attempts.
  struct Retry {
    bool is_write = false;
    bool maybe_applied = false;  ///< some attempt may have reached the log
    bool done = false;           ///< the answer was definitive
    int backoff_ms = 10;
    std::string last_problem;
  };
  /// Tries `op` until a definitive answer or its deadline; records it.
  Operation run(Operation op);
  /// Reads one answer of node `rank` into `op` (definitive) or `retry`.
  void handle_answer(Operation& op, const httplib::Response& r, int rank, Retry& retry);
  /// The next target: the leader a node named, else the next node.
  void follow(int hint, int rank, int& target) const;
  /// Sleeps the backoff, then doubles it (up to 250 ms).
  static void back_off(Retry& retry);
  httplib::Result send(httplib::Client& c, const Operation& op, const std::string& path,
                       const httplib::Headers& headers, const std::string& body);
  httplib::Client& client_for(int rank);
  std::int64_t now_us() const;

  ClientOptions options_;
  HistoryRecorder& history_;
  std::uint64_t seq_ = 0;
  int target_ = 0;        ///< who we believe leads
  int stale_target_ = 0;  ///< the node the next stale read asks
  std::map<int, std::unique_ptr<httplib::Client>> clients_;
};

}  // namespace raft::chaos
