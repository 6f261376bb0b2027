#pragma once
/// Test support: seeded random raft::Messages that are valid for the codec
/// (each type fills only the fields it sends), and a readable dump of one.
/// Deterministic for a given raft::Rng state; not thread-safe (the Rng isn't).

#include <algorithm>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>

#include "raft/message.hpp"
#include "raft/rng.hpp"

namespace raft::codec::testing {

/// A value whose bit width is uniform in 0..64, so every varint length (1..10
/// bytes) and both ends of each are drawn often, unlike a uniform u64.
inline std::uint64_t random_width_u64(Rng& rng) {
  const std::uint64_t bits = rng.uniform(0, 64);
  if (bits == 0) return 0;
  const std::uint64_t value = rng.next();
  return bits == 64 ? value
                    : (value & ((std::uint64_t{1} << bits) - 1)) | (std::uint64_t{1} << (bits - 1));
}

inline NodeId random_node_id(Rng& rng) {
  switch (rng.uniform(0, 9)) {
    case 0: return kNoNode;
    case 1: return std::numeric_limits<NodeId>::max();
    case 2: return std::numeric_limits<NodeId>::min();
    case 3: return static_cast<NodeId>(static_cast<std::uint32_t>(rng.next()));
    default: return static_cast<NodeId>(rng.uniform(0, 200));
  }
}

inline std::string random_bytes(Rng& rng, std::size_t max_bytes) {
  std::string data(static_cast<std::size_t>(rng.uniform(0, max_bytes)), '\0');
  for (char& c : data) c = static_cast<char>(rng.next());
  return data;
}

struct RandomMessageOptions {
  std::size_t entries_max = 8;
  std::size_t data_bytes_max = 40;
};

inline Message random_message(Rng& rng, const RandomMessageOptions& options = {}) {
  Message m;
  m.type = static_cast<MessageType>(rng.uniform(kMessageTypeMin, kMessageTypeMax));
  m.from = random_node_id(rng);
  m.to = random_node_id(rng);
  m.term = random_width_u64(rng);
  switch (m.type) {
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest:
      m.last_log_index = random_width_u64(rng);
      m.last_log_term = random_width_u64(rng);
      m.force = rng.chance(1, 2);
      break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse: m.granted = rng.chance(1, 2); break;
    case MessageType::AppendEntries: {
      const std::size_t count = static_cast<std::size_t>(rng.uniform(0, options.entries_max));
      // Leave room for `count` consecutive indexes after prev_log_index.
      m.prev_log_index = std::min<std::uint64_t>(random_width_u64(rng),
                                                 std::numeric_limits<std::uint64_t>::max() - count);
      m.prev_log_term = random_width_u64(rng);
      m.commit = random_width_u64(rng);
      m.read_ctx = random_width_u64(rng);
      for (std::size_t i = 0; i < count; ++i) {
        Entry e;
        e.term = random_width_u64(rng);
        e.index = m.prev_log_index + 1 + i;
        e.type = static_cast<EntryType>(rng.uniform(0, 2));
        e.data = random_bytes(rng, options.data_bytes_max);
        m.entries.push_back(std::move(e));
      }
      break;
    }
    case MessageType::AppendResponse:
      m.success = rng.chance(1, 2);
      m.match_index = random_width_u64(rng);
      m.reject_index = random_width_u64(rng);
      m.conflict_term = random_width_u64(rng);
      m.hint_index = random_width_u64(rng);
      m.read_ctx = random_width_u64(rng);
      break;
    case MessageType::InstallSnapshot:
      m.snapshot.last_index = random_width_u64(rng);
      m.snapshot.last_term = random_width_u64(rng);
      // The codec carries any ids (the core checks the configuration's rules).
      m.snapshot.conf.index = random_width_u64(rng);
      for (auto* ids :
           {&m.snapshot.conf.voters, &m.snapshot.conf.learners, &m.snapshot.conf.promoting}) {
        ids->resize(rng.uniform(0, 4));
        for (NodeId& id : *ids) {
          id = static_cast<NodeId>(static_cast<std::uint32_t>(random_width_u64(rng)));
        }
      }
      m.chunk = random_bytes(rng, options.data_bytes_max * 4);
      m.offset = std::min<std::uint64_t>(
          random_width_u64(rng), std::numeric_limits<std::uint64_t>::max() - m.chunk.size());
      m.done = rng.chance(1, 2);
      break;
    case MessageType::InstallSnapshotResponse:
      m.snapshot.last_index = random_width_u64(rng);
      m.snapshot.last_term = random_width_u64(rng);
      m.offset = random_width_u64(rng);
      m.match_index = random_width_u64(rng);
      m.success = rng.chance(1, 2);
      m.done = rng.chance(1, 2);
      m.granted = rng.chance(1, 2);
      break;
    case MessageType::TimeoutNow: break;
    case MessageType::RemovedNotice:
      m.commit = random_width_u64(rng);
      m.commit_term = random_width_u64(rng);
      m.conf.index = random_width_u64(rng);
      for (auto* ids : {&m.conf.voters, &m.conf.learners, &m.conf.promoting}) {
        ids->resize(rng.uniform(0, 4));
        for (NodeId& id : *ids) {
          id = static_cast<NodeId>(static_cast<std::uint32_t>(random_width_u64(rng)));
        }
      }
      break;
  }
  return m;
}

/// Every field, on one line, for failure messages (gtest cannot print a Message).
inline std::string describe(const Message& m) {
  std::ostringstream out;
  out << "{type=" << static_cast<int>(m.type) << " from=" << m.from << " to=" << m.to
      << " term=" << m.term << " last_log=" << m.last_log_index << "/" << m.last_log_term
      << " force=" << m.force << " granted=" << m.granted << " prev_log=" << m.prev_log_index << "/"
      << m.prev_log_term << " commit=" << m.commit << " read_ctx=" << m.read_ctx
      << " success=" << m.success << " match=" << m.match_index << " reject=" << m.reject_index
      << " conflict_term=" << m.conflict_term << " hint=" << m.hint_index
      << " snapshot=" << m.snapshot.last_index << "/" << m.snapshot.last_term << "/conf@"
      << m.snapshot.conf.index << ":" << m.snapshot.conf.voters.size() << "v"
      << m.snapshot.conf.learners.size() << "l" << m.snapshot.conf.promoting.size() << "p"
      << " offset=" << m.offset << " done=" << m.done << " chunk_bytes=" << m.chunk.size()
      << " commit_term=" << m.commit_term << " conf@" << m.conf.index << ":" << m.conf.voters.size()
      << "v" << m.conf.learners.size() << "l" << m.conf.promoting.size() << "p"
      << " entries=[";
  for (const Entry& e : m.entries) {
    out << " " << e.index << "/" << e.term << "/" << static_cast<int>(e.type) << "/"
        << e.data.size() << "B";
  }
  out << " ]}";
  return out.str();
}

}  // namespace raft::codec::testing
