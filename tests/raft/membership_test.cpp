// Membership changes (Raft dissertation chapter 4: single-server changes
// through the log, with Ongaro's 2015 fix), each test named after the rule
// it checks.
#include "raft/membership.hpp"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "local_cluster.hpp"
#include "test_util.hpp"

namespace raft {
namespace {

using test::small_config;
using testing::LocalCluster;

Result change(LocalCluster& c, NodeId leader, ConfChangeType type, NodeId node) {
  return c.node(leader).change_membership({type, node});
}

/// Elects a leader among the voters and lets its no-op commit.
NodeId settled_leader(LocalCluster& c) {
  const NodeId leader = c.elect();
  if (leader != kNoNode) c.advance(100);
  return leader;
}

bool committed_everywhere(LocalCluster& c, Index index, std::initializer_list<NodeId> nodes) {
  for (NodeId id : nodes) {
    if (c.node(id).commit_index() < index) return false;
  }
  return true;
}

/// Followers' answers to appends are lost from now on: nothing new commits.
void lose_append_answers(LocalCluster& c) {
  c.drop = [](const Message& m) { return m.type == MessageType::AppendResponse; };
}

/// Adds `node` as a learner through `leader` and waits for it to commit.
void add_learner(LocalCluster& c, NodeId leader, NodeId node) {
  const Result r = change(c, leader, ConfChangeType::AddLearner, node);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(c.advance_until([&] { return c.node(leader).commit_index() >= r.index; }, 2000));
}

TEST(Membership, SpareRanksStartStandbyAndTakeNoPartInElections) {
  LocalCluster c(5, small_config(0, 5), /*voters=*/3);
  EXPECT_EQ(c.node(3).role(), Role::Standby);
  EXPECT_EQ(c.node(4).role(), Role::Standby);
  EXPECT_EQ(role_name(Role::Standby), "STANDBY");
  c.record = true;
  const NodeId leader = settled_leader(c);
  ASSERT_NE(leader, kNoNode);
  EXPECT_LT(leader, 3);
  c.advance(3000);
  for (NodeId spare : {3, 4}) {
    EXPECT_EQ(c.node(spare).role(), Role::Standby);
    EXPECT_EQ(c.node(spare).term(), 0u) << "a standby node is asked nothing";
    EXPECT_EQ(c.node(spare).log().last_index(), 0u) << "and holds no log until added";
    EXPECT_EQ(c.node(spare).trigger_election().status, Status::Refused);
    EXPECT_EQ(c.node(spare).force_timeout().status, Status::Refused);
  }
  for (const Message& m : c.sent) EXPECT_LT(m.to, 3) << "nothing is sent to a standby node";
  EXPECT_EQ(c.node(leader).conf_state().voters, (std::vector<NodeId>{0, 1, 2}));
  EXPECT_EQ(c.node(leader).quorum(), 2u);
}

TEST(Membership, AnAddedLearnerReceivesTheLogAndLeavesStandby) {
  LocalCluster c(4, small_config(0, 4), 3);
  const NodeId leader = settled_leader(c);
  for (int i = 0; i < 20; ++i) c.node(leader).propose(EntryType::Command, "v" + std::to_string(i));
  c.advance(50);
  add_learner(c, leader, 3);
  ASSERT_TRUE(c.advance_until(
      [&] { return c.node(3).log().last_index() == c.node(leader).log().last_index(); }, 2000));
  EXPECT_EQ(c.node(3).role(), Role::Follower);
  EXPECT_TRUE(c.node(3).is_learner(3));
  EXPECT_EQ(c.node(3).conf_state(), c.node(leader).conf_state());
  EXPECT_EQ(c.node(3).conf_state().learners, (std::vector<NodeId>{3}));
  EXPECT_EQ(c.applied(3).size(), c.applied(leader).size());
  EXPECT_EQ(c.node(3).force_timeout().status, Status::Refused) << "learners never campaign";
}

TEST(Membership, OneChangeAtATime) {
  LocalCluster c(5, small_config(0, 5), 3);
  const NodeId leader = settled_leader(c);
  const Result first = change(c, leader, ConfChangeType::AddLearner, 3);
  ASSERT_TRUE(first.ok()) << first.error;
  // Not yet committed: nothing has been delivered since.
  const Result second = change(c, leader, ConfChangeType::AddLearner, 4);
  EXPECT_EQ(second.status, Status::Refused);
  EXPECT_NE(second.error.find("one change at a time"), std::string::npos) << second.error;
  ASSERT_TRUE(c.advance_until([&] { return c.node(leader).commit_index() >= first.index; }, 2000));
  EXPECT_TRUE(change(c, leader, ConfChangeType::AddLearner, 4).ok());
}

TEST(Membership, NewTermEntryFirst) {
  // Ongaro's 2015 fix: a new leader changes the configuration only after it
  // has committed an entry of its own term.
  LocalCluster c(4, small_config(0, 4), 3);
  const NodeId old_leader = settled_leader(c);
  const NodeId next = (old_leader + 1) % 3;
  // The new leader's no-op cannot commit.
  lose_append_answers(c);
  ASSERT_TRUE(c.node(next).trigger_election().ok());
  ASSERT_TRUE(c.advance_until([&] { return c.node(next).role() == Role::Leader; }, 1000));
  const Result early = change(c, next, ConfChangeType::AddLearner, 3);
  EXPECT_EQ(early.status, Status::Refused);
  EXPECT_NE(early.error.find("not yet committed an entry of its term"), std::string::npos)
      << early.error;
  c.drop = nullptr;
  ASSERT_TRUE(c.advance_until(
      [&] {
        return c.node(next).log().term_at(c.node(next).commit_index()) == c.node(next).term();
      },
      1000));
  EXPECT_TRUE(change(c, next, ConfChangeType::AddLearner, 3).ok());
}

TEST(Membership, ConfigurationTakesEffectWhenAppendedNotWhenCommitted) {
  LocalCluster c(4, small_config(0, 4), 3);
  const NodeId leader = settled_leader(c);
  const NodeId follower = (leader + 1) % 3;
  lose_append_answers(c);
  const Result r = change(c, leader, ConfChangeType::AddLearner, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(c.node(leader).conf_state().index, r.index) << "in effect on the leader at once";
  c.advance(20);
  EXPECT_LT(c.node(follower).commit_index(), r.index);
  EXPECT_EQ(c.node(follower).conf_state().index, r.index) << "and on a follower once appended";
  EXPECT_LT(c.node(follower).committed_conf_state().index, r.index);
  EXPECT_TRUE(c.node(follower).is_learner(3));
}

/// One node with voters {0,1,2} among 4 ranks, fed messages by hand.
Node lone_follower(NodeId id) {
  Config cfg = small_config(id, 3);
  cfg.node_count = 4;
  return Node(cfg, 0);
}

Entry conf_entry(Term term, Index index, ConfChange change, const ConfState& before) {
  ConfState next = before;
  EXPECT_EQ(apply_conf_change(next, change), "");
  next.index = index;
  return {term, index, EntryType::Config, encode_conf_entry(change, next)};
}

TEST(Membership, RollbackOnTruncation) {
  Node n = lone_follower(1);
  const ConfState initial = n.conf_state();
  // Leader 0 of term 1 adds learner 3 at index 2; it is never committed.
  std::vector<Entry> entries = {{1, 1, EntryType::Noop, ""},
                                conf_entry(1, 2, {ConfChangeType::AddLearner, 3}, initial)};
  n.step(test::append(0, 1, 1, 0, 0, entries, 1));
  ASSERT_EQ(n.conf_state().index, 2u);
  EXPECT_TRUE(n.is_learner(3));
  (void)n.ready();
  // Leader 2 of term 2 never had it: its entry at index 2 cuts it off, and
  // the configuration rolls back to the one before it.
  n.step(test::append(2, 1, 2, 1, 1, {{2, 2, EntryType::Noop, ""}}, 1));
  EXPECT_EQ(n.log().last_index(), 2u);
  EXPECT_EQ(n.conf_state(), initial);
  EXPECT_FALSE(n.is_member(3));
  bool saw_change = false;
  for (const Event& e : n.ready().events) saw_change |= e.kind == EventKind::ConfigChanged;
  EXPECT_TRUE(saw_change);
}

TEST(Membership, RollbackOnTruncationToAnotherChangeAtTheSameIndex) {
  // Found by the simulator's Election Quorum check: a configuration cut off
  // and replaced by another one at the same index must not leave the old one
  // in effect (the node then counted votes with it).
  Node n = lone_follower(1);
  const ConfState initial = n.conf_state();
  n.step(test::append(
      0, 1, 1, 0, 0,
      {{1, 1, EntryType::Noop, ""}, conf_entry(1, 2, {ConfChangeType::AddLearner, 3}, initial)},
      1));
  ASSERT_TRUE(n.is_learner(3));
  const Entry other = conf_entry(2, 2, {ConfChangeType::Remove, 0}, initial);
  n.step(test::append(2, 1, 2, 1, 1, {other}, 1));
  EXPECT_EQ(n.conf_state().index, 2u);
  EXPECT_FALSE(n.is_member(3));
  EXPECT_EQ(n.conf_state().voters, (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(n.quorum(), 2u);
}

TEST(Membership, ARemovedFollowerGoesStandbyOnceTheRemovalCommits) {
  Node n = lone_follower(1);
  n.step(test::append(
      0, 1, 1, 0, 0,
      {{1, 1, EntryType::Noop, ""}, conf_entry(1, 2, {ConfChangeType::Remove, 1}, n.conf_state())},
      1));
  EXPECT_FALSE(n.is_member(1)) << "not a member as soon as the entry is appended";
  EXPECT_EQ(n.role(), Role::Follower) << "but the removal may still roll back";
  n.step(test::append(0, 1, 1, 2, 1, {}, 2));
  EXPECT_EQ(n.role(), Role::Standby);
  n.tick(10'000);
  EXPECT_EQ(n.role(), Role::Standby) << "no election timer";
  EXPECT_EQ(n.force_timeout().status, Status::Refused);
}

TEST(Membership, ARemovedFollowerHearsItsRemovalCommittedEvenIfItAnsweredLast) {
  // The others' answers commit the removal before the removed node's own
  // answer arrives: the leader must still tell it the new commit index, or
  // it stays a FOLLOWER outside the cluster for good.
  LocalCluster c(5, small_config(0, 5));
  const NodeId leader = settled_leader(c);
  const NodeId removed = (leader + 1) % 5;
  c.drop = [&](const Message& m) {
    return m.type == MessageType::AppendResponse && m.from == removed;
  };
  const Result r = change(c, leader, ConfChangeType::Remove, removed);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(c.advance_until([&] { return c.node(leader).commit_index() >= r.index; }, 1000));
  c.drop = nullptr;
  ASSERT_TRUE(c.node(leader).propose(EntryType::Command, "after").ok());
  EXPECT_TRUE(c.advance_until([&] { return c.node(removed).role() == Role::Standby; }, 2000))
      << "the removed node is " << role_name(c.node(removed).role());
  EXPECT_GE(c.node(removed).commit_index(), r.index);
  EXPECT_EQ(c.leader(), leader) << "and it disturbed nobody";
}

TEST(Membership, ARemovedFollowerHearsThatItsRemovalCommitted) {
  // The leader stops replicating to a node once its removal commits: the
  // node must still learn of that commit, or it stays a FOLLOWER for good.
  LocalCluster c(4, small_config(0, 4), 4);
  const NodeId leader = settled_leader(c);
  ASSERT_NE(leader, kNoNode);
  const NodeId removed = leader == 3 ? 2 : 3;
  const Result r = change(c, leader, ConfChangeType::Remove, removed);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(c.advance_until([&] { return c.node(leader).commit_index() >= r.index; }, 2000));
  ASSERT_TRUE(c.advance_until([&] { return c.node(removed).role() == Role::Standby; }, 3000))
      << "node " << removed << " is " << role_name(c.node(removed).role()) << " with commit "
      << c.node(removed).commit_index() << " < " << r.index;
  EXPECT_GE(c.node(removed).commit_index(), r.index);
}

TEST(Membership, ARemovalThatRollsBackLeavesTheNodeAVoter) {
  Node n = lone_follower(1);
  n.step(test::append(
      0, 1, 1, 0, 0,
      {{1, 1, EntryType::Noop, ""}, conf_entry(1, 2, {ConfChangeType::Remove, 1}, n.conf_state())},
      1));
  ASSERT_FALSE(n.is_member(1));
  n.step(test::append(2, 1, 2, 1, 1, {{2, 2, EntryType::Noop, ""}}, 1));
  EXPECT_TRUE(n.is_voter(1));
  EXPECT_EQ(n.role(), Role::Follower);
}

TEST(Membership, ANodeWhoseRemovalIsUncommittedMayStillWinAnElection) {
  // Voters {0,1,2}; node 0 holds its own removal, uncommitted, and is the
  // only one with it: it campaigns, counting only the voters {1,2} of that
  // configuration (the others could never elect anyone it would not block).
  Config cfg = small_config(0, 3);
  cfg.pre_vote = false;
  ConfState initial;
  initial.voters = {0, 1, 2};
  RecoveredState stored;
  stored.entries = {{1, 1, EntryType::Noop, ""},
                    conf_entry(1, 2, {ConfChangeType::Remove, 0}, initial)};
  stored.hard_state = {1, kNoNode, 1};
  Node n(cfg, stored, 0);
  ASSERT_FALSE(n.is_member(0));
  EXPECT_EQ(n.role(), Role::Follower);
  ASSERT_TRUE(n.trigger_election().ok());
  Message vote = test::make(MessageType::VoteResponse, 1, 0, n.term());
  vote.granted = true;
  n.step(vote);
  EXPECT_EQ(n.role(), Role::Candidate) << "its own vote does not count";
  vote.from = 2;
  n.step(vote);
  EXPECT_EQ(n.role(), Role::Leader);
}

/// Node `id` whose log holds, committed, the removal of node 2 (voters {0,1}).
Node member_after_removing_two(NodeId id, bool committed) {
  Config cfg = small_config(id, 3);
  ConfState initial;
  initial.voters = {0, 1, 2};
  RecoveredState stored;
  stored.entries = {{1, 1, EntryType::Noop, ""},
                    conf_entry(1, 2, {ConfChangeType::Remove, 2}, initial),
                    {1, 3, EntryType::Command, "x"}};
  stored.hard_state = {1, kNoNode, committed ? 3u : 1u};
  return Node(cfg, stored, 0);
}

TEST(Membership, ARemovedNodeThatMissedItsRemovalCannotRaiseTheTerm) {
  // Dissertation §4.2.3: node 2 never heard of its removal and campaigns
  // with its old log; the members ignore it instead of adopting its term.
  Node n = member_after_removing_two(0, /*committed=*/true);
  n.step(test::vote_request(2, 0, 9, 1, 1));
  EXPECT_EQ(n.term(), 1u);
  EXPECT_TRUE(test::take_messages(n).empty());
}

TEST(Membership, ACandidateOutsideOurConfigurationIsAnsweredWhenItMayBeRight) {
  // Our removal of 2 is not committed yet: it may roll back, and 2's terms
  // must reach us (ignoring them left a rival candidate a term behind for
  // good, found by the simulator).
  Node uncommitted = member_after_removing_two(0, /*committed=*/false);
  uncommitted.step(test::vote_request(2, 0, 9, 1, 1));
  EXPECT_EQ(uncommitted.term(), 9u);
  // A log ahead of ours may hold configurations we have not seen (we may be
  // the lagging voter it needs): answered, and granted.
  Node lagging = member_after_removing_two(0, /*committed=*/true);
  lagging.step(test::vote_request(2, 0, 9, 7, 1));
  EXPECT_EQ(lagging.term(), 9u);
  const std::vector<Message> out = test::take_messages(lagging);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].granted);
}

/// Voters 0..3 and spare 4: `removed` (a follower) is removed while it is
/// down, then spare 4 is added as a learner, both committed, so the leader
/// no longer replicates to `removed`. Returns the leader.
NodeId remove_while_down_then_change_again(LocalCluster& c, NodeId& removed) {
  const NodeId leader = settled_leader(c);
  if (leader == kNoNode) return kNoNode;
  removed = (leader + 1) % 4;
  c.down[removed] = true;
  for (ConfChange next :
       {ConfChange{ConfChangeType::Remove, removed}, ConfChange{ConfChangeType::AddLearner, 4}}) {
    const Result r = c.node(leader).change_membership(next);
    EXPECT_TRUE(r.ok()) << r.error;
    if (!r.ok() ||
        !c.advance_until([&] { return c.node(leader).commit_index() >= r.index; }, 2000)) {
      return kNoNode;
    }
  }
  return leader;
}

TEST(Membership, ARemovedNodeCutOffUntilALaterChangeCommittedGoesStandbyWhenBack) {
  LocalCluster c(5, small_config(0, 5), 4);
  NodeId removed = kNoNode;
  const NodeId leader = remove_while_down_then_change_again(c, removed);
  ASSERT_NE(leader, kNoNode);
  ASSERT_FALSE(c.node(leader).progress().contains(removed)) << "no append will tell it";
  c.down[removed] = false;
  EXPECT_EQ(c.node(removed).role(), Role::Follower) << "its log still makes it a voter";
  ASSERT_TRUE(c.advance_until([&] { return c.node(removed).role() == Role::Standby; }, 3000))
      << "node " << removed << " is " << role_name(c.node(removed).role());
  EXPECT_EQ(c.node(removed).removal_notice(), c.node(leader).committed_conf_state());
  EXPECT_TRUE(c.node(removed).is_voter(removed)) << "its log is as it was";
  const Term term = c.node(removed).term();
  c.advance(3000);
  EXPECT_EQ(c.node(removed).role(), Role::Standby) << "for good";
  EXPECT_EQ(c.node(removed).term(), term) << "STANDBY: it campaigns no more";
  EXPECT_EQ(c.leader(), leader) << "and it disturbed nobody";
}

TEST(Membership, ARemovedLearnerThatNeverSpeaksIsToldByTheLeader) {
  // A learner never campaigns, so it sends nothing a member could answer:
  // the leader tells every rank it replicates to in no configuration.
  LocalCluster c(5, small_config(0, 5), 3);
  const NodeId leader = settled_leader(c);
  ASSERT_NE(leader, kNoNode);
  add_learner(c, leader, 3);
  ASSERT_TRUE(c.advance_until([&] { return c.node(3).is_learner(3); }, 2000));
  c.down[3] = true;
  for (ConfChange next :
       {ConfChange{ConfChangeType::Remove, 3}, ConfChange{ConfChangeType::AddLearner, 4}}) {
    const Result r = c.node(leader).change_membership(next);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_TRUE(c.advance_until([&] { return c.node(leader).commit_index() >= r.index; }, 2000));
  }
  c.down[3] = false;
  EXPECT_EQ(c.node(3).role(), Role::Follower);
  ASSERT_TRUE(c.advance_until([&] { return c.node(3).role() == Role::Standby; }, 1000))
      << "within a few minimum election timeouts";
  EXPECT_EQ(c.node(4).role(), Role::Follower) << "the learner added meanwhile stays";
  EXPECT_EQ(c.leader(), leader);
}

TEST(Membership, AMemberAnswersARemovedNodeWithTheCommittedConfiguration) {
  // Node 2 was removed at index 2, then 3 added at index 3, both committed:
  // we replicate to 2 in no configuration. Its stale vote request is still
  // ignored (it cannot raise our term), but answered with a notice.
  Config cfg = small_config(0, 3);
  cfg.node_count = 4;
  ConfState initial;
  initial.voters = {0, 1, 2};
  const Entry removal = conf_entry(1, 2, {ConfChangeType::Remove, 2}, initial);
  ConfState after_removal = decode_conf_entry(removal.data, 2)->conf;
  RecoveredState stored;
  stored.entries = {{1, 1, EntryType::Noop, ""},
                    removal,
                    conf_entry(1, 3, {ConfChangeType::AddLearner, 3}, after_removal)};
  stored.hard_state = {1, kNoNode, 3};
  Node n(cfg, stored, 0);
  for (bool pre : {true, false}) {
    n.step(test::vote_request(2, 0, 9, 1, 1, pre));
    EXPECT_EQ(n.term(), 1u);
    const std::vector<Message> out = test::take_messages(n);
    ASSERT_EQ(out.size(), 1u) << "no vote answer, only the notice";
    EXPECT_EQ(out[0].type, MessageType::RemovedNotice);
    EXPECT_EQ(out[0].to, 2);
    EXPECT_EQ(out[0].conf, n.committed_conf_state());
    EXPECT_EQ(out[0].conf.index, 3u);
  }
}

/// Node 1 of voters {0,1,2} whose log holds a learner 3 added at index 3,
/// committed up to `commit`.
Node follower_with_conf_at_three(Index commit = 3) {
  Node n = lone_follower(1);
  const Entry added = conf_entry(1, 3, {ConfChangeType::AddLearner, 3}, n.conf_state());
  n.step(test::append(0, 1, 1, 0, 0,
                      {{1, 1, EntryType::Noop, ""}, {1, 2, EntryType::Command, "x"}, added},
                      commit));
  (void)test::take_messages(n);
  return n;
}

/// A notice of `commit` (an entry of `commit_term`) whose committed
/// configuration (at `index`, by default `commit`) has `voters`.
Message removal_notice(NodeId from, NodeId to, Term term, std::vector<NodeId> voters, Index commit,
                       Index index = 0, Term commit_term = 1) {
  Message m = test::make(MessageType::RemovedNotice, from, to, term);
  m.commit = commit;
  m.commit_term = commit_term;
  m.conf.voters = std::move(voters);
  m.conf.index = index == 0 ? commit : index;
  return m;
}

TEST(Membership, AStaleRemovalNoticeIsIgnored) {
  Node n = follower_with_conf_at_three();
  ASSERT_EQ(n.conf_state().index, 3u);
  // From below the configuration of our log (which may have added us back).
  n.step(removal_notice(0, 1, 1, {0, 2}, 2));
  n.step(removal_notice(0, 1, 1, {0, 2}, 2, 1));
  EXPECT_EQ(n.role(), Role::Follower);
  EXPECT_EQ(n.removal_notice().index, 0u);
  // A newer one counts; one older than it, arriving late, changes nothing.
  n.step(removal_notice(2, 1, 1, {0, 2}, 9));
  EXPECT_EQ(n.role(), Role::Standby);
  n.step(removal_notice(0, 1, 1, {0}, 7));
  EXPECT_EQ(n.removal_notice_commit(), 9u);
  EXPECT_EQ(n.removal_notice().index, 9u);
  EXPECT_EQ(n.removal_notice().voters, (std::vector<NodeId>{0, 2}));
}

TEST(Membership, ARemovalNoticeOverridesAConfigurationTheCommittedLogCannotHold) {
  // Found by the simulator: a removed learner held a deposed leader's
  // configuration, uncommitted, newer than the committed one.
  // Ours, at index 3, is not the one committed at or below index 5 (that
  // is at index 2): a leader will cut ours off.
  Node below = follower_with_conf_at_three(/*commit=*/2);
  ASSERT_EQ(below.conf_state().index, 3u);
  below.step(removal_notice(0, 1, 1, {0, 2}, /*commit=*/5, /*index=*/2));
  EXPECT_EQ(below.role(), Role::Standby);
  // Ours lies beyond the commit index 2: it may be committed later (it may
  // have added us back)...
  Node beyond = follower_with_conf_at_three(/*commit=*/2);
  beyond.step(removal_notice(0, 1, 1, {0, 2}, /*commit=*/2, /*index=*/2, /*commit_term=*/1));
  EXPECT_EQ(beyond.role(), Role::Follower);
  // ...unless the entry at index 2 is of a term above ours (1): terms never
  // go down along a log, so no committed entry after it is of term 1.
  beyond.step(removal_notice(0, 1, 1, {0, 2}, /*commit=*/2, /*index=*/2, /*commit_term=*/2));
  EXPECT_EQ(beyond.role(), Role::Standby);
}

TEST(Membership, ARemovalNoticeNeverTouchesTermOrVote) {
  Node n = follower_with_conf_at_three();
  n.step(test::vote_request(2, 1, 4, 3, 1, /*pre=*/false, /*force=*/true));
  ASSERT_EQ(n.term(), 4u);
  ASSERT_EQ(n.voted_for(), 2);
  for (Term term : {Term{9}, Term{1}}) {  // higher and lower than ours: taken either way
    Node copy = n;
    copy.step(removal_notice(0, 1, term, {0, 2}, 8));
    EXPECT_EQ(copy.role(), Role::Standby);
    EXPECT_EQ(copy.term(), 4u);
    EXPECT_EQ(copy.voted_for(), 2);
  }
}

TEST(Membership, ARemovalNoticeNeverMakesAMemberStandby) {
  // A notice naming us (a later configuration that added us back) is no removal.
  Node n = follower_with_conf_at_three();
  n.step(removal_notice(0, 1, 1, {0, 1}, 8));
  EXPECT_EQ(n.role(), Role::Follower);
  EXPECT_EQ(n.removal_notice().index, 0u);
  // And members never send one another a notice: through elections,
  // changes, learners and removals, none goes to a member.
  LocalCluster c(5, small_config(0, 5), 3);
  c.record = true;
  const NodeId leader = settled_leader(c);
  ASSERT_NE(leader, kNoNode);
  for (ConfChange next :
       {ConfChange{ConfChangeType::AddNode, 3}, ConfChange{ConfChangeType::AddLearner, 4},
        ConfChange{ConfChangeType::Remove, 4}}) {
    ASSERT_TRUE(
        c.advance_until([&] { return change(c, leader, next.type, next.node).ok(); }, 3000));
  }
  for (NodeId id = 0; id < 3; ++id) c.node(id).force_timeout();
  c.advance(3000);
  for (NodeId id = 0; id < 4; ++id) EXPECT_NE(c.node(id).role(), Role::Standby) << id;
  for (const Message& m : c.sent) {
    EXPECT_NE(m.type, MessageType::RemovedNotice) << m.from << " -> " << m.to;
  }
}

TEST(Membership, ARemovedNodeAddedAgainLeavesStandby) {
  LocalCluster c(5, small_config(0, 5), 4);
  NodeId removed = kNoNode;
  const NodeId leader = remove_while_down_then_change_again(c, removed);
  ASSERT_NE(leader, kNoNode);
  c.down[removed] = false;
  ASSERT_TRUE(c.advance_until([&] { return c.node(removed).role() == Role::Standby; }, 3000));
  const Result r = change(c, leader, ConfChangeType::AddNode, removed);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(c.advance_until(
      [&] {
        return c.node(removed).conf_state().index > r.index && c.node(removed).is_voter(removed);
      },
      5000))
      << "node " << removed << " is " << role_name(c.node(removed).role());
  EXPECT_EQ(c.node(removed).role(), Role::Follower);
  EXPECT_EQ(c.node(removed).conf_state(), c.node(leader).conf_state());
  // A late copy of the old notice changes nothing now.
  Message late = test::make(MessageType::RemovedNotice, leader, removed, 1);
  late.conf = c.node(removed).removal_notice();
  c.node(removed).step(late);
  EXPECT_EQ(c.node(removed).role(), Role::Follower);
  EXPECT_EQ(c.node(removed).force_timeout().status, Status::Ok) << "a voter campaigns again";
}

TEST(Membership, ALearnerIsNeverCountedInTheCommitQuorum) {
  LocalCluster c(4, small_config(0, 4), 3);
  const NodeId leader = settled_leader(c);
  add_learner(c, leader, 3);
  for (NodeId v = 0; v < 3; ++v) {
    if (v != leader) c.down[v] = true;
  }
  const Result r = c.node(leader).propose(EntryType::Command, "x");
  ASSERT_TRUE(r.ok());
  c.advance(100);
  EXPECT_EQ(c.node(3).log().last_index(), r.index) << "the learner holds it";
  EXPECT_LT(c.node(leader).commit_index(), r.index) << "but a learner's copy commits nothing";
}

TEST(Membership, ALearnersVoteIsNeverCounted) {
  // Node 1 knows 3 as a learner (committed) and campaigns with PreVote off.
  Config cfg = small_config(1, 3);
  cfg.node_count = 4;
  cfg.pre_vote = false;
  ConfState initial;
  initial.voters = {0, 1, 2};
  RecoveredState stored;
  stored.entries = {{1, 1, EntryType::Noop, ""},
                    conf_entry(1, 2, {ConfChangeType::AddLearner, 3}, initial)};
  stored.hard_state = {1, kNoNode, 2};
  Node n(cfg, stored, 0);
  ASSERT_TRUE(n.is_learner(3));
  ASSERT_TRUE(n.trigger_election().ok());
  const Term term = n.term();
  for (const Message& m : test::take_messages(n)) EXPECT_NE(m.to, 3) << "learners are not asked";
  Message vote = test::make(MessageType::VoteResponse, 3, 1, term);
  vote.granted = true;
  n.step(vote);
  EXPECT_EQ(n.role(), Role::Candidate) << "a learner's vote does not make a majority";
  vote.from = 2;
  n.step(vote);
  EXPECT_EQ(n.role(), Role::Leader);
}

TEST(Membership, ALearnerIsNeverCountedForReadIndexOrCheckQuorum) {
  Config cfg = small_config(0, 4);
  cfg.check_quorum = true;
  LocalCluster c(4, cfg, 3);
  const NodeId leader = settled_leader(c);
  add_learner(c, leader, 3);
  for (NodeId v = 0; v < 3; ++v) {
    if (v != leader) c.down[v] = true;
  }
  ASSERT_TRUE(c.node(leader).read_index(7).ok());
  c.advance(100);
  EXPECT_TRUE(c.reads(leader).empty()) << "the learner's echo confirms no read";
  // Hearing only from the learner, the leader steps down at the next round.
  ASSERT_TRUE(c.advance_until([&] { return c.node(leader).role() != Role::Leader; },
                              2 * cfg.election_timeout_max_ms));
  ASSERT_FALSE(c.reads(leader).empty());
  EXPECT_FALSE(c.reads(leader).back().ok);
}

TEST(Membership, CatchUpBeforePromotion) {
  Config cfg = small_config(0, 4);
  cfg.promote_lag_entries_max = 10;
  LocalCluster c(4, cfg, 3);
  const NodeId leader = settled_leader(c);
  c.down[3] = true;
  add_learner(c, leader, 3);
  for (int i = 0; i < 50; ++i) c.node(leader).propose(EntryType::Command, "v");
  c.advance(50);
  const Result early = change(c, leader, ConfChangeType::Promote, 3);
  EXPECT_EQ(early.status, Status::Refused);
  EXPECT_NE(early.error.find("has not caught up"), std::string::npos) << early.error;
  c.down[3] = false;
  ASSERT_TRUE(c.advance_until(
      [&] {
        return c.node(leader).progress().at(3).match + 10 >= c.node(leader).log().last_index();
      },
      2000));
  const Result r = change(c, leader, ConfChangeType::Promote, 3);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(c.advance_until(
      [&] {
        return committed_everywhere(c, r.index, {0, 1, 2, 3});
      },
      2000));
  EXPECT_EQ(c.node(3).conf_state().voters, (std::vector<NodeId>{0, 1, 2, 3}));
  EXPECT_EQ(c.node(leader).quorum(), 3u);
}

TEST(Membership, AddNodePromotesTheLearnerOnceItHasCaughtUp) {
  LocalCluster c(5, small_config(0, 5), 3);
  const NodeId leader = settled_leader(c);
  for (int i = 0; i < 100; ++i) c.node(leader).propose(EntryType::Command, "v");
  const Result r = change(c, leader, ConfChangeType::AddNode, 3);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(conf_is_promoting(c.node(leader).conf_state(), 3));
  ASSERT_TRUE(c.advance_until(
      [&] { return c.node(leader).committed_conf_state().voters.size() == 4; }, 3000));
  EXPECT_EQ(c.node(leader).committed_conf_state().voters, (std::vector<NodeId>{0, 1, 2, 3}));
  EXPECT_TRUE(c.node(leader).committed_conf_state().promoting.empty());
  // A second node grows the cluster to five.
  ASSERT_TRUE(change(c, leader, ConfChangeType::AddNode, 4).ok());
  ASSERT_TRUE(
      c.advance_until([&] { return c.node(4).committed_conf_state().voters.size() == 5; }, 3000));
  EXPECT_EQ(c.node(leader).quorum(), 3u);
}

TEST(Membership, ARemovedLeaderStepsDownOnceTheRemovalCommits) {
  Config cfg = small_config(0, 5);
  LocalCluster c(5, cfg);
  const NodeId leader = settled_leader(c);
  const Term term = c.node(leader).term();
  const Result r = change(c, leader, ConfChangeType::Remove, leader);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(c.node(leader).role(), Role::Leader) << "it leads until the removal commits";
  EXPECT_FALSE(c.node(leader).is_member(leader));
  EXPECT_TRUE(c.node(leader).propose(EntryType::Command, "still served").ok());
  // It hands over at once (TimeoutNow): a new leader well within one
  // election timeout, instead of the followers waiting one out.
  const TimeMs start_ms = c.now_ms();
  ASSERT_TRUE(c.advance_until([&] { return c.leader() != kNoNode && c.leader() != leader; },
                              cfg.election_timeout_min_ms));
  EXPECT_LT(c.now_ms() - start_ms, cfg.election_timeout_min_ms);
  EXPECT_EQ(c.node(leader).role(), Role::Standby);
  EXPECT_GE(c.node(leader).commit_index(), r.index);
  const NodeId next = c.leader();
  EXPECT_GT(c.node(next).term(), term);
  EXPECT_EQ(c.node(next).conf_state().voters.size(), 4u);
  c.advance(2000);
  EXPECT_EQ(c.node(leader).role(), Role::Standby) << "a removed node never campaigns";
}

TEST(Membership, ARemovingLeaderDoesNotCountItself) {
  LocalCluster c(3, small_config(0, 3));
  const NodeId leader = settled_leader(c);
  const NodeId a = (leader + 1) % 3;
  const NodeId b = (leader + 2) % 3;
  const Result r = change(c, leader, ConfChangeType::Remove, leader);
  ASSERT_TRUE(r.ok()) << r.error;
  c.down[b] = true;
  c.advance(100);
  // The new voters are {a, b}: leader and a hold the entry, but the leader
  // no longer counts, so it needs both a and b.
  EXPECT_LT(c.node(leader).commit_index(), r.index);
  EXPECT_EQ(c.node(leader).role(), Role::Leader);
  c.down[b] = false;
  ASSERT_TRUE(c.advance_until([&] { return c.node(leader).role() == Role::Standby; }, 2000));
  EXPECT_TRUE(c.node(a).is_voter(b));
}

TEST(Membership, RefusesAChangeThatLeavesNoQuorum) {
  LocalCluster single(2, small_config(0, 2), 1);
  const NodeId only = settled_leader(single);
  ASSERT_EQ(only, 0);
  const Result last = change(single, only, ConfChangeType::Remove, only);
  EXPECT_EQ(last.status, Status::Refused);
  EXPECT_EQ(last.error, "removing node 0 would leave no voter");

  Config cfg = small_config(0, 3);
  LocalCluster c(3, cfg);
  const NodeId leader = settled_leader(c);
  const NodeId up = (leader + 1) % 3;
  const NodeId down = (leader + 2) % 3;
  c.down[down] = true;
  c.advance(cfg.election_timeout_min_ms + 50);
  const Result r = change(c, leader, ConfChangeType::Remove, up);
  EXPECT_EQ(r.status, Status::Refused);
  EXPECT_NE(r.error.find("no quorum"), std::string::npos) << r.error;
  // Removing the node that is down leaves a reachable majority.
  EXPECT_TRUE(change(c, leader, ConfChangeType::Remove, down).ok());
}

TEST(Membership, RefusesUnknownAndIneligibleNodes) {
  LocalCluster c(5, small_config(0, 5), 3);
  const NodeId leader = settled_leader(c);
  const NodeId follower = (leader + 1) % 3;
  EXPECT_EQ(change(c, leader, ConfChangeType::AddLearner, 7).status, Status::InvalidArgument);
  EXPECT_EQ(change(c, leader, ConfChangeType::AddLearner, -1).status, Status::InvalidArgument);
  EXPECT_EQ(change(c, follower, ConfChangeType::AddLearner, 3).status, Status::NotLeader);
  const Result voter = change(c, leader, ConfChangeType::AddLearner, follower);
  EXPECT_EQ(voter.error, "node " + std::to_string(follower) + " is already a voter");
  EXPECT_EQ(change(c, leader, ConfChangeType::Promote, 3).error,
            "node 3 is not a learner (add it first)");
  EXPECT_EQ(change(c, leader, ConfChangeType::Remove, 4).error,
            "node 4 is not a member of the configuration");
  EXPECT_EQ(c.node(leader).propose(EntryType::Config, "x").status, Status::InvalidArgument);
}

TEST(Membership, ConfigurationRecoveredFromDisk) {
  LocalCluster c(4, small_config(0, 4), 3);
  const NodeId leader = settled_leader(c);
  add_learner(c, leader, 3);
  const NodeId f = (leader + 1) % 3;
  ASSERT_TRUE(c.advance_until([&] { return c.node(f).committed_conf_state().index > 0; }, 1000));
  const ConfState before = c.node(f).conf_state();
  c.restart(f);
  EXPECT_EQ(c.node(f).conf_state(), before);
  EXPECT_TRUE(c.node(f).is_learner(3));
  // The hard state carries the committed configuration.
  c.advance(200);
  EXPECT_EQ(c.store(f).load().hard_state.conf, before);
  // A restarted learner is a learner again, not a standby node.
  c.restart(3);
  EXPECT_EQ(c.node(3).role(), Role::Follower);
  EXPECT_TRUE(c.node(3).is_learner(3));
}

TEST(Membership, StoredInitialVotersOutliveChangedFlags) {
  LocalCluster c(3, small_config(0, 3));
  ASSERT_NE(settled_leader(c), kNoNode);
  c.advance(200);
  RecoveredState stored = c.store(1).load();
  ASSERT_EQ(stored.hard_state.conf.voters, (std::vector<NodeId>{0, 1, 2}));
  Config other = small_config(1, 2);  // restarted with "--voters 2"
  other.node_count = 3;
  Node n(other, stored, c.now_ms());
  EXPECT_EQ(n.conf_state().voters, (std::vector<NodeId>{0, 1, 2}));
}

TEST(Membership, ConfigurationRecoveredFromASnapshot) {
  LocalCluster c(5, small_config(0, 5), 3);
  const NodeId leader = settled_leader(c);
  add_learner(c, leader, 3);
  for (int i = 0; i < 10; ++i) c.node(leader).propose(EntryType::Command, "v");
  c.advance(100);
  // Compaction folds the Config entry away: the snapshot must carry it.
  const Index applied = c.node(leader).applied_index();
  Snapshot snap;
  ASSERT_TRUE(
      c.node(leader).compact(applied, std::make_shared<const std::string>("s"), &snap).ok());
  EXPECT_EQ(snap.meta.conf, c.node(leader).conf_state());
  c.store(leader).install_snapshot(snap);
  c.store(leader).sync();
  // A learner added after it receives the snapshot, configuration included.
  add_learner(c, leader, 4);
  ASSERT_TRUE(
      c.advance_until([&] { return c.node(4).log().snapshot().last_index == applied; }, 2000));
  EXPECT_EQ(c.node(4).log().snapshot().conf.learners, (std::vector<NodeId>{3}));
  ASSERT_TRUE(
      c.advance_until([&] { return c.node(4).conf_state() == c.node(leader).conf_state(); }, 2000));
  EXPECT_EQ(c.node(4).role(), Role::Follower);
  // And a restart from that store recovers it with no Config entry left in the log.
  c.restart(leader);
  EXPECT_EQ(c.node(leader).log().snapshot().conf.learners, (std::vector<NodeId>{3}));
  EXPECT_EQ(c.node(leader).conf_state().learners, (std::vector<NodeId>{3, 4}));
}

TEST(Membership, ConfEntryPayloadRoundTripsAndRejectsMalformed) {
  ConfState conf;
  conf.voters = {0, 1, 2};
  conf.learners = {3, 4};
  conf.promoting = {4};
  conf.index = 9;
  const std::string text = encode_conf_entry({ConfChangeType::AddNode, 4}, conf);
  EXPECT_EQ(text, "add_node 4 voters=0,1,2 learners=3,4 promoting=4");
  const std::optional<ConfEntry> back = decode_conf_entry(text, 9);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->conf, conf);
  EXPECT_EQ(back->change, (ConfChange{ConfChangeType::AddNode, 4}));
  for (const char* bad :
       {"", "add_node 4", "add_node 4 voters= learners= promoting=",
        "grow 4 voters=0 learners= promoting=", "add_node 4 voters=1,0 learners= promoting=",
        "add_node 4 voters=0 learners=0 promoting=", "add_node 4 voters=0 learners= promoting=4",
        "add_node 4 voters=0,,1 learners= promoting=", "add_node 4 voters=0, learners= promoting=",
        "add_node 04 voters=0 learners= promoting=", "add_node 4  voters=0 learners= promoting=",
        "add_node 4 voters=-1 learners= promoting="}) {
    EXPECT_FALSE(decode_conf_entry(bad, 1).has_value()) << bad;
  }
}

TEST(Membership, AMalformedConfigEntryFromALeaderIsDropped) {
  Node n = lone_follower(1);
  n.step(test::append(0, 1, 1, 0, 0, {{1, 1, EntryType::Config, "voters=all"}}, 0));
  EXPECT_EQ(n.log().last_index(), 0u);
}

}  // namespace
}  // namespace raft
