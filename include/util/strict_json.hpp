#pragma once
/// Strict parsing of JSON request bodies, for every server of the project.
///
/// nlohmann::json accepts what a careful server should refuse: an object with
/// the same key twice (it keeps the last, other parsers the first, so a
/// proxy and a server can read two different requests from one body), and
/// numbers beyond any integer type (`1e400` throws out_of_range, which is not
/// a parse_error and so escaped as a 500). parse_strict turns all of it into
/// one sentence for a 400 answer and never throws.
///
/// Header-only so that modules without an HTTP server (discovery's registry)
/// use it too. Pure; thread-safe.

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace raft::util {

/// Objects and arrays nested deeper than this are refused: no request of the
/// project nests more than three levels.
inline constexpr std::size_t kJsonDepthMax = 32;

/// Parses `text`; returns nullopt and one sentence in *error when it is not
/// JSON, has a duplicate key in an object, a number out of range, or nests
/// deeper than kJsonDepthMax.
template <typename JsonT = nlohmann::json>
std::optional<JsonT> parse_strict(std::string_view text, std::string* error) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  std::size_t depth = 0;
  std::string problem;
  auto check = [&](int /*depth*/, typename JsonT::parse_event_t event, JsonT& parsed) {
    using Event = typename JsonT::parse_event_t;
    if (event == Event::object_start || event == Event::array_start) {
      if (event == Event::object_start) keys.emplace_back();
      if (++depth > kJsonDepthMax) {
        if (problem.empty())
          problem = "nested deeper than " + std::to_string(kJsonDepthMax) + " levels";
        return false;  // keep nothing of it
      }
    } else if (event == Event::object_end || event == Event::array_end) {
      --depth;
      if (event == Event::object_end && !keys.empty()) keys.pop_back();
    } else if (event == Event::key && !keys.empty() && parsed.is_string()) {
      const std::string& key = parsed.template get_ref<const std::string&>();
      if (!keys.back().insert(key).second && problem.empty()) {
        problem = "the key \"" + key.substr(0, 64) + "\" appears twice in one object";
      }
    }
    return true;
  };
  try {
    JsonT parsed = JsonT::parse(text.begin(), text.end(), check);
    if (problem.empty()) return parsed;
    *error = "the request body is refused: " + problem;
  } catch (const typename JsonT::parse_error& e) {
    *error = "the request body is not valid JSON (error at byte " + std::to_string(e.byte) + ")";
  } catch (const typename JsonT::exception&) {
    *error = "the request body holds a number out of range";
  }
  return std::nullopt;
}

}  // namespace raft::util
