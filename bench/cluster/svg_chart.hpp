#pragma once
/// A small SVG line chart, so the benchmarks draw their own figures for the
/// README without a plotting dependency. One chart = axes (linear or log),
/// several named series of points joined by lines, optional dashed vertical
/// reference lines (e.g. a theoretical expectation) and a legend.

#include <string>
#include <utility>
#include <vector>

namespace raft::bench {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  ///< (x, y), drawn in this order
  bool step = false;                              ///< draw as a staircase (for an empirical CDF)
  bool dashed = false;  ///< e.g. p99 beside a solid p50 of the same colour
  std::string color;    ///< empty: the next colour of the palette
};

struct ReferenceLine {
  double x = 0;
  std::string label;
};

struct ChartSpec {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;
  bool log_y = false;
  /// Ticks at the x values of the data (e.g. concurrency 1, 8, 64, 256).
  bool x_ticks_at_data = false;
  /// y axis starts at 0 (linear axes only).
  bool y_from_zero = true;
  std::vector<ReferenceLine> references;
  std::string note;  ///< one small line under the title (machine, load)
};

/// The chart as a standalone SVG document.
std::string line_chart_svg(const ChartSpec& spec, const std::vector<Series>& series);

/// Writes `text` to `path`; false (and a message on stderr) on failure.
bool write_text_file(const std::string& path, const std::string& text);

}  // namespace raft::bench
