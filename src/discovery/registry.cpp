#include "discovery/registry.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

#include "discovery/address.hpp"
#include "util/strict_json.hpp"

namespace raft::discovery {
namespace {

constexpr std::string_view kFormatName = "raft_discovery_state";
constexpr int kFormatVersion = 1;

std::string id_text(NodeId id) { return std::to_string(id); }

/// Owns a file descriptor; closes it on every path out of save().
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  /// Closes now, so that a close error (deferred write error) is reported.
  int release_and_close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

[[noreturn]] void throw_file_error(const std::filesystem::path& path, std::string_view what,
                                   int error_number) {
  throw RegistryError("discovery state file " + path.string() + ": " + std::string(what) + ": " +
                      std::strerror(error_number));
}

RegistryError corrupt_file(const std::filesystem::path& path, const std::string& why) {
  return RegistryError("discovery state file " + path.string() + " is corrupt: " + why +
                       " (repair or delete it, or start with --reset)");
}

/// The state file's text (at most kStateFileBytesMax bytes); nullopt when
/// there is no file yet. Throws RegistryError.
std::optional<std::string> read_state_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) throw_file_error(path, "cannot access", ec.value());
    return std::nullopt;
  }
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw_file_error(path, "cannot read", ec.value());
  if (size > kStateFileBytesMax) {
    throw corrupt_file(path, "it is larger than " + std::to_string(kStateFileBytesMax) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_file_error(path, "cannot open", errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw_file_error(path, "cannot read", errno);
  return text.str();
}

/// A node id from JSON: a string of digits or a non-negative integer.
std::optional<NodeId> node_id_from_json(const nlohmann::json& value) {
  if (value.is_string()) return parse_node_id(value.get_ref<const std::string&>());
  if (value.is_number_unsigned()) {
    auto number = value.get<std::uint64_t>();
    if (number > static_cast<std::uint64_t>(std::numeric_limits<NodeId>::max())) {
      return std::nullopt;
    }
    return static_cast<NodeId>(number);
  }
  if (value.is_number_integer()) {
    auto number = value.get<std::int64_t>();
    if (number < 0 || number > std::numeric_limits<NodeId>::max()) return std::nullopt;
    return static_cast<NodeId>(number);
  }
  return std::nullopt;
}

/// Parses a request body into a JSON object; nullopt and one sentence otherwise.
std::optional<nlohmann::json> parse_object(std::string_view body, std::string* error) {
  std::optional<nlohmann::json> parsed = util::parse_strict(body, error);
  if (!parsed) return std::nullopt;
  if (!parsed->is_object()) {
    *error = "the request body must be a JSON object";
    return std::nullopt;
  }
  return std::move(*parsed);
}

std::optional<NodeId> required_node_id(const nlohmann::json& object, std::string* error) {
  auto it = object.find("node_id");
  if (it == object.end()) {
    *error = "missing field \"node_id\"";
    return std::nullopt;
  }
  auto id = node_id_from_json(*it);
  if (!id) {
    *error = "\"node_id\" must be a non-negative integer, as a number or a string like \"0\"";
  }
  return id;
}

const char* outcome_name(Registry::RegisterOutcome outcome) {
  switch (outcome) {
    case Registry::RegisterOutcome::Added: return "registered";
    case Registry::RegisterOutcome::Moved: return "address changed";
    case Registry::RegisterOutcome::Heartbeat: return "heartbeat";
    case Registry::RegisterOutcome::Removed: return "deregistered";
    case Registry::RegisterOutcome::NotRegistered: return "not registered";
  }
  return "?";
}

}  // namespace

Json error_body(std::string_view why) {
  Json body;
  body["ok"] = false;
  body["error"] = std::string(why);
  return body;
}

std::optional<RegisterRequest> parse_register_request(std::string_view body, std::string* error) {
  auto object = parse_object(body, error);
  if (!object) return std::nullopt;
  auto id = required_node_id(*object, error);
  if (!id) return std::nullopt;
  RegisterRequest request;
  request.node_id = *id;
  auto it = object->find("address");
  if (it == object->end()) {
    *error = "missing field \"address\" (use null to deregister)";
    return std::nullopt;
  }
  if (it->is_null()) return request;
  if (!it->is_string()) {
    *error = "\"address\" must be a \"host:port\" string, or null to deregister";
    return std::nullopt;
  }
  const auto& address = it->get_ref<const std::string&>();
  if (auto why = address_error(address)) {
    *error = "\"address\": " + *why;
    return std::nullopt;
  }
  request.address = address;
  return request;
}

std::optional<SetLeaderRequest> parse_set_leader_request(std::string_view body,
                                                         std::string* error) {
  auto object = parse_object(body, error);
  if (!object) return std::nullopt;
  auto id = required_node_id(*object, error);
  if (!id) return std::nullopt;
  auto it = object->find("term");
  if (it == object->end()) {
    *error = "missing field \"term\"";
    return std::nullopt;
  }
  // Raft terms start at 1: a leader never exists in term 0.
  bool positive = (it->is_number_unsigned() && it->get<std::uint64_t>() > 0) ||
                  (it->is_number_integer() && it->get<std::int64_t>() > 0);
  if (!positive) {
    *error = "\"term\" must be a positive integer";
    return std::nullopt;
  }
  return SetLeaderRequest{*id, it->get<std::uint64_t>()};
}

Registry::Registry(Options options) : options_(std::move(options)) {}

void Registry::load() {
  std::lock_guard lock(mutex_);
  const auto& path = options_.state_file;
  state_ = State{};
  if (path.empty()) return;

  std::filesystem::path tmp = path;
  tmp += ".tmp";
  std::error_code ec;
  if (std::filesystem::remove(tmp, ec) && options_.logger) {
    options_.logger->warn("removed {} left over by an interrupted save", tmp.string());
  }
  const std::optional<std::string> text = read_state_file(path);
  if (!text) {
    if (options_.logger) {
      options_.logger->info("no state file {} yet: starting with an empty registry", path.string());
    }
    return;
  }
  state_ = parse_state(*text, path);
  if (options_.logger) {
    options_.logger->info("loaded {} node(s) from {}; leader {} (term {})", state_.members.size(),
                          path.string(), state_.leader ? id_text(*state_.leader) : "none",
                          state_.leader_term);
  }
}

Registry::State Registry::parse_state(const std::string& text, const std::filesystem::path& path) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw corrupt_file(path, "not valid JSON (error at byte " + std::to_string(e.byte) + ")");
  }
  if (!doc.is_object()) throw corrupt_file(path, "not a JSON object");
  auto format = doc.find("format");
  if (format == doc.end() || !format->is_string() ||
      format->get_ref<const std::string&>() != kFormatName)
    throw corrupt_file(path, "not a discovery state file");
  auto version = doc.find("version");
  if (version == doc.end() || *version != kFormatVersion) {
    throw corrupt_file(path, "unknown format version (this build reads version " +
                                 std::to_string(kFormatVersion) + ")");
  }
  auto nodes = doc.find("nodes");
  if (nodes == doc.end() || !nodes->is_object()) {
    throw corrupt_file(path, "\"nodes\" is not an object");
  }
  State loaded;
  for (const auto& [key, value] : nodes->items()) {
    auto id = parse_node_id(key);
    if (!id) throw corrupt_file(path, "bad node id \"" + key + "\"");
    if (!value.is_string() || address_error(value.get_ref<const std::string&>())) {
      throw corrupt_file(path, "bad address for node " + key);
    }
    if (loaded.members.size() >= kMembersMax) {
      throw corrupt_file(path, "it lists more than " + std::to_string(kMembersMax) + " nodes");
    }
    loaded.members[*id] = Member{value.get<std::string>(), std::nullopt, false};
  }
  auto leader = doc.find("leader");
  if (leader == doc.end()) throw corrupt_file(path, "\"leader\" is missing");
  if (!leader->is_null()) {
    auto id = node_id_from_json(*leader);
    if (!id) throw corrupt_file(path, "bad leader id");
    loaded.leader = *id;
  }
  auto term = doc.find("leader_term");
  if (term == doc.end() || !term->is_number_unsigned()) {
    throw corrupt_file(path, "\"leader_term\" is not a non-negative integer");
  }
  loaded.leader_term = term->get<Term>();
  return loaded;
}

void Registry::save(const State& next) const {
  const auto& path = options_.state_file;
  if (path.empty()) return;
  Json doc;
  doc["format"] = kFormatName;
  doc["version"] = kFormatVersion;
  Json nodes = Json::object();
  for (const auto& [id, member] : next.members) nodes[id_text(id)] = member.address;
  doc["nodes"] = std::move(nodes);
  doc["leader"] = next.leader ? Json(id_text(*next.leader)) : Json(nullptr);
  doc["leader_term"] = next.leader_term;
  std::string text = doc.dump(2) + "\n";

  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) throw_file_error(tmp, "cannot create", errno);
    auto fail = [&](std::string_view what) {
      int saved = errno;
      ::unlink(tmp.c_str());
      throw_file_error(tmp, what, saved);
    };
    std::size_t written = 0;
    while (written < text.size()) {
      ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("write failed");
      written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) fail("fsync failed");
    if (fd.release_and_close() != 0) fail("close failed");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    throw_file_error(path, "cannot rename into place", saved);
  }
  // The rename is durable only once the directory entry is.
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) throw_file_error(dir, "cannot open directory", errno);
  if (::fsync(dir_fd.get()) != 0) throw_file_error(dir, "directory fsync failed", errno);
}

void Registry::reset() {
  std::lock_guard lock(mutex_);
  State next;
  save(next);
  state_ = std::move(next);
  if (options_.logger) options_.logger->info("registry reset: all nodes and the leader forgotten");
}

Registry::RegisterOutcome Registry::register_node(NodeId id, const std::string& address,
                                                  TimeMs now_ms) {
  std::lock_guard lock(mutex_);
  auto it = state_.members.find(id);
  if (it != state_.members.end() && it->second.address == address) {
    // The heartbeat: memory only, no save (it comes from every node every second).
    Member& member = it->second;
    if (member.silence_logged && options_.logger) {
      options_.logger->info("node {} is alive again at {}", id, address);
    }
    member.last_seen_ms = now_ms;
    member.silence_logged = false;
    return RegisterOutcome::Heartbeat;
  }
  if (it == state_.members.end() && state_.members.size() >= kMembersMax) {
    throw std::length_error("the registry is full (at most " + std::to_string(kMembersMax) +
                            " nodes)");
  }
  // Changed in place and put back if the save fails (a copy of the whole
  // registry per registration would cost O(members) for nothing).
  const bool added = it == state_.members.end();
  const Member old_member = added ? Member{} : it->second;
  state_.members[id] = Member{address, now_ms, false};
  try {
    save(state_);
  } catch (...) {
    if (added) {
      state_.members.erase(id);
    } else {
      state_.members[id] = old_member;
    }
    throw;
  }
  const std::string& old_address = old_member.address;
  if (options_.logger) {
    if (added) {
      options_.logger->info("node {} registered at {}", id, address);
    } else {
      options_.logger->info("node {} moved from {} to {}", id, old_address, address);
    }
  }
  return added ? RegisterOutcome::Added : RegisterOutcome::Moved;
}

Registry::RegisterOutcome Registry::deregister_node(NodeId id) {
  std::lock_guard lock(mutex_);
  if (state_.members.count(id) == 0) return RegisterOutcome::NotRegistered;
  State next = state_;
  next.members.erase(id);
  bool was_leader = next.leader == id;
  if (was_leader) next.leader.reset();
  save(next);
  state_ = std::move(next);
  if (options_.logger) {
    options_.logger->info("node {} deregistered{}", id,
                          was_leader ? " (it was the leader: no leader known now)" : "");
  }
  return RegisterOutcome::Removed;
}

Registry::LeaderOutcome Registry::set_leader(NodeId id, Term term) {
  std::lock_guard lock(mutex_);
  if (term < state_.leader_term) {
    // A deposed leader that has not heard of the new term yet: stale news.
    if (options_.logger) {
      options_.logger->debug("ignored leader report from node {} for term {} (holding term {})", id,
                             term, state_.leader_term);
    }
    return LeaderOutcome::Ignored;
  }
  if (state_.leader == id && state_.leader_term == term) return LeaderOutcome::Unchanged;
  State next = state_;
  std::optional<NodeId> previous = next.leader;
  bool same_term = previous && next.leader_term == term;
  next.leader = id;
  next.leader_term = term;
  save(next);
  state_ = std::move(next);
  if (options_.logger) {
    if (same_term) {
      // Raft allows one leader per term; two reports for one term mean a bug
      // somewhere (or a node that lost its state). Kept visible.
      options_.logger->warn("node {} reports itself leader of term {}, which node {} reported too",
                            id, term, *previous);
    } else {
      options_.logger->info("leader is now node {} (term {})", id, term);
    }
  }
  return LeaderOutcome::Changed;
}

std::vector<NodeId> Registry::sweep(TimeMs now_ms) {
  std::lock_guard lock(mutex_);
  std::vector<NodeId> silent;
  for (auto& [id, member] : state_.members) {
    if (member.silence_logged || !member.last_seen_ms || alive_locked(member, now_ms)) continue;
    member.silence_logged = true;
    silent.push_back(id);
    if (options_.logger) {
      options_.logger->warn("node {} not heard from for {} ms: shown as not alive", id,
                            now_ms - *member.last_seen_ms);
    }
  }
  return silent;
}

bool Registry::alive_locked(const Member& member, TimeMs now_ms) const {
  if (!member.last_seen_ms) return false;
  TimeMs age_ms = now_ms > *member.last_seen_ms ? now_ms - *member.last_seen_ms : 0;
  return age_ms < options_.alive_timeout_ms;
}

Json Registry::state_json(TimeMs now_ms) const {
  Json state;
  write_state(state, now_ms);
  return state;
}

void Registry::write_state(Json& out, TimeMs now_ms) const {
  std::lock_guard lock(mutex_);
  Json nodes = Json::object();
  Json members = Json::object();
  for (const auto& [id, member] : state_.members) {
    nodes[id_text(id)] = member.address;
    Json view;
    view["address"] = member.address;
    view["alive"] = alive_locked(member, now_ms);
    if (member.last_seen_ms) {
      view["last_seen_ms_ago"] = now_ms > *member.last_seen_ms ? now_ms - *member.last_seen_ms : 0;
    } else {
      view["last_seen_ms_ago"] = nullptr;
    }
    members[id_text(id)] = std::move(view);
  }
  out["nodes"] = std::move(nodes);
  out["leader"] = state_.leader ? Json(id_text(*state_.leader)) : Json(nullptr);
  out["leader_term"] = state_.leader_term;
  out["members"] = std::move(members);
}

Reply Registry::handle_register(std::string_view body, TimeMs now_ms, std::string_view peer_ip) {
  std::string error;
  auto request = parse_register_request(body, &error);
  if (!request) return Reply{400, error_body(error)};
  if (options_.ranks != 0 && request->node_id >= options_.ranks) {
    return Reply{403, error_body("node " + id_text(request->node_id) +
                                 " is not a rank of this job (ranks 0.." +
                                 std::to_string(options_.ranks - 1) + ")")};
  }
  if (auto refused = refuse_registration(request->node_id, request->address, peer_ip)) {
    return std::move(*refused);
  }
  try {
    RegisterOutcome outcome = request->address
                                  ? register_node(request->node_id, *request->address, now_ms)
                                  : deregister_node(request->node_id);
    Json reply;
    reply["ok"] = true;
    reply["result"] = outcome_name(outcome);
    reply["node_id"] = id_text(request->node_id);
    return Reply{200, std::move(reply)};
  } catch (const std::length_error& e) {
    return Reply{409, error_body(e.what())};
  } catch (const RegistryError& e) {
    if (options_.logger) options_.logger->error("{}", e.what());
    return Reply{500, error_body(std::string("cannot save the registry: ") + e.what())};
  }
}

std::optional<Reply> Registry::refuse_registration(NodeId id,
                                                   const std::optional<std::string>& address,
                                                   std::string_view peer_ip) const {
  if (peer_ip.empty()) return std::nullopt;
  if (address) {
    if (address_is_from(*address, peer_ip)) return std::nullopt;
    return Reply{403, error_body("node " + id_text(id) + " cannot be registered at " + *address +
                                 " from another address (" + std::string(peer_ip) +
                                 "): a node registers itself")};
  }
  std::lock_guard lock(mutex_);
  const auto member = state_.members.find(id);
  if (member == state_.members.end() || address_is_from(member->second.address, peer_ip)) {
    return std::nullopt;
  }
  return Reply{403,
               error_body("node " + id_text(id) + " is registered at " + member->second.address +
                          ", not at the address this request came "
                          "from (" +
                          std::string(peer_ip) + ")")};
}

std::optional<Reply> Registry::refuse_leader_claim(const SetLeaderRequest& claim,
                                                   std::string_view peer_ip) const {
  std::lock_guard lock(mutex_);
  const std::string id = id_text(claim.node_id);
  const auto member = state_.members.find(claim.node_id);
  if (member == state_.members.end()) {
    return Reply{403, error_body("node " + id +
                                 " is not registered: register before claiming "
                                 "leadership")};
  }
  if (!peer_ip.empty() && !address_is_from(member->second.address, peer_ip)) {
    return Reply{403, error_body("node " + id + " is registered at " + member->second.address +
                                 ", not at the address this claim came from (" +
                                 std::string(peer_ip) + ")")};
  }
  if (claim.term > state_.leader_term && claim.term - state_.leader_term > kTermJumpMax) {
    return Reply{400, error_body("term " + std::to_string(claim.term) +
                                 " is implausible: more "
                                 "than " +
                                 std::to_string(kTermJumpMax) + " above the term held (" +
                                 std::to_string(state_.leader_term) + ")")};
  }
  return std::nullopt;
}

Reply Registry::handle_set_leader(std::string_view body, std::string_view peer_ip) {
  std::string error;
  auto request = parse_set_leader_request(body, &error);
  if (!request) return Reply{400, error_body(error)};
  if (auto refused = refuse_leader_claim(*request, peer_ip)) return std::move(*refused);
  try {
    LeaderOutcome outcome = set_leader(request->node_id, request->term);
    Json reply;
    reply["ok"] = true;
    reply["ignored"] = outcome == LeaderOutcome::Ignored;
    switch (outcome) {
      case LeaderOutcome::Changed: reply["result"] = "leader set"; break;
      case LeaderOutcome::Unchanged: reply["result"] = "unchanged"; break;
      case LeaderOutcome::Ignored:
        reply["result"] =
            "ignored: term " + std::to_string(request->term) + " is lower than the term held";
        break;
    }
    std::lock_guard lock(mutex_);
    reply["leader"] = state_.leader ? Json(id_text(*state_.leader)) : Json(nullptr);
    reply["leader_term"] = state_.leader_term;
    return Reply{200, std::move(reply)};
  } catch (const RegistryError& e) {
    if (options_.logger) options_.logger->error("{}", e.what());
    return Reply{500, error_body(std::string("cannot save the registry: ") + e.what())};
  }
}

Reply Registry::handle_reset() {
  try {
    reset();
  } catch (const RegistryError& e) {
    if (options_.logger) options_.logger->error("{}", e.what());
    return Reply{500, error_body(std::string("cannot save the registry: ") + e.what())};
  }
  Json reply;
  reply["ok"] = true;
  reply["result"] = "reset";
  return Reply{200, std::move(reply)};
}

Reply Registry::handle_state(TimeMs now_ms) const {
  Json reply;
  reply["ok"] = true;
  write_state(reply, now_ms);
  return Reply{200, std::move(reply)};
}

std::map<NodeId, Member> Registry::members() const {
  std::lock_guard lock(mutex_);
  return state_.members;
}

std::optional<NodeId> Registry::leader() const {
  std::lock_guard lock(mutex_);
  return state_.leader;
}

Term Registry::leader_term() const {
  std::lock_guard lock(mutex_);
  return state_.leader_term;
}

bool Registry::alive(NodeId id, TimeMs now_ms) const {
  std::lock_guard lock(mutex_);
  auto it = state_.members.find(id);
  return it != state_.members.end() && alive_locked(it->second, now_ms);
}

}  // namespace raft::discovery
