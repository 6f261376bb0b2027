#pragma once
/// A chunked request body (RFC 9112 section 7.1) decoded as its bytes
/// arrive, never holding more than the body limit: a chunk that would take
/// the body past it is refused (413) from its size line, before its data is
/// read. Chunk extensions are skipped, trailer fields read and dropped.
/// Pure: bytes in, body bytes out.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/request_head.hpp"

namespace raft::http {

class ChunkedDecoder {
 public:
  enum class State { NeedMore, Done, Refused };

  explicit ChunkedDecoder(std::size_t body_bytes_max) : body_bytes_max_(body_bytes_max) {}

  /// Decodes from the start of `in`, appending the data to `*body`. Returns
  /// how many bytes of `in` it took: all of them while NeedMore, up to the
  /// end of the body when Done (what follows belongs to the next request),
  /// and an unspecified count when Refused.
  std::size_t feed(std::string_view in, std::string* body);

  State state() const { return state_; }
  /// Why it was refused (Refused only).
  const Refusal& refusal() const { return refusal_; }

 private:
  enum class Part { Size, Data, DataEnd, Trailer };
  /// A whole line is in `line_`: the size line or a trailer line.
  void take_line();
  void refuse(int status, std::string message);

  /// Longest size line (chunk extensions included) and trailer section.
  static constexpr std::size_t kLineBytesMax = 4096;
  static constexpr std::size_t kTrailerBytesMax = 8192;

  const std::size_t body_bytes_max_;
  State state_ = State::NeedMore;
  Refusal refusal_;
  Part part_ = Part::Size;
  std::string line_;              ///< the line being read, without its CRLF
  std::uint64_t chunk_left_ = 0;  ///< data bytes still to come in this chunk
  std::uint64_t body_bytes_ = 0;  ///< data bytes so far
  std::size_t trailer_bytes_ = 0;
};

}  // namespace raft::http
