#include "prometheus_text.hpp"

#include <cstdlib>
#include <string>

namespace raft::bench {

namespace {

/// Calls `f(labels, value)` for each sample line of metric `name`.
template <typename F>
void for_each_sample(std::string_view text, std::string_view name, F f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#' || line.substr(0, name.size()) != name) continue;
    std::string_view rest = line.substr(name.size());
    std::string_view labels;
    if (!rest.empty() && rest[0] == '{') {
      const std::size_t close = rest.find('}');
      if (close == std::string_view::npos) continue;
      labels = rest.substr(1, close - 1);
      rest = rest.substr(close + 1);
    }
    if (rest.empty() || rest[0] != ' ') continue;  // a longer name with this prefix
    f(labels, std::strtod(std::string(rest.substr(1)).c_str(), nullptr));
  }
}

}  // namespace

double metric_sum(std::string_view text, std::string_view name) {
  double total = 0;
  for_each_sample(text, name, [&](std::string_view, double v) { total += v; });
  return total;
}

double metric_with_label(std::string_view text, std::string_view name, std::string_view label) {
  double out = 0;
  for_each_sample(text, name, [&](std::string_view labels, double v) {
    if (labels.find(label) != std::string_view::npos) out = v;
  });
  return out;
}

}  // namespace raft::bench
