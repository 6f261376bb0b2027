// ChildProcess stops what it started: a child that obeys SIGTERM ends with
// it; one that ignores it is killed after the grace period; and a descendant
// that left the group and ignores SIGTERM (as mpirun's ranks have groups of
// their own) is killed by PID all the same.
#include "launcher/child_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace raft::launcher {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// Alive and not a zombie (a killed orphan may wait to be reaped by init).
bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
}

template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() /
         ("child_process_test_" + std::to_string(::getpid()) + "_" + name);
}

pid_t read_pid(const fs::path& file) {
  pid_t pid = 0;
  eventually([&] {
    std::ifstream in(file);
    return static_cast<bool>(in >> pid) && pid > 0;
  });
  return pid;
}

TEST(ChildProcess, AChildThatObeysSigtermEndsWithIt) {
  ChildProcess child("sleeper", {"/bin/sleep", "1000"});
  const auto started = std::chrono::steady_clock::now();
  child.stop(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  ASSERT_TRUE(child.poll_exit().has_value());
  EXPECT_NE(child.poll_exit()->find("Terminated"), std::string::npos) << *child.poll_exit();
}

TEST(ChildProcess, AChildThatIgnoresSigtermIsKilledAfterTheGrace) {
  const fs::path ready = temp_file("stubborn.ready");
  fs::remove(ready);
  ChildProcess child(
      "stubborn", {"/bin/sh", "-c",
                   "trap '' TERM; echo $$ > " + ready.string() + "; while :; do sleep 0.05; done"});
  ASSERT_GT(read_pid(ready), 0) << "the shell never installed its trap";
  child.stop(300ms);
  fs::remove(ready);
  ASSERT_TRUE(child.poll_exit().has_value());
  EXPECT_NE(child.poll_exit()->find("Killed"), std::string::npos) << *child.poll_exit();
}

TEST(ChildProcess, ADescendantInAGroupOfItsOwnIsKilledByPid) {
  const fs::path pid_file = temp_file("grandchild.pid");
  fs::remove(pid_file);
  // The grandchild leaves the group (setsid) and ignores SIGTERM; its parent
  // ignores SIGTERM too, like an mpirun that hangs while stopping.
  const std::string script = "trap '' TERM; setsid /bin/sh -c 'trap \"\" TERM; echo $$ > " +
                             pid_file.string() + "; while :; do sleep 0.05; done' & wait";
  ChildProcess child("parent", {"/bin/sh", "-c", script});
  const pid_t grandchild = read_pid(pid_file);
  ASSERT_GT(grandchild, 0);
  ASSERT_TRUE(alive(grandchild));
  ASSERT_NE(::getpgid(grandchild), child.pid()) << "the grandchild must be outside the group";
  child.stop(300ms);
  EXPECT_TRUE(eventually([&] { return !alive(grandchild); })) << "pid " << grandchild;
  if (alive(grandchild)) ::kill(grandchild, SIGKILL);  // never leave it behind
  fs::remove(pid_file);
}

/// A loopback listener on a free port, with SO_REUSEADDR as our servers set
/// it (Linux lets a TIME_WAIT socket be rebound only if its owner had it);
/// -1 if none could be made.
int listen_on_free_port(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

TEST(PortIsFree, AListenerTakesThePortButTimeWaitLeftoversDoNot) {
  int port = 0;
  const int listener = listen_on_free_port(&port);
  ASSERT_GE(listener, 0);
  EXPECT_FALSE(port_is_free("127.0.0.1", port));

  // A connection the server side closes first stays in TIME_WAIT on the
  // server's port, as after stopping a cluster its clients were talking to.
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int accepted = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  ::close(accepted);
  ::close(listener);
  std::this_thread::sleep_for(50ms);
  ::close(client);
  EXPECT_TRUE(port_is_free("127.0.0.1", port)) << "TIME_WAIT must not count as taken";
}

}  // namespace
}  // namespace raft::launcher
