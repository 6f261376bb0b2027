/// MpiTransport over real MPI: run under `mpirun -n 3` (see run_mpi.sh and
/// CMakeLists.txt; ctest -L cluster). Every test is collective: all ranks run
/// the same tests in the same order, each test builds its own transport (its
/// own communicator), and ranks meet at barriers that abort the job instead of
/// hanging when a rank never arrives. No test sleeps for correctness: each
/// waits in a poll loop until its condition holds or its deadline passes.

#include "transport/mpi_transport.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <mpi.h>

#include "codec/codec.hpp"
#include "raft/message.hpp"

namespace raft {
/// Short, readable failure output instead of gtest's byte dump.
void PrintTo(const Message& m, std::ostream* os) {
  *os << message_type_name(m.type) << " " << m.from << "->" << m.to << " term " << m.term
      << " prev " << m.prev_log_index << " entries " << m.entries.size() << " chunk "
      << m.chunk.size();
}
}  // namespace raft

namespace {

using namespace std::chrono_literals;
using raft::Entry;
using raft::EntryType;
using raft::Message;
using raft::MessageType;
using raft::NodeId;
using raft::transport::MpiTransport;
using raft::transport::MpiTransportOptions;
using Clock = std::chrono::steady_clock;

/// Generous: a healthy run needs well under a second per wait, even with three
/// ranks spinning on two cores.
constexpr auto kWait = 60s;

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

/// Waits for all ranks; aborts the whole job if one does not arrive in time,
/// so that a failed or stuck rank ends the run with a message, not a hang.
void barrier(const char* where) {
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  const auto deadline = Clock::now() + kWait;
  int done = 0;
  while (done == 0) {
    if (MPI_Test(&request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
      std::fprintf(stderr, "[rank %d] barrier '%s' failed: aborting\n", world_rank(), where);
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
    if (done == 0 && Clock::now() > deadline) {
      std::fprintf(stderr, "[rank %d] barrier '%s' timed out: aborting\n", world_rank(), where);
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
    std::this_thread::yield();
  }
}

/// Collects the transport's warnings.
struct Warnings {
  std::vector<std::string> lines;
  MpiTransport::WarnFn fn() {
    return [this](const std::string& line) { lines.push_back(line); };
  }
  std::size_t count(const std::string& needle) const {
    return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
      return l.find(needle) != std::string::npos;
    }));
  }
};

/// Polls into `inbox` until `done()` or the deadline; returns done().
template <typename Done>
bool poll_until(MpiTransport& transport, std::vector<Message>& inbox, Done done,
                std::chrono::milliseconds timeout = kWait) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    if (transport.poll(inbox, 64) == 0) std::this_thread::yield();
  }
  return true;
}

std::string pattern(std::size_t bytes, std::uint64_t seed) {
  std::string data(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) {
    data[i] = static_cast<char>((seed * 131 + i * 7) & 0xff);  // includes '\0' bytes
  }
  return data;
}

/// A message of `type` that fills every field the codec sends for that type,
/// derived from `seed`, so the receiver can rebuild what it should get.
Message make_message(MessageType type, NodeId from, NodeId to, std::uint64_t seed) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = ~std::uint64_t{0} - seed;  // 10-byte varints
  switch (type) {
    case MessageType::VoteRequest:
    case MessageType::PreVoteRequest:
      m.last_log_index = seed * 7 + 1;
      m.last_log_term = seed + 3;
      m.force = seed % 2 == 1;
      break;
    case MessageType::VoteResponse:
    case MessageType::PreVoteResponse: m.granted = seed % 2 == 0; break;
    case MessageType::AppendEntries:
      m.prev_log_index = seed * 100;
      m.prev_log_term = seed + 1;
      m.commit = seed * 50;
      m.read_ctx = seed ^ 0xdeadbeef;
      for (std::uint64_t k = 0; k < 3; ++k) {
        m.entries.push_back(Entry{seed + 1, m.prev_log_index + 1 + k, static_cast<EntryType>(k % 3),
                                  pattern(k * 40, seed + k)});
      }
      break;
    case MessageType::AppendResponse:
      m.success = seed % 2 == 1;
      m.match_index = seed * 3;
      m.reject_index = seed * 5;
      m.conflict_term = seed + 9;
      m.hint_index = seed + 11;
      m.read_ctx = seed * 13;
      break;
    case MessageType::InstallSnapshot:
      m.snapshot = {seed * 1000, seed + 2};
      m.offset = seed * 4096;
      m.done = seed % 2 == 0;
      m.chunk = pattern(5000, seed);
      break;
    case MessageType::InstallSnapshotResponse:
      m.snapshot = {seed * 1000, seed + 2};
      m.offset = seed * 8192;
      m.match_index = seed * 999;
      m.success = true;
      m.done = seed % 2 == 1;
      m.granted = seed % 3 == 0;
      break;
    case MessageType::TimeoutNow: break;
    case MessageType::RemovedNotice:
      m.commit = seed * 19;
      m.commit_term = seed + 4;
      m.conf = raft::ConfState{{0, 1, static_cast<NodeId>(seed % 1000 + 2)}, {}, {}, seed * 17};
      break;
  }
  return m;
}

std::uint64_t pair_seed(NodeId from, NodeId to, MessageType type) {
  return static_cast<std::uint64_t>(from) * 1000 + static_cast<std::uint64_t>(to) * 10 +
         static_cast<std::uint64_t>(type);
}

/// AppendEntries number `seq` from `from` to `to`; prev_log_index = seq * 8
/// identifies it. `entry_count` entries of `data_bytes` bytes each.
Message make_append(NodeId from, NodeId to, std::uint64_t seq, std::size_t entry_count,
                    std::size_t data_bytes) {
  Message m;
  m.type = MessageType::AppendEntries;
  m.from = from;
  m.to = to;
  m.term = 7;
  m.prev_log_index = seq * 8;
  m.prev_log_term = 7;
  m.commit = seq;
  for (std::size_t k = 0; k < entry_count; ++k) {
    m.entries.push_back(
        Entry{7, m.prev_log_index + 1 + k, EntryType::Command, pattern(data_bytes, seq + k)});
  }
  return m;
}

std::vector<NodeId> peers_of(const MpiTransport& transport) {
  std::vector<NodeId> peers;
  for (NodeId r = 0; r < transport.size(); ++r) {
    if (r != transport.rank()) peers.push_back(r);
  }
  return peers;
}

class MpiTransportTest : public ::testing::Test {
 protected:
  void SetUp() override { barrier("setup"); }
  void TearDown() override { barrier("teardown"); }
};

TEST_F(MpiTransportTest, EveryMessageTypeTravelsBetweenAllPairsUnchanged) {
  Warnings warnings;
  MpiTransport transport(warnings.fn());
  const NodeId me = transport.rank();
  const auto peers = peers_of(transport);
  for (NodeId peer : peers) {
    for (auto t = raft::kMessageTypeMin; t <= raft::kMessageTypeMax; ++t) {
      const auto type = static_cast<MessageType>(t);
      EXPECT_TRUE(transport.send(make_message(type, me, peer, pair_seed(me, peer, type))));
    }
  }
  const std::size_t expected = peers.size() * raft::kMessageTypeMax;
  std::vector<Message> inbox;
  EXPECT_TRUE(poll_until(transport, inbox, [&] { return inbox.size() >= expected; }));
  EXPECT_TRUE(poll_until(transport, inbox, [&] { return !transport.has_pending_sends(); }));
  ASSERT_EQ(inbox.size(), expected);

  std::set<std::pair<NodeId, MessageType>> seen;
  for (const Message& m : inbox) {
    EXPECT_TRUE(seen.emplace(m.from, m.type).second) << "duplicate " << ::testing::PrintToString(m);
    EXPECT_EQ(m, make_message(m.type, m.from, me, pair_seed(m.from, me, m.type)));
  }
  const auto stats = transport.stats();
  for (auto t = raft::kMessageTypeMin; t <= raft::kMessageTypeMax; ++t) {
    EXPECT_EQ(stats.sent.at(static_cast<MessageType>(t)), peers.size());
    EXPECT_EQ(stats.received.at(static_cast<MessageType>(t)), peers.size());
  }
  EXPECT_GT(stats.bytes_sent, 0u);
  EXPECT_GT(stats.bytes_received, 0u);
  EXPECT_EQ(stats.dropped_queue_full, 0u);
  EXPECT_EQ(stats.decode_errors, 0u);
  EXPECT_TRUE(warnings.lines.empty());
  barrier("all pairs received");
}

TEST_F(MpiTransportTest, LargeAndSmallMessagesFromOnePeerArriveInOrder) {
  // Every other message carries a 300 KiB entry: above every eager limit, so
  // its bytes arrive after it is matched, while the small ones behind it are
  // complete at once. Delivery must still follow the sender's order.
  Warnings warnings;
  MpiTransport transport(warnings.fn());
  const NodeId me = transport.rank();
  const auto peers = peers_of(transport);
  constexpr std::uint64_t kCount = 40;
  auto message = [](NodeId from, NodeId to, std::uint64_t seq) {
    return seq % 2 == 0 ? make_append(from, to, seq, 1, 300 * 1024)
                        : make_append(from, to, seq, 2, 10);
  };
  std::map<NodeId, std::uint64_t> next_to_send, next_expected;
  std::vector<Message> inbox;
  std::size_t received = 0;
  const auto deadline = Clock::now() + kWait;
  bool in_order = true;
  auto all_sent = [&] {
    return std::all_of(peers.begin(), peers.end(),
                       [&](NodeId peer) { return next_to_send[peer] == kCount; });
  };
  while (!all_sent() || received < kCount * peers.size() || transport.has_pending_sends()) {
    if (Clock::now() > deadline) {
      const auto d = transport.details();
      std::string state;
      for (NodeId peer : peers) {
        state += " peer " + std::to_string(peer) + ": sent " + std::to_string(next_to_send[peer]) +
                 " pending " + std::to_string(transport.pending_sends(peer)) + " got " +
                 std::to_string(next_expected[peer]) + ";";
      }
      for (const auto& line : warnings.lines) state += "\n  warning: " + line;
      FAIL() << "received " << received << state << " pending receives " << d.pending_receives
             << " decode errors " << transport.stats().decode_errors << " mpi errors "
             << d.mpi_errors;
    }
    for (NodeId peer : peers) {
      auto& seq = next_to_send[peer];
      if (seq < kCount && transport.send(message(me, peer, seq))) ++seq;
    }
    inbox.clear();
    transport.poll(inbox, 64);
    for (const Message& m : inbox) {
      auto& expected = next_expected[m.from];
      if (m != message(m.from, me, expected)) {
        in_order = false;
        ADD_FAILURE() << "from " << m.from << " expected seq " << expected << ", got "
                      << ::testing::PrintToString(m);
      }
      ++expected;
      ++received;
    }
  }
  EXPECT_TRUE(in_order);
  EXPECT_EQ(received, kCount * peers.size());
  EXPECT_EQ(transport.stats().dropped_queue_full, 0u);
  EXPECT_FALSE(transport.has_pending_receives());
  barrier("large and small received");
}

TEST_F(MpiTransportTest, TenThousandAppendEntriesRoundRobinAllArrive) {
  MpiTransport transport;
  const NodeId me = transport.rank();
  const auto peers = peers_of(transport);
  constexpr std::uint64_t kMessages = 10'000;
  auto message = [](NodeId from, NodeId to, std::uint64_t seq) {
    return make_append(from, to, seq, seq % 5, (seq * 37) % 200);
  };
  // What each sender sends us: seq numbers whose round-robin turn is ours.
  std::map<NodeId, std::uint64_t> expected_count;
  for (NodeId from = 0; from < transport.size(); ++from) {
    if (from == me) continue;
    std::vector<NodeId> their_peers;
    for (NodeId r = 0; r < transport.size(); ++r) {
      if (r != from) their_peers.push_back(r);
    }
    for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
      if (their_peers[seq % their_peers.size()] == me) ++expected_count[from];
    }
  }
  std::uint64_t total_expected = 0;
  for (const auto& [from, count] : expected_count) total_expected += count;

  std::map<NodeId, std::uint64_t> received_count;
  std::map<NodeId, std::int64_t> last_seq;
  std::uint64_t next = 0, received = 0, refused = 0, mismatches = 0;
  std::vector<Message> inbox;
  const auto deadline = Clock::now() + kWait;
  while (next < kMessages || received < total_expected || transport.has_pending_sends()) {
    ASSERT_LT(Clock::now(), deadline) << "sent " << next << ", received " << received;
    for (int burst = 0; burst < 32 && next < kMessages; ++burst) {
      if (!transport.send(message(me, peers[next % peers.size()], next))) {
        ++refused;  // queue full: retry after the next poll
        break;
      }
      ++next;
    }
    inbox.clear();
    transport.poll(inbox, 256);
    for (const Message& m : inbox) {
      const std::uint64_t seq = m.prev_log_index / 8;
      auto [it, fresh] = last_seq.try_emplace(m.from, -1);
      if (static_cast<std::int64_t>(seq) <= it->second || m != message(m.from, me, seq)) {
        ++mismatches;
      }
      it->second = static_cast<std::int64_t>(seq);
      ++received_count[m.from];
      ++received;
    }
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(received_count, expected_count);
  const auto stats = transport.stats();
  EXPECT_EQ(stats.sent.at(MessageType::AppendEntries), kMessages);
  EXPECT_EQ(stats.received.at(MessageType::AppendEntries), total_expected);
  EXPECT_EQ(stats.dropped_queue_full, refused);
  EXPECT_EQ(stats.decode_errors, 0u);
  std::printf("[rank %d] 10000 AppendEntries: %llu received, %llu retried after a full queue\n", me,
              static_cast<unsigned long long>(received), static_cast<unsigned long long>(refused));
  barrier("ten thousand received");
}

/// A 256 KiB AppendEntries: above the eager limit of every BTL (vader 4 KiB,
/// tcp 64 KiB), so its send completes only once the receiver matches it.
Message rendezvous_message(NodeId from, NodeId to, std::uint64_t seq) {
  return make_append(from, to, seq, 1, 256 * 1024);
}

TEST_F(MpiTransportTest, SilentRankDoesNotStallSenders) {
  int world_size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  if (world_size < 3) GTEST_SKIP() << "needs 3 ranks";  // same decision on every rank
  const NodeId silent = world_size - 1;
  const NodeId me = world_rank();
  // Rank 0 hits the count limit, rank 1 the byte limit (3.5 messages).
  const auto encoded =
      std::get<std::size_t>(raft::codec::encoded_size(rendezvous_message(0, 1, 0)));
  MpiTransportOptions options;
  options.max_pending_sends_per_peer = 8;
  if (me == 1) {
    options.max_pending_sends_per_peer = 64;
    options.max_pending_bytes_per_peer = 3 * encoded + encoded / 2;
  }
  auto accepted_by = [](NodeId sender) -> std::uint64_t { return sender == 1 ? 3 : 8; };
  Warnings warnings;
  MpiTransport transport(warnings.fn(), options);
  std::vector<Message> inbox;
  constexpr std::uint64_t kAttempts = 100;
  constexpr std::uint64_t kChatter = 50;

  if (me != silent) {
    // The silent rank makes no transport call until the barrier below: its
    // queue here fills, and every further send returns at once, dropped.
    std::uint64_t accepted = 0;
    Clock::duration slowest_send{};
    for (std::uint64_t seq = 0; seq < kAttempts; ++seq) {
      const auto start = Clock::now();
      if (transport.send(rendezvous_message(me, silent, seq))) ++accepted;
      slowest_send = std::max(slowest_send, Clock::now() - start);
      transport.poll(inbox, 16);  // the loop goes on polling meanwhile
    }
    EXPECT_EQ(accepted, accepted_by(me));
    EXPECT_EQ(transport.pending_sends(silent), accepted);
    EXPECT_TRUE(transport.has_pending_sends());
    EXPECT_EQ(transport.stats().dropped_queue_full, kAttempts - accepted);
    EXPECT_EQ(warnings.count("queue_full"), 1u) << "logged once, counted every time";
    EXPECT_LT(slowest_send, 250ms);

    // The sender keeps going: the other live ranks still talk to each other.
    std::vector<NodeId> live;
    for (NodeId r = 0; r < silent; ++r) {
      if (r != me) live.push_back(r);
    }
    for (NodeId peer : live) {
      for (std::uint64_t i = 0; i < kChatter; ++i) {
        EXPECT_TRUE(transport.send(make_message(MessageType::VoteRequest, me, peer, i)));
      }
    }
    EXPECT_TRUE(
        poll_until(transport, inbox, [&] { return inbox.size() >= kChatter * live.size(); }));
    EXPECT_EQ(inbox.size(), kChatter * live.size());
    EXPECT_EQ(transport.pending_sends(silent), accepted) << "still unfinished";
  }

  barrier("senders done");

  if (me == silent) {
    // Wake up: everything that was accepted arrives, in order, then one small
    // message from each sender, sent once its queue had drained.
    std::uint64_t expected = 0;
    for (NodeId sender = 0; sender < silent; ++sender) expected += accepted_by(sender) + 1;
    EXPECT_TRUE(poll_until(transport, inbox, [&] { return inbox.size() >= expected; }));
    EXPECT_EQ(inbox.size(), expected);
    std::map<NodeId, std::uint64_t> next_seq;
    for (const Message& m : inbox) {
      if (m.type == MessageType::TimeoutNow) {
        EXPECT_EQ(next_seq[m.from], accepted_by(m.from)) << "the small one comes last";
        continue;
      }
      EXPECT_EQ(m, rendezvous_message(m.from, me, next_seq[m.from]));
      ++next_seq[m.from];
    }
    EXPECT_EQ(transport.stats().decode_errors, 0u);
  } else {
    EXPECT_TRUE(poll_until(transport, inbox, [&] { return !transport.has_pending_sends(); }));
    Message small;
    small.type = MessageType::TimeoutNow;
    small.from = me;
    small.to = silent;
    small.term = 1;
    EXPECT_TRUE(transport.send(small));
    EXPECT_TRUE(poll_until(transport, inbox, [&] { return !transport.has_pending_sends(); }));
  }
  barrier("silent rank drained");
}

TEST_F(MpiTransportTest, ShutdownWithUnfinishedSendsEndsWithinItsDeadline) {
  int world_size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  if (world_size < 2) GTEST_SKIP() << "needs 2 ranks";
  const NodeId silent = world_size - 1;
  const NodeId me = world_rank();
  MpiTransportOptions options;
  options.max_pending_sends_per_peer = 8;
  options.shutdown_wait_ms = 200;
  MpiTransport transport({}, options);
  std::uint64_t accepted = 0;
  if (me != silent) {
    for (std::uint64_t seq = 0; seq < 20; ++seq) {
      if (transport.send(rendezvous_message(me, silent, seq))) ++accepted;
    }
    EXPECT_EQ(accepted, 8u);
    // The silent rank never receives: shutdown waits its 200 ms, then frees.
    const auto start = Clock::now();
    transport.shutdown();
    const auto took = Clock::now() - start;
    EXPECT_LT(took, 5s);
    EXPECT_GE(took, 150ms) << "it should have waited for the unfinished sends";
    EXPECT_EQ(transport.details().abandoned_at_shutdown, accepted);
    EXPECT_FALSE(transport.has_pending_sends());
  }
  barrier("senders shut down");
  if (me == silent) {
    // Receives (and drops) whatever was still addressed to it, so that the
    // senders' freed requests can complete inside MPI before MPI_Finalize.
    const auto start = Clock::now();
    transport.shutdown();
    EXPECT_LT(Clock::now() - start, 5s);
    const auto details = transport.details();
    EXPECT_EQ(details.discarded_at_shutdown + details.abandoned_at_shutdown,
              8u * static_cast<std::uint64_t>(silent));
  }
  // Idempotent, and inert afterwards.
  transport.shutdown();
  std::vector<Message> inbox;
  EXPECT_EQ(transport.poll(inbox, 10), 0u);
  EXPECT_FALSE(transport.send(make_message(MessageType::TimeoutNow, me, 0, 1)));
  EXPECT_EQ(transport.communicator(), MPI_COMM_NULL);
}

/// Raw bytes on the transport's communicator, as a buggy or hostile rank could send.
void raw_send(MPI_Comm comm, NodeId to, int tag, const std::string& bytes) {
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, tag, comm);
}

TEST_F(MpiTransportTest, GarbageIsCountedLoggedOnceAndDropped) {
  Warnings warnings;
  MpiTransport transport(warnings.fn());
  const NodeId me = transport.rank();
  constexpr NodeId kVictim = 0;
  constexpr NodeId kSender = 1;
  std::vector<Message> inbox;
  const Message vote = make_message(MessageType::VoteRequest, kSender, kVictim, 5);
  constexpr std::uint64_t kGarbage = 11;

  if (me == kSender) {
    const MPI_Comm comm = transport.communicator();
    const std::string valid = raft::codec::encode(vote);
    for (int i = 0; i < 5; ++i) raw_send(comm, kVictim, 3, "not a raft message");  // bad_magic x5
    raw_send(comm, kVictim, 4, "");                                                // truncated
    raw_send(comm, kVictim, 1, valid.substr(0, valid.size() - 1));                 // truncated
    raw_send(comm, kVictim, 2, valid);                                             // tag_mismatch
    raw_send(comm, kVictim, 77, valid);                                            // unknown tag
    Message other = vote;
    other.from = 2;
    raw_send(comm, kVictim, 1, raft::codec::encode(other));  // sender_mismatch
    // Above codec::kMessageBytesMax: received in full, then dropped.
    std::string huge(raft::codec::kMessageBytesMax + 1, 'R');
    MPI_Request request = MPI_REQUEST_NULL;
    MPI_Isend(huge.data(), static_cast<int>(huge.size()), MPI_BYTE, kVictim, 3, comm, &request);
    const auto deadline = Clock::now() + kWait;
    int done = 0;
    while (MPI_Test(&request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && done == 0) {
      if (Clock::now() > deadline) {
        ADD_FAILURE() << "the oversized message was never received";
        MPI_Abort(MPI_COMM_WORLD, 4);
      }
      std::this_thread::yield();
    }
    // Then a good message, through the transport, behind all of that.
    EXPECT_TRUE(transport.send(vote));
    // The victim answers: it kept working.
    EXPECT_TRUE(poll_until(transport, inbox, [&] { return !inbox.empty(); }));
    ASSERT_EQ(inbox.size(), 1u);
    EXPECT_EQ(inbox[0].type, MessageType::VoteResponse);
    EXPECT_EQ(inbox[0].from, kVictim);
  }
  if (me == kVictim) {
    EXPECT_TRUE(poll_until(transport, inbox, [&] { return !inbox.empty(); }));
    ASSERT_EQ(inbox.size(), 1u);
    EXPECT_EQ(inbox[0], vote);
    const auto stats = transport.stats();
    EXPECT_EQ(stats.decode_errors, kGarbage);
    EXPECT_EQ(stats.received.at(MessageType::VoteRequest), 1u);
    EXPECT_GT(stats.bytes_received, raft::codec::kMessageBytesMax);
    // Once per (peer, kind): 5 bad_magic and 2 truncated gave one line each.
    EXPECT_EQ(warnings.count("bad_magic"), 1u);
    EXPECT_EQ(warnings.count("truncated"), 1u);
    EXPECT_EQ(warnings.count("tag_mismatch"), 1u);
    EXPECT_EQ(warnings.count("sender_mismatch"), 1u);
    EXPECT_EQ(warnings.count("message_too_large"), 1u);
    std::set<std::string> kinds_seen(warnings.lines.begin(), warnings.lines.end());
    EXPECT_EQ(kinds_seen.size(), warnings.lines.size());
    for (const auto& line : warnings.lines) std::printf("[rank 0] warning: %s\n", line.c_str());
    Message answer = make_message(MessageType::VoteResponse, kVictim, kSender, 2);
    EXPECT_TRUE(transport.send(answer));
    EXPECT_TRUE(poll_until(transport, inbox, [&] { return !transport.has_pending_sends(); }));
  }
  barrier("garbage handled");
}

TEST_F(MpiTransportTest, SendRefusesWhatCanNeverBeDelivered) {
  Warnings warnings;
  MpiTransport transport(warnings.fn());
  const NodeId me = transport.rank();
  Message to_nobody = make_message(MessageType::TimeoutNow, me, transport.size(), 1);
  EXPECT_FALSE(transport.send(to_nobody));
  to_nobody.to = -1;
  EXPECT_FALSE(transport.send(to_nobody));
  Message forged = make_message(MessageType::TimeoutNow, me + 1, me, 1);
  EXPECT_FALSE(transport.send(forged));
  Message gap = make_append(me, me, 1, 2, 4);
  gap.entries[1].index += 1;  // not consecutive: the codec refuses it
  EXPECT_FALSE(transport.send(gap));
  EXPECT_EQ(transport.details().send_refused, 4u);
  EXPECT_EQ(transport.stats().dropped_queue_full, 0u);
  EXPECT_EQ(warnings.lines.size(), 4u)
      << "unknown_peer x2 (two peers), wrong_sender, bad_entry_index";
  EXPECT_FALSE(transport.has_pending_sends());

  // A message to oneself works like any other.
  const Message self = make_message(MessageType::AppendEntries, me, me, 3);
  EXPECT_TRUE(transport.send(self));
  std::vector<Message> inbox;
  EXPECT_TRUE(poll_until(transport, inbox, [&] { return !inbox.empty(); }));
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0], self);
  barrier("refusals checked");
}

/// On ranks other than 0, print only failures (prefixed with the rank).
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_,
                 result.file_name() ? result.file_name() : "?", result.line_number(),
                 result.summary());
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed()) {
      std::fprintf(stderr, "[rank %d] FAILED %s.%s\n", rank_, info.test_suite_name(), info.name());
    }
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  int result = 0;
  Clock::time_point finalize_start;
  int rank = 0;
  {
    raft::transport::MpiSession session(&argc, &argv);
    rank = session.rank();
    ::testing::InitGoogleTest(&argc, argv);
    if (rank != 0) {
      auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new RankFailurePrinter(rank));
    }
    const int local = RUN_ALL_TESTS();
    // Every rank exits with the worst result of all.
    MPI_Allreduce(&local, &result, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    finalize_start = Clock::now();
  }  // MPI_Finalize
  const auto finalize_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - finalize_start).count();
  std::printf("[rank %d] MPI_Finalize returned after %lld ms; exit %d\n", rank,
              static_cast<long long>(finalize_ms), result);
  // Unfinished requests left by the tests must not hold MPI_Finalize up.
  if (finalize_ms > 10'000) return 1;
  return result;
}
