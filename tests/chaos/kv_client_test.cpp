// The chaos client against a scripted node: what each answer makes of an
// operation. Answers a real node never gives (a 500, a 200 read without a
// value) must not be taken for definite ones.
#include "kv_client.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace raft::chaos {
namespace {

/// One node on 127.0.0.1 answering every /kv request with a scripted status
/// and body; it records the last request target.
class ScriptedNode {
 public:
  ScriptedNode() {
    const auto answer = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      last_target_ = req.target;
      ++requests_;
      res.status = status_;
      res.set_content(body_, "application/json");
    };
    server_.Get("/kv/.*", answer);
    server_.Put("/kv/.*", answer);
    server_.Post("/kv/.*", answer);
    server_.Delete("/kv/.*", answer);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~ScriptedNode() {
    server_.stop();
    thread_.join();
  }
  void answer(int status, std::string body) {
    std::lock_guard lock(mutex_);
    status_ = status;
    body_ = std::move(body);
  }
  std::string last_target() {
    std::lock_guard lock(mutex_);
    return last_target_;
  }
  int requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  int status_ = 200;
  std::string body_ = "{}";
  std::string last_target_;
  int requests_ = 0;
};

class KvClientAnswers : public ::testing::Test {
 protected:
  KvClientAnswers() {
    ClientOptions o;
    o.client_id = "test";
    o.base_port = node_.port();
    o.nodes = 1;
    o.epoch = Clock::now();
    o.write_deadline = std::chrono::milliseconds(3000);
    o.read_deadline = std::chrono::milliseconds(3000);
    client_ = std::make_unique<KvClient>(o, history_);
  }
  ScriptedNode node_;
  HistoryRecorder history_;
  std::unique_ptr<KvClient> client_;
};

TEST_F(KvClientAnswers, AnUnexpectedAnswerToAWriteLeavesItUnknown) {
  node_.answer(500, R"({"ok":false,"error":"boom"})");
  const Operation w = client_->write("k", "v");
  EXPECT_EQ(w.outcome, Outcome::Unknown) << "the write may have been applied before the 500";
  EXPECT_EQ(w.note.rfind("unexpected answer: HTTP 500 from node 0: boom", 0), 0u) << w.note;
  const Operation d = client_->remove("k");
  EXPECT_EQ(d.outcome, Outcome::Unknown);
  node_.answer(404, R"({"ok":false,"error":"no route"})");
  EXPECT_EQ(client_->cas("k", "a", "b").outcome, Outcome::Unknown);
  EXPECT_EQ(node_.requests(), 3) << "answered once each, not retried";
}

TEST_F(KvClientAnswers, AReadWithoutAValueIsAnError) {
  node_.answer(200, R"({"ok":true,"key":"k"})");
  const Operation r = client_->read("k");
  EXPECT_EQ(r.outcome, Outcome::Fail);
  EXPECT_FALSE(r.read_value.has_value());
  EXPECT_EQ(r.note.rfind("malformed answer: 200 without a value", 0), 0u) << r.note;
  node_.answer(500, "{}");
  EXPECT_EQ(client_->read("k").outcome, Outcome::Fail) << "a read that saw nothing";
  node_.answer(404, R"({"ok":false,"error":"something else"})");
  EXPECT_EQ(client_->read("k").outcome, Outcome::Fail);
}

TEST_F(KvClientAnswers, DefiniteAnswersAreRecorded) {
  node_.answer(200, R"({"ok":true,"key":"k","value":"x","index":7})");
  const Operation r = client_->read("k");
  ASSERT_EQ(r.outcome, Outcome::Ok);
  EXPECT_EQ(r.read_value, "x");
  EXPECT_EQ(r.applied_index, 7u);
  node_.answer(404, R"({"ok":false,"error":"key not found","key":"k"})");
  const Operation absent = client_->read("k");
  EXPECT_EQ(absent.outcome, Outcome::Ok);
  EXPECT_FALSE(absent.read_value.has_value());
  node_.answer(200, R"({"ok":true,"index":12,"term":2,"found":true,"duplicate":false})");
  const Operation w = client_->write("k", "v");
  EXPECT_EQ(w.outcome, Outcome::Ok);
  EXPECT_EQ(w.log_index, 12u);
  const Operation d = client_->remove("k");
  EXPECT_EQ(d.delete_found, true);
  node_.answer(200, R"({"ok":true,"index":99,"term":2,"found":true,"duplicate":true})");
  EXPECT_EQ(client_->write("k", "v2").log_index, 0u) << "a duplicate's index is the retry's";
  node_.answer(409, R"({"ok":false,"error":"the current value does not match the expected one"})");
  const Operation c = client_->cas("k", "a", "b");
  EXPECT_EQ(c.outcome, Outcome::Ok);
  EXPECT_FALSE(c.cas_swapped);
}

TEST_F(KvClientAnswers, StaleReadsAskForTheNodesOwnCopy) {
  node_.answer(200, R"({"ok":true,"key":"k","value":"s"})");
  const Operation r = client_->stale_read("k");
  EXPECT_EQ(node_.last_target(), "/kv/k?stale=true");
  EXPECT_TRUE(r.stale);
  EXPECT_EQ(r.node, 0);
  EXPECT_EQ(r.read_value, "s");
  client_->read("k");
  EXPECT_EQ(node_.last_target(), "/kv/k");
  const std::vector<Operation> ops = history_.take();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_TRUE(ops[0].stale);
  EXPECT_FALSE(ops[1].stale);
  EXPECT_EQ(history_.size(), 0u);
}

}  // namespace
}  // namespace raft::chaos
