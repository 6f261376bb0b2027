#include "bench_flags.hpp"

#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace raft::bench {

bool parse_flags(
    int argc, char** argv, const std::string& svg_flag, OutputFlags& out,
    const std::function<bool(const std::string& flag, const std::string& value)>& own) {
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "flag " << flag << " needs a value (flags come as --name value)\n";
      return false;
    }
    const std::string value = argv[i + 1];
    try {
      if (flag == "--json") {
        out.json_path = value;
      } else if (flag == svg_flag) {
        out.svg = value;
      } else if (flag == "--replot") {
        out.replot = value;
      } else if (!own(flag, value)) {
        std::cerr << "unknown flag " << flag << "\n";
        return false;
      }
    } catch (const std::exception& e) {
      std::cerr << "bad value for " << flag << " '" << value << "': " << e.what() << "\n";
      return false;
    }
  }
  return true;
}

int int_at_least(const std::string& value, int min) {
  std::size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || n < min) {
    throw std::invalid_argument("expected a whole number of at least " + std::to_string(min));
  }
  return n;
}

double number_at_least(const std::string& value, double min) {
  std::size_t used = 0;
  double x = 0;
  try {
    x = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || !(x >= min)) {
    std::ostringstream msg;
    msg << "expected a number of at least " << min;
    throw std::invalid_argument(msg.str());
  }
  return x;
}

std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> out;
  std::istringstream in(value);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::vector<int> int_list(const std::string& value, int min) {
  std::vector<int> out;
  for (const std::string& item : split_list(value)) out.push_back(int_at_least(item, min));
  if (out.empty()) throw std::invalid_argument("expected a comma-separated list of numbers");
  return out;
}

std::string one_of(const std::string& value, const std::vector<std::string>& allowed) {
  std::string names;
  for (const std::string& a : allowed) {
    if (a == value) return value;
    names += (names.empty() ? "" : ", ") + a;
  }
  throw std::invalid_argument("expected one of " + names);
}

std::optional<int> replot(const OutputFlags& out, const ChartWriter& write_charts) {
  if (out.replot.empty()) return std::nullopt;
  if (out.svg.empty()) {
    std::cerr << "--replot needs the chart flag too (where to draw)\n";
    return 2;
  }
  std::ifstream in(out.replot);
  const auto saved = in.is_open() ? nlohmann::json::parse(in, nullptr, false)
                                  : nlohmann::json(nlohmann::json::value_t::discarded);
  if (saved.is_discarded()) {
    std::cerr << "--replot " << out.replot << ": not a readable JSON result\n";
    return 2;
  }
  write_charts(saved, out.svg);
  return 0;
}

void write_outputs(const OutputFlags& out, const nlohmann::json& result,
                   const ChartWriter& write_charts) {
  if (!out.json_path.empty()) std::ofstream(out.json_path) << result.dump(2) << "\n";
  if (!out.svg.empty()) write_charts(result, out.svg);
}

}  // namespace raft::bench
