// report.json and timeline.html of a chaos run.
#include "chaos/report.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace raft::chaos {

namespace {

using nlohmann::json;

/// dump() that never throws on bytes that are not UTF-8 (values come from
/// the network): they are replaced, the report stays readable.
std::string safe_dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string fixed(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// Colours of ranks in the leader lane (more ranks reuse them).
const char* rank_colour(int rank) {
  static const char* colours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2",
                                  "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};
  if (rank < 0) return "#dddddd";
  return colours[rank % 9];
}

const char* op_colour(const Operation& op) {
  if (op.outcome == Outcome::Fail) return "#cccccc";
  if (op.outcome == Outcome::Unknown) return "#e15759";
  switch (op.kind) {
    case OpKind::Read: return "#76b7b2";
    case OpKind::Write: return "#4e79a7";
    case OpKind::Cas: return op.cas_swapped ? "#59a14f" : "#edc948";
    case OpKind::Delete: return "#b07aa1";
  }
  return "#000000";
}

std::string op_title(const Operation& op) {
  std::string t = "#" + std::to_string(op.id) + " client " + std::to_string(op.client) + " " +
                  std::string(kind_name(op.kind)) + " " + op.key;
  if (op.kind == OpKind::Write) t += " := " + op.value;
  if (op.kind == OpKind::Cas) t += " " + op.expected + " -> " + op.value;
  t += " [" + std::string(outcome_name(op.outcome));
  if (op.kind == OpKind::Read && op.outcome == Outcome::Ok) {
    t += ": " + (op.read_value ? *op.read_value : std::string("absent"));
  }
  if (op.kind == OpKind::Cas && op.outcome == Outcome::Ok)
    t += op.cas_swapped ? ": swapped" : ": 409";
  if (op.kind == OpKind::Delete && op.outcome == Outcome::Ok && op.delete_found)
    t += *op.delete_found ? ": found" : ": was absent";
  t += "] " + fixed(static_cast<double>(op.invoke_us) / 1e6, 3) + "-" +
       fixed(static_cast<double>(op.complete_us) / 1e6, 3) + " s, " + std::to_string(op.attempts) +
       " attempt(s)";
  if (op.node >= 0) t += ", node " + std::to_string(op.node);
  if (!op.note.empty()) t += ", " + op.note;
  return t;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters other than tab/newline have no place in a page.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += "&#xfffd;";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::vector<RestartWindow> restart_windows(const std::vector<NemesisEvent>& nemesis) {
  std::vector<RestartWindow> out;
  for (const NemesisEvent& n : nemesis) {
    for (int rank : n.restarted) out.push_back({rank, n.start_us, n.end_us});
  }
  return out;
}

namespace {

json nemesis_json(const std::vector<NemesisEvent>& events) {
  json out = json::array();
  for (const NemesisEvent& n : events) {
    json e = {
        {"start_us", n.start_us}, {"end_us", n.end_us}, {"kind", n.kind}, {"detail", n.detail}};
    if (!n.restarted.empty()) e["restarted"] = n.restarted;
    out.push_back(std::move(e));
  }
  return out;
}

json verdicts_json(const std::vector<KeyVerdict>& verdicts) {
  json out = json::array();
  for (const KeyVerdict& v : verdicts) {
    out.push_back({{"key", v.key},
                   {"linearizable", v.linearizable},
                   {"gave_up", v.gave_up},
                   {"ops_checked", v.ops_checked},
                   {"pieces", v.pieces},
                   {"largest_piece", v.largest_piece},
                   {"configurations", v.configurations},
                   {"seconds", v.seconds},
                   {"piece_first_op", v.piece_first_op},
                   {"piece_last_op", v.piece_last_op},
                   {"piece_ops", v.piece_ops},
                   {"stuck_op", v.stuck_op},
                   {"deepest_order", v.deepest_order},
                   {"explanation", v.explanation}});
  }
  return out;
}

/// The checks beside linearizability: lost writes, stale reads, self-check.
void put_checks(json& j, const RunCheck& c) {
  json lost = json::array();
  for (const LostWrite& l : c.lost_writes) {
    lost.push_back(
        {{"op", l.op_id}, {"key", l.key}, {"value", l.value}, {"explanation", l.explanation}});
  }
  json stale = json::array();
  for (const StaleReadProblem& p : c.stale_problems) {
    stale.push_back(
        {{"op", p.op_id}, {"key", p.key}, {"node", p.node}, {"explanation", p.explanation}});
  }
  json planted = json::array();
  for (const PlantedCheck& p : c.planted) {
    planted.push_back({{"kind", plant_name(p.fault.kind)},
                       {"key", p.key},
                       {"op", p.fault.op_id},
                       {"what", p.fault.what},
                       {"caught", p.caught},
                       {"undecided", p.undecided},
                       {"seconds", p.seconds},
                       {"verdict", p.verdict}});
  }
  j["verdicts"] = verdicts_json(c.verdicts);
  j["lost_writes"] = std::move(lost);
  j["stale_reads"] = {{"checked", c.stale_reads}, {"problems", std::move(stale)}};
  j["self_check"] = {{"planted", std::move(planted)}, {"not_planted", c.not_planted}};
  j["check_seconds"] = {{"history", c.history_seconds}, {"self_check", c.self_check_seconds}};
}

}  // namespace

json report_summary_json(const RunReport& r) {
  json leaders = json::array();
  for (const LeaderSample& l : r.leaders) {
    leaders.push_back({{"time_us", l.time_us},
                       {"leader", l.rank < 0 ? json(nullptr) : json(l.rank)},
                       {"term", l.term}});
  }
  json finals = json::object();
  for (const auto& [key, f] : r.final_reads) {
    finals[key] = f.value ? json(*f.value) : json(nullptr);
  }
  std::map<std::string, int> counts;
  for (const Operation& op : r.history) {
    counts[std::string(kind_name(op.kind)) + (op.stale ? "_stale_" : "_") +
           std::string(outcome_name(op.outcome))]++;
  }
  json j = {{"passed", r.passed},
            {"summary", r.summary},
            {"config", r.config},
            {"duration_s", static_cast<double>(r.duration_us) / 1e6},
            {"op_counts", counts},
            {"log_problems", r.log_problems},
            {"log_indexes_compared", r.log_indexes_compared},
            {"errors", r.errors},
            {"final_values", finals},
            {"nemesis", nemesis_json(r.nemesis)},
            {"membership", r.membership},
            {"leaders", leaders}};
  put_checks(j, r.check);
  return j;
}

json report_json(const RunReport& r) {
  json j = report_summary_json(r);
  json history = json::array();
  for (const Operation& op : r.history) history.push_back(to_json(op));
  j["history"] = std::move(history);
  return j;
}

namespace {

/// The timeline's geometry: 100 px per second (at most ~30000 px wide for
/// runs of hours), a lane per leader row, nemesis rows and one per client.
struct Timeline {
  explicit Timeline(const RunReport& r) {
    seconds = std::max(1.0, static_cast<double>(r.duration_us) / 1e6);
    px_per_s = std::min(100.0, 30000.0 / seconds);
    width = left + seconds * px_per_s + 20;
    for (const Operation& op : r.history) clients = std::max(clients, op.client + 1);
    height = ops_y + lane * clients + 30;
  }
  std::string x(std::int64_t us) const {
    return fixed(left + static_cast<double>(us) / 1e6 * px_per_s, 1);
  }
  double px(std::int64_t us) const { return static_cast<double>(us) / 1e6 * px_per_s; }

  double seconds = 1, px_per_s = 100, width = 0, height = 0;
  const double left = 110, lane = 14, leader_y = 30, nemesis_y = 60;
  const double ops_y = nemesis_y + 20 + lane * 6;  // nemesis kinds stack in up to 6 rows
  int clients = 0;
};

/// Time axis every 5 s (every 60 s beyond 10 minutes).
std::string time_axis(const Timeline& t) {
  std::string svg;
  const int tick = t.seconds > 600 ? 60 : 5;
  for (int s = 0; s <= static_cast<int>(t.seconds); s += tick) {
    const std::string xs = t.x(static_cast<std::int64_t>(s) * 1'000'000);
    svg += "<line x1=\"" + xs + "\" y1=\"15\" x2=\"" + xs + "\" y2=\"" + fixed(t.height - 15, 0) +
           "\" stroke=\"#eeeeee\"/><text x=\"" + xs + "\" y=\"12\">" + std::to_string(s) +
           "s</text>";
  }
  return svg;
}

std::string leader_lane(const Timeline& t, const RunReport& r) {
  std::string svg = "<text x=\"4\" y=\"" + fixed(t.leader_y + 10, 0) + "\">leader</text>";
  for (std::size_t i = 0; i < r.leaders.size(); ++i) {
    const LeaderSample& l = r.leaders[i];
    const std::int64_t end = i + 1 < r.leaders.size() ? r.leaders[i + 1].time_us : r.duration_us;
    const std::string label =
        l.rank < 0 ? "no leader"
                   : "node " + std::to_string(l.rank) + ", term " + std::to_string(l.term);
    svg += "<rect x=\"" + t.x(l.time_us) + "\" y=\"" + fixed(t.leader_y, 0) + "\" width=\"" +
           fixed(std::max(1.0, t.px(end - l.time_us)), 1) + "\" height=\"14\" fill=\"" +
           rank_colour(l.rank) + "\"><title>" + html_escape(label) + "</title></rect>";
    if (l.rank >= 0 && t.px(end - l.time_us) > 50) {
      svg += "<text x=\"" + fixed(std::stod(t.x(l.time_us)) + 3, 1) + "\" y=\"" +
             fixed(t.leader_y + 11, 0) + "\" fill=\"#ffffff\">n" + std::to_string(l.rank) + " t" +
             std::to_string(l.term) + "</text>";
    }
  }
  return svg;
}

std::string nemesis_lane(const Timeline& t, const RunReport& r) {
  std::string svg = "<text x=\"4\" y=\"" + fixed(t.nemesis_y + 10, 0) + "\">nemesis</text>";
  std::vector<std::int64_t> row_end(6, -1);
  for (const NemesisEvent& n : r.nemesis) {
    std::size_t row = 0;
    while (row + 1 < row_end.size() && row_end[row] > n.start_us) ++row;
    row_end[row] = std::max(n.end_us, n.start_us + 200'000);
    const double w = std::max(3.0, t.px(n.end_us - n.start_us));
    svg += "<rect x=\"" + t.x(n.start_us) + "\" y=\"" + fixed(t.nemesis_y + t.lane * row, 0) +
           "\" width=\"" + fixed(w, 1) +
           "\" height=\"12\" fill=\"#e15759\" opacity=\"0.6\"><title>" +
           html_escape(n.kind + ": " + n.detail) + "</title></rect><text x=\"" + t.x(n.start_us) +
           "\" y=\"" + fixed(t.nemesis_y + t.lane * row + 10, 0) + "\" font-size=\"9\">" +
           html_escape(n.kind) + "</text>";
  }
  return svg;
}

std::string client_lanes(const Timeline& t, const RunReport& r) {
  std::string svg;
  for (int c = 0; c < t.clients; ++c) {
    svg += "<text x=\"4\" y=\"" + fixed(t.ops_y + t.lane * c + 10, 0) + "\">client " +
           std::to_string(c) + "</text>";
  }
  // At most 60000 ops are drawn, so a run of hours still gives a page a
  // browser can open; report.json keeps them all.
  const std::size_t limit = 60000;
  const std::size_t first = r.history.size() > limit ? r.history.size() - limit : 0;
  for (std::size_t i = first; i < r.history.size(); ++i) {
    const Operation& op = r.history[i];
    const double w = std::max(1.0, t.px(op.complete_us - op.invoke_us));
    svg += "<rect x=\"" + t.x(op.invoke_us) + "\" y=\"" + fixed(t.ops_y + t.lane * op.client, 0) +
           "\" width=\"" + fixed(w, 1) + "\" height=\"11\" fill=\"" + op_colour(op) + "\"><title>" +
           html_escape(op_title(op)) + "</title></rect>";
  }
  return svg;
}

std::string timeline_svg(const RunReport& r) {
  const Timeline t(r);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fixed(t.width, 0) + "\" height=\"" +
         fixed(t.height, 0) + "\" font-family=\"sans-serif\" font-size=\"11\">" + time_axis(t) +
         leader_lane(t, r) + nemesis_lane(t, r) + client_lanes(t, r) + "</svg>";
}

std::string verdict_rows(const RunReport& r) {
  std::string rows;
  for (const KeyVerdict& v : r.check.verdicts) {
    rows += "<tr><td>" + html_escape(v.key) + "</td><td>" +
            (v.linearizable ? "linearizable"
             : v.gave_up    ? "undecided"
                            : "VIOLATION") +
            "</td><td>" + std::to_string(v.ops_checked) + "</td><td>" + std::to_string(v.pieces) +
            "</td><td>" + std::to_string(v.largest_piece) + "</td><td>" +
            std::to_string(v.configurations) + "</td><td>" + fixed(v.seconds, 3) + "</td><td>" +
            html_escape(v.explanation) + "</td></tr>";
  }
  return rows;
}

std::string planted_rows(const RunReport& r) {
  std::string rows;
  for (const PlantedCheck& p : r.check.planted) {
    rows += "<tr><td>" + html_escape(std::string(plant_name(p.fault.kind))) + "</td><td>" +
            html_escape(p.key) + "</td><td>" + html_escape(p.fault.what) + "</td><td>" +
            (p.caught      ? "caught"
             : p.undecided ? "UNDECIDED"
                           : "MISSED") +
            "</td><td>" + fixed(p.seconds, 3) + "</td><td>" + html_escape(p.verdict) + "</td></tr>";
  }
  return rows;
}

std::string problem_items(const RunReport& r) {
  std::string problems;
  for (const LostWrite& l : r.check.lost_writes)
    problems += "<li>" + html_escape(l.explanation) + "</li>";
  for (const StaleReadProblem& p : r.check.stale_problems)
    problems += "<li>" + html_escape(p.explanation) + "</li>";
  for (const std::string& p : r.log_problems) problems += "<li>" + html_escape(p) + "</li>";
  for (const std::string& e : r.errors) problems += "<li>" + html_escape(e) + "</li>";
  return problems;
}

}  // namespace

std::string timeline_html(const RunReport& r) {
  const std::string problems = problem_items(r);
  return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'\"><title>raft_chaos report</title><style>"
         "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
         ".pass{color:#2a7a2a}.fail{color:#b00020}.scroll{overflow-x:auto;border:1px solid #ddd}"
         ".key span{display:inline-block;width:12px;height:10px;margin:0 4px 0 12px}"
         "</style></head><body><h1>raft_chaos: <span class=\"" +
         std::string(r.passed ? "pass\">PASS" : "fail\">FAIL") + "</span></h1><p>" +
         html_escape(r.summary) + "</p>" +
         (problems.empty() ? "" : "<h2>Problems</h2><ul>" + problems + "</ul>") +
         "<h2>Timeline</h2><p class=\"key\">"
         "<span style=\"background:#4e79a7\"></span>write<span style=\"background:#76b7b2\"></span>"
         "read<span style=\"background:#59a14f\"></span>cas swapped"
         "<span style=\"background:#edc948\"></span>cas 409<span "
         "style=\"background:#b07aa1\"></span>"
         "delete<span style=\"background:#e15759\"></span>"
         "unknown<span style=\"background:#cccccc\"></span>failed (not applied). Leaders are "
         "coloured by rank. Hover for details.</p><div class=\"scroll\">" +
         timeline_svg(r) +
         "</div><h2>Checker, per key</h2><table><tr><th>key</th><th>verdict</th><th>ops</th>"
         "<th>pieces</th><th>largest piece</th><th>configurations</th><th>seconds</th>"
         "<th>explanation</th></tr>" +
         verdict_rows(r) +
         "</table><h2>Self-check: faults planted in this history</h2><table><tr><th>fault</th>"
         "<th>key</th><th>planted</th><th>result</th><th>seconds</th><th>verdict</th></tr>" +
         planted_rows(r) + "</table><details><summary>Configuration</summary><pre>" +
         html_escape(safe_dump(r.config, 1)) + "</pre></details></body></html>\n";
}

namespace {

/// The summary as an indented object, then the history one op per line.
void write_report_json(std::ostream& out, const RunReport& report) {
  std::string summary = safe_dump(report_summary_json(report), 1);
  summary.resize(summary.size() - 2);  // the closing "\n}"
  out << summary << ",\n \"history\": [";
  for (std::size_t i = 0; i < report.history.size(); ++i)
    out << (i == 0 ? "\n  " : ",\n  ") << safe_dump(to_json(report.history[i]));
  out << "\n ]\n}\n";
}

}  // namespace

bool write_report(const std::filesystem::path& dir, const RunReport& report, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    if (error) *error = "cannot create " + dir.string() + ": " + ec.message();
    return false;
  }
  const auto write = [&](const std::filesystem::path& path, const auto& fill) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    fill(out);
    out.close();
    if (!out) {
      if (error) *error = "cannot write " + path.string();
      return false;
    }
    return true;
  };
  return write(dir / "report.json", [&](std::ofstream& out) { write_report_json(out, report); }) &&
         write(dir / "timeline.html", [&](std::ofstream& out) { out << timeline_html(report); });
}

}  // namespace raft::chaos
