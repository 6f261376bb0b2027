#include "http/chunked_body.hpp"

#include <algorithm>
#include <cstring>

namespace raft::http {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void ChunkedDecoder::refuse(int status, std::string message) {
  state_ = State::Refused;
  refusal_ = Refusal{status, std::move(message)};
}

std::size_t ChunkedDecoder::feed(std::string_view in, std::string* body) {
  std::size_t i = 0;
  while (state_ == State::NeedMore && i < in.size()) {
    if (part_ == Part::Data) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, in.size() - i));
      body->append(in.data() + i, n);
      i += n;
      chunk_left_ -= n;
      body_bytes_ += n;
      if (chunk_left_ == 0) part_ = Part::DataEnd;
      continue;
    }
    const void* nl = std::memchr(in.data() + i, '\n', in.size() - i);
    const std::size_t end = nl == nullptr ? in.size() : static_cast<const char*>(nl) - in.data();
    line_.append(in.data() + i, end - i);
    i = nl == nullptr ? end : end + 1;
    if (line_.size() > kLineBytesMax + 1) {
      refuse(400, "a chunk size or trailer line is longer than " + std::to_string(kLineBytesMax) +
                      " bytes");
    } else if (nl != nullptr) {
      if (line_.empty() || line_.back() != '\r') {
        refuse(400, "chunked body lines must end with CRLF");
        break;
      }
      line_.pop_back();
      take_line();
      line_.clear();
    }
  }
  return i;
}

void ChunkedDecoder::take_line() {
  if (part_ == Part::DataEnd) {
    if (!line_.empty()) return refuse(400, "a chunk is longer than its size line says");
    part_ = Part::Size;
    return;
  }
  if (part_ == Part::Trailer) {
    if (line_.empty()) {
      state_ = State::Done;
      return;
    }
    trailer_bytes_ += line_.size() + 2;
    if (trailer_bytes_ > kTrailerBytesMax) {
      refuse(431, "the chunked body's trailer is longer than " + std::to_string(kTrailerBytesMax) +
                      " bytes");
    }
    return;  // trailer fields are read and dropped
  }
  std::uint64_t size = 0;
  std::size_t digits = 0;
  for (; digits < line_.size() && hex_digit(line_[digits]) >= 0; ++digits) {
    if (digits == 15) return refuse(413, "a chunk size has more than 15 hex digits");
    size = size * 16 + static_cast<std::uint64_t>(hex_digit(line_[digits]));
  }
  const std::string_view ext = std::string_view(line_).substr(digits);
  const std::size_t ext_start = ext.find_first_not_of(" \t");
  if (digits == 0 || (ext_start != std::string_view::npos && ext[ext_start] != ';')) {
    return refuse(400, "a chunk size line is not hexadecimal digits");
  }
  if (size == 0) {
    part_ = Part::Trailer;
    return;
  }
  if (body_bytes_ + size > body_bytes_max_) {
    return refuse(413, "the chunked request body is larger than " +
                           std::to_string(body_bytes_max_) + " bytes");
  }
  chunk_left_ = size;
  part_ = Part::Data;
}

}  // namespace raft::http
