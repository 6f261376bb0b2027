// The one Ready step: the order of its effects and its sync rule.
#include "runtime/ready_step.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/memory_store.hpp"
#include "test_util.hpp"

namespace raft {
namespace {

using runtime::ReadyHost;
using runtime::ReadyOutcome;
using runtime::ReadyStep;

/// A MemoryStore that notes each call in a shared journal, and can fail.
class JournalStore final : public Storage {
 public:
  explicit JournalStore(std::vector<std::string>& journal) : journal_(journal) {}
  RecoveredState load() override { return inner.load(); }
  void save_hard_state(const HardState& s) override {
    journal_.push_back("hard_state");
    inner.save_hard_state(s);
  }
  void append(std::vector<Entry> entries) override {
    if (fail_appends) throw StorageError("disk full");
    journal_.push_back("append");
    inner.append(std::move(entries));
  }
  void install_snapshot(const Snapshot& s) override {
    journal_.push_back("snapshot");
    inner.install_snapshot(s);
  }
  void sync() override {
    journal_.push_back("sync");
    inner.sync();
  }
  storage::MemoryStore inner;
  bool fail_appends = false;

 private:
  std::vector<std::string>& journal_;
};

class JournalHost final : public ReadyHost {
 public:
  Storage& store() override { return store_; }
  bool before_sync(bool messages_sent) override {
    crashed_after_send = crash_before_sync && messages_sent;
    return !crash_before_sync;
  }
  void on_storage_failure(const std::string& what) override { failures.push_back(what); }
  void sent_before_sync() override { journal.push_back("wake peers"); }
  bool send(Message m) override {
    journal.push_back("send to " + std::to_string(m.to));
    sent.push_back(std::move(m));
    return true;
  }
  bool restore(const Snapshot&) override { return true; }
  void apply(Entry e) override { journal.push_back("apply " + std::to_string(e.index)); }
  void on_read_state(const ReadState&) override { journal.push_back("read state"); }
  void serve_reads() override { journal.push_back("serve reads"); }
  void on_event(const Event&) override {}

  std::vector<std::string> journal;
  std::vector<Message> sent;
  std::vector<std::string> failures;
  bool crash_before_sync = false;
  bool crashed_after_send = false;
  JournalStore store_{journal};
};

std::size_t position(const std::vector<std::string>& journal, const std::string& what) {
  for (std::size_t i = 0; i < journal.size(); ++i) {
    if (journal[i].rfind(what, 0) == 0) return i;
  }
  ADD_FAILURE() << "'" << what << "' never happened";
  return journal.size();
}

Entry entry(Index index, Term term) {
  Entry e;
  e.index = index;
  e.term = term;
  e.type = EntryType::Command;
  e.data = "x" + std::to_string(index);
  return e;
}

/// Node 1 of 3 follows node 0 in term 2 and holds entries 1..2, synced.
struct FollowerFixture : ::testing::Test {
  FollowerFixture() : node(test::small_config(1, 3), 0) {
    node.step(test::append(0, 1, 2, 0, 0, {entry(1, 2), entry(2, 2)}, 0));
    step.run_all(node, host);
    host.journal.clear();
    host.sent.clear();
  }
  Node node;
  JournalHost host;
  ReadyStep step;
};

TEST_F(FollowerFixture, PersistsAndSyncsBeforeItSendsAndAppliesAfter) {
  node.step(test::append(0, 1, 2, 2, 2, {entry(3, 2)}, 3));
  const ReadyOutcome out = step.run(node, host);
  EXPECT_TRUE(out.completed);
  EXPECT_TRUE(out.synced);
  EXPECT_EQ(out.sent, 1U);
  const auto& j = host.journal;
  EXPECT_LT(position(j, "append"), position(j, "sync"));
  EXPECT_LT(position(j, "sync"), position(j, "send to 0"));
  EXPECT_LT(position(j, "send to 0"), position(j, "apply 1"));
  EXPECT_LT(position(j, "apply 3"), position(j, "serve reads"));
}

TEST_F(FollowerFixture, ACommitIndexAloneIsWrittenButNotSynced) {
  node.step(test::append(0, 1, 2, 2, 2, {}, 2));
  const ReadyOutcome out = step.run(node, host);
  EXPECT_TRUE(out.completed);
  EXPECT_FALSE(out.synced);
  EXPECT_EQ(position(host.journal, "hard_state"), 0U);
  EXPECT_EQ(std::count(host.journal.begin(), host.journal.end(), "sync"), 0);
  EXPECT_EQ(out.sent, 1U) << "the reply does not wait for the commit index to be durable";
  // A crash loses the unsynced commit index, never term, vote or entries.
  host.store_.inner.crash();
  const RecoveredState r = host.store_.inner.load();
  EXPECT_EQ(r.hard_state.term, 2U);
  EXPECT_EQ(r.entries.size(), 2U);
  EXPECT_EQ(r.hard_state.commit, 0U);
}

TEST_F(FollowerFixture, ANewTermOrVoteIsSyncedBeforeTheVoteLeaves) {
  // force: a transfer's vote, which the leader lease does not hold back.
  node.step(test::vote_request(2, 1, 3, 2, 2, /*pre=*/false, /*force=*/true));
  const ReadyOutcome out = step.run(node, host);
  EXPECT_TRUE(out.synced);
  EXPECT_LT(position(host.journal, "sync"), position(host.journal, "send to 2"));
  EXPECT_EQ(step.durable().term, 3U);
  EXPECT_EQ(step.durable().voted_for, 2);
}

TEST_F(FollowerFixture, TheLinkFilterDropsWhatGoesToACutRank) {
  step.links().drop_to.insert(0);
  node.step(test::append(0, 1, 2, 2, 2, {entry(3, 2)}, 0));
  const ReadyOutcome out = step.run(node, host);
  EXPECT_EQ(out.sent, 0U);
  EXPECT_EQ(out.dropped, 1U);
  EXPECT_TRUE(host.sent.empty());
  EXPECT_FALSE(step.links().allows_to(0));
  EXPECT_TRUE(step.links().accepts_from(0)) << "a drop_to cuts one direction only";
  step.links().heal();
  EXPECT_TRUE(step.links().empty());
}

TEST_F(FollowerFixture, AHostThatCrashesBeforeTheSyncSendsAndAppliesNothing) {
  host.crash_before_sync = true;
  node.step(test::append(0, 1, 2, 2, 2, {entry(3, 2)}, 3));
  const ReadyOutcome out = step.run(node, host);
  EXPECT_FALSE(out.completed);
  EXPECT_TRUE(host.sent.empty());
  EXPECT_EQ(std::count(host.journal.begin(), host.journal.end(), "sync"), 0);
  EXPECT_EQ(std::count(host.journal.begin(), host.journal.end(), "apply 3"), 0);
}

TEST_F(FollowerFixture, AStorageFailureEndsTheStepBeforeAnythingLeaves) {
  host.store_.fail_appends = true;
  node.step(test::append(0, 1, 2, 2, 2, {entry(3, 2)}, 3));
  const ReadyOutcome out = step.run(node, host);
  EXPECT_FALSE(out.completed);
  ASSERT_EQ(host.failures.size(), 1U);
  EXPECT_EQ(host.failures[0], "disk full");
  EXPECT_TRUE(host.sent.empty());
}

/// Node 0 of 3 leads in term 1 (PreVote and CheckQuorum off); both followers
/// hold the no-op at index 1, which is committed; everything is synced.
struct LeaderFixture : ::testing::Test {
  LeaderFixture() {
    Config c = test::small_config(0, 3);
    c.pre_vote = false;
    c.check_quorum = false;
    node = std::make_unique<Node>(c, 0);
    node->tick(node->election_timeout_ms());
    step.run_all(*node, host);
    Message grant = test::make(MessageType::VoteResponse, 1, 0, 1);
    grant.granted = true;
    node->step(grant);
    step.run_all(*node, host);
    node->step(ack(1, 1));
    node->step(ack(2, 1));
    step.run_all(*node, host);
    EXPECT_EQ(node->commit_index(), 1U);
    host.journal.clear();
    host.sent.clear();
  }
  static Message ack(NodeId from, Index match) {
    Message m = test::make(MessageType::AppendResponse, from, 0, 1);
    m.success = true;
    m.match_index = match;
    return m;
  }
  std::unique_ptr<Node> node;
  JournalHost host;
  ReadyStep step;
};

TEST_F(LeaderFixture, SendsItsEntriesWhileItsOwnDiskWritesThem) {
  ASSERT_TRUE(node->propose(EntryType::Command, "a").ok());
  const ReadyOutcome out = step.run(*node, host);
  EXPECT_TRUE(out.completed);
  EXPECT_TRUE(out.synced);
  const auto& j = host.journal;
  EXPECT_LT(position(j, "send to 1"), position(j, "append")) << "Raft thesis 10.2.1";
  EXPECT_LT(position(j, "send to 2"), position(j, "sync"));
}

TEST_F(LeaderFixture, WakesItsPeersBeforeItsOwnSyncSoTheirWritesOverlapIt) {
  ASSERT_TRUE(node->propose(EntryType::Command, "a").ok());
  step.run(*node, host);
  const auto& j = host.journal;
  EXPECT_LT(position(j, "send to 2"), position(j, "wake peers"));
  EXPECT_LT(position(j, "wake peers"), position(j, "sync")) << "not after the sync";
}

TEST_F(FollowerFixture, AFollowerWakesNoPeerEarly) {
  node.step(test::append(0, 1, 2, 2, 2, {entry(3, 2)}, 3));
  step.run(node, host);
  for (const std::string& line : host.journal) EXPECT_NE(line, "wake peers");
}

TEST_F(LeaderFixture, CountsItselfTowardTheQuorumOnlyOnceSynced) {
  host.crash_before_sync = true;  // sent, written, never synced
  ASSERT_TRUE(node->propose(EntryType::Command, "a").ok());
  const ReadyOutcome out = step.run(*node, host);
  EXPECT_FALSE(out.completed);
  EXPECT_EQ(host.sent.size(), 2U) << "the appends left before the crash point";
  EXPECT_TRUE(host.crashed_after_send) << "and the host is told so";
  node->step(ack(1, 2));  // one follower holds index 2: with an unsynced leader, 1 of 3
  EXPECT_EQ(node->commit_index(), 1U) << "the leader's unsynced copy must not count";
  node->step(ack(2, 2));
  EXPECT_EQ(node->commit_index(), 2U) << "two followers are a quorum without it";
}

TEST_F(LeaderFixture, ASyncedLeaderCommitsWithOneFollower) {
  ASSERT_TRUE(node->propose(EntryType::Command, "a").ok());
  step.run(*node, host);
  node->step(ack(1, 2));
  EXPECT_EQ(node->commit_index(), 2U);
}

TEST_F(LeaderFixture, ANewTermIsSyncedBeforeAnythingLeaves) {
  // Deposed by a higher term, it votes: term and vote are durable first.
  node->step(test::vote_request(2, 0, 5, 1, 1));
  const ReadyOutcome out = step.run(*node, host);
  EXPECT_TRUE(out.synced);
  EXPECT_LT(position(host.journal, "sync"), position(host.journal, "send to 2"));
}

}  // namespace
}  // namespace raft
