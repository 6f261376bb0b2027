#pragma once
/// Helpers shared by the storage tests: a self-removing temporary directory,
/// entry builders, state comparison, raw file surgery.

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raft/storage.hpp"
#include "raft/types.hpp"

namespace raft::storage::testing {

/// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "raft-storage-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline Entry make_entry(Index index, Term term, std::size_t data_bytes = 16) {
  Entry e;
  e.index = index;
  e.term = term;
  e.type = index % 7 == 0 ? EntryType::Noop : EntryType::Command;
  e.data.reserve(data_bytes);
  for (std::size_t i = 0; i < data_bytes; ++i) {
    e.data.push_back(static_cast<char>('a' + (index * 31 + term * 7 + i) % 26));
  }
  return e;
}

inline std::vector<Entry> make_entries(Index first, std::size_t count, Term term,
                                       std::size_t data_bytes = 16) {
  std::vector<Entry> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(make_entry(first + i, term, data_bytes));
  return out;
}

inline Snapshot make_snapshot(Index index, Term term, const std::string& data) {
  return Snapshot{SnapshotMeta{index, term}, std::make_shared<const std::string>(data)};
}

/// gtest-friendly comparison of two recovered states.
inline ::testing::AssertionResult same_state(const RecoveredState& want,
                                             const RecoveredState& got) {
  if (!(want.hard_state == got.hard_state)) {
    return ::testing::AssertionFailure()
           << "hard state differs: want term " << want.hard_state.term << " vote "
           << want.hard_state.voted_for << " commit " << want.hard_state.commit << " conf@"
           << want.hard_state.conf.index << ", got term " << got.hard_state.term << " vote "
           << got.hard_state.voted_for << " commit " << got.hard_state.commit << " conf@"
           << got.hard_state.conf.index;
  }
  if (want.snapshot.has_value() != got.snapshot.has_value()) {
    return ::testing::AssertionFailure()
           << "snapshot presence differs: want " << want.snapshot.has_value();
  }
  if (want.snapshot) {
    if (!(want.snapshot->meta == got.snapshot->meta)) {
      return ::testing::AssertionFailure()
             << "snapshot meta differs: want " << want.snapshot->meta.last_index << "/"
             << want.snapshot->meta.last_term << ", got " << got.snapshot->meta.last_index << "/"
             << got.snapshot->meta.last_term;
    }
    if (*want.snapshot->data != *got.snapshot->data) {
      return ::testing::AssertionFailure() << "snapshot data differs";
    }
  }
  if (want.entries.size() != got.entries.size()) {
    return ::testing::AssertionFailure()
           << "entry count differs: want " << want.entries.size() << ", got " << got.entries.size();
  }
  for (std::size_t i = 0; i < want.entries.size(); ++i) {
    if (!(want.entries[i] == got.entries[i])) {
      return ::testing::AssertionFailure()
             << "entry " << i << " differs: want index " << want.entries[i].index << " term "
             << want.entries[i].term << ", got index " << got.entries[i].index << " term "
             << got.entries[i].term;
    }
  }
  return ::testing::AssertionSuccess();
}

inline std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_all(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

/// Sorted file names of a directory whose name starts with `prefix`.
inline std::vector<std::string> files_with_prefix(const std::filesystem::path& dir,
                                                  const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace raft::storage::testing
