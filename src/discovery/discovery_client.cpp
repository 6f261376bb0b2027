#include "discovery/discovery_client.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "auth/auth_token.hpp"

namespace raft::discovery {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// The first retry comes soon (discovery is often just starting up), later
/// ones back off to Options::backoff_max_ms.
constexpr int kBackoffFirstMs = 100;
/// Deregistration at shutdown must not hold the node up for long.
constexpr int kDeregisterReadTimeoutMs = 500;

std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "cannot connect";
    case httplib::Error::ConnectionTimeout: return "connect timed out";
    case httplib::Error::Read: return "no answer in time";
    case httplib::Error::Write: return "cannot send the request";
    case httplib::Error::Canceled: return "request canceled";
    default: return "request failed (" + httplib::to_string(error) + ")";
  }
}

/// An id from a /state answer: a string of digits (or, leniently, a number).
std::optional<NodeId> node_id_from(const nlohmann::json& value) {
  if (value.is_string()) return parse_node_id(value.get_ref<const std::string&>());
  if (value.is_number_unsigned()) return parse_node_id(std::to_string(value.get<std::uint64_t>()));
  return std::nullopt;
}

/// The "error" sentence of a JSON failure answer, if there is one.
std::string error_field(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()) {
    return ": " + parsed["error"].get<std::string>();
  }
  return "";
}

}  // namespace

std::optional<std::string> DiscoveryClient::Options::validate() const {
  std::string error;
  if (!parse_http_url(url, &error)) return error;
  if (rank < 0) return "the rank must not be negative";
  if (auto why = address_error(advertise_address)) {
    return "bad advertise address '" + advertise_address + "': " + *why;
  }
  if (!auth_token.empty()) {
    if (auto why = auth::token_error(auth_token)) return *why;
  }
  if (poll_interval_s < 1 || poll_interval_s > 3600) {
    return "the discovery poll interval must be 1 to 3600 seconds";
  }
  if (heartbeat_interval_ms < 50 || heartbeat_interval_ms > 60000) {
    return "the discovery heartbeat interval must be 50 to 60000 ms";
  }
  if (leader_check_interval_ms < 10 || leader_check_interval_ms > heartbeat_interval_ms) {
    return "the leader check interval must be 10 ms to the heartbeat interval";
  }
  if (connect_timeout_ms < 1 || read_timeout_ms < 1 || backoff_max_ms < kBackoffFirstMs) {
    return "the discovery timeouts must be positive and the back-off at least 100 ms";
  }
  return std::nullopt;
}

namespace {
HttpUrl checked_url(const DiscoveryClient::Options& options) {
  if (auto why = options.validate()) throw std::invalid_argument(*why);
  return *parse_http_url(options.url, nullptr);
}
}  // namespace

DiscoveryClient::DiscoveryClient(Options options, std::shared_ptr<spdlog::logger> logger)
    : options_(std::move(options)),
      url_(checked_url(options_)),
      logger_(logger ? std::move(logger) : spdlog::default_logger()) {}

DiscoveryClient::~DiscoveryClient() { stop(); }

void DiscoveryClient::start(std::function<LeaderInfo()> leader_source) {
  std::lock_guard lock(mutex_);
  if (started_) throw std::logic_error("DiscoveryClient::start called twice");
  started_ = true;
  leader_source_ = std::move(leader_source);
  thread_ = std::thread([this] { run(); });
}

void DiscoveryClient::notify_leadership_changed() {
  {
    std::lock_guard lock(mutex_);
    wake_requested_ = true;
  }
  wake_cv_.notify_all();
}

void DiscoveryClient::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
    if (!thread_.joinable()) return;  // never started, or stopped already
    // A request in flight would otherwise hold shutdown up to its read timeout.
    if (active_http_ != nullptr) active_http_->stop();
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();

  // Deregister only after the thread is gone, so no late heartbeat can
  // register the node again; skipped when discovery is known to be down.
  bool deregister = false;
  {
    std::lock_guard lock(mutex_);
    deregister = registered_ever_ && connected_;
    connected_ = false;
  }
  if (!deregister) return;
  httplib::Client http(url_.host, url_.port);
  configure(http, kDeregisterReadTimeoutMs);
  nlohmann::json body = {{"node_id", std::to_string(options_.rank)}, {"address", nullptr}};
  std::string error;
  if (post_json(http, "/register", body.dump(), &error)) {
    logger_->info("deregistered from discovery at {}", options_.url);
  } else {
    logger_->warn("could not deregister from discovery: {}", error);
  }
}

bool DiscoveryClient::sync_now(std::string* error) {
  httplib::Client http(url_.host, url_.port);
  configure(http, options_.read_timeout_ms);
  std::string why;
  bool ok = read_state(http, &why);
  if (!ok) {
    std::lock_guard lock(mutex_);
    last_error_ = why;
  }
  if (error != nullptr) *error = why;
  return ok;
}

std::map<NodeId, std::string> DiscoveryClient::known_nodes() const {
  std::lock_guard lock(mutex_);
  return known_nodes_;
}

std::optional<NodeId> DiscoveryClient::discovery_leader() const {
  std::lock_guard lock(mutex_);
  return leader_;
}

bool DiscoveryClient::connected() const {
  std::lock_guard lock(mutex_);
  return connected_;
}

std::string DiscoveryClient::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

bool DiscoveryClient::stop_requested() const {
  std::lock_guard lock(mutex_);
  return stop_requested_;
}

void DiscoveryClient::configure(httplib::Client& http, int read_timeout_ms) const {
  http.set_connection_timeout(milliseconds(options_.connect_timeout_ms));
  http.set_read_timeout(milliseconds(read_timeout_ms));
  http.set_write_timeout(milliseconds(read_timeout_ms));
  http.set_keep_alive(false);
}

bool DiscoveryClient::post_json(httplib::Client& http, const std::string& path,
                                const std::string& body, std::string* error) {
  httplib::Headers headers;
  if (!options_.auth_token.empty()) {
    headers.emplace("Authorization", auth::bearer(options_.auth_token));
  }
  auto res = http.Post(path, headers, body, "application/json");
  if (!res) {
    *error = "discovery at " + options_.url + " unreachable: " + describe(res.error());
    return false;
  }
  if (res->status != 200) {
    *error = "discovery answered HTTP " + std::to_string(res->status) + " to POST " + path +
             error_field(res->body);
    return false;
  }
  return true;
}

bool DiscoveryClient::read_state(httplib::Client& http, std::string* error) {
  auto res = http.Get("/state");
  if (!res) {
    *error = "discovery at " + options_.url + " unreachable: " + describe(res.error());
    return false;
  }
  if (res->status != 200) {
    *error = "discovery answered HTTP " + std::to_string(res->status) + " to GET /state" +
             error_field(res->body);
    return false;
  }
  auto doc = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("nodes") || !doc["nodes"].is_object()) {
    *error = "discovery answered GET /state without a node list";
    return false;
  }
  StateView view;
  int skipped = 0;
  for (const auto& [key, value] : doc["nodes"].items()) {
    auto id = parse_node_id(key);
    if (!id || !value.is_string() || address_error(value.get_ref<const std::string&>())) {
      ++skipped;  // one bad entry must not cost us the others
      continue;
    }
    view.nodes[*id] = value.get<std::string>();
  }
  if (doc.contains("leader")) view.leader = node_id_from(doc["leader"]);
  if (skipped > 0) logger_->debug("discovery listed {} malformed node entries; skipped", skipped);

  std::lock_guard lock(mutex_);
  if (view.nodes != known_nodes_) {
    logger_->info("known nodes from discovery: {} node(s)", view.nodes.size());
  }
  known_nodes_ = std::move(view.nodes);
  leader_ = view.leader;
  return true;
}

void DiscoveryClient::on_success() {
  std::lock_guard lock(mutex_);
  if (!connected_) {
    if (outage_logged_) {
      logger_->info("discovery at {} reachable again; registered as node {} at {}", options_.url,
                    options_.rank, options_.advertise_address);
    } else {
      logger_->info("registered with discovery at {} as node {} at {}", options_.url, options_.rank,
                    options_.advertise_address);
    }
  }
  connected_ = true;
  registered_ever_ = true;
  outage_logged_ = false;
  last_error_.clear();
}

void DiscoveryClient::on_failure(const std::string& error) {
  std::lock_guard lock(mutex_);
  if (!outage_logged_) {
    logger_->warn("{}; retrying in the background (the node works without discovery)", error);
    outage_logged_ = true;
  }
  connected_ = false;
  last_error_ = error;
}

/// What the background thread keeps from one round to the next.
struct DiscoveryClient::Round {
  std::string register_body;
  Clock::time_point next_heartbeat;
  Clock::time_point next_poll;
  bool up = false;
  int backoff_ms = 0;
  /// The leadership last reported successfully; a change is reported at once.
  bool reported_leader = false;
  Term reported_term = 0;
};

void DiscoveryClient::run() {
  httplib::Client http(url_.host, url_.port);
  configure(http, options_.read_timeout_ms);
  {
    std::lock_guard lock(mutex_);
    active_http_ = &http;
  }
  Round round;
  round.register_body = nlohmann::json{{"node_id", std::to_string(options_.rank)},
                                       {"address", options_.advertise_address}}
                            .dump();
  round.next_heartbeat = Clock::now();
  round.next_poll = round.next_heartbeat;
  while (!stop_requested()) {
    std::string error;
    if (!exchange(http, round, &error)) {
      if (stop_requested()) break;  // aborted by stop(): not an outage
      round.up = false;
      round.backoff_ms = round.backoff_ms == 0
                             ? kBackoffFirstMs
                             : std::min(round.backoff_ms * 2, options_.backoff_max_ms);
      round.next_heartbeat = Clock::now() + milliseconds(round.backoff_ms);
      on_failure(error);
    }
    Clock::time_point deadline = std::min(
        round.next_heartbeat, Clock::now() + milliseconds(options_.leader_check_interval_ms));
    if (round.up) deadline = std::min(deadline, round.next_poll);
    std::unique_lock lock(mutex_);
    wake_cv_.wait_until(lock, deadline, [&] { return stop_requested_ || wake_requested_; });
    wake_requested_ = false;
  }
  std::lock_guard lock(mutex_);
  active_http_ = nullptr;
}

bool DiscoveryClient::exchange(httplib::Client& http, Round& round, std::string* error) {
  const Clock::time_point now = Clock::now();
  const LeaderInfo info = read_leader();
  if (!info.is_leader) round.reported_leader = false;
  const bool leader_news =
      info.is_leader && !(round.reported_leader && round.reported_term == info.term);
  if (now >= round.next_heartbeat) {
    if (!post_json(http, "/register", round.register_body, error)) return false;
    if (info.is_leader && !report_leader(http, round, info.term, error)) return false;
    if (!round.up) round.next_poll = now;  // read the list at once after (re)connecting
    round.up = true;
    round.backoff_ms = 0;
    round.next_heartbeat = now + milliseconds(options_.heartbeat_interval_ms);
    on_success();
  } else if (leader_news && round.up) {
    if (!report_leader(http, round, info.term, error)) return false;
  }
  if (round.up && now >= round.next_poll) {
    if (!read_state(http, error)) return false;
    round.next_poll = now + milliseconds(std::chrono::seconds(options_.poll_interval_s));
  }
  return true;
}

bool DiscoveryClient::report_leader(httplib::Client& http, Round& round, Term term,
                                    std::string* error) {
  const std::string body =
      nlohmann::json{{"node_id", std::to_string(options_.rank)}, {"term", term}}.dump();
  if (!post_json(http, "/set_leader", body, error)) return false;
  round.reported_leader = true;
  round.reported_term = term;
  return true;
}

LeaderInfo DiscoveryClient::read_leader() const {
  if (!leader_source_) return {};
  try {
    return leader_source_();
  } catch (const std::exception& e) {
    logger_->error("discovery: leader source failed: {}", e.what());
    return {};
  }
}

}  // namespace raft::discovery
