#include "discovery_http.hpp"

#include <sys/socket.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <httplib.h>

#include "auth/http_auth.hpp"

namespace raft::discovery {
namespace {

constexpr const char* kJsonType = "application/json";

void send(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  // dump(): a registry never holds invalid UTF-8 (addresses are ASCII), but
  // a request path echoed in a 404 may; replace rather than throw.
  res.set_content(reply.body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n",
                  kJsonType);
  res.set_header("Cache-Control", "no-store");
}

void send_error(httplib::Response& res, int status, const std::string& why) {
  send(res, Reply{status, error_body(why)});
}

/// Wraps a mutating handler: without the configured token the request gets
/// 401 and never reaches the registry.
httplib::Server::Handler with_auth(std::shared_ptr<const std::string> token,
                                   httplib::Server::Handler handler) {
  return [token = std::move(token), handler = std::move(handler)](const httplib::Request& req,
                                                                  httplib::Response& res) {
    if (const std::optional<std::string> problem = auth::refusal(*token, req, res)) {
      send_error(res, 401, *problem);
      return;
    }
    handler(req, res);
  };
}

/// A catch-all for the methods a path does not take.
httplib::Server::Handler method_not_allowed(std::string allowed) {
  return [allowed = std::move(allowed)](const httplib::Request& req, httplib::Response& res) {
    send_error(res, 405, req.method + " is not allowed on " + req.path + " (use " + allowed + ")");
    res.set_header("Allow", allowed);
  };
}

}  // namespace

void install_routes(httplib::Server& server, Registry& registry, std::function<TimeMs()> now_ms,
                    std::string auth_token) {
  server.set_payload_max_length(kBodyBytesMax);
  // Slow or idle clients must not pin the server's small thread pool.
  server.set_read_timeout(2, 0);
  server.set_write_timeout(2, 0);
  server.set_keep_alive_timeout(2);
  // Socket options (no SO_REUSEPORT) are set by http::bind_server.

  auto clock = std::make_shared<std::function<TimeMs()>>(std::move(now_ms));
  auto token = std::make_shared<const std::string>(std::move(auth_token));

  server.Get("/state", [&registry, clock](const httplib::Request&, httplib::Response& res) {
    send(res, registry.handle_state((*clock)()));
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.Post("/register", with_auth(token, [&registry, clock](const httplib::Request& req,
                                                               httplib::Response& res) {
                send(res, registry.handle_register(req.body, (*clock)()));
              }));
  server.Post("/set_leader",
              with_auth(token, [&registry](const httplib::Request& req, httplib::Response& res) {
                send(res, registry.handle_set_leader(req.body));
              }));
  server.Post("/reset",
              with_auth(token, [&registry](const httplib::Request&, httplib::Response& res) {
                send(res, registry.handle_reset());
              }));

  for (const char* path : {"/state", "/healthz"}) {
    server.Post(path, method_not_allowed("GET"));
    server.Put(path, method_not_allowed("GET"));
    server.Patch(path, method_not_allowed("GET"));
    server.Delete(path, method_not_allowed("GET"));
    server.Options(path, method_not_allowed("GET"));
  }
  for (const char* path : {"/register", "/set_leader", "/reset"}) {
    server.Get(path, method_not_allowed("POST"));
    server.Put(path, method_not_allowed("POST"));
    server.Patch(path, method_not_allowed("POST"));
    server.Delete(path, method_not_allowed("POST"));
    server.Options(path, method_not_allowed("POST"));
  }

  // Failures httplib produces itself (no route, body too large, a request it
  // cannot parse) get the same JSON shape as ours; answers that already carry
  // a body (ours) are left alone.
  // (Spelled as HandlerWithResponse: a bare lambda would match both overloads.)
  server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                   httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    switch (res.status) {
      case 404:
        send_error(res, 404,
                   "no such path: " + req.path +
                       " (the discovery API has GET /state, GET /healthz, POST /register, "
                       "POST /set_leader, POST /reset)");
        break;
      case 413:
        send_error(res, 413,
                   "the request body is larger than " + std::to_string(kBodyBytesMax) + " bytes");
        break;
      case 414: send_error(res, 414, "the request URI is too long"); break;
      case 400: send_error(res, 400, "malformed HTTP request"); break;
      default: send_error(res, res.status, "HTTP error " + std::to_string(res.status)); break;
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string why = "unknown error";
        try {
          std::rethrow_exception(std::move(error));
        } catch (const std::exception& e) {
          why = e.what();
        } catch (...) {
        }
        send_error(res, 500, "internal error: " + why);
      });
}

}  // namespace raft::discovery
