#include "kv_client.hpp"

#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

namespace raft::chaos {

namespace {

/// 503 answers that prove this attempt was refused before it was proposed,
/// or that its entry was replaced. Anything else (the node crashed with the
/// write in flight, a snapshot replaced the log, a timeout) leaves the
/// attempt's fate open.
bool definitely_not_applied(const std::string& error) {
  static const char* refusals[] = {"not leader",
                                   "no leader known",
                                   "the node is paused; resume it first",
                                   "the node is crashed; restart it first",
                                   "too many writes in flight; retry shortly",
                                   "a new leader replaced this write"};
  for (const char* r : refusals) {
    if (error.rfind(r, 0) == 0) return true;
  }
  return false;
}

/// The node an answer names as leader, if it is one of the cluster's.
int leader_hint(const nlohmann::json& answer, int nodes) {
  if (!answer.is_object() || !answer.contains("leader_id") || !answer["leader_id"].is_string())
    return -1;
  try {
    const int l = std::stoi(answer["leader_id"].get<std::string>());
    return l >= 0 && l < nodes ? l : -1;
  } catch (...) {
    return -1;
  }
}

/// The "index" of an answer, 0 if it has none.
std::uint64_t answer_index(const nlohmann::json& answer) {
  const auto it = answer.find("index");
  return it != answer.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

/// A 200 answer: what the operation saw or did. False if a read's answer
/// lacks its value (a write's 200 says it was applied, whatever the body).
bool record_ok(Operation& op, const nlohmann::json& answer) {
  if (op.kind == OpKind::Read) {
    if (!answer.is_object() || !answer.contains("value") || !answer["value"].is_string())
      return false;
    op.outcome = Outcome::Ok;
    op.read_value = answer["value"].get<std::string>();
    op.applied_index = answer_index(answer);
    return true;
  }
  op.outcome = Outcome::Ok;
  if (op.kind == OpKind::Cas) op.cas_swapped = true;
  if (!answer.is_object()) return true;
  // A duplicate's index is the retry's entry, not where the write took effect.
  if (!(answer.contains("duplicate") && answer["duplicate"] == true))
    op.log_index = answer_index(answer);
  if (op.kind == OpKind::Delete && answer.contains("found") && answer["found"].is_boolean())
    op.delete_found = answer["found"].get<bool>();
  return true;
}

std::string url_key(const std::string& key) {
  // Keys are [a-z0-9-] in raft_chaos; nothing to escape.
  return "/kv/" + key;
}

}  // namespace

KvClient::KvClient(ClientOptions options, HistoryRecorder& history)
    : options_(std::move(options)), history_(history) {
  target_ = options_.index % options_.nodes;
}

std::int64_t KvClient::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - options_.epoch)
      .count();
}

httplib::Client& KvClient::client_for(int rank) {
  auto& c = clients_[rank];
  if (!c) {
    c = std::make_unique<httplib::Client>("127.0.0.1", options_.base_port + rank);
    c->set_connection_timeout(0, 300'000);
    c->set_read_timeout(std::chrono::milliseconds(2000));
    c->set_write_timeout(std::chrono::milliseconds(1000));
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
  }
  return *c;
}

Operation KvClient::begin(OpKind kind, const std::string& key) {
  Operation op;
  op.id = history_.next_id();
  op.kind = kind;
  op.key = key;
  return op;
}

Operation KvClient::read(const std::string& key) { return run(begin(OpKind::Read, key)); }

Operation KvClient::stale_read(const std::string& key) {
  Operation op = begin(OpKind::Read, key);
  op.stale = true;
  stale_target_ = (stale_target_ + 1) % options_.nodes;
  return run(std::move(op));
}

Operation KvClient::write(const std::string& key, const std::string& value) {
  Operation op = begin(OpKind::Write, key);
  op.value = value;
  return run(std::move(op));
}

Operation KvClient::cas(const std::string& key, const std::string& expected,
                        const std::string& value) {
  Operation op = begin(OpKind::Cas, key);
  op.expected = expected;
  op.value = value;
  return run(std::move(op));
}

Operation KvClient::remove(const std::string& key) { return run(begin(OpKind::Delete, key)); }

httplib::Result KvClient::send(httplib::Client& c, const Operation& op, const std::string& path,
                               const httplib::Headers& headers, const std::string& body) {
  switch (op.kind) {
    case OpKind::Read: return c.Get(path, headers);
    case OpKind::Write: return c.Put(path, headers, body, "text/plain");
    case OpKind::Cas: return c.Post(path, headers, body, "application/json");
    case OpKind::Delete: return c.Delete(path, headers);
  }
  return c.Get(path, headers);
}

void KvClient::back_off(Retry& retry) {
  std::this_thread::sleep_for(std::chrono::milliseconds(retry.backoff_ms));
  retry.backoff_ms = std::min(retry.backoff_ms * 2, 250);
}

void KvClient::follow(int hint, int rank, int& target) const {
  target = hint >= 0 && hint != rank ? hint : (target + 1) % options_.nodes;
}

void KvClient::handle_answer(Operation& op, const httplib::Response& r, int rank, Retry& retry) {
  const nlohmann::json answer = nlohmann::json::parse(r.body, nullptr, false);
  const std::string error =
      answer.is_object() && answer.contains("error") && answer["error"].is_string()
          ? answer["error"].get<std::string>()
          : std::string();
  const std::string from = " from node " + std::to_string(rank);
  int& target = op.stale ? stale_target_ : target_;
  op.node = rank;
  retry.done = true;  // unless an answer below says to try again
  switch (r.status) {
    case 200:
      if (!record_ok(op, answer)) {
        op.outcome = Outcome::Fail;
        op.note = "malformed answer: 200 without a value" + from;
      }
      return;
    case 404:
      if (op.kind == OpKind::Read && error == "key not found") {
        op.outcome = Outcome::Ok;
        op.read_value = std::nullopt;
        op.applied_index = answer_index(answer);
        return;
      }
      break;
    case 409:
      if (op.kind == OpKind::Cas) {
        op.outcome = Outcome::Ok;
        op.cas_swapped = false;
        return;
      }
      break;
    case 307:
      retry.done = false;
      follow(leader_hint(answer, options_.nodes), rank, target);
      retry.last_problem = "redirected by node " + std::to_string(rank);
      if (op.attempts % options_.nodes == 0) back_off(retry);  // redirects going round
      return;
    case 503:
    case 504:
      retry.done = false;
      if (retry.is_write && (r.status == 504 || !definitely_not_applied(error))) {
        retry.maybe_applied = true;
      }
      retry.last_problem =
          "node " + std::to_string(rank) + " " + std::to_string(r.status) + ": " + error;
      follow(op.stale ? -1 : leader_hint(answer, options_.nodes), rank, target);
      back_off(retry);
      return;
    default: break;
  }
  // An answer the API does not give here (a 500, a 404 on a write, ...): a
  // write may have been applied all the same, a read saw nothing.
  op.outcome = retry.is_write ? Outcome::Unknown : Outcome::Fail;
  op.note = "unexpected answer: HTTP " + std::to_string(r.status) + from + ": " + error;
}

Operation KvClient::run(Operation op) {
  op.client = options_.index;
  Retry retry;
  retry.is_write = op.kind != OpKind::Read;
  const std::uint64_t seq = retry.is_write ? ++seq_ : 0;
  httplib::Headers headers;
  if (retry.is_write) {
    headers = {{"X-Client-Id", options_.client_id}, {"X-Request-Seq", std::to_string(seq)}};
    // Nodes started with a token (inherited $RAFT_AUTH_TOKEN) require it on writes.
    if (const char* token = std::getenv("RAFT_AUTH_TOKEN"); token && *token)
      headers.emplace("Authorization", std::string("Bearer ") + token);
  }
  std::string body;
  if (op.kind == OpKind::Write) body = op.value;
  if (op.kind == OpKind::Cas) {
    body = nlohmann::json{{"expected", op.expected}, {"value", op.value}}.dump();
  }
  const std::string path = url_key(op.key) + (op.kind == OpKind::Cas ? "?cas=1"
                                              : op.stale             ? "?stale=true"
                                                                     : "");
  int& target = op.stale ? stale_target_ : target_;

  op.invoke_us = now_us();
  const auto deadline =
      Clock::now() + (retry.is_write ? options_.write_deadline : options_.read_deadline);
  while (!retry.done && Clock::now() < deadline) {
    ++op.attempts;
    const int rank = target;
    httplib::Client& c = client_for(rank);
    httplib::Result r = send(c, op, path, headers, body);
    if (r) {
      handle_answer(op, *r, rank, retry);
      continue;
    }
    // A failed connect sent nothing; any later failure may have delivered it.
    if (r.error() != httplib::Error::Connection) retry.maybe_applied |= retry.is_write;
    retry.last_problem = "node " + std::to_string(rank) + ": " + httplib::to_string(r.error());
    c.stop();
    target = (target + 1) % options_.nodes;
    back_off(retry);
  }
  op.complete_us = now_us();
  if (!retry.done) {
    op.outcome = retry.maybe_applied ? Outcome::Unknown : Outcome::Fail;
    op.note =
        "gave up after " + std::to_string(op.attempts) + " attempts; last: " + retry.last_problem;
  }
  history_.add(op);
  return op;
}

}  // namespace raft::chaos
