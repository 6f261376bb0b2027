#include "bench_flags.hpp"

#include <fstream>
#include <iostream>

namespace raft::bench {

bool parse_flags(
    int argc, char** argv, const std::string& svg_flag, OutputFlags& out,
    const std::function<bool(const std::string& flag, const std::string& value)>& own) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
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
  }
  return true;
}

std::optional<int> replot(const OutputFlags& out, const ChartWriter& write_charts) {
  if (out.replot.empty()) return std::nullopt;
  if (out.svg.empty()) return 2;
  write_charts(nlohmann::json::parse(std::ifstream(out.replot)), out.svg);
  return 0;
}

void write_outputs(const OutputFlags& out, const nlohmann::json& result,
                   const ChartWriter& write_charts) {
  if (!out.json_path.empty()) std::ofstream(out.json_path) << result.dump(2) << "\n";
  if (!out.svg.empty()) write_charts(result, out.svg);
}

}  // namespace raft::bench
