// launch_cluster as a user runs it: one command to discovery, monitor and an
// mpirun job; checks that all three agree, that the monitor's proxy can break
// the leader, that bad flags and taken ports are refused, and that Ctrl+C
// leaves no process and no listening port behind.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "cluster_fixture.hpp"

namespace raft::cluster_test {
namespace {

struct Launch {
  /// `output_to_cat`: launch_cluster's output goes through a pipe to `cat`,
  /// as `scripts/demo.sh | tee log` does; a SIGINT to the process group then
  /// ends the reader too, as Ctrl+C does.
  explicit Launch(int nodes, std::vector<std::string> extra = {}, bool output_to_cat = false) {
    const int base = free_port_range(nodes + 2);
    discovery_port = base;
    monitor_port = base + 1;
    base_port = base + 2;
    data_dir = fs::temp_directory_path() /
               ("raft_launch_test_" + std::to_string(::getpid()) + "_" + std::to_string(base));
    std::vector<std::string> args = {(bin_dir() / "launch_cluster").string(),
                                     "--nodes",
                                     std::to_string(nodes),
                                     "--discovery_port",
                                     std::to_string(discovery_port),
                                     "--monitor_port",
                                     std::to_string(monitor_port),
                                     "--base_port",
                                     std::to_string(base_port),
                                     "--min_election_timeout",
                                     "400",
                                     "--max_election_timeout",
                                     "800",
                                     "--heartbeat_interval",
                                     "80",
                                     "--initial_delay_ms",
                                     "200",
                                     "--data_dir",
                                     data_dir.string(),
                                     "--fsync",
                                     "never",
                                     "--log_level",
                                     "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    if (output_to_cat) {
      args.insert(args.begin(), {"/bin/bash", "-c", "\"$0\" \"$@\" 2>&1 | cat >/dev/null"});
    }
    process = std::make_unique<launcher::ChildProcess>("launch_cluster", args);
  }
  ~Launch() {
    process->stop(std::chrono::seconds(10));
    std::error_code ec;
    fs::remove_all(data_dir, ec);
  }

  std::string discovery_leader() {
    HttpReply s = http(discovery_port, "GET", "/state");
    return s.body.is_object() && s.body["leader"].is_string() ? s.body["leader"].get<std::string>()
                                                              : "";
  }
  std::string monitor_leader() {
    HttpReply s = http(monitor_port, "GET", "/api/cluster");
    return s.body.is_object() && s.body["leader"].is_string() ? s.body["leader"].get<std::string>()
                                                              : "";
  }
  std::string nodes_leader(int nodes) {
    std::string leader;
    for (int i = 0; i < nodes; ++i) {
      HttpReply s = http(base_port + i, "GET", "/status");
      if (s.status != 200 || !s.body["leader_id"].is_string()) return "";
      if (s.body["paused"].get<bool>()) continue;
      if (!leader.empty() && leader != s.body["leader_id"]) return "";
      leader = s.body["leader_id"].get<std::string>();
    }
    return leader;
  }

  /// The token launch_cluster generated and wrote for scripts.
  std::string token() const {
    std::ifstream in(data_dir / "auth_token");
    std::string line;
    std::getline(in, line);
    return line;
  }

  int discovery_port = 0, monitor_port = 0, base_port = 0;
  fs::path data_dir;
  std::unique_ptr<launcher::ChildProcess> process;
};

bool connectable(int port) { return http(port, "GET", "/healthz").status != 0; }

void check_agreement(int nodes) {
  Launch l(nodes);
  std::string leader;
  ASSERT_TRUE(eventually([&] {
    leader = l.nodes_leader(nodes);
    return !leader.empty() && l.discovery_leader() == leader && l.monitor_leader() == leader;
  })) << "nodes say '"
      << l.nodes_leader(nodes) << "', discovery '" << l.discovery_leader() << "', monitor '"
      << l.monitor_leader() << "'";
  HttpReply cluster = http(l.monitor_port, "GET", "/api/cluster");
  ASSERT_EQ(cluster.body["nodes"].size(), static_cast<std::size_t>(nodes));
  for (const auto& n : cluster.body["nodes"]) EXPECT_NE(n["state"], "offline") << n.dump();

  // A token by default, on loopback too: without it no server takes a write.
  const std::string token = l.token();
  ASSERT_EQ(token.size(), 32u) << "auth_token file: '" << token << "'";
  EXPECT_EQ(fs::status(l.data_dir / "auth_token").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const std::string pause = R"({"cmd":"pause"})";
  EXPECT_EQ(http(l.monitor_port, "POST", "/api/nodes/" + leader + "/command", pause).status, 401);
  EXPECT_EQ(http(l.base_port, "PUT", "/kv/k", "v", "text/plain").status, 401);
  EXPECT_EQ(http(l.discovery_port, "POST", "/reset").status, 401);

  // Break the leader through the monitor's proxy: a new leader appears
  // everywhere.
  HttpReply paused = http(l.monitor_port, "POST", "/api/nodes/" + leader + "/command", pause,
                          "application/json", token);
  ASSERT_EQ(paused.status, 200) << paused.raw;
  std::string next;
  EXPECT_TRUE(eventually([&] {
    next = l.nodes_leader(nodes);
    return !next.empty() && next != leader && l.discovery_leader() == next &&
           l.monitor_leader() == next;
  })) << "after pausing "
      << leader << ": discovery '" << l.discovery_leader() << "', monitor '" << l.monitor_leader()
      << "'";

  // Ctrl+C: exit 0, and nothing of the cluster is left.
  const pid_t pid = l.process->pid();
  ::kill(pid, SIGINT);
  ASSERT_TRUE(
      eventually([&] { return l.process->poll_exit().has_value(); }, std::chrono::seconds(20)));
  EXPECT_NE(l.process->poll_exit()->find("exited with code 0"), std::string::npos)
      << *l.process->poll_exit();
  EXPECT_FALSE(connectable(l.discovery_port));
  EXPECT_FALSE(connectable(l.monitor_port));
  for (int i = 0; i < nodes; ++i) EXPECT_FALSE(connectable(l.base_port + i)) << "node " << i;
}

TEST(LaunchCluster, ThreeNodesAgreeOnTheLeaderEverywhere) { check_agreement(3); }

TEST(LaunchCluster, FiveNodesAgreeOnTheLeaderEverywhere) { check_agreement(5); }

TEST(LaunchCluster, CtrlCStopsEverythingWhenItsOutputReaderDiesFirst) {
  Launch l(3, {}, /*output_to_cat=*/true);
  ASSERT_TRUE(eventually([&] { return !l.nodes_leader(3).empty(); })) << "no leader";
  // Ctrl+C reaches the terminal's foreground group: launch_cluster and the
  // reader of its output, which dies at once. The launcher's next line then
  // meets a pipe without a reader; it must still stop every process.
  ::kill(-l.process->pid(), SIGINT);
  ASSERT_TRUE(
      eventually([&] { return l.process->poll_exit().has_value(); }, std::chrono::seconds(20)));
  EXPECT_TRUE(eventually([&] {
    bool any = connectable(l.discovery_port) || connectable(l.monitor_port);
    for (int i = 0; i < 3; ++i) any = any || connectable(l.base_port + i);
    return !any;
  })) << "a process of the cluster still listens";
}

TEST(LaunchCluster, BadFlagsExitTwoWithOneLine) {
  for (std::vector<std::string> flags : std::vector<std::vector<std::string>>{
           {"--nodes", "0"},
           {"--min_election_timeout", "500", "--max_election_timeout", "100"},
           {"--heartbeat_interval", "3000"},
           {"--fsync", "sometimes"},
           {"--no_such_flag"}}) {
    std::vector<std::string> args = {(bin_dir() / "launch_cluster").string()};
    args.insert(args.end(), flags.begin(), flags.end());
    launcher::ChildProcess p("launch_cluster", args);
    ASSERT_TRUE(eventually([&] { return p.poll_exit().has_value(); }, std::chrono::seconds(10)));
    EXPECT_NE(p.poll_exit()->find("exited with code 2"), std::string::npos) << flags[0];
  }
}

TEST(LaunchCluster, ATakenPortIsRefusedBeforeAnythingStarts) {
  const int port = free_port_range(1);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  launcher::ChildProcess p(
      "launch_cluster",
      {(bin_dir() / "launch_cluster").string(), "--discovery_port", std::to_string(port),
       "--monitor_port", std::to_string(free_port_range(1))});
  ASSERT_TRUE(eventually([&] { return p.poll_exit().has_value(); }, std::chrono::seconds(10)));
  EXPECT_NE(p.poll_exit()->find("exited with code 2"), std::string::npos) << *p.poll_exit();
  ::close(fd);
}

}  // namespace
}  // namespace raft::cluster_test
