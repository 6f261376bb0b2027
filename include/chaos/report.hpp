#pragma once
/// The report of a chaos run: everything it did and saw, as JSON
/// (report.json) and as a self-contained HTML page with an SVG timeline of
/// operations, nemesis actions and leaders (timeline.html). Every text that
/// came from the run is escaped. Pure functions plus one that writes files.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/history.hpp"
#include "chaos/run_check.hpp"
#include "chaos/stale_reads.hpp"

namespace raft::chaos {

/// One fault the nemesis injected, from when it started until it was undone
/// (end_us == start_us for instantaneous ones such as a leadership transfer).
struct NemesisEvent {
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
  std::string kind;    ///< pause, crash, partition, transfer, kill9, ...
  std::string detail;  ///< for people: which ranks, what the nodes answered
  /// Ranks whose state machine may have been rebuilt from their snapshot
  /// meanwhile (crashed and restarted, or the whole job relaunched).
  std::vector<int> restarted = {};
};

/// A change of the leader as sampled from the nodes' /status (-1: none known).
struct LeaderSample {
  std::int64_t time_us = 0;
  int rank = -1;
  std::uint64_t term = 0;
};

struct RunReport {
  nlohmann::json config = nlohmann::json::object();
  std::int64_t duration_us = 0;
  std::vector<Operation> history;
  std::vector<NemesisEvent> nemesis;
  std::vector<LeaderSample> leaders;
  std::map<std::string, FinalRead> final_reads;
  RunCheck check;
  std::vector<std::string> log_problems;  ///< committed indexes the nodes disagree on
  std::size_t log_indexes_compared = 0;   ///< (index, node pair) comparisons made
  std::vector<std::string> errors;        ///< the run itself went wrong (cluster never up, ...)
  /// The membership nemesis's changes: asked, done, refused, not_done, adds,
  /// removes, leader_removes (empty without it).
  nlohmann::json membership = nlohmann::json::object();
  bool passed = false;
  std::string summary;  ///< one line
};

/// The windows in which the nemesis may have restarted each node.
std::vector<RestartWindow> restart_windows(const std::vector<NemesisEvent>& nemesis);

std::string html_escape(std::string_view text);
/// Everything but the history.
nlohmann::json report_summary_json(const RunReport& report);
/// The summary with the history.
nlohmann::json report_json(const RunReport& report);
std::string timeline_html(const RunReport& report);
/// Writes <dir>/report.json (the history one op per line, written as it goes,
/// so a long run needs no second copy of it in memory) and
/// <dir>/timeline.html. False and `error` set on failure.
bool write_report(const std::filesystem::path& dir, const RunReport& report, std::string* error);

}  // namespace raft::chaos
