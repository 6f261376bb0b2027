#include "chaos/history.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace raft::chaos {

std::string_view kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::Read: return "read";
    case OpKind::Write: return "write";
    case OpKind::Cas: return "cas";
    case OpKind::Delete: return "delete";
  }
  return "?";
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::Ok: return "ok";
    case Outcome::Fail: return "fail";
    case Outcome::Unknown: return "unknown";
  }
  return "?";
}

namespace {

constexpr std::array kOpKinds = {OpKind::Read, OpKind::Write, OpKind::Cas, OpKind::Delete};
constexpr std::array kOutcomes = {Outcome::Ok, Outcome::Fail, Outcome::Unknown};

/// The one of `values` that `name_of` calls `text`, the inverse of the
/// names above; throws invalid_argument naming `what` for any other text.
template <typename Enum, std::size_t N>
Enum from_name(const std::string& text, const std::array<Enum, N>& values,
               std::string_view (*name_of)(Enum), const char* what) {
  for (const Enum value : values) {
    if (name_of(value) == text) return value;
  }
  throw std::invalid_argument(std::string("unknown ") + what + " '" + text + "'");
}

}  // namespace

nlohmann::json to_json(const Operation& op) {
  nlohmann::json j = {{"id", op.id},
                      {"client", op.client},
                      {"key", op.key},
                      {"kind", kind_name(op.kind)},
                      {"outcome", outcome_name(op.outcome)},
                      {"invoke_us", op.invoke_us},
                      {"complete_us", op.complete_us},
                      {"attempts", op.attempts},
                      {"node", op.node}};
  if (op.kind == OpKind::Write || op.kind == OpKind::Cas) j["value"] = op.value;
  if (op.kind == OpKind::Cas) j["expected"] = op.expected;
  if (op.kind == OpKind::Read && op.outcome == Outcome::Ok) {
    j["read"] = op.read_value ? nlohmann::json(*op.read_value) : nlohmann::json(nullptr);
  }
  if (op.kind == OpKind::Cas && op.outcome == Outcome::Ok) j["swapped"] = op.cas_swapped;
  if (op.kind == OpKind::Delete && op.delete_found) j["found"] = *op.delete_found;
  if (op.stale) j["stale"] = true;
  if (op.log_index > 0) j["index"] = op.log_index;
  if (op.applied_index > 0) j["applied"] = op.applied_index;
  if (!op.note.empty()) j["note"] = op.note;
  return j;
}

Operation operation_from_json(const nlohmann::json& j) {
  Operation op;
  op.id = j.at("id").get<int>();
  op.client = j.value("client", 0);
  op.key = j.at("key").get<std::string>();
  op.kind = from_name(j.at("kind").get<std::string>(), kOpKinds, kind_name, "operation kind");
  op.outcome = from_name(j.at("outcome").get<std::string>(), kOutcomes, outcome_name, "outcome");
  op.value = j.value("value", std::string());
  op.expected = j.value("expected", std::string());
  if (auto r = j.find("read"); r != j.end() && r->is_string())
    op.read_value = r->get<std::string>();
  op.cas_swapped = j.value("swapped", false);
  if (auto f = j.find("found"); op.kind == OpKind::Delete && f != j.end() && f->is_boolean())
    op.delete_found = f->get<bool>();
  op.invoke_us = j.at("invoke_us").get<std::int64_t>();
  op.complete_us = j.at("complete_us").get<std::int64_t>();
  op.attempts = j.value("attempts", 0);
  op.node = j.value("node", -1);
  op.note = j.value("note", std::string());
  op.stale = j.value("stale", false);
  op.log_index = j.value("index", std::uint64_t{0});
  op.applied_index = j.value("applied", std::uint64_t{0});
  return op;
}

int HistoryRecorder::next_id() {
  std::lock_guard lock(mutex_);
  return next_id_++;
}

void HistoryRecorder::add(Operation op) {
  std::lock_guard lock(mutex_);
  ops_.push_back(std::move(op));
}

std::size_t HistoryRecorder::size() const {
  std::lock_guard lock(mutex_);
  return ops_.size();
}

namespace {

void sort_by_id(std::vector<Operation>& ops) {
  std::sort(ops.begin(), ops.end(),
            [](const Operation& a, const Operation& b) { return a.id < b.id; });
}

}  // namespace

std::vector<Operation> HistoryRecorder::snapshot() const {
  std::vector<Operation> out;
  {
    std::lock_guard lock(mutex_);
    out = ops_;
  }
  sort_by_id(out);
  return out;
}

std::vector<Operation> HistoryRecorder::take() {
  std::vector<Operation> out;
  {
    std::lock_guard lock(mutex_);
    out.swap(ops_);
  }
  sort_by_id(out);
  return out;
}

}  // namespace raft::chaos
