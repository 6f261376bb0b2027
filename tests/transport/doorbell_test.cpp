// The doorbell wakes a loop sleeping in poll(2): a ring makes the peer's
// descriptor readable, drain() empties it, and a peer without a doorbell
// (port 0) or an unknown rank is simply not rung.
#include "transport/doorbell.hpp"

#include <poll.h>

#include <gtest/gtest.h>

namespace raft::transport {
namespace {

bool readable(const Doorbell& d, int timeout_ms) {
  pollfd p{d.fd(), POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

Doorbell open_loopback() {
  std::string error;
  std::optional<Doorbell> d = Doorbell::open("127.0.0.1", &error);
  if (!d) throw std::runtime_error(error);
  return std::move(*d);
}

TEST(Doorbell, ARingWakesThePeerAndDrainEmptiesIt) {
  Doorbell a = open_loopback();
  Doorbell b = open_loopback();
  a.set_peers({a.address(), b.address()});
  EXPECT_FALSE(readable(b, 0));
  a.ring(1);
  a.ring(1);
  ASSERT_TRUE(readable(b, 1000));
  EXPECT_EQ(b.drain(), 2);
  EXPECT_FALSE(readable(b, 0)) << "drained: the next poll sleeps";
  EXPECT_EQ(a.ring_failures(), 0u);
}

TEST(Doorbell, PeersWithoutOneAreNotRung) {
  Doorbell a = open_loopback();
  Doorbell b = open_loopback();
  a.set_peers({a.address(), DoorbellAddress{b.address().ipv4, 0}});
  a.ring(1);  // port 0: no doorbell there
  a.ring(7);  // no such rank
  a.ring(-1);
  EXPECT_FALSE(readable(b, 50));
  EXPECT_EQ(a.ring_failures(), 0u);
}

TEST(Doorbell, AnAddressThatCannotBeBoundIsAClearError) {
  std::string error;
  EXPECT_FALSE(Doorbell::open("192.0.2.1", &error)) << "TEST-NET-1 is not ours";
  EXPECT_NE(error.find("192.0.2.1"), std::string::npos) << error;
  EXPECT_FALSE(Doorbell::open("no-such-host.invalid", &error));
  EXPECT_NE(error.find("no-such-host.invalid"), std::string::npos) << error;
}

}  // namespace
}  // namespace raft::transport
