#pragma once
/// The benchmarks' command line: `--flag value` pairs. Every bench takes
/// --json FILE, its chart flag (--svg FILE or --svg_prefix PREFIX) and
/// --replot SAVED.json (redraw the charts of a saved result, run nothing);
/// the rest are its own. For main's thread.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace raft::bench {

struct OutputFlags {
  std::string json_path;
  std::string svg;  ///< the chart file or prefix
  std::string replot;
};

/// Draws the charts of a result document at `svg`.
using ChartWriter = std::function<void(const nlohmann::json& result, const std::string& svg)>;

/// Reads the pairs: the output flags into `out`, the others through `own`
/// (which returns false for a flag it does not know, and may throw
/// std::invalid_argument for a bad value). False, with one line on stderr,
/// on an unknown flag, a flag without a value or a bad value.
bool parse_flags(int argc, char** argv, const std::string& svg_flag, OutputFlags& out,
                 const std::function<bool(const std::string& flag, const std::string& value)>& own);

/// `value` as a whole number of at least `min`; throws std::invalid_argument
/// saying what was expected.
int int_at_least(const std::string& value, int min);

/// `value` as a number of at least `min`; throws as int_at_least.
double number_at_least(const std::string& value, double min);

/// A comma-separated list, empty items dropped.
std::vector<std::string> split_list(const std::string& value);

/// Each item of a comma-separated list as int_at_least(item, min); throws
/// on an empty list.
std::vector<int> int_list(const std::string& value, int min);

/// `value` if it is one of `allowed`; throws otherwise.
std::string one_of(const std::string& value, const std::vector<std::string>& allowed);

/// With --replot, redraws the saved result and returns the exit code (2
/// without a chart path); nullopt when there is a benchmark to run.
std::optional<int> replot(const OutputFlags& out, const ChartWriter& write_charts);

/// Writes the result and its charts where the flags say.
void write_outputs(const OutputFlags& out, const nlohmann::json& result,
                   const ChartWriter& write_charts);

}  // namespace raft::bench
