#include "http/server.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "auth/http_auth.hpp"
#include "http/elastic_thread_pool.hpp"
#include "http/json_views.hpp"
#include "http/request_parsing.hpp"
#include "http/server_socket.hpp"

namespace raft::http {

namespace {

/// httplib parses form-encoded bodies itself and caps them far below our
/// own limit (CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH).
constexpr std::size_t kFormBodyBytesMax = 8192;
constexpr std::string_view kFormType = "application/x-www-form-urlencoded";

bool serves_path(const Route& route, std::string_view path) {
  if (route.matches) return route.matches(path);
  const std::string_view pattern = route.path;
  if (!pattern.empty() && pattern.back() == '*') {
    return path.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
  }
  return path == pattern;
}

/// HEAD is served by the GET route (httplib sends the headers only).
bool serves_method(const Route& route, std::string_view method) {
  return route.method == method || (method == "HEAD" && route.method == "GET");
}

bool fail(std::string* error, const std::string& message) {
  if (error != nullptr) *error = message;
  return false;
}

}  // namespace

void send_json_text(httplib::Response& res, int status, std::string text) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(text), "application/json");
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  send_json_text(res, status, dump_json(body));
}

void send_error(httplib::Response& res, int status, std::string_view message) {
  send_json(res, status, error_json(message));
}

std::optional<std::string> query_param(const httplib::Request& req, const char* name) {
  // From the URL only: httplib also puts the fields of a form body in
  // req.params, and a write's body is its value, never its options.
  return target_query_param(req.target, name);
}

std::string one_line(std::string_view what) {
  return quote_for_error(what.substr(0, what.find_first_of("\r\n")), 200);
}

struct Server::Impl {
  explicit Impl(ServerOptions o) : options(std::move(o)) {}

  ServerOptions options;
  std::vector<Route> routes;
  std::function<std::string(const httplib::Request&)> not_found_message;
  std::function<void(const httplib::Request&, const httplib::Response&)> answered;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  bool started = false;

  void error(httplib::Response& res, int status, std::string_view message) const {
    if (options.json_style == JsonStyle::Compact) {
      http::send_error(res, status, message);
      return;
    }
    const nlohmann::ordered_json body{{"ok", false}, {"error", std::string(message)}};
    send_json_text(
        res, status,
        body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  }

  std::string allowed_methods(std::string_view path) const {
    std::vector<std::string_view> methods;
    for (const Route& route : routes) {
      if (serves_path(route, path) &&
          std::find(methods.begin(), methods.end(), route.method) == methods.end()) {
        methods.push_back(route.method);
      }
    }
    std::string allow;
    for (std::string_view method : methods) {
      if (!allow.empty()) allow += ", ";
      allow += method;
      if (method == "GET" && options.allow_names_head) allow += ", HEAD";
    }
    return allow;
  }

  /// Every request comes here: the route table decides.
  void dispatch(const httplib::Request& req, httplib::Response& res) const {
    bool known_path = false;
    for (const Route& route : routes) {
      if (!serves_path(route, req.path)) continue;
      known_path = true;
      if (serves_method(route, req.method)) {
        serve(route, req, res);
        return;
      }
    }
    if (!known_path) {
      not_found(req, res);
      return;
    }
    const std::string allow = allowed_methods(req.path);
    res.set_header("Allow", allow);
    if (req.method == "OPTIONS" && options.options_answers_allow) {
      res.status = 204;
      return;
    }
    error(res, 405,
          "method " + quote_for_error(req.method, 16) + " is not allowed on " +
              quote_for_error(req.path) + "; allowed: " + allow);
  }

  /// The auth guard, then the handler; whatever it throws becomes a 500.
  void serve(const Route& route, const httplib::Request& req, httplib::Response& res) const {
    try {
      if (route.mutates) {
        if (const std::optional<std::string> problem =
                auth::refusal(options.auth_token, req, res)) {
          error(res, 401, *problem);
          return;
        }
      }
      route.handler(req, res);
    } catch (const std::exception& e) {
      error(res, 500, "internal error: " + one_line(e.what()));
    } catch (...) {
      error(res, 500, "internal error");
    }
  }

  void not_found(const httplib::Request& req, httplib::Response& res) const {
    std::string message = not_found_message ? not_found_message(req) : std::string();
    if (message.empty()) message = "no such path: " + quote_for_error(req.path);
    error(res, 404, message);
  }

  /// httplib calls this for every answer >= 400: fill in a body only where
  /// httplib answered itself (a bad request line, a body over the limit).
  httplib::Server::HandlerResponse answer_error(const httplib::Request& req,
                                                httplib::Response& res) const {
    if (!res.body.empty() || res.is_chunked_content_provider_) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    std::string message;
    switch (res.status) {
      case 400: message = "malformed HTTP request"; break;
      case 404: not_found(req, res); return httplib::Server::HandlerResponse::Handled;
      case 413:
        if (req.get_header_value("Content-Type").rfind(kFormType, 0) == 0) {
          message = "form-encoded bodies are limited to " + std::to_string(kFormBodyBytesMax) +
                    " bytes; send application/json or application/octet-stream";
        } else {
          message = "the request body is larger than " + std::to_string(options.body_bytes_max) +
                    " bytes";
        }
        break;
      case 414: message = "the request URI is too long"; break;
      default: message = "HTTP error " + std::to_string(res.status); break;
    }
    error(res, res.status, message);
    return httplib::Server::HandlerResponse::Handled;
  }

  void configure() {
    const std::size_t most = std::max<std::size_t>(1, options.threads_max);
    const std::size_t idle = std::min(most, options.threads_idle);
    const std::chrono::milliseconds idle_exit = options.thread_idle_exit;
    server.new_task_queue = [most, idle, idle_exit] {
      return new ElasticThreadPool(idle, most, idle_exit);
    };
    server.set_payload_max_length(options.body_bytes_max);
    // Headers and body go out as separate writes: without TCP_NODELAY, Nagle
    // plus the client's delayed ACK adds ~40 ms to every answer.
    server.set_tcp_nodelay(true);
    // An idle keep-alive connection holds a worker: let it go soon.
    server.set_keep_alive_timeout(2);
    server.set_keep_alive_max_count(100);
    server.set_read_timeout(options.io_timeout_s, 0);
    server.set_write_timeout(options.io_timeout_s, 0);
    server.set_default_headers(
        {{"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "no-referrer"}});
    // One catch-all per method httplib routes; the table does the rest.
    // [\s\S] rather than '.': decoded paths may contain line breaks.
    const std::string any = R"([\s\S]*)";
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      dispatch(req, res);
    };
    server.Get(any, handler);
    server.Post(any, handler);
    server.Put(any, handler);
    server.Delete(any, handler);
    server.Patch(any, handler);
    server.Options(any, handler);
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          return answer_error(req, res);
        }));
    server.set_exception_handler([this](const httplib::Request&, httplib::Response& res,
                                        std::exception_ptr) { error(res, 500, "internal error"); });
    if (answered) server.set_logger(answered);
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { stop(); }

void Server::route(Route route) { impl_->routes.push_back(std::move(route)); }

void Server::route(std::string method, std::string path, Handler handler, bool mutates) {
  route(Route{std::move(method), std::move(path), std::move(handler), mutates, {}});
}

void Server::asset(std::string path, std::string_view bytes, std::string content_type) {
  const bool page = content_type.rfind("text/html", 0) == 0;
  route("GET", std::move(path),
        [bytes, page, type = std::move(content_type)](const httplib::Request&,
                                                      httplib::Response& res) {
          if (page) res.set_header("Content-Security-Policy", kPageSecurityPolicy);
          res.set_header("Cache-Control", "no-cache");
          res.set_content(bytes.data(), bytes.size(), type);
        });
}

void Server::healthz() {
  route("GET", "/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content("ok", "text/plain");
  });
}

void Server::on_not_found(std::function<std::string(const httplib::Request&)> message) {
  impl_->not_found_message = std::move(message);
}

void Server::on_answered(
    std::function<void(const httplib::Request&, const httplib::Response&)> hook) {
  impl_->answered = std::move(hook);
}

std::string Server::allowed_methods(std::string_view path) const {
  return impl_->allowed_methods(path);
}

std::string Server::describe_routes() const {
  std::string out;
  for (const Route& route : impl_->routes) {
    if (!out.empty()) out += ", ";
    out += route.method + " " + route.path;
  }
  return out;
}

void Server::send_error(httplib::Response& res, int status, std::string_view message) const {
  impl_->error(res, status, message);
}

bool Server::start(std::string* error) {
  Impl& s = *impl_;
  if (s.started) return fail(error, "the HTTP server was already started");
  s.started = true;
  s.configure();
  std::string why;
  s.port = bind_server(s.server, s.options.bind, s.options.port, &why);
  if (s.port == 0) return fail(error, why);
  s.thread = std::thread([&s] { s.server.listen_after_bind(); });
  // stop() only takes effect once the server runs: wait for it (briefly).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!s.server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void Server::stop() {
  Impl& s = *impl_;
  if (!s.thread.joinable()) return;
  // start() waited until the server runs, so this stop() takes effect.
  s.server.stop();
  s.thread.join();
}

int Server::port() const { return impl_->port; }

bool Server::running() const { return impl_->server.is_running(); }

}  // namespace raft::http
