#include "monitor/http_fetch.hpp"

#include <exception>

#include <httplib.h>

namespace raft::monitor {

namespace {

void set_timeout_ms(httplib::ClientImpl& client, int connect_ms, int read_ms, int write_ms) {
  const auto split = [](int ms) {
    ms = ms < 1 ? 1 : ms;
    return std::pair<time_t, time_t>{ms / 1000, (ms % 1000) * 1000};
  };
  const auto [cs, cus] = split(connect_ms);
  const auto [rs, rus] = split(read_ms);
  const auto [ws, wus] = split(write_ms);
  client.set_connection_timeout(cs, cus);
  client.set_read_timeout(rs, rus);
  client.set_write_timeout(ws, wus);
}

std::string describe(httplib::Error error, const FetchOptions& options) {
  switch (error) {
    case httplib::Error::Connection: return "connection refused or host unreachable";
    case httplib::Error::ConnectionTimeout:
      return "no connection within " + std::to_string(options.connect_timeout_ms) + " ms";
    case httplib::Error::BindIPAddress: return "cannot bind a local address";
    case httplib::Error::Read:
      return "no complete answer within " + std::to_string(options.read_timeout_ms) + " ms";
    case httplib::Error::Write: return "the request could not be sent";
    default: return httplib::to_string(error);
  }
}

}  // namespace

FetchResult fetch(const Endpoint& endpoint, const FetchRequest& request,
                  const FetchOptions& options) {
  FetchResult out;
  try {
    httplib::ClientImpl client(endpoint.host, endpoint.port);
    client.set_tcp_nodelay(true);
    set_timeout_ms(client, options.connect_timeout_ms, options.read_timeout_ms,
                   options.write_timeout_ms);
    client.set_keep_alive(false);
    client.set_follow_location(false);  // redirects are the caller's decision
    client.set_url_encode(false);       // paths arrive encoded

    httplib::Request req;
    req.method = request.method;
    req.path = request.path;
    for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
    if (!request.content_type.empty()) req.headers.emplace("Content-Type", request.content_type);
    req.body = request.body;

    std::string body;
    bool too_big = false;
    req.content_receiver = [&](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
      if (body.size() + size > options.max_body_bytes) {
        too_big = true;
        return false;
      }
      body.append(data, size);
      return true;
    };

    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    if (!client.send(req, res, error)) {
      if (too_big) {
        out.error =
            "the answer is larger than " + std::to_string(options.max_body_bytes) + " bytes";
      } else {
        out.error = describe(error, options);
      }
      out.connect_failed = error == httplib::Error::Connection ||
                           error == httplib::Error::ConnectionTimeout ||
                           error == httplib::Error::BindIPAddress;
      return out;
    }
    out.status = res.status;
    out.body = std::move(body);
    out.content_type = res.get_header_value("Content-Type");
    out.location = res.get_header_value("Location");
  } catch (const std::exception& e) {
    out = FetchResult{};
    out.error = std::string("request failed: ") + e.what();
  } catch (...) {
    out = FetchResult{};
    out.error = "request failed";
  }
  return out;
}

}  // namespace raft::monitor
