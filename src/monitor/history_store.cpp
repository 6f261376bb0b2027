// HistoryStore: the monitor's bounded, persistent history (see history_store.hpp).
#include "monitor/history_store.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string_view>
#include <system_error>
#include <utility>

#include "http/json_views.hpp"

namespace raft::monitor {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "history-";
constexpr std::string_view kSuffix = ".jsonl";

/// Reads the number that starts `text` at `pos`; advances `pos` past it.
std::optional<std::uint64_t> number_at(std::string_view text, std::size_t& pos) {
  std::uint64_t value = 0;
  const char* begin = text.data() + pos;
  const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec != std::errc() || end == begin) return std::nullopt;
  pos += static_cast<std::size_t>(end - begin);
  return value;
}

/// The id and arrival time of a stored line, or nullopt when the line is not
/// one of ours (torn, or written by something else).
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_prefix(std::string_view line) {
  constexpr std::string_view kId = "{\"id\":";
  constexpr std::string_view kAt = ",\"at\":";
  if (line.size() < kId.size() + kAt.size() + 3 || line.substr(0, kId.size()) != kId ||
      line.back() != '}') {
    return std::nullopt;
  }
  std::size_t pos = kId.size();
  const std::optional<std::uint64_t> id = number_at(line, pos);
  if (!id || line.substr(pos, kAt.size()) != kAt) return std::nullopt;
  pos += kAt.size();
  const std::optional<std::uint64_t> at = number_at(line, pos);
  if (!at || (line[pos] != ',' && line[pos] != '}')) return std::nullopt;
  return std::make_pair(*id, *at);
}

std::string segment_name(std::uint64_t first_id) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%012llu", static_cast<unsigned long long>(first_id));
  return std::string(kPrefix) + digits + std::string(kSuffix);
}

}  // namespace

std::string history_line(std::uint64_t id, std::uint64_t at_ms, const nlohmann::json& record) {
  nlohmann::json fields = record.is_object() ? record : nlohmann::json::object();
  fields.erase("id");
  fields.erase("at");
  const std::string body = http::dump_json(fields);  // "{...}" or "{}"
  std::string line = "{\"id\":" + std::to_string(id) + ",\"at\":" + std::to_string(at_ms);
  if (body.size() > 2)
    line += "," + body.substr(1);
  else
    line += "}";
  return line;
}

HistoryStore::HistoryStore(HistoryOptions options) : options_(std::move(options)) {
  if (!options_.dir.empty()) load();
}

HistoryStore::~HistoryStore() { interrupt(); }

void HistoryStore::fail_disk(const std::string& what) {
  if (disk_error_.empty()) disk_error_ = what;
  out_.close();
}

void HistoryStore::load() {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) {
    fail_disk("cannot create " + options_.dir.string() + ": " + ec.message());
    return;
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > kPrefix.size() + kSuffix.size() && name.rfind(kPrefix, 0) == 0 &&
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    fail_disk("cannot list " + options_.dir.string() + ": " + ec.message());
    return;
  }
  std::sort(files.begin(), files.end());  // fixed-width ids: name order is id order
  for (const fs::path& file : files) load_segment(file);
  trim();
}

void HistoryStore::load_segment(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail_disk("cannot read " + path.string());
    return;
  }
  Segment segment{0, path, 0};
  std::string line;
  while (std::getline(in, line)) {
    segment.bytes += line.size() + 1;
    const auto prefix = parse_prefix(line);
    // Ids only grow: anything else is not a record this store wrote in order.
    if (!prefix || prefix->first < next_id_) {
      ++skipped_;
      continue;
    }
    if (segment.first_id == 0) segment.first_id = prefix->first;
    next_id_ = prefix->first + 1;
    bytes_ += line.size() + 1;
    records_.push_back(Record{prefix->first, prefix->second, std::move(line)});
  }
  if (segment.first_id == 0) {
    std::error_code ec;
    fs::remove(path, ec);  // empty or all torn: nothing to keep
    return;
  }
  segments_.push_back(std::move(segment));
}

void HistoryStore::write_line(const Record& record) {
  if (options_.dir.empty() || !disk_error_.empty()) return;
  if (segments_.empty() || segments_.back().bytes >= options_.segment_bytes || !out_.is_open()) {
    out_.close();
    Segment segment{record.id, options_.dir / segment_name(record.id), 0};
    out_.open(segment.path, std::ios::binary | std::ios::app);
    if (!out_) {
      fail_disk("cannot write " + segment.path.string());
      return;
    }
    segments_.push_back(std::move(segment));
  }
  out_ << record.line << '\n';
  segments_.back().bytes += record.line.size() + 1;
}

std::uint64_t HistoryStore::append(const std::vector<nlohmann::json>& records,
                                   std::uint64_t at_ms) {
  std::lock_guard lock(mutex_);
  for (const nlohmann::json& r : records) {
    Record record{next_id_++, at_ms, {}};
    record.line = history_line(record.id, at_ms, r);
    bytes_ += record.line.size() + 1;
    write_line(record);
    records_.push_back(std::move(record));
  }
  if (!records.empty()) {
    if (out_.is_open()) {
      out_.flush();
      if (!out_) fail_disk("cannot write to " + options_.dir.string());
    }
    trim();
    appended_.notify_all();
  }
  return next_id_ - 1;
}

void HistoryStore::trim() {
  while (bytes_ > options_.max_bytes && !records_.empty()) {
    // On disk, whole segments go (the newest one stays, it is being written).
    std::uint64_t keep_from = records_.front().id + 1;
    if (segments_.size() > 1) {
      keep_from = segments_[1].first_id;
      std::error_code ec;
      fs::remove(segments_.front().path, ec);
      segments_.pop_front();
    }
    while (!records_.empty() && records_.front().id < keep_from) {
      bytes_ -= records_.front().line.size() + 1;
      records_.pop_front();
    }
  }
}

HistoryStore::Range HistoryStore::collect(std::size_t from_index, std::size_t limit,
                                          std::optional<std::uint64_t> to_ms) const {
  Range range;
  if (!records_.empty()) {
    range.first_id = records_.front().id;
    range.last_id = records_.back().id;
    range.oldest_at_ms = records_.front().at_ms;
    range.newest_at_ms = records_.back().at_ms;
  }
  std::size_t i = from_index;
  for (; i < records_.size() && range.lines.size() < limit; ++i) {
    if (to_ms && records_[i].at_ms > *to_ms) break;
    range.lines.push_back(records_[i].line);
    range.next_after = records_[i].id;
  }
  range.more = i < records_.size() && !(to_ms && records_[i].at_ms > *to_ms);
  if (range.lines.empty()) {
    range.next_after = from_index == 0 ? 0 : records_[from_index - 1].id;
  }
  return range;
}

HistoryStore::Range HistoryStore::after(std::uint64_t after, std::size_t limit) const {
  std::lock_guard lock(mutex_);
  // Ids are consecutive from the front (trimming removes only the oldest).
  std::size_t from = 0;
  if (!records_.empty() && after >= records_.front().id) {
    from = static_cast<std::size_t>(
        std::min<std::uint64_t>(after - records_.front().id + 1, records_.size()));
  }
  Range range = collect(from, limit, std::nullopt);
  if (range.lines.empty()) range.next_after = std::max(after, range.next_after);
  return range;
}

HistoryStore::Range HistoryStore::since(std::uint64_t from_ms, std::optional<std::uint64_t> to_ms,
                                        std::size_t limit) const {
  std::lock_guard lock(mutex_);
  const auto it = std::lower_bound(records_.begin(), records_.end(), from_ms,
                                   [](const Record& r, std::uint64_t ms) { return r.at_ms < ms; });
  return collect(static_cast<std::size_t>(it - records_.begin()), limit, to_ms);
}

std::vector<std::string> HistoryStore::tail(std::size_t n) const {
  std::lock_guard lock(mutex_);
  const std::size_t from = records_.size() > n ? records_.size() - n : 0;
  std::vector<std::string> lines;
  lines.reserve(records_.size() - from);
  for (std::size_t i = from; i < records_.size(); ++i) lines.push_back(records_[i].line);
  return lines;
}

std::uint64_t HistoryStore::last_id() const {
  std::lock_guard lock(mutex_);
  return next_id_ - 1;
}

std::size_t HistoryStore::size() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

std::size_t HistoryStore::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

bool HistoryStore::wait_after(std::uint64_t after, std::chrono::milliseconds timeout,
                              const std::atomic<bool>* cancel) {
  std::unique_lock lock(mutex_);
  const std::uint64_t interrupts = interrupts_;
  appended_.wait_for(lock, timeout, [&] {
    return next_id_ - 1 > after || interrupts_ != interrupts ||
           (cancel != nullptr && cancel->load());
  });
  return next_id_ - 1 > after;
}

void HistoryStore::interrupt() {
  {
    std::lock_guard lock(mutex_);
    ++interrupts_;
  }
  appended_.notify_all();
}

std::string HistoryStore::disk_error() const {
  std::lock_guard lock(mutex_);
  return disk_error_;
}

std::size_t HistoryStore::skipped_on_load() const {
  std::lock_guard lock(mutex_);
  return skipped_;
}

}  // namespace raft::monitor
