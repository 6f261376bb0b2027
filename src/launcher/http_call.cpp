#include "launcher/http_call.hpp"

#include <httplib.h>

namespace raft::launcher {

HttpReply http_call(const std::string& host, int port, const HttpRequest& request) {
  httplib::Client client(host, port);
  client.set_connection_timeout(request.connect_timeout_ms);
  client.set_read_timeout(request.read_timeout_ms);
  httplib::Headers headers;
  if (!request.bearer_token.empty()) {
    headers.emplace("Authorization", "Bearer " + request.bearer_token);
  }
  const std::string& m = request.method;
  const std::string& type = request.content_type;
  httplib::Result r = m == "GET"    ? client.Get(request.path, headers)
                      : m == "POST" ? client.Post(request.path, headers, request.body, type)
                      : m == "PUT"  ? client.Put(request.path, headers, request.body, type)
                                    : client.Delete(request.path, headers);
  HttpReply out;
  if (!r) {
    out.error = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.raw = r->body;
  out.body = nlohmann::json::parse(r->body, nullptr, false);
  out.location = r->get_header_value("Location");
  return out;
}

}  // namespace raft::launcher
