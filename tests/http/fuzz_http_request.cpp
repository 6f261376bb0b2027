// libFuzzer target for what the servers read from a client before anything
// else: the request head (HeadScanner, parse_request_head, rewrite_head),
// chunked bodies (ChunkedDecoder), the Host and Origin checks, and the JSON
// bodies of the node (/command, compare-and-set) and discovery (/register,
// /set_leader). clang only; -DRAFT_FUZZ=ON.
//
// Build and run (from the repo root; these sources are compiled into the
// target with coverage instrumentation, the libraries they use stay plain):
//   CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja \
//       -DRAFT_FUZZ=ON -DRAFT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
//   cmake --build build-fuzz -j2 --target http_fuzz_request
//   mkdir -p /tmp/http-corpus && cp tests/http/fuzz_corpus/* /tmp/http-corpus/
//   build-fuzz/tests/http/http_fuzz_request /tmp/http-corpus -max_total_time=300 \
//       -max_len=65536 -print_final_stats=1
// A crash leaves crash-<sha1> in the working directory; replay it with
//   build-fuzz/tests/http/http_fuzz_request crash-<sha1>
//
// Input: the bytes a client sends (a head, then a body). Byte 0 also sets
// the size of the pieces the scanner is fed. Besides memory errors (ASan),
// the target aborts when the scanner's answer depends on the pieces, when
// a head it accepted does not parse again the same after rewrite_head(),
// or when a decoded body passes its limit.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "discovery/registry.hpp"
#include "http/chunked_body.hpp"
#include "http/request_head.hpp"
#include "http/request_parsing.hpp"
#include "http/served_hosts.hpp"

namespace {

using raft::http::HeadScan;

constexpr std::size_t kBodyMax = 4096;

raft::http::HeadLimits limits() {
  raft::http::HeadLimits l;
  l.head_bytes_max = 4096;
  l.request_line_bytes_max = 1024;
  l.header_line_bytes_max = 512;
  l.header_count_max = 20;
  l.body_bytes_max = kBodyMax;
  return l;
}

HeadScan scan_in_pieces(std::string_view in, std::size_t piece) {
  raft::http::HeadScanner scanner(limits());
  HeadScan scan;
  for (std::size_t end = 0; scan.kind == HeadScan::Kind::Incomplete && end < in.size();) {
    end = std::min(in.size(), end + piece);
    scan = scanner.scan(in.substr(0, end));
  }
  return scan;
}

void check_head(std::string_view head_bytes) {
  const raft::http::HeadParse parsed = raft::http::parse_request_head(head_bytes, limits());
  if (!parsed.head) {
    if (parsed.refusal.status < 400 || parsed.refusal.message.empty()) std::abort();
    return;
  }
  const raft::http::RequestHead& head = *parsed.head;
  const raft::http::ServedHosts served(7000, {"127.0.0.1", "localhost"});
  (void)raft::http::refuse_foreign(head, served);
  const std::string rewritten = raft::http::rewrite_head(head, head.content_length);
  // The rewrite may add a space after each colon and a Content-Length line.
  raft::http::HeadLimits roomier = limits();
  roomier.header_line_bytes_max += 1;
  roomier.header_count_max += 1;
  roomier.head_bytes_max += head.fields.size() + 32;
  const raft::http::HeadParse again = raft::http::parse_request_head(rewritten, roomier);
  if (!again.head || again.head->method != head.method || again.head->target != head.target ||
      again.head->version != head.version || again.head->content_length != head.content_length ||
      again.head->framing == raft::http::BodyFraming::Chunked) {
    std::abort();
  }
}

void check_chunked(std::string_view body) {
  raft::http::ChunkedDecoder decoder(kBodyMax);
  std::string out;
  const std::size_t used = decoder.feed(body, &out);
  if (used > body.size() || out.size() > kBodyMax) std::abort();
  if (decoder.state() == raft::http::ChunkedDecoder::State::Refused &&
      decoder.refusal().message.empty()) {
    std::abort();
  }
}

void check_json_bodies(std::string_view body) {
  (void)raft::http::parse_command_body(body);
  (void)raft::http::parse_cas_body(body);
  std::string error;
  if (!raft::discovery::parse_register_request(body, &error) && error.empty()) std::abort();
  error.clear();
  if (!raft::discovery::parse_set_leader_request(body, &error) && error.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t piece = size == 0 ? 1 : (data[0] % 17) + 1;
  const HeadScan whole = scan_in_pieces(in, in.size() + 1);
  const HeadScan pieces = scan_in_pieces(in, piece);
  if (whole.kind != pieces.kind || whole.head_bytes != pieces.head_bytes ||
      whole.refusal.status != pieces.refusal.status) {
    std::abort();
  }
  std::string_view body = in;
  if (whole.kind == HeadScan::Kind::Complete) {
    check_head(in.substr(0, whole.head_bytes));
    body = in.substr(whole.head_bytes);
  }
  check_chunked(body);
  check_json_bodies(body);
  return 0;
}
