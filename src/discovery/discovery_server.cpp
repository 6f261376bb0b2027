#include "discovery/discovery_server.hpp"

#include <system_error>
#include <utility>

#include <httplib.h>

#include "http/server.hpp"

namespace raft::discovery {

namespace {

/// Slow or idle clients must not hold the server's workers for long.
constexpr int kIoTimeoutS = 2;

void send(httplib::Response& res, const Reply& reply) {
  // dump(): a registry never holds invalid UTF-8 (addresses are ASCII);
  // replace rather than throw all the same.
  http::send_json_text(res, reply.status,
                       reply.body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
}

http::ServerOptions server_options(const DiscoveryServerOptions& o) {
  http::ServerOptions s;
  s.bind = o.bind;
  s.port = o.port;
  s.auth_token = o.auth_token;
  s.served_hosts = o.served_hosts;
  s.body_bytes_max = kBodyBytesMax;
  s.io_timeout_s = kIoTimeoutS;
  s.json_style = http::JsonStyle::Line;
  s.allow_names_head = false;
  s.options_answers_allow = false;
  return s;
}

}  // namespace

struct DiscoveryServer::Impl {
  Impl(DiscoveryServerOptions options, Registry& r, std::function<TimeMs()> now)
      : registry(r), now_ms(std::move(now)), server(server_options(options)) {
    using Request = httplib::Request;
    using Response = httplib::Response;
    server.route("GET", "/state", [this](const Request&, Response& res) {
      send(res, registry.handle_state(now_ms()));
    });
    server.healthz();
    server.route(
        "POST", "/register",
        [this](const Request& req, Response& res) {
          send(res, registry.handle_register(req.body, now_ms(), req.remote_addr));
        },
        true);
    server.route(
        "POST", "/set_leader",
        [this](const Request& req, Response& res) {
          send(res, registry.handle_set_leader(req.body, req.remote_addr));
        },
        true);
    server.route(
        "POST", "/reset",
        [this](const Request&, Response& res) { send(res, registry.handle_reset()); }, true);
    server.on_not_found([this](const Request& req) {
      return "no such path: " + req.path + " (the discovery API has " + server.describe_routes() +
             ")";
    });
  }

  Registry& registry;
  const std::function<TimeMs()> now_ms;
  http::Server server;
};

DiscoveryServer::DiscoveryServer(DiscoveryServerOptions options, Registry& registry,
                                 std::function<TimeMs()> now_ms)
    : impl_(std::make_unique<Impl>(std::move(options), registry, std::move(now_ms))) {}

DiscoveryServer::~DiscoveryServer() { stop(); }

bool DiscoveryServer::start(std::string* error) { return impl_->server.start(error); }

void DiscoveryServer::stop() { impl_->server.stop(); }

int DiscoveryServer::port() const { return impl_->server.port(); }

bool DiscoveryServer::running() const { return impl_->server.running(); }

std::filesystem::path state_file_path(const std::string& state_file, const std::string& data_dir) {
  if (!state_file.empty()) return state_file;
  if (!data_dir.empty()) return std::filesystem::path(data_dir) / "discovery_state.json";
  return "discovery_state.json";
}

void open_registry(Registry& registry, const std::filesystem::path& state_file, bool reset) {
  if (state_file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(state_file.parent_path(), ec);
    if (ec) {
      throw RegistryError("cannot create the directory " + state_file.parent_path().string() +
                          ": " + ec.message());
    }
  }
  if (reset) {
    registry.reset();
  } else {
    registry.load();
  }
}

}  // namespace raft::discovery
