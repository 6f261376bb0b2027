// When the election timer restarts (Raft Figure 2, "Rules for Servers",
// Followers): on hearing from the current leader, on granting a vote, and on
// starting an election; never merely on learning a higher term. A node that
// restarted it whenever a stale candidate raised the term could be kept from
// ever campaigning, though it was the only node the others would elect
// (simulator seeds 197729, 584778, 662466).
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace raft {
namespace {

using test::of_type;
using test::take_messages;

/// Node 0 of 3, without the leader lease (CheckQuorum off), so a vote request
/// in a higher term is not ignored but read and denied or granted.
Config no_lease_config(bool pre_vote) {
  Config c = test::small_config(0, 3);
  c.check_quorum = false;
  c.pre_vote = pre_vote;
  return c;
}

/// Node 0 follows leader 1 in term 2 and holds entries 1..2 from it; its
/// timer was last restarted at t=10 by that leader.
Node follower_with_log() {
  Node n(no_lease_config(/*pre_vote=*/true), 0);
  n.tick(10);
  n.step(test::append(1, 0, 2, 0, 0, test::entries_of_terms(1, {2, 2})));
  take_messages(n);
  return n;
}

TEST(TimerRule, DenyingAVoteInAHigherTermLeavesTheTimerRunning) {
  Node n = follower_with_log();
  const TimeMs started_ms = n.election_timer_start_ms();
  ASSERT_EQ(started_ms, 10u);
  n.tick(100);
  n.step(test::vote_request(2, 0, 3, 0, 0));  // a candidate with an empty log
  const auto replies = of_type(take_messages(n), MessageType::VoteResponse);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].granted);
  EXPECT_EQ(n.term(), 3u) << "the higher term is adopted";
  EXPECT_EQ(n.election_timer_start_ms(), started_ms) << "but the timer runs on";
  // And so it times out when it would have without the stale candidate.
  n.tick(started_ms + n.election_timeout_ms());
  EXPECT_TRUE(n.pre_voting()) << "the up-to-date node stands as soon as its own timer expires";
}

TEST(TimerRule, GrantingAVoteRestartsTheTimer) {
  Node n = follower_with_log();
  n.tick(100);
  n.step(test::vote_request(2, 0, 3, 2, 2));  // as up to date as we are
  const auto replies = of_type(take_messages(n), MessageType::VoteResponse);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].granted);
  EXPECT_EQ(n.election_timer_start_ms(), 100u);
}

TEST(TimerRule, HearingFromTheCurrentLeaderRestartsTheTimer) {
  Node n = follower_with_log();
  n.tick(100);
  n.step(test::append(1, 0, 2, 2, 2, {}, 2));
  EXPECT_EQ(n.election_timer_start_ms(), 100u);
}

TEST(TimerRule, StartingAnElectionRestartsTheTimer) {
  Node n(no_lease_config(/*pre_vote=*/false), 0);
  const TimeMs timeout_ms = n.election_timeout_ms();
  n.tick(timeout_ms);
  EXPECT_EQ(n.role(), Role::Candidate);
  EXPECT_EQ(n.election_timer_start_ms(), timeout_ms);
}

TEST(TimerRule, ACandidateThatLearnsAHigherTermKeepsItsTimer) {
  Node n(no_lease_config(/*pre_vote=*/false), 0);
  const TimeMs campaign_ms = n.election_timeout_ms();
  n.tick(campaign_ms);
  ASSERT_EQ(n.role(), Role::Candidate);
  take_messages(n);
  n.tick(campaign_ms + 20);
  Message refusal = test::make(MessageType::VoteResponse, 1, 0, 5);
  refusal.granted = false;
  n.step(refusal);
  EXPECT_EQ(n.role(), Role::Follower);
  EXPECT_EQ(n.term(), 5u);
  EXPECT_EQ(n.election_timer_start_ms(), campaign_ms);
}

TEST(TimerRule, ADeposedLeaderStartsItsTimer) {
  Node n(no_lease_config(/*pre_vote=*/false), 0);
  n.tick(n.election_timeout_ms());
  Message grant = test::make(MessageType::VoteResponse, 1, 0, n.term());
  grant.granted = true;
  n.step(grant);
  ASSERT_EQ(n.role(), Role::Leader);
  take_messages(n);
  n.tick(1000);
  n.step(test::vote_request(2, 0, n.term() + 1, 0, 0));
  EXPECT_EQ(n.role(), Role::Follower);
  EXPECT_EQ(n.election_timer_start_ms(), 1000u) << "a leader had no timer running";
}

}  // namespace
}  // namespace raft
