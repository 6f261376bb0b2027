// The report escapes what it shows and keeps the whole history.
#include "chaos/report.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace raft::chaos {
namespace {

TEST(Report, TimelineEscapesEverythingFromTheRun) {
  RunReport r;
  r.duration_us = 3'000'000;
  Operation op;
  op.key = "<script>alert(1)</script>";
  op.kind = OpKind::Write;
  op.value = "\"'&<>";
  op.outcome = Outcome::Ok;
  op.complete_us = 1000;
  r.history.push_back(op);
  r.nemesis.push_back({0, 100, "pause", "<img src=x onerror=alert(1)>"});
  r.leaders.push_back({0, 1, 2});
  r.check.verdicts.push_back(check_key(op.key, r.history));
  r.summary = "<b>bold</b>";
  const std::string page = timeline_html(r);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.find("&quot;&#39;&amp;&lt;&gt;"), std::string::npos);
}

TEST(Report, JsonKeepsHistoryAndVerdict) {
  RunReport r;
  Operation op;
  op.kind = OpKind::Read;
  op.outcome = Outcome::Ok;
  op.key = "k";
  r.history.push_back(op);
  r.passed = true;
  const nlohmann::json j = report_json(r);
  EXPECT_TRUE(j["passed"].get<bool>());
  ASSERT_EQ(j["history"].size(), 1u);
  EXPECT_EQ(operation_from_json(j["history"][0]).key, "k");
  EXPECT_EQ(j["op_counts"]["read_ok"], 1);
}

TEST(Report, EveryKindAndOutcomeReadsBackAndOthersAreRefused) {
  for (const OpKind kind : {OpKind::Read, OpKind::Write, OpKind::Cas, OpKind::Delete}) {
    for (const Outcome outcome : {Outcome::Ok, Outcome::Fail, Outcome::Unknown}) {
      Operation op;
      op.kind = kind;
      op.outcome = outcome;
      const Operation back = operation_from_json(to_json(op));
      EXPECT_EQ(back.kind, kind) << kind_name(kind);
      EXPECT_EQ(back.outcome, outcome) << outcome_name(outcome);
    }
  }
  Operation op;
  nlohmann::json j = to_json(op);
  j["kind"] = "append";
  EXPECT_THROW(operation_from_json(j), std::invalid_argument);
  j = to_json(op);
  j["outcome"] = "maybe";
  EXPECT_THROW(operation_from_json(j), std::invalid_argument);
}

TEST(Report, RestartWindowsComeFromTheNemesis) {
  const std::vector<NemesisEvent> nemesis = {
      {0, 10, "pause", "", {}}, {20, 30, "crash", "", {2}}, {40, 50, "kill9", "", {0, 1, 2}}};
  const std::vector<RestartWindow> w = restart_windows(nemesis);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].node, 2);
  EXPECT_EQ(w[0].start_us, 20);
  EXPECT_EQ(w[0].end_us, 30);
  EXPECT_EQ(w[3].node, 2);
  EXPECT_EQ(w[3].start_us, 40);
}

}  // namespace
}  // namespace raft::chaos
