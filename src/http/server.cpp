#include "http/server.hpp"

#include <unistd.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "auth/http_auth.hpp"
#include "http/async_answers.hpp"
#include "http/connection_stream.hpp"
#include "http/elastic_thread_pool.hpp"
#include "http/json_views.hpp"
#include "http/request_parsing.hpp"
#include "http/served_hosts.hpp"
#include "http/server_socket.hpp"
#include "http/wire_answer.hpp"

namespace raft::http {

namespace {

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

/// cpp-httplib's server with its request processing opened to the gate: the
/// gate reads and checks each request; httplib parses the head it is given,
/// routes, and writes the answer.
class RoutingServer final : public httplib::Server {
 public:
  bool answer(httplib::Stream& stream, bool close_after, bool& closed,
              const std::function<void(httplib::Request&)>& setup) {
    return process_request(stream, close_after, closed, setup);
  }
  /// httplib ends a chunked answer (an event stream) once its listening
  /// socket is gone; the gate owns the socket, so this stands for it.
  void set_listening(int fd) { svr_sock_ = fd < 0 ? INVALID_SOCKET : fd; }
};

/// The request httplib would make of `head` (path and header values
/// percent-decoded as it does), for the checks made before the body.
httplib::Request request_of(const RequestHead& head, const Peer& peer) {
  httplib::Request req;
  req.method = head.method;
  req.target = head.target;
  req.version = head.version;
  req.path =
      httplib::detail::decode_url(head.target.substr(0, head.target.find_first_of("?#")), false);
  for (const HeaderField& f : head.fields) {
    req.headers.emplace(f.name, httplib::detail::decode_url(f.value, false));
  }
  req.remote_addr = peer.ip;
  req.remote_port = peer.port;
  return req;
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
  RoutingServer server;
  std::optional<ServedHosts> served;  ///< set by start()
  std::unique_ptr<ElasticThreadPool> pool;
  std::unique_ptr<AsyncAnswers> async;   ///< when a route has an async handler
  std::unique_ptr<ConnectionGate> gate;  ///< after the pool and async: stops first
  AnswerFraming keep_alive{false};       ///< what httplib says of a kept connection
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

  /// The route serving the request, or nullptr with the answer in `res`
  /// (404, 405 with Allow, or 204 to OPTIONS).
  const Route* match(const httplib::Request& req, httplib::Response& res) const {
    bool known_path = false;
    for (const Route& route : routes) {
      if (!serves_path(route, req.path)) continue;
      known_path = true;
      if (serves_method(route, req.method)) return &route;
    }
    if (!known_path) {
      not_found(req, res);
      return nullptr;
    }
    const std::string allow = allowed_methods(req.path);
    res.set_header("Allow", allow);
    if (req.method == "OPTIONS" && options.options_answers_allow) {
      res.status = 204;
      return nullptr;
    }
    error(res, 405,
          "method " + quote_for_error(req.method, 16) + " is not allowed on " +
              quote_for_error(req.path) + "; allowed: " + allow);
    return nullptr;
  }

  /// Every request comes here: the route table decides.
  void dispatch(const httplib::Request& req, httplib::Response& res) const {
    if (const Route* route = match(req, res)) serve(*route, req, res);
  }

  /// The auth guard, then the handler; whatever it throws becomes a 500.
  void serve(const Route& route, const httplib::Request& req, httplib::Response& res) const {
    try {
      if (route.mutates && refuse_unauthorized(req, res)) return;
      route.handler(req, res);
    } catch (const std::exception& e) {
      error(res, 500, "internal error: " + one_line(e.what()));
    } catch (...) {
      error(res, 500, "internal error");
    }
  }

  bool refuse_unauthorized(const httplib::Request& req, httplib::Response& res) const {
    const std::optional<std::string> problem = auth::refusal(options.auth_token, req, res);
    if (problem) error(res, 401, *problem);
    return problem.has_value();
  }

  void not_found(const httplib::Request& req, httplib::Response& res) const {
    std::string message = not_found_message ? not_found_message(req) : std::string();
    if (message.empty()) message = "no such path: " + quote_for_error(req.path);
    error(res, 404, message);
  }

  /// httplib calls this for every answer >= 400: fill in a body only where
  /// httplib answered itself (a request it could not route).
  httplib::Server::HandlerResponse answer_error(const httplib::Request& req,
                                                httplib::Response& res) const {
    if (!res.body.empty() || res.is_chunked_content_provider_) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (res.status == 404) {
      not_found(req, res);
    } else if (res.status == 400) {
      error(res, 400, "malformed HTTP request");
    } else {
      error(res, res.status, "HTTP error " + std::to_string(res.status));
    }
    return httplib::Server::HandlerResponse::Handled;
  }

  // ---- the gate's hooks ----------------------------------------------------

  /// Before the body: Host and Origin for every request; for one with a
  /// body, what the table answers without its handler (404, 405, 401), so
  /// that no body is read for it. Empty: go on.
  std::string verdict(const RequestHead& head, const Peer& peer) const {
    const std::optional<Refusal> foreign = refuse_foreign(head, *served);
    const bool has_body = head.framing == BodyFraming::Chunked ||
                          (head.framing == BodyFraming::Length && head.content_length > 0);
    if (!foreign && !has_body) return {};  // the common case costs no copy of the head
    const httplib::Request req = request_of(head, peer);
    httplib::Response res;
    if (foreign) {
      error(res, foreign->status, foreign->message);
    } else if (const Route* route = match(req, res)) {
      if (!route->mutates || !refuse_unauthorized(req, res)) return {};
    }
    return answer_early(req, res);
  }

  std::string refusal_answer(const Refusal& refusal, const Peer& peer) const {
    httplib::Request req;
    req.remote_addr = peer.ip;
    req.remote_port = peer.port;
    httplib::Response res;
    error(res, refusal.status, refusal.message);
    return answer_early(req, res);
  }

  std::string answer_early(const httplib::Request& req, httplib::Response& res) const {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    if (answered) answered(req, res);
    return wire_answer(res, AnswerFraming{});
  }

  /// On a worker: httplib parses the head, routes and answers; the body the
  /// gate read becomes the request's body as it is (httplib never parses a
  /// form or multipart body: no parameters or files from a body).
  bool answer(GateRequest& request) {
    ConnectionStream stream(request.fd, rewrite_head(request.head, request.body.size()),
                            request.peer, std::chrono::seconds(options.io_timeout_s));
    std::string body = std::move(request.body);
    bool closed = false;
    const bool ok = server.answer(stream, request.close_after, closed,
                                  [&body](httplib::Request& req) { req.body = std::move(body); });
    return ok && !closed && !request.close_after && !stream.failed();
  }

  ConnectionGate::Hooks hooks() {
    ConnectionGate::Hooks h;
    h.verdict = [this](const RequestHead& head, const Peer& peer) { return verdict(head, peer); };
    h.refuse = [this](const Refusal& r, const Peer& peer) { return refusal_answer(r, peer); };
    h.serve = [this](GateRequest& request) { return answer(request); };
    h.enqueue = [this](std::function<void()> job) { pool->enqueue(std::move(job)); };
    if (async) {
      h.take = [this](GateRequest& request, std::function<void(bool)> done) {
        return take(request, std::move(done));
      };
      h.tick = [this](bool stopping) { async->expire(stopping); };
    }
    return h;
  }

  // ---- routes answered without a worker --------------------------------------

  /// The first route serving the request's method and path, if it answers
  /// without a worker.
  const Route* async_route(const RequestHead& head) const {
    const std::string path =
        httplib::detail::decode_url(head.target.substr(0, head.target.find_first_of("?#")), false);
    for (const Route& route : routes) {
      if (serves_path(route, path) && serves_method(route, head.method)) {
        return route.async_handler ? &route : nullptr;
      }
    }
    return nullptr;
  }

  /// Hooks::take: the auth guard, then the handler on this (the gate's)
  /// thread; the answer comes through the Reply.
  bool take(GateRequest& request, std::function<void(bool)> done) {
    const Route* route = async_route(request.head);
    if (route == nullptr) return false;
    auto state = std::make_shared<Reply::State>();
    state->owner = async.get();
    state->fd = request.fd;
    state->framing = keep_alive;
    state->framing.close = request.close_after;
    state->framing.head_only = request.head.method == "HEAD";
    state->request = request_of(request.head, request.peer);
    state->request.body = std::move(request.body);
    state->on_deadline = route->on_deadline;
    state->done = std::move(done);
    const Reply reply(state);
    httplib::Response refusal;
    if (route->mutates && refuse_unauthorized(state->request, refusal)) {
      reply.answer([&refusal](httplib::Response& res) { res = std::move(refusal); });
      return true;
    }
    async->track(state, AsyncAnswers::Clock::now() + route->deadline);
    try {
      route->async_handler(state->request, reply);
    } catch (const std::exception& e) {
      const std::string why = "internal error: " + one_line(e.what());
      reply.answer([&](httplib::Response& res) { error(res, 500, why); });
    } catch (...) {
      reply.answer([&](httplib::Response& res) { error(res, 500, "internal error"); });
    }
    return true;
  }

  AsyncAnswers::Hooks async_hooks() {
    AsyncAnswers::Hooks h;
    h.finish = [this](const httplib::Request& req, httplib::Response& res) {
      for (const char* name : {"X-Content-Type-Options", "Referrer-Policy"}) {
        if (!res.has_header(name)) {
          res.set_header(name, name[0] == 'X' ? "nosniff" : "no-referrer");
        }
      }
      if (answered) answered(req, res);
    };
    h.internal_error = [this](httplib::Response& res, const std::string& message) {
      error(res, 500, message.empty() ? "internal error" : "internal error: " + one_line(message));
    };
    h.enqueue = [this](std::function<void()> job) { pool->enqueue(std::move(job)); };
    h.write_timeout = std::chrono::seconds(options.io_timeout_s);
    return h;
  }

  GateOptions gate_options() const {
    GateOptions g = options.gate;
    g.limits.body_bytes_max = options.body_bytes_max;
    return g;
  }

  void configure() {
    // The Keep-Alive header httplib writes says what the gate does.
    const GateOptions g = gate_options();
    keep_alive.keep_alive_timeout_s = static_cast<int>(std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(g.keep_alive_timeout).count()));
    keep_alive.keep_alive_max = std::max<std::size_t>(1, g.requests_per_connection_max);
    server.set_keep_alive_timeout(keep_alive.keep_alive_timeout_s);
    server.set_keep_alive_max_count(keep_alive.keep_alive_max);
    server.set_default_headers(
        {{"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "no-referrer"}});
    // One catch-all per method httplib routes; the table does the rest.
    // [\s\S] rather than '.': decoded paths may contain line breaks. Methods
    // with a body take the content-reader form, which httplib calls before
    // it would read (and parse) the body: the gate has read it already.
    const std::string any = R"([\s\S]*)";
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      dispatch(req, res);
    };
    const auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader&) { dispatch(req, res); };
    server.Get(any, handler);
    server.Options(any, handler);
    server.Post(any, with_body);
    server.Put(any, with_body);
    server.Delete(any, with_body);
    server.Patch(any, with_body);
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

void Server::route_async(std::string method, std::string path, AsyncHandler handler, bool mutates,
                         std::chrono::milliseconds deadline, Handler on_deadline) {
  Route r{std::move(method), std::move(path), {}, mutates, {}};
  r.async_handler = std::move(handler);
  r.deadline = deadline;
  r.on_deadline = std::move(on_deadline);
  route(std::move(r));
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
  const int fd = open_listener(s.options.bind, s.options.port, &s.port, &why);
  if (fd < 0) {
    s.port = 0;
    return fail(error, why);
  }
  std::vector<std::string> names = default_served_names(s.options.bind);
  names.insert(names.end(), s.options.served_hosts.begin(), s.options.served_hosts.end());
  s.served.emplace(s.port, names);
  const std::size_t most = std::max<std::size_t>(1, s.options.threads_max);
  s.pool = std::make_unique<ElasticThreadPool>(std::min(most, s.options.threads_idle), most,
                                               s.options.thread_idle_exit);
  const bool any_async = std::any_of(s.routes.begin(), s.routes.end(),
                                     [](const Route& r) { return bool(r.async_handler); });
  if (any_async) s.async = std::make_unique<AsyncAnswers>(s.async_hooks());
  s.gate = std::make_unique<ConnectionGate>(s.gate_options(), s.hooks());
  s.server.set_listening(fd);
  if (!s.gate->start(fd, &why)) {
    s.server.set_listening(-1);
    ::close(fd);
    return fail(error, why);
  }
  return true;
}

void Server::stop() {
  Impl& s = *impl_;
  if (!s.gate) return;
  s.server.set_listening(-1);  // open event streams end
  s.gate->stop();
  s.pool->shutdown();
}

int Server::port() const { return impl_->port; }

bool Server::running() const { return impl_->gate && impl_->gate->running(); }

std::size_t Server::connections() const { return impl_->gate ? impl_->gate->connections() : 0; }

}  // namespace raft::http
