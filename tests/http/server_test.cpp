// http::Server, the skeleton of the node, monitor and discovery servers: the
// route table drives routing, 405 + Allow and OPTIONS; the auth guard; the
// error envelope in both JSON styles; the 404 hook; 500 for a throwing
// handler; 413 before a handler runs.
#include "http/server.hpp"

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

namespace raft::http {
namespace {

using nlohmann::json;

constexpr const char* kToken = "0123456789abcdef0123";

void answer(const httplib::Request& req, httplib::Response& res) {
  res.set_content(req.method + " " + req.path, "text/plain");
}

/// A server on a free loopback port with a small route table.
class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}, const std::function<void(Server&)>& more = {}) {
    options.body_bytes_max = 1024;
    server_ = std::make_unique<Server>(std::move(options));
    server_->route("GET", "/thing", answer);
    server_->route("GET", "/kv/*", answer);
    server_->route("PUT", "/kv/*", answer, true);
    server_->route(Route{"POST", "/nodes/{id}", answer, true, [](std::string_view path) {
                           return path == "/nodes/1" || path == "/nodes/2";
                         }});
    server_->route("GET", "/boom", [](const httplib::Request&, httplib::Response&) {
      throw std::runtime_error("boom\nsecond line");
    });
    if (more) more(*server_);
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServerTest, TheTableRoutesByMethodAndPath) {
  start();
  auto r = client_->Get("/thing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /thing");
  EXPECT_EQ(client_->Head("/thing")->status, 200);
  EXPECT_EQ(client_->Get("/kv/a/b")->body, "GET /kv/a/b");
  EXPECT_EQ(client_->Put("/kv/", "v", "text/plain")->body, "PUT /kv/");
  EXPECT_EQ(client_->Post("/nodes/2", "", "text/plain")->body, "POST /nodes/2");
  EXPECT_EQ(client_->Get("/kv")->status, 404);
}

TEST_F(ServerTest, AnotherMethodOnAKnownPathIs405WithAllowFromTheTable) {
  start();
  auto r = client_->Delete("/kv/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD, PUT");
  EXPECT_EQ(json::parse(r->body),
            (json{{"ok", false},
                  {"error", "method DELETE is not allowed on /kv/x; allowed: GET, HEAD, PUT"}}));
  r = client_->Get("/nodes/1");
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  EXPECT_EQ(client_->Get("/nodes/3")->status, 404);  // the matcher says no

  r = client_->Options("/thing");
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD");
  EXPECT_EQ(server_->allowed_methods("/kv/q"), "GET, HEAD, PUT");
  EXPECT_EQ(server_->allowed_methods("/nope"), "");
}

TEST_F(ServerTest, UnknownPathsAre404InTheEnvelope) {
  start();
  auto r = client_->Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(r->body, R"({"error":"no such path: /nope","ok":false})");
}

TEST_F(ServerTest, TheNotFoundHookNamesTheRoutes) {
  start({}, [](Server& server) {
    server.on_not_found([&server](const httplib::Request& req) {
      return req.path == "/help" ? "try " + server.describe_routes() : std::string();
    });
  });
  EXPECT_EQ(json::parse(client_->Get("/help")->body)["error"],
            "try GET /thing, GET /kv/*, PUT /kv/*, POST /nodes/{id}, GET /boom");
  EXPECT_EQ(json::parse(client_->Get("/other")->body)["error"], "no such path: /other");
}

TEST_F(ServerTest, MutatingRoutesNeedTheToken) {
  ServerOptions options;
  options.auth_token = kToken;
  start(options);
  auto r = client_->Put("/kv/a", "v", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer realm=\"raft\"");
  EXPECT_EQ(json::parse(r->body)["ok"], false);
  EXPECT_EQ(client_->Get("/kv/a")->status, 200);  // reads stay open

  const httplib::Headers auth{{"Authorization", std::string("Bearer ") + kToken}};
  r = client_->Put("/kv/a", auth, "v", "text/plain");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "PUT /kv/a");
}

TEST_F(ServerTest, AThrowingHandlerIsA500WithOneLine) {
  start();
  auto r = client_->Get("/boom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(json::parse(r->body)["error"], "internal error: boom");
}

TEST_F(ServerTest, ABodyAboveTheLimitIs413BeforeAnyHandler) {
  start();
  auto r = client_->Put("/kv/a", std::string(2048, 'x'), "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(json::parse(r->body)["error"],
            "the request body is larger than 1024 bytes (it is 2048)");
}

TEST_F(ServerTest, TheDiscoveryStyleKeepsItsJsonAllowAndOptions) {
  ServerOptions options;
  options.json_style = JsonStyle::Line;
  options.allow_names_head = false;
  options.options_answers_allow = false;
  start(options);
  auto r = client_->Post("/thing", "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET");
  EXPECT_EQ(r->body,
            "{\"ok\":false,\"error\":\"method POST is not allowed on /thing; allowed: GET\"}\n");
  EXPECT_EQ(client_->Options("/thing")->status, 405);
  EXPECT_EQ(client_->Head("/thing")->status, 200);  // served all the same
}

TEST_F(ServerTest, StartsOnceAndStopsIdempotently) {
  start();
  EXPECT_GT(server_->port(), 0);
  EXPECT_TRUE(server_->running());
  std::string error;
  EXPECT_FALSE(server_->start(&error));
  EXPECT_EQ(error, "the HTTP server was already started");
  server_->stop();
  EXPECT_FALSE(server_->running());
  server_->stop();
}

TEST(Server, APortInUseIsRefusedNamingTheAddress) {
  Server first(ServerOptions{});
  std::string error;
  ASSERT_TRUE(first.start(&error)) << error;
  ServerOptions options;
  options.port = first.port();
  Server second(options);
  EXPECT_FALSE(second.start(&error));
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << error;
}

}  // namespace
}  // namespace raft::http
