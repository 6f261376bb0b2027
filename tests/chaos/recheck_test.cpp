// A saved report.json is checked again by raft_chaos --check exactly as the
// run checked it: written one op per line, read back op by op.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "chaos/chaos_run.hpp"
#include "chaos/report.hpp"
#include "history_builder.hpp"

namespace raft::chaos {
namespace {

namespace fs = std::filesystem;

class Recheck : public ::testing::Test {
 protected:
  Recheck()
      : dir_(fs::temp_directory_path() / ("raft_chaos_recheck_" + std::to_string(::getpid()))) {
    for (int k = 0; k < 2; ++k) {
      test::GeneratorOptions g;
      g.ops = 3000;
      g.max_pause = 40;
      g.seed = 77 + static_cast<std::uint64_t>(k);
      for (Operation op : test::linearizable_history(g)) {
        op.key = "k" + std::to_string(k);
        op.id += k * g.ops;
        report_.history.push_back(op);
      }
    }
    report_.config = {{"seed", 5}};
    report_.nemesis.push_back({10, 20, "crash", "0 crash: ok", {0}});
  }
  ~Recheck() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  int write_and_recheck() {
    std::string error;
    EXPECT_TRUE(write_report(dir_, report_, &error)) << error;
    return recheck_report(dir_ / "report.json");
  }
  fs::path dir_;
  RunReport report_;
};

TEST_F(Recheck, AGoodHistoryPassesAgain) {
  EXPECT_EQ(write_and_recheck(), kExitPass);
  std::ifstream in(dir_ / "report.json");
  const nlohmann::json doc = nlohmann::json::parse(in);
  ASSERT_EQ(doc["history"].size(), report_.history.size());
  EXPECT_EQ(operation_from_json(doc["history"][4321]).id, report_.history[4321].id);
  EXPECT_EQ(doc["nemesis"][0]["restarted"], nlohmann::json::array({0}));
}

TEST_F(Recheck, AViolationInTheMiddleIsFoundAgain) {
  std::vector<Operation> k1(report_.history.begin() + 3000, report_.history.end());
  std::mt19937_64 rng(3);
  ASSERT_TRUE(plant_fault(k1, PlantKind::FlippedCas, rng));
  std::copy(k1.begin(), k1.end(), report_.history.begin() + 3000);
  EXPECT_EQ(write_and_recheck(), kExitViolation);
}

TEST_F(Recheck, ALostWriteIsFoundAgain) {
  // The key ends with its first acknowledged value: every later one is lost.
  const auto first_write =
      std::find_if(report_.history.begin(), report_.history.end(), [](const Operation& op) {
        return op.key == "k0" && op.kind == OpKind::Write && op.outcome == Outcome::Ok;
      });
  ASSERT_NE(first_write, report_.history.end());
  report_.final_reads["k0"] = FinalRead{first_write->value, 0};
  EXPECT_EQ(write_and_recheck(), kExitViolation);
  report_.final_reads.clear();
  EXPECT_EQ(write_and_recheck(), kExitPass);
}

TEST_F(Recheck, AFileThatIsNoReportCannotBeChecked) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "other.json") << R"({"passed": true})";
  EXPECT_EQ(recheck_report(dir_ / "other.json"), kExitCannotRun);
  EXPECT_EQ(recheck_report(dir_ / "missing.json"), kExitCannotRun);
}

}  // namespace
}  // namespace raft::chaos
