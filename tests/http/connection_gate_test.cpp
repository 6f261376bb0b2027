// The connection gate in front of every server (http::Server over
// ConnectionGate), on real sockets: slow and idle clients cost no worker
// and cannot keep a fresh one out; bodies arrive decoded and as bytes;
// refusals come before the body; Host and Origin are checked.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "http/server.hpp"
#include "raw_client.hpp"

namespace raft::http {
namespace {

using namespace std::chrono_literals;
using testing::body_of;
using testing::RawClient;
using testing::status_of;

constexpr const char* kToken = "0123456789abcdef0123";
constexpr std::string_view kAsset = "0123456789abcdefghij";

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// Bodies up to 1 KiB.
ServerOptions small() {
  ServerOptions options;
  options.body_bytes_max = 1024;
  return options;
}

/// A server whose handlers echo what reached them.
class GateTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = small()) {
    server_ = std::make_unique<Server>(std::move(options));
    server_->route("GET", "/thing", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("thing", "text/plain");
    });
    const auto echo = [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("body=" + req.body + " params=" + std::to_string(req.params.size()) +
                          " files=" + std::to_string(req.files.size()),
                      "text/plain");
    };
    server_->route("PUT", "/kv/*", echo, true);
    server_->route("POST", "/echo", echo);
    server_->asset("/asset.js", kAsset, "text/javascript");
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
    port_ = server_->port();
  }

  std::string head(std::string_view request_line, std::string_view more = "") const {
    return std::string(request_line) + "\r\nHost: 127.0.0.1:" + std::to_string(port_) + "\r\n" +
           std::string(more) + "\r\n";
  }

  /// How long a fresh client waits for GET /thing.
  std::chrono::milliseconds fresh_client_wait() const {
    const auto start = std::chrono::steady_clock::now();
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10, 0);
    const auto r = client.Get("/thing");
    EXPECT_TRUE(r && r->status == 200);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  }

  std::unique_ptr<Server> server_;
  int port_ = 0;
};

TEST_F(GateTest, IdleAndSlowClientsHoldNoWorker) {
  ServerOptions options = small();
  options.threads_max = 2;
  options.gate.head_timeout = 10s;
  start(options);
  std::vector<std::unique_ptr<RawClient>> crowd;
  for (int i = 0; i < 20; ++i) {
    crowd.push_back(std::make_unique<RawClient>(port_));
    if (i % 2 == 0) crowd.back()->send("GET /thing HTTP/1.1\r\nHo");  // a head, never ended
  }
  // With httplib's own reader two of these held both workers until their
  // read timeout (5 s); the gate reads them without a worker.
  EXPECT_LT(fresh_client_wait(), 1s);
  // The crowd is still there (the fresh client's connection goes once the
  // server reads its close).
  EXPECT_TRUE(eventually([&] { return server_->connections() == 20u; }));
}

TEST_F(GateTest, AHeadThatDoesNotComeInTimeIs408) {
  ServerOptions options = small();
  options.gate.head_timeout = 300ms;
  start(options);
  RawClient slow(port_);
  ASSERT_TRUE(slow.send("GET /thing HTTP/1.1\r\nHost: 127"));
  const std::string answer = slow.answer(5s);
  EXPECT_EQ(status_of(answer), 408);
  EXPECT_NE(body_of(answer).find("the request head did not come within 300 ms"), std::string::npos);
  EXPECT_TRUE(slow.closed_within(5s));
}

TEST_F(GateTest, OverThePeerCapTheOldestConnectionGoes) {
  ServerOptions options = small();
  options.gate.connections_per_peer_max = 4;
  start(options);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<RawClient>(port_));
  ASSERT_TRUE(eventually([&] { return server_->connections() == 4; }));
  RawClient fresh(port_);
  ASSERT_TRUE(fresh.send(head("GET /thing HTTP/1.1")));
  EXPECT_EQ(status_of(fresh.answer()), 200);
  EXPECT_TRUE(idle.front()->closed_within(5s));
  EXPECT_FALSE(idle.back()->closed_within(100ms));
}

TEST_F(GateTest, KeepAliveAndPipeliningWorkAcrossTheGate) {
  ServerOptions options = small();
  options.gate.requests_per_connection_max = 3;
  start(options);
  RawClient c(port_);
  ASSERT_TRUE(c.send(head("GET /thing HTTP/1.1") +
                     head("POST /echo HTTP/1.1", "Content-Length: 2\r\n") + "hi"));
  EXPECT_EQ(body_of(c.answer()), "thing");
  EXPECT_EQ(body_of(c.answer()), "body=hi params=0 files=0");
  ASSERT_TRUE(c.send(head("GET /thing HTTP/1.1")));
  const std::string third = c.answer();
  EXPECT_EQ(status_of(third), 200);
  EXPECT_NE(third.find("Connection: close"), std::string::npos);  // its last request
  EXPECT_TRUE(c.closed_within(5s));
}

TEST_F(GateTest, ChunkedBodiesArriveDecodedAndAreCutAtTheLimit) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.send(head("PUT /kv/a HTTP/1.1", "Transfer-Encoding: chunked\r\n") +
                     "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"));
  EXPECT_EQ(body_of(c.answer()), "body=abcde params=0 files=0");

  RawClient big(port_);
  ASSERT_TRUE(big.send(head("PUT /kv/a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "200\r\n" +
                       std::string(512, 'x') + "\r\n400\r\n"));
  const std::string answer = big.answer();
  EXPECT_EQ(status_of(answer), 413);
  EXPECT_NE(answer.find("the chunked request body is larger than 1024 bytes"), std::string::npos);
  EXPECT_TRUE(big.closed_within(5s));
}

TEST_F(GateTest, RefusalsComeBeforeTheBody) {
  ServerOptions options = small();
  options.auth_token = kToken;
  start(options);
  const auto refused_without_body = [&](const std::string& request) {
    RawClient c(port_);
    c.send(request);  // the body announced is never sent
    return status_of(c.answer(2s));
  };
  EXPECT_EQ(refused_without_body(head("PUT /kv/a HTTP/1.1", "Content-Length: 1000\r\n")), 401);
  EXPECT_EQ(refused_without_body(head("PUT /nowhere HTTP/1.1", "Content-Length: 1000\r\n")), 404);
  EXPECT_EQ(refused_without_body(head("DELETE /thing HTTP/1.1", "Content-Length: 10\r\n")), 405);
  EXPECT_EQ(refused_without_body(head("PUT /kv/a HTTP/1.1", "Content-Length: 5000\r\n")), 413);
  EXPECT_EQ(refused_without_body(head("PUT /kv/a HTTP/1.1",
                                      "Content-Encoding: gzip\r\n"
                                      "Content-Length: 100\r\n")),
            415);

  // Expect: 100-continue is answered 100 only when the body is wanted.
  RawClient c(port_);
  ASSERT_TRUE(c.send(head("PUT /kv/a HTTP/1.1", std::string("Authorization: Bearer ") + kToken +
                                                    "\r\nExpect: 100-continue\r\n"
                                                    "Content-Length: 3\r\n")));
  EXPECT_EQ(status_of(c.answer()), 100);
  ASSERT_TRUE(c.send("xyz"));
  EXPECT_EQ(body_of(c.answer()), "body=xyz params=0 files=0");
}

TEST_F(GateTest, BodiesAreBytesWhateverTheirType) {
  start();
  RawClient c(port_);
  const std::string form = "client_id=zz&seq=7";
  ASSERT_TRUE(c.send(head("POST /echo?q=1 HTTP/1.1",
                          "Content-Type: application/x-www-form-urlencoded\r\n"
                          "Content-Length: " +
                              std::to_string(form.size()) + "\r\n") +
                     form));
  EXPECT_EQ(body_of(c.answer()), "body=client_id=zz&seq=7 params=1 files=0");  // q only
  const std::string multipart =
      "--b\r\nContent-Disposition: form-data; name=\"v\"\r\n\r\nx\r\n--b--\r\n";
  ASSERT_TRUE(c.send(head("POST /echo HTTP/1.1",
                          "Content-Type: multipart/form-data; boundary=b\r\n"
                          "Content-Length: " +
                              std::to_string(multipart.size()) + "\r\n") +
                     multipart));
  EXPECT_EQ(body_of(c.answer()), "body=" + multipart + " params=0 files=0");
  // A POST without Content-Length has no body; it is not read until EOF.
  ASSERT_TRUE(c.send(head("POST /echo HTTP/1.1")));
  EXPECT_EQ(body_of(c.answer(2s)), "body= params=0 files=0");
}

TEST_F(GateTest, AHalfClosedClientGetsItsAnswer) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.send(head("GET /thing HTTP/1.1")));
  c.shut_write();
  EXPECT_EQ(body_of(c.answer()), "thing");
  EXPECT_TRUE(c.closed_within(5s));
}

TEST_F(GateTest, HostAndOriginMustBeThisServers) {
  ServerOptions options = small();
  options.served_hosts = {"node.example"};
  start(options);
  const auto status = [&](const std::string& request) {
    RawClient c(port_);
    c.send(request);
    return status_of(c.answer());
  };
  const std::string port = std::to_string(port_);
  EXPECT_EQ(status("GET /thing HTTP/1.1\r\nHost: evil.example:" + port + "\r\n\r\n"), 421);
  EXPECT_EQ(status("GET /thing HTTP/1.1\r\nHost: node.example:" + port + "\r\n\r\n"), 200);
  EXPECT_EQ(status("GET /thing HTTP/1.1\r\nHost: localhost:" + port + "\r\n\r\n"), 200);
  const std::string post = "POST /echo HTTP/1.1\r\nHost: 127.0.0.1:" + port +
                           "\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n";
  EXPECT_EQ(status(post + "Origin: http://evil.example\r\n\r\nx"), 403);
  EXPECT_EQ(status(post + "Origin: null\r\n\r\nx"), 403);
  EXPECT_EQ(status(post + "Origin: http://127.0.0.1:" + port + "\r\n\r\nx"), 200);
  EXPECT_EQ(status(post + "\r\nx"), 200);  // not a browser
}

TEST_F(GateTest, ManyRangesGetTheWholeAssetOnce) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.send(head("GET /asset.js HTTP/1.1", "Range: bytes=0-,0-,0-,0-\r\n")));
  const std::string all = c.answer();
  EXPECT_EQ(status_of(all), 200);
  EXPECT_EQ(body_of(all), kAsset);
  ASSERT_TRUE(c.send(head("GET /asset.js HTTP/1.1", "Range: bytes=2-4\r\n")));
  const std::string part = c.answer();
  EXPECT_EQ(status_of(part), 206);
  EXPECT_EQ(body_of(part), "234");
}

TEST_F(GateTest, TheByteBudgetSendsTheOldestPartialBodyAway) {
  ServerOptions options;
  options.body_bytes_max = 48 * 1024;
  options.gate.buffered_bytes_max = 64 * 1024;  // one 40,000-byte body and a bit
  start(options);
  const std::string put = head("PUT /kv/a HTTP/1.1", "Content-Length: 40000\r\n");
  RawClient idle(port_);  // the oldest, but it holds no bytes: it stays
  RawClient first(port_);
  ASSERT_TRUE(first.send(put + std::string(20000, 'a')));  // a body half sent, then nothing
  RawClient second(port_);
  ASSERT_TRUE(second.send(put + std::string(40000, 'b')));
  EXPECT_EQ(status_of(second.answer()), 200);
  const std::string evicted = first.answer();
  EXPECT_EQ(status_of(evicted), 503);
  EXPECT_TRUE(first.closed_within(5s));
  EXPECT_FALSE(idle.closed_within(100ms));
}

TEST(Gate, AClientThatReadsNothingFreesItsWorker) {
  ServerOptions options;
  options.threads_max = 1;
  options.io_timeout_s = 1;
  Server server(options);
  const std::string big(16 * 1024 * 1024, 'b');  // more than the socket buffers hold
  server.route("GET", "/big", [&big](const httplib::Request&, httplib::Response& res) {
    res.set_content(big, "text/plain");
  });
  server.route("GET", "/thing", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("thing", "text/plain");
  });
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  const std::string host = "Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n\r\n";
  RawClient reader(server.port());
  ASSERT_TRUE(reader.send("GET /big HTTP/1.1\r\n" + host));  // and never reads
  std::this_thread::sleep_for(200ms);                        // the only worker is writing
  RawClient fresh(server.port());
  ASSERT_TRUE(fresh.send("GET /thing HTTP/1.1\r\n" + host));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(body_of(fresh.answer(10s)), "thing");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // io_timeout_s, not for ever
}

TEST_F(GateTest, StopEndsOpenEventStreams) {
  start();
  server_->stop();  // the fixture's routes are fixed; a server of our own has a stream
  Server server(ServerOptions{});
  server.route("GET", "/events", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [](std::size_t, httplib::DataSink& sink) {
      std::this_thread::sleep_for(10ms);
      return sink.write(": tick\n\n", 8);
    });
  });
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  RawClient c(server.port());
  ASSERT_TRUE(c.send("GET /events HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                     "\r\n\r\n"));
  c.read_until([](const std::string& b) { return b.find(": tick") != std::string::npos; }, 5s);
  const auto start = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(c.closed_within(2s));
}

/// The times the thread called `name` of this process has gone to sleep.
long sleeps_of_thread(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string got;
    std::getline(comm, got);
    if (got != name) continue;
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stol(line.substr(24));
    }
  }
  return -1;
}

TEST_F(GateTest, AnIdleServerSleepsUntilAClientComes) {
  start();
  // Wait for the gate's first rounds, then watch it with nothing to do.
  ASSERT_TRUE(eventually([] { return sleeps_of_thread("http-gate") >= 0; }));
  std::this_thread::sleep_for(100ms);
  const long before = sleeps_of_thread("http-gate");
  std::this_thread::sleep_for(1s);
  EXPECT_LE(sleeps_of_thread("http-gate") - before, 2) << "it woke on a timer while idle";
  // And it still serves at once.
  RawClient c(port_);
  ASSERT_TRUE(c.send(head("GET /thing HTTP/1.1")));
  EXPECT_EQ(status_of(c.answer()), 200);
}

}  // namespace
}  // namespace raft::http
