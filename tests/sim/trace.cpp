#include "trace.hpp"

#include <cstdio>
#include <utility>

namespace raft::sim {

MessageSummary summarize(const Message& m) {
  MessageSummary s;
  s.type = m.type;
  s.from = m.from;
  s.to = m.to;
  s.term = m.term;
  switch (m.type) {
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest:
      s.index_a = m.last_log_index;
      s.term_a = m.last_log_term;
      s.flag = m.force;
      break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse: s.flag = m.granted; break;
    case MessageType::AppendEntries:
      s.index_a = m.prev_log_index;
      s.term_a = m.prev_log_term;
      if (!m.entries.empty()) {
        s.index_b = m.entries.front().index;
        s.index_c = m.entries.back().index;
      }
      s.commit = m.commit;
      s.read_ctx = m.read_ctx;
      break;
    case MessageType::AppendResponse:
      s.flag = m.success;
      s.index_a = m.success ? m.match_index : m.reject_index;
      s.term_a = m.conflict_term;
      s.index_b = m.hint_index;
      s.read_ctx = m.read_ctx;
      break;
    case MessageType::InstallSnapshot:
    case MessageType::InstallSnapshotResponse:
      s.index_a = m.snapshot.last_index;
      s.term_a = m.snapshot.last_term;
      s.index_b = m.offset;
      s.index_c = m.chunk.size();
      s.commit = m.match_index;
      s.flag = m.type == MessageType::InstallSnapshot ? m.done : m.success;
      break;
    case MessageType::TimeoutNow: break;
    case MessageType::RemovedNotice:
      s.index_a = m.conf.index;
      s.commit = m.commit;
      s.term_a = m.commit_term;
      break;
  }
  return s;
}

std::string describe(const MessageSummary& s) {
  char buf[200];
  const auto type = message_type_name(s.type);
  const int type_len = static_cast<int>(type.size());
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  switch (s.type) {
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest:
      std::snprintf(buf, sizeof buf, "%.*s %d->%d term=%llu last=(%llu,%llu)%s", type_len,
                    type.data(), s.from, s.to, u(s.term), u(s.index_a), u(s.term_a),
                    s.flag ? " force" : "");
      break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse:
      std::snprintf(buf, sizeof buf, "%.*s %d->%d term=%llu %s", type_len, type.data(), s.from,
                    s.to, u(s.term), s.flag ? "granted" : "denied");
      break;
    case MessageType::AppendEntries:
      if (s.index_c != 0) {
        std::snprintf(buf, sizeof buf,
                      "%.*s %d->%d term=%llu prev=(%llu,%llu) entries=%llu..%llu commit=%llu "
                      "ctx=%llu",
                      type_len, type.data(), s.from, s.to, u(s.term), u(s.index_a), u(s.term_a),
                      u(s.index_b), u(s.index_c), u(s.commit), u(s.read_ctx));
      } else {
        std::snprintf(buf, sizeof buf,
                      "%.*s %d->%d term=%llu prev=(%llu,%llu) heartbeat commit=%llu ctx=%llu",
                      type_len, type.data(), s.from, s.to, u(s.term), u(s.index_a), u(s.term_a),
                      u(s.commit), u(s.read_ctx));
      }
      break;
    case MessageType::AppendResponse:
      if (s.flag) {
        std::snprintf(buf, sizeof buf, "%.*s %d->%d term=%llu ok match=%llu ctx=%llu", type_len,
                      type.data(), s.from, s.to, u(s.term), u(s.index_a), u(s.read_ctx));
      } else {
        std::snprintf(buf, sizeof buf,
                      "%.*s %d->%d term=%llu reject index=%llu conflict_term=%llu hint=%llu",
                      type_len, type.data(), s.from, s.to, u(s.term), u(s.index_a), u(s.term_a),
                      u(s.index_b));
      }
      break;
    case MessageType::InstallSnapshot:
      std::snprintf(buf, sizeof buf,
                    "%.*s %d->%d term=%llu snap=(%llu,%llu) offset=%llu len=%llu%s", type_len,
                    type.data(), s.from, s.to, u(s.term), u(s.index_a), u(s.term_a), u(s.index_b),
                    u(s.index_c), s.flag ? " done" : "");
      break;
    case MessageType::InstallSnapshotResponse:
      std::snprintf(buf, sizeof buf,
                    "%.*s %d->%d term=%llu snap=(%llu,%llu) next_offset=%llu match=%llu%s",
                    type_len, type.data(), s.from, s.to, u(s.term), u(s.index_a), u(s.term_a),
                    u(s.index_b), u(s.commit), s.flag ? " ok" : "");
      break;
    case MessageType::TimeoutNow:
      std::snprintf(buf, sizeof buf, "%.*s %d->%d term=%llu", type_len, type.data(), s.from, s.to,
                    u(s.term));
      break;
    case MessageType::RemovedNotice:
      std::snprintf(buf, sizeof buf, "%.*s %d->%d term=%llu commit=(%llu,%llu) conf@%llu", type_len,
                    type.data(), s.from, s.to, u(s.term), u(s.commit), u(s.term_a), u(s.index_a));
      break;
  }
  return buf;
}

Trace::Trace(std::size_t capacity) : ring_(capacity == 0 ? 1 : capacity) {}

Trace::Record& Trace::next_slot() {
  Record& r = ring_[next_];
  next_ = (next_ + 1) % ring_.size();
  if (count_ < ring_.size()) ++count_;
  return r;
}

void Trace::note(TimeMs at_ms, std::string text) {
  Record& r = next_slot();
  r.at_ms = at_ms;
  r.what = nullptr;
  r.text = std::move(text);
  if (echo_) std::printf("%s\n", format(r).c_str());
}

void Trace::message(TimeMs at_ms, const char* what, const Message& message) {
  Record& r = next_slot();
  r.at_ms = at_ms;
  r.what = what;
  r.summary = summarize(message);
  r.text.clear();
  if (echo_) std::printf("%s\n", format(r).c_str());
}

std::string Trace::format(const Record& r) {
  std::string line = "t=" + std::to_string(r.at_ms) + "ms ";
  if (r.what != nullptr) {
    line += r.what;
    line += ' ';
    line += describe(r.summary);
  } else {
    line += r.text;
  }
  return line;
}

std::vector<std::string> Trace::lines() const {
  std::vector<std::string> out;
  out.reserve(count_);
  const std::size_t first = (next_ + ring_.size() - count_) % ring_.size();
  for (std::size_t i = 0; i < count_; ++i) out.push_back(format(ring_[(first + i) % ring_.size()]));
  return out;
}

}  // namespace raft::sim
