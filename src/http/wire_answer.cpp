#include "http/wire_answer.hpp"

#include <httplib.h>

namespace raft::http {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Error";
  }
}

std::string wire_answer(const httplib::Response& res, const AnswerFraming& framing) {
  // httplib's field map orders names without case: the framing fields go
  // into a copy so that they land where httplib would write them.
  httplib::Headers fields = res.headers;
  if (framing.close) {
    fields.emplace("Connection", "close");
  } else {
    fields.emplace("Keep-Alive", "timeout=" + std::to_string(framing.keep_alive_timeout_s) +
                                     ", max=" + std::to_string(framing.keep_alive_max));
  }
  fields.emplace("Content-Length", std::to_string(res.body.size()));
  std::string out;
  out.reserve(256 + res.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += reason_phrase(res.status);
  out += "\r\n";
  for (const auto& [name, value] : fields) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  if (!framing.head_only) out += res.body;
  return out;
}

}  // namespace raft::http
