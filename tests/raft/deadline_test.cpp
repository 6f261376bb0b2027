// Node::next_deadline_ms(): a loop that ticks a node only at the deadline it
// names (and whenever a message arrives) must see exactly what a loop that
// ticks it every millisecond sees: the same messages at the same times. So a
// driver can sleep until the deadline and no timer ever fires late.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace raft {
namespace {

/// One line per message sent: "t=<ms> <type> to=<id> term=<t>".
using Transcript = std::vector<std::string>;

struct Script {
  Config config;
  TimeMs end_ms = 5000;
  /// Peer 1 grants every PreVote and vote request until this time, so the
  /// node goes through Initial, PreVote, candidacy and leadership; after it,
  /// nobody answers (heartbeats go unanswered and CheckQuorum deposes it).
  TimeMs peers_answer_until_ms = 1000;
};

Transcript run(const Script& s, bool every_ms) {
  Node n(s.config, 0);
  Transcript out;
  std::vector<Message> answers;  // delivered at the next millisecond
  for (TimeMs t = 1; t <= s.end_ms; ++t) {
    const bool message_due = !answers.empty();
    if (!every_ms && !message_due && t < n.next_deadline_ms()) continue;
    n.tick(t);
    for (Message& m : answers) n.step(std::move(m));
    answers.clear();
    for (const Message& m : test::take_messages(n)) {
      out.push_back("t=" + std::to_string(t) + " " + std::string(message_type_name(m.type)) +
                    " to=" + std::to_string(m.to) + " term=" + std::to_string(m.term));
      const bool vote = m.type == MessageType::PreVoteRequest || m.type == MessageType::VoteRequest;
      if (vote && m.to == 1 && t < s.peers_answer_until_ms) {
        Message r = test::make(m.type == MessageType::VoteRequest ? MessageType::VoteResponse
                                                                  : MessageType::PreVoteResponse,
                               1, 0, m.term);
        r.granted = true;
        answers.push_back(r);
      }
    }
  }
  return out;
}

void expect_same_transcripts(const Script& s) {
  const Transcript reference = run(s, /*every_ms=*/true);
  const Transcript sparse = run(s, /*every_ms=*/false);
  ASSERT_GT(reference.size(), 10u) << "the script must exercise the timers";
  ASSERT_EQ(sparse.size(), reference.size());
  for (std::size_t i = 0; i < reference.size(); ++i) {
    ASSERT_EQ(sparse[i], reference[i]) << "message " << i << " differs";
  }
}

TEST(NextDeadline, TickingOnlyAtDeadlinesMissesNoTimer) {
  Script s;
  s.config = test::small_config(0, 3, /*initial_delay_ms=*/70);
  // Not a divisor of the shortest election timeout, so CheckQuorum's
  // deadline falls between two heartbeats.
  s.config.heartbeat_interval_ms = 40;
  expect_same_transcripts(s);
}

TEST(NextDeadline, HoldsWithoutPreVoteOrCheckQuorum) {
  Script s;
  s.config = test::small_config(0, 3);
  s.config.pre_vote = false;
  s.config.check_quorum = false;
  expect_same_transcripts(s);
}

TEST(NextDeadline, IsNeverInThePastAfterATick) {
  // As a follower and candidate, then as a leader with and without
  // CheckQuorum (whose deadline advances even when it is off).
  for (bool check_quorum : {true, false}) {
    Config c = test::small_config(0, 3);
    c.pre_vote = false;
    c.check_quorum = check_quorum;
    Node n(c, 0);
    for (TimeMs t = 1; t <= 3000; ++t) {
      n.tick(t);
      for (const Message& m : test::take_messages(n)) {
        // Node 1 votes once, in term 1: afterwards the node is on its own.
        if (m.type != MessageType::VoteRequest || m.to != 1 || m.term != 1) continue;
        Message grant = test::make(MessageType::VoteResponse, 1, 0, m.term);
        grant.granted = true;
        n.step(grant);
      }
      ASSERT_GT(n.next_deadline_ms(), t) << "a deadline at or before now would spin a loop";
    }
    EXPECT_EQ(n.role(), check_quorum ? Role::Candidate : Role::Leader)
        << "unanswered, CheckQuorum deposes the leader, which then campaigns in vain; "
           "without CheckQuorum it stays leader";
  }
}

}  // namespace
}  // namespace raft
