#include "svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>

namespace raft::bench {

namespace {

constexpr double kWidth = 720, kHeight = 420;
constexpr double kLeft = 80, kRight = 190, kTop = 56, kBottom = 56;  // kRight holds the legend
constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c",
                                   "#ff7f0e", "#9467bd", "#8c564b"};

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

/// A tick label without needless digits (1, 2.5, 10k, 1.2M).
std::string tick_label(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (a >= 1e6) {
    std::snprintf(buf, sizeof buf, "%gM", v / 1e6);
  } else if (a >= 1e4) {
    std::snprintf(buf, sizeof buf, "%gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%g", std::round(v * 1000) / 1000);
  }
  return buf;
}

/// One axis: maps data values to pixels and proposes ticks.
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double pixel_lo = 0, pixel_hi = 1;

  double t(double v) const { return log ? std::log10(std::max(v, 1e-12)) : v; }
  double map(double v) const {
    const double span = t(hi) - t(lo);
    const double f = span > 0 ? (t(v) - t(lo)) / span : 0.5;
    return pixel_lo + f * (pixel_hi - pixel_lo);
  }
  std::vector<double> ticks() const {
    std::vector<double> out;
    if (log) {
      for (double d = std::pow(10, std::floor(std::log10(lo))); d <= hi * 1.0001; d *= 10) {
        for (double m : {1.0, 2.0, 5.0}) {
          const double v = d * m;
          if (v >= lo * 0.9999 && v <= hi * 1.0001) out.push_back(v);
        }
      }
      return out;
    }
    const double raw = (hi - lo) / 5;
    const double mag = std::pow(10, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
      if (raw <= m * mag) {
        step = m * mag;
        break;
      }
    }
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push_back(v);
    return out;
  }
};

/// The data range, widened a little (and to a decade on a log axis) so points
/// do not sit on the frame.
Axis make_axis(std::vector<double> values, bool log, bool from_zero) {
  Axis a;
  a.log = log;
  if (log)
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return v <= 0; }),
                 values.end());
  if (values.empty()) return a;
  a.lo = *std::min_element(values.begin(), values.end());
  a.hi = *std::max_element(values.begin(), values.end());
  if (log) {
    a.lo = std::pow(10, std::floor(std::log10(a.lo) + 1e-9));
    a.hi = std::pow(10, std::ceil(std::log10(a.hi) - 1e-9));
    if (a.hi <= a.lo) a.hi = a.lo * 10;
    return a;
  }
  if (from_zero) a.lo = std::min(0.0, a.lo);
  if (a.hi <= a.lo) a.hi = a.lo + 1;
  a.hi += (a.hi - a.lo) * 0.05;
  return a;
}

/// The plot area and its two axes, fitted to the data and reference lines.
struct Plot {
  Axis x, y;
  double right = kWidth - kRight;
  double bottom = kHeight - kBottom;
  std::vector<double> xs;  ///< every x, for ticks at the data
};

Plot make_plot(const ChartSpec& spec, const std::vector<Series>& series) {
  Plot p;
  std::vector<double> ys;
  for (const Series& s : series) {
    for (auto [x, y] : s.points) {
      p.xs.push_back(x);
      ys.push_back(y);
    }
  }
  for (const ReferenceLine& r : spec.references) p.xs.push_back(r.x);
  p.x = make_axis(p.xs, spec.log_x, false);
  p.y = make_axis(ys, spec.log_y, spec.y_from_zero);
  if (spec.x_ticks_at_data && !p.xs.empty()) {
    // Tight range when the ticks are the data: no empty decade on either side.
    p.x.lo = *std::min_element(p.xs.begin(), p.xs.end());
    p.x.hi = *std::max_element(p.xs.begin(), p.xs.end());
    if (p.x.hi <= p.x.lo) p.x.hi = p.x.lo + 1;
  }
  p.x.pixel_lo = kLeft + 10;
  p.x.pixel_hi = p.right - 10;
  p.y.pixel_lo = p.bottom;
  p.y.pixel_hi = kTop;
  return p;
}

/// The opening tag, background, title and note.
std::string header_svg(const ChartSpec& spec) {
  std::string o;
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth) + "\" height=\"" +
       num(kHeight) + "\" viewBox=\"0 0 " + num(kWidth) + " " + num(kHeight) +
       "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o += "<text x=\"" + num(kWidth / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" " +
       "font-weight=\"bold\">" + escape(spec.title) + "</text>\n";
  if (!spec.note.empty()) {
    o += "<text x=\"" + num(kWidth / 2) + "\" y=\"40\" text-anchor=\"middle\" font-size=\"10\" " +
         "fill=\"#555\">" + escape(spec.note) + "</text>\n";
  }
  return o;
}

/// Frame, grid, ticks and axis labels.
std::string grid_svg(const ChartSpec& spec, const Plot& p) {
  std::string o;
  o += "<rect x=\"" + num(kLeft) + "\" y=\"" + num(kTop) + "\" width=\"" + num(p.right - kLeft) +
       "\" height=\"" + num(p.bottom - kTop) + "\" fill=\"none\" stroke=\"#333\"/>\n";
  std::vector<double> x_ticks;
  if (spec.x_ticks_at_data) {
    const std::set<double> unique(p.xs.begin(), p.xs.end());
    x_ticks.assign(unique.begin(), unique.end());
  } else {
    x_ticks = p.x.ticks();
  }
  for (double v : x_ticks) {
    const double px = p.x.map(v);
    o += "<line x1=\"" + num(px) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(px) + "\" y2=\"" +
         num(p.bottom) + "\" stroke=\"#e5e5e5\"/>\n";
    o += "<text x=\"" + num(px) + "\" y=\"" + num(p.bottom + 16) + "\" text-anchor=\"middle\">" +
         tick_label(v) + "</text>\n";
  }
  for (double v : p.y.ticks()) {
    const double py = p.y.map(v);
    o += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(py) + "\" x2=\"" + num(p.right) +
         "\" y2=\"" + num(py) + "\" stroke=\"#e5e5e5\"/>\n";
    o += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + num(py + 4) + "\" text-anchor=\"end\">" +
         tick_label(v) + "</text>\n";
  }
  o += "<text x=\"" + num((kLeft + p.right) / 2) + "\" y=\"" + num(kHeight - 14) +
       "\" text-anchor=\"middle\">" + escape(spec.x_label) + "</text>\n";
  o += "<text transform=\"translate(18," + num((kTop + p.bottom) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + escape(spec.y_label) + "</text>\n";
  return o;
}

/// Reference lines, dashed, labelled at the top.
std::string references_svg(const ChartSpec& spec, const Plot& p) {
  std::string o;
  for (std::size_t i = 0; i < spec.references.size(); ++i) {
    const ReferenceLine& r = spec.references[i];
    const double px = p.x.map(r.x);
    o += "<line x1=\"" + num(px) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(px) + "\" y2=\"" +
         num(p.bottom) + "\" stroke=\"#555\" stroke-dasharray=\"5,4\"/>\n";
    o += "<text x=\"" + num(px + 4) + "\" y=\"" + num(kTop + 14 + 14 * static_cast<double>(i)) +
         "\" font-size=\"11\" fill=\"#333\">" + escape(r.label) + "</text>\n";
  }
  return o;
}

/// Series number `i`: its line (or steps), its points and its legend entry.
std::string series_svg(const Series& s, std::size_t i, const Plot& p) {
  std::string o;
  const std::string color = s.color.empty() ? kColors[i % std::size(kColors)] : s.color;
  const std::string dash = s.dashed ? "\" stroke-dasharray=\"7,4" : "";
  std::string path;
  for (std::size_t k = 0; k < s.points.size(); ++k) {
    const double px = p.x.map(s.points[k].first);
    const double py = p.y.map(s.points[k].second);
    if (k == 0) {
      path += "M" + num(px) + "," + num(py);
    } else if (s.step) {
      path += " H" + num(px) + " V" + num(py);
    } else {
      path += " L" + num(px) + "," + num(py);
    }
  }
  if (!path.empty()) {
    o += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + color + dash +
         "\" stroke-width=\"2\"/>\n";
  }
  if (!s.step) {
    for (auto [vx, vy] : s.points) {
      o += "<circle cx=\"" + num(p.x.map(vx)) + "\" cy=\"" + num(p.y.map(vy)) +
           "\" r=\"3.5\" fill=\"" + color + "\"/>\n";
    }
  }
  const double ly = kTop + 10 + 20 * static_cast<double>(i);
  o += "<line x1=\"" + num(p.right + 12) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(p.right + 36) +
       "\" y2=\"" + num(ly) + "\" stroke=\"" + color + dash + "\" stroke-width=\"3\"/>\n";
  o += "<text x=\"" + num(p.right + 42) + "\" y=\"" + num(ly + 4) + "\">" + escape(s.name) +
       "</text>\n";
  return o;
}

}  // namespace

std::string line_chart_svg(const ChartSpec& spec, const std::vector<Series>& series) {
  const Plot p = make_plot(spec, series);
  std::string o = header_svg(spec) + grid_svg(spec, p) + references_svg(spec, p);
  for (std::size_t i = 0; i < series.size(); ++i) o += series_svg(series[i], i, p);
  return o + "</svg>\n";
}

bool write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace raft::bench
