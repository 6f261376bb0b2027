// raft_node: one MPI rank = one Raft node. Wires the MPI transport, the
// durable store, the node's loop, its HTTP server and the discovery client,
// then runs the loop on the main thread (the thread that initialised MPI)
// until SIGINT/SIGTERM.
#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "auth/auth_token.hpp"
#include "discovery/address.hpp"
#include "discovery/advertise.hpp"
#include "discovery/discovery_client.hpp"
#include "http/known_nodes_source.hpp"
#include "http/node_server.hpp"
#include "parse_flags.hpp"
#include "runtime/logging.hpp"
#include "runtime/node_driver.hpp"
#include "transport/mpi_transport.hpp"

namespace {

constexpr int kExitBadFlags = 2;

struct Flags {
  int client_num_in_total = 0;  // the original's name for the cluster size
  int min_election_timeout = 2000;
  int max_election_timeout = 4000;
  int heartbeat_interval = 750;
  int base_port = 7000;
  int http_port = -1;  // default: base_port + rank
  std::string bind = "127.0.0.1";
  std::string advertise_host;  // default: bind, or for a wildcard bind the route to discovery
  std::string fsync = "always";
  std::string discovery_url;
  int discovery_poll_interval = 5;
  int initial_delay_ms = 3000;
  std::string data_dir = "raft_data";
  std::string log_level = "info";
  int snapshot_every = 10'000;
  int voters = 0;  // 0: every rank
  int snapshot_bytes_mb = 64;
  int kv_quota_mb = 1024;
  int events_per_second = 20;
  int spin_us = static_cast<int>(raft::runtime::kSpinWindowDefault.count());
  std::string auth_token;                 // default: $RAFT_AUTH_TOKEN
  std::vector<std::string> served_hosts;  // beside bind, advertise and loopback
};

/// Rank from Open MPI's environment, before MPI_Init (for flag errors).
int env_rank() {
  const char* r = std::getenv("OMPI_COMM_WORLD_RANK");
  return r ? std::atoi(r) : 0;
}

[[noreturn]] void fail_flags(const std::string& message) {
  // Every rank parses the same flags; one line from rank 0 is enough.
  if (env_rank() == 0) std::cerr << "raft_node: " << message << "\n";
  std::exit(kExitBadFlags);
}

class DiscoveryNodes final : public raft::http::KnownNodesSource {
 public:
  explicit DiscoveryNodes(raft::discovery::DiscoveryClient& client) : client_(client) {}
  std::map<raft::NodeId, std::string> known_nodes() const override { return client_.known_nodes(); }
  bool sync_now(std::string* error) override { return client_.sync_now(error); }
  bool connected() const override { return client_.connected(); }
  std::optional<raft::NodeId> leader() const override { return client_.discovery_leader(); }

 private:
  raft::discovery::DiscoveryClient& client_;
};

void add_flags(CLI::App& app, Flags& f) {
  app.add_option("--client_num_in_total", f.client_num_in_total,
                 "number of nodes (must equal the number of MPI ranks if given)");
  raft::apps::add_timing_flags(app, f.min_election_timeout, f.max_election_timeout,
                               f.heartbeat_interval);
  app.add_option("--base_port", f.base_port, "node i serves HTTP on base_port + i")
      ->capture_default_str();
  app.add_option("--http_port", f.http_port, "this node's HTTP port (default base_port + rank)");
  app.add_option("--bind", f.bind, "address the HTTP server listens on")->capture_default_str();
  app.add_option("--advertise_host", f.advertise_host,
                 "host registered with discovery, as other hosts dial it (default: --bind; for "
                 "0.0.0.0 the address of the interface that routes to discovery)");
  app.add_option("--served_host", f.served_hosts,
                 std::string(raft::discovery::kServedHostHelp) + "; so is --advertise_host");
  app.add_option("--auth_token", f.auth_token,
                 "token POST /command and /kv writes require, also sent to discovery (default: "
                 "$RAFT_AUTH_TOKEN; the variable keeps it out of `ps`)");
  app.add_option("--fsync", f.fsync, "always | never (never is unsafe)")->capture_default_str();
  app.add_option("--discovery_url", f.discovery_url, "default: $SERVICE_DISCOVERY_URL")
      ->capture_default_str();
  app.add_option("--discovery_poll_interval", f.discovery_poll_interval, "seconds")
      ->capture_default_str();
  app.add_option("--initial_delay_ms", f.initial_delay_ms, "time in INITIAL before FOLLOWER")
      ->capture_default_str();
  app.add_option("--data_dir", f.data_dir, "durable state in <data_dir>/node-<rank>/")
      ->capture_default_str();
  app.add_option("--log_level", f.log_level, "trace|debug|info|warn|error")->capture_default_str();
  app.add_option("--snapshot_every", f.snapshot_every,
                 "compact the log every N applied entries (0: never)")
      ->capture_default_str();
  app.add_option("--voters", f.voters,
                 "ranks 0..N-1 start as the voters; the others start STANDBY, outside the "
                 "cluster until add_node (0: every rank votes)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--snapshot_bytes_mb", f.snapshot_bytes_mb,
                 "also compact once this many MiB of entries were applied (0: by count only)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--kv_quota_mb", f.kv_quota_mb,
                 "refuse writes (507) that would grow the key-value store past this many MiB "
                 "(0: no quota)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--events_per_second", f.events_per_second,
                 "Raft message events recorded for the monitor per second, beyond sampled "
                 "heartbeats and state changes (0: record none; default: "
                 "$RAFT_EVENTS_PER_SECOND, else 20)")
      ->capture_default_str();
  app.add_option("--spin_us", f.spin_us,
                 "for this long after traffic the loop checks for work before it sleeps "
                 "(0: sleep at once; default: $RAFT_SPIN_US, else 2000)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1'000'000));
}

/// What the flags mean once checked.
struct Settings {
  std::string auth_token;
  raft::discovery::HttpUrl discovery_url;
  std::string served_hosts_env;  ///< $RAFT_SERVED_HOSTS
};

void validate_timing(const Flags& f) {
  if (f.fsync != "always" && f.fsync != "never") fail_flags("--fsync must be 'always' or 'never'");
  if (f.min_election_timeout < 1 || f.min_election_timeout > f.max_election_timeout) {
    fail_flags("--min_election_timeout must be positive and not exceed --max_election_timeout");
  }
  if (f.heartbeat_interval < 1 || f.heartbeat_interval >= f.min_election_timeout) {
    fail_flags("--heartbeat_interval must be positive and below --min_election_timeout");
  }
  if (f.initial_delay_ms < 0) fail_flags("--initial_delay_ms must not be negative");
  if (f.discovery_poll_interval < 1) {
    fail_flags("--discovery_poll_interval must be at least 1 second");
  }
  if (f.snapshot_every < 0) fail_flags("--snapshot_every must not be negative");
  if (f.events_per_second < 0 || f.events_per_second > 100'000) {
    fail_flags("--events_per_second must be in 0..100000");
  }
  const spdlog::level::level_enum level = spdlog::level::from_str(f.log_level);
  if (level == spdlog::level::off && f.log_level != "off") {
    fail_flags("--log_level '" + f.log_level + "' is unknown");
  }
}

void validate_advertise_host(const std::string& host) {
  if (host.empty()) return;
  const bool bare_ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  if (const auto why = raft::discovery::host_error(bare_ipv6 ? "[" + host + "]" : host)) {
    fail_flags("--advertise_host '" + host + "': " + *why);
  }
  if (raft::discovery::is_wildcard_host(host)) {
    fail_flags("--advertise_host must be an address other hosts can dial, not " + host);
  }
}

Settings validate(const Flags& f) {
  validate_timing(f);
  if (f.base_port < 1 || f.base_port > 65535) fail_flags("--base_port must be in 1..65535");
  if (std::string why; !raft::discovery::parse_bind_host(f.bind, &why)) {
    fail_flags("--bind '" + f.bind + "': " + why);
  }
  if (f.http_port != -1 && (f.http_port < 1 || f.http_port > 65535)) {
    fail_flags("--http_port must be in 1..65535");
  }
  Settings settings;
  std::string problem;
  settings.auth_token = raft::auth::resolve_token(f.auth_token, &problem);
  if (!problem.empty()) fail_flags(problem);
  validate_advertise_host(f.advertise_host);
  if (const char* env = std::getenv(raft::discovery::kServedHostsEnv)) {
    settings.served_hosts_env = env;
  }
  if (!raft::discovery::served_names("", f.served_hosts, settings.served_hosts_env, &problem)) {
    fail_flags(problem);
  }
  const std::optional<raft::discovery::HttpUrl> url =
      raft::discovery::parse_http_url(f.discovery_url, &problem);
  if (!url) fail_flags("--discovery_url: " + problem);
  settings.discovery_url = *url;
  return settings;
}

/// `out` from the environment variable `name` when it is set.
void env_int(const char* name, int& out) {
  const char* value = std::getenv(name);
  if (!value || !*value) return;
  const std::string_view text(value);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail_flags(std::string(name) + " must be a whole number, not '" + std::string(text) + "'");
  }
}

Flags read_flags(int argc, char** argv) {
  Flags f;
  if (const char* url = std::getenv("SERVICE_DISCOVERY_URL"); url && *url) f.discovery_url = url;
  if (f.discovery_url.empty()) f.discovery_url = "http://127.0.0.1:5000";
  // Settings for a whole job without touching its command line (the
  // benchmarks compare values this way).
  env_int("RAFT_EVENTS_PER_SECOND", f.events_per_second);
  env_int("RAFT_SPIN_US", f.spin_us);
  CLI::App app{"One Raft node per MPI rank: mpirun -n N raft_node [flags]"};
  add_flags(app, f);
  if (const auto code = raft::apps::parse_flags(app, argc, argv, fail_flags)) std::exit(*code);
  return f;
}

raft::runtime::NodeOptions node_options(const Flags& f, int rank, int size,
                                        const std::filesystem::path& node_dir) {
  raft::runtime::NodeOptions options;
  options.raft.id = rank;
  const int voters = f.voters > 0 ? f.voters : size;
  for (int i = 0; i < voters; ++i) options.raft.voters.push_back(i);
  options.raft.node_count = static_cast<std::size_t>(size);
  options.raft.election_timeout_min_ms = static_cast<raft::TimeMs>(f.min_election_timeout);
  options.raft.election_timeout_max_ms = static_cast<raft::TimeMs>(f.max_election_timeout);
  options.raft.heartbeat_interval_ms = static_cast<raft::TimeMs>(f.heartbeat_interval);
  options.raft.initial_delay_ms = static_cast<raft::TimeMs>(f.initial_delay_ms);
  // Different on every start and rank, so restarts and peers draw different timeouts.
  options.raft.seed =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(rank + 1));
  options.node_dir = node_dir;
  options.fsync = f.fsync == "always";
  options.snapshot_every_entries = static_cast<std::size_t>(f.snapshot_every);
  constexpr std::size_t kMiB = 1024 * 1024;
  options.snapshot_every_bytes = static_cast<std::size_t>(f.snapshot_bytes_mb) * kMiB;
  options.kv_bytes_max = static_cast<std::size_t>(f.kv_quota_mb) * kMiB;
  options.events.events_per_second = static_cast<std::uint32_t>(f.events_per_second);
  options.spin_window = std::chrono::microseconds(f.spin_us);
  return options;
}

/// Everything one rank runs, built in order; `run()` serves until a signal.
class NodeProgram {
 public:
  NodeProgram(const Flags& f, Settings settings, raft::transport::MpiSession& mpi)
      : f_(f), settings_(std::move(settings)), mpi_(mpi), rank_(mpi.rank()) {}

  int run(const sigset_t& stop_signals);

 private:
  [[noreturn]] void abort(int code) {
    spdlog::shutdown();
    mpi_.abort(code);  // returning would hang MPI_Finalize waiting for the other ranks
  }
  void start_logging();
  void start_driver(const std::string& advertise_host);
  void start_discovery(const std::string& advertise_host);
  void start_http();

  const Flags& f_;
  Settings settings_;
  raft::transport::MpiSession& mpi_;
  int rank_;
  int http_port_ = 0;
  std::string advertise_address_;  ///< host:port registered with discovery
  std::filesystem::path node_dir_;
  raft::runtime::NodeLogger logging_;
  std::shared_ptr<raft::runtime::Metrics> metrics_ = std::make_shared<raft::runtime::Metrics>();
  // The discovery client is made after the driver; until then there is
  // nobody to tell of leadership changes.
  std::atomic<raft::discovery::DiscoveryClient*> leadership_listener_{nullptr};
  std::unique_ptr<raft::runtime::NodeDriver> driver_;
  std::unique_ptr<raft::discovery::DiscoveryClient> discovery_;
  std::unique_ptr<DiscoveryNodes> known_nodes_;
  std::unique_ptr<raft::http::NodeServer> http_;
};

void NodeProgram::start_logging() {
  node_dir_ = std::filesystem::absolute(f_.data_dir) / ("node-" + std::to_string(rank_));
  try {
    logging_ = raft::runtime::make_node_logger(rank_, node_dir_, f_.log_level);
  } catch (const std::exception& e) {
    std::cerr << "raft_node " << rank_ << ": " << e.what() << "\n";
    mpi_.abort(1);
  }
}

void NodeProgram::start_driver(const std::string& advertise_host) {
  raft::runtime::NodeOptions options = node_options(f_, rank_, mpi_.size(), node_dir_);
  options.on_leadership_change = [this] {
    if (auto* client = leadership_listener_.load()) client->notify_leadership_changed();
  };
  auto& log = *logging_.logger;
  try {
    // The doorbell listens where the peers reach this rank: loopback on one
    // host, the advertised address across hosts.
    raft::transport::MpiTransportOptions transport_options;
    transport_options.doorbell_host = advertise_host;
    auto transport = std::make_unique<raft::transport::MpiTransport>(
        [&log](const std::string& line) { log.warn("transport: {}", line); }, transport_options);
    driver_ = std::make_unique<raft::runtime::NodeDriver>(options, std::move(transport),
                                                          logging_.logger, metrics_);
  } catch (const std::exception& e) {
    log.critical("cannot start: {}", e.what());
    abort(1);
  }
}

void NodeProgram::start_discovery(const std::string& advertise_host) {
  raft::discovery::DiscoveryClient::Options o;
  o.url = f_.discovery_url;
  o.rank = rank_;
  o.advertise_address = advertise_address_ = advertise_host + ":" + std::to_string(http_port_);
  o.auth_token = settings_.auth_token;
  o.poll_interval_s = f_.discovery_poll_interval;
  if (auto problem = o.validate()) {
    logging_.logger->critical("--discovery_url: {}", *problem);
    abort(kExitBadFlags);
  }
  discovery_ = std::make_unique<raft::discovery::DiscoveryClient>(o, logging_.logger);
  leadership_listener_ = discovery_.get();  // run() ends before the client dies
  known_nodes_ = std::make_unique<DiscoveryNodes>(*discovery_);
  if (raft::discovery::is_loopback_host(advertise_host) &&
      !raft::discovery::is_loopback_host(settings_.discovery_url.host)) {
    logging_.logger->warn(
        "advertised as {} but discovery is at {}: other hosts cannot reach this node; give "
        "--bind 0.0.0.0 or --advertise_host",
        o.advertise_address, f_.discovery_url);
  }
}

void NodeProgram::start_http() {
  raft::http::NodeServerOptions o;
  o.bind = f_.bind;
  o.port = http_port_;
  o.rank = rank_;
  o.base_port = f_.base_port;
  o.auth_token = settings_.auth_token;
  // Peers, the monitor and launch_cluster dial the advertised address.
  o.served_hosts = raft::discovery::served_names(advertise_address_, f_.served_hosts,
                                                 settings_.served_hosts_env, nullptr)
                       .value_or(f_.served_hosts);
  http_ = std::make_unique<raft::http::NodeServer>(o, *driver_, known_nodes_.get(), metrics_,
                                                   logging_.ring);
  std::string error;
  if (!http_->start(&error)) {
    logging_.logger->critical("cannot serve HTTP: {}", error);
    abort(1);
  }
  logging_.logger->info(
      "HTTP on http://{}:{} (advertised as {}), data in {}{}", f_.bind, http_port_,
      advertise_address_, node_dir_.string(),
      settings_.auth_token.empty() ? "" : "; commands and writes need the auth token");
  if (settings_.auth_token.empty()) {
    logging_.logger->warn(
        "no auth token ({} or --auth_token): anyone who can reach {} can send "
        "commands and writes",
        raft::auth::kTokenEnv, f_.bind);
  }
}

int NodeProgram::run(const sigset_t& stop_signals) {
  const int size = mpi_.size();
  if (f_.client_num_in_total > 0 && f_.client_num_in_total != size) {
    fail_flags("--client_num_in_total " + std::to_string(f_.client_num_in_total) +
               " does not match the " + std::to_string(size) + " MPI ranks");
  }
  if (f_.voters > size) {
    fail_flags("--voters " + std::to_string(f_.voters) + " exceeds the " + std::to_string(size) +
               " MPI ranks");
  }
  http_port_ = f_.http_port != -1 ? f_.http_port : f_.base_port + rank_;
  if (http_port_ > 65535) fail_flags("--base_port + rank exceeds 65535");
  std::string problem;
  const std::optional<std::string> advertise = raft::discovery::choose_advertise_host(
      f_.advertise_host, f_.bind, settings_.discovery_url.host, settings_.discovery_url.port,
      raft::discovery::local_address_towards, &problem);
  if (!advertise) {
    std::cerr << "raft_node " << rank_ << ": " << problem << "\n";
    mpi_.abort(kExitBadFlags);  // every rank needs an address; do not hang the others
  }
  start_logging();
  start_driver(*advertise);
  start_discovery(*advertise);
  start_http();
  discovery_->start([this] {
    auto s = driver_->status();
    return raft::discovery::LeaderInfo{
        s && s->role == raft::Role::Leader && !s->paused && !s->crashed, s ? s->term : 0};
  });
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (sig != 0) logging_.logger->info("{} received, shutting down", strsignal(sig));
    driver_->stop();
  });
  driver_->run();  // until stop(): a signal, or the signal thread's wake-up below
  http_->stop();
  discovery_->stop();  // deregisters
  // Wake the signal thread if the loop ended for another reason.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  driver_.reset();  // the transport cancels unfinished sends before MPI_Finalize
  logging_.logger->info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = read_flags(argc, argv);
  Settings settings = validate(flags);
  // SIGINT/SIGTERM are taken by a dedicated thread with sigwait; block them
  // before any thread starts so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A file size limit (ulimit -f) must fail the write (EFBIG), which the
  // node reports as a failed disk, not kill the rank.
  ::signal(SIGXFSZ, SIG_IGN);
  raft::transport::MpiSession mpi(&argc, &argv);
  NodeProgram program(flags, std::move(settings), mpi);
  return program.run(stop_signals);
}
