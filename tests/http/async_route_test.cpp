// Routes answered without a worker (Route::async_handler, reply.hpp): the
// answer comes from another thread, byte for byte as a worker's would; the
// deadline answers when the work does not, and a late answer is dropped;
// HEAD, keep-alive and Connection: close; the auth guard and a throwing
// handler; an answer the socket cannot take at once is finished by a
// worker, not the answering thread; stop() answers what is still waiting.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http/server.hpp"
#include "raw_client.hpp"

namespace raft::http {
namespace {

using namespace std::chrono_literals;
using testing::RawClient;

constexpr const char* kToken = "0123456789abcdef0123";

/// Another thread that answers the replies it is handed, as a node's loop
/// does, with the request's body echoed (or `big` bytes when asked).
class Answerer {
 public:
  Answerer() : thread_([this] { run(); }) {}
  ~Answerer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void hand(Reply reply, std::string body) {
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back(std::move(reply), std::move(body));
    }
    cv_.notify_all();
  }
  std::thread::id id() const { return thread_.get_id(); }
  std::size_t answered() const { return answered_.load(); }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto [reply, body] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      reply.answer([&body](httplib::Response& res) {
        res.set_content(body.rfind("big:", 0) == 0 ? std::string(std::stoul(body.substr(4)), 'b')
                                                   : "echo " + body,
                        "text/plain");
      });
      ++answered_;
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<Reply, std::string>> queue_;
  bool stopping_ = false;
  std::atomic<std::size_t> answered_{0};
  std::thread thread_;
};

class AsyncRouteTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    options.body_bytes_max = 1024;
    server_ = std::make_unique<Server>(std::move(options));
    const Handler late = [](const httplib::Request&, httplib::Response& res) {
      res.status = 504;
      res.set_content("too late", "text/plain");
    };
    server_->route_async(
        "PUT", "/kv/*",
        [this](const httplib::Request& req, Reply reply) {
          gate_thread_ = std::this_thread::get_id();
          answerer_.hand(std::move(reply), req.body);
        },
        true, 5s, late);
    server_->route_async(
        "GET", "/kv/*",
        [this](const httplib::Request& req, Reply reply) {
          answerer_.hand(std::move(reply), req.path);
        },
        false, 5s, late);
    server_->route_async(
        "PUT", "/never",
        [this](const httplib::Request&, Reply reply) {
          kept_ = reply;
          kept_set_ = true;
        },
        false, 300ms, late);
    server_->route_async(
        "PUT", "/held",
        [this](const httplib::Request&, Reply reply) {
          kept_ = reply;
          kept_set_ = true;
        },
        false, 60s, late);
    server_->route_async(
        "PUT", "/throws",
        [](const httplib::Request&, Reply) { throw std::runtime_error("bad\nthing"); }, false, 5s,
        late);
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_bearer_token_auth(kToken);
    client_->set_keep_alive(true);
  }

  std::string host() const { return "Host: 127.0.0.1:" + std::to_string(server_->port()) + "\r\n"; }

  Answerer answerer_;  // outlives the server: it may hold replies
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::optional<Reply> kept_;          ///< set on the gate's thread, then...
  std::atomic<bool> kept_set_{false};  ///< ...this
  std::atomic<std::thread::id> gate_thread_{};
};

TEST_F(AsyncRouteTest, TheAnswerComesFromTheAnsweringThreadAsAWorkersWould) {
  start();
  auto r = client_->Put("/kv/a", "hello", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "echo hello");
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(r->get_header_value("Keep-Alive"), "timeout=5, max=100");
  EXPECT_NE(gate_thread_, answerer_.id());
  EXPECT_NE(gate_thread_, std::thread::id());
}

TEST_F(AsyncRouteTest, KeepAliveCarriesPipelinedRequestsAndCloseEndsTheConnection) {
  start();
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.send("GET /kv/one HTTP/1.1\r\n" + host() + "\r\n" + "GET /kv/two HTTP/1.1\r\n" +
                       host() + "Connection: close\r\n\r\n"));
  EXPECT_TRUE(raw.closed_within(3s));
  const std::string got = raw.read_until([](const std::string&) { return true; }, 0ms);
  EXPECT_NE(got.find("echo /kv/one"), std::string::npos) << got;
  EXPECT_NE(got.find("echo /kv/two"), std::string::npos) << got;
  EXPECT_LT(got.find("echo /kv/one"), got.find("echo /kv/two"));
  EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
}

TEST_F(AsyncRouteTest, HeadGetsTheFieldsWithoutTheBody) {
  start();
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.send("HEAD /kv/x HTTP/1.1\r\n" + host() + "Connection: close\r\n\r\n"));
  EXPECT_TRUE(raw.closed_within(3s));
  const std::string got = raw.read_until([](const std::string&) { return true; }, 0ms);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("Content-Length: 10\r\n"), std::string::npos) << got;  // "echo /kv/x"
  EXPECT_EQ(got.find("echo"), std::string::npos) << got;
}

TEST_F(AsyncRouteTest, WithoutAnAnswerTheDeadlineAnswersAndALateAnswerIsDropped) {
  start();
  const auto began = std::chrono::steady_clock::now();
  auto r = client_->Put("/never", "x", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_EQ(r->body, "too late");
  EXPECT_GE(std::chrono::steady_clock::now() - began, 300ms);
  ASSERT_TRUE(kept_);
  EXPECT_TRUE(kept_->answered());
  bool ran = false;
  EXPECT_FALSE(kept_->answer([&ran](httplib::Response&) { ran = true; }));
  EXPECT_FALSE(ran);
  EXPECT_EQ(client_->Put("/kv/b", "again", "text/plain")->body, "echo again");
}

TEST_F(AsyncRouteTest, TheAuthGuardAnswersBeforeTheHandler) {
  ServerOptions options;
  options.auth_token = kToken;
  start(options);
  httplib::Client anonymous("127.0.0.1", server_->port());
  auto r = anonymous.Put("/kv/a", "v", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(gate_thread_, std::thread::id());    // the handler never ran
  r = anonymous.Put("/kv/a", "", "text/plain");  // no body: past the verdict, not the guard
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(gate_thread_, std::thread::id());
  EXPECT_EQ(client_->Put("/kv/a", "v", "text/plain")->status, 200);
}

TEST_F(AsyncRouteTest, AThrowingHandlerIsA500WithOneLine) {
  start();
  auto r = client_->Put("/throws", "x", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"], "internal error: bad");
}

TEST_F(AsyncRouteTest, AnAnswerTheSocketCannotTakeIsFinishedOffTheAnsweringThread) {
  start();
  constexpr std::size_t kBig = 8 * 1024 * 1024;  // far above a socket's buffers
  RawClient raw(server_->port());
  const std::string body = "big:" + std::to_string(kBig);
  ASSERT_TRUE(raw.send("PUT /kv/big HTTP/1.1\r\n" + host() + "Authorization: Bearer " +
                       std::string(kToken) + "\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\n\r\n" + body));
  // The answer fills the socket; the answering thread must be free again
  // while the client has not read it yet.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (answerer_.answered() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(answerer_.answered(), 1u);
  auto r = client_->Put("/kv/small", "quick", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "echo quick");
  const std::string got =
      raw.read_until([](const std::string& b) { return b.size() >= kBig; }, 10s);
  EXPECT_NE(got.find("Content-Length: " + std::to_string(kBig)), std::string::npos);
  EXPECT_GE(got.size(), kBig);
}

TEST_F(AsyncRouteTest, StopAnswersTheRequestsStillWaiting) {
  start();
  std::thread waiting([this] {
    httplib::Client c("127.0.0.1", server_->port());
    auto r = c.Put("/held", "x", "text/plain");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 504);
  });
  while (!kept_set_) std::this_thread::sleep_for(1ms);
  // The deadline is a minute away: well within it, stop() has answered.
  const auto began = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 30s);
  waiting.join();
  // An answer after the server is gone (a loop finishing late) is dropped
  // without touching it.
  server_.reset();
  bool ran = false;
  EXPECT_FALSE(kept_->answer([&ran](httplib::Response&) { ran = true; }));
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace raft::http
