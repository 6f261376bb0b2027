#pragma once
/// One HTTP call to a node or a service of a cluster the launcher started,
/// its body parsed as JSON when it is JSON. Thread-safe (each call opens its
/// own connection); never throws: a call without an answer has status 0 and
/// says why in `error`.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace raft::launcher {

struct HttpReply {
  int status = 0;        ///< 0: no answer (see error)
  nlohmann::json body;   ///< discarded (is_discarded()) when the body is not JSON
  std::string raw;       ///< the body as it came
  std::string location;  ///< the Location header, for redirects
  std::string error;     ///< why there was no answer
};

struct HttpRequest {
  std::string method = "GET";  ///< GET, POST, PUT or DELETE
  std::string path = "/";
  std::string body;
  std::string content_type = "application/json";
  std::string bearer_token;  ///< sent as "Authorization: Bearer ..." when not empty
  std::chrono::milliseconds connect_timeout_ms{1000};
  std::chrono::milliseconds read_timeout_ms{10000};
};

/// Sends `request` to http://host:port and waits for the answer.
HttpReply http_call(const std::string& host, int port, const HttpRequest& request);

}  // namespace raft::launcher
