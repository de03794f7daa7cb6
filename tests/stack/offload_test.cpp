// Frames from an offloading device (a TAP with IFF_VNET_HDR): checksum-partial datagrams
// and 64 KiB superframes, fed through a QueueDevice that reports them the way TapDevice does.
#include <netinet/in.h>
#include <sys/socket.h>

#include "stack/fixture.hpp"
#include "util/checksum.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

constexpr std::size_t kSuperframeBound = 14 + 65535;

// One stack (10.0.0.2) behind a device that may hand it superframes.
struct OffloadPeer {
  ManualClock clock;
  phy::QueueDevice dev{phy::DeviceCaps{.max_rx_frame = kSuperframeBound}};
  Stack stack{dev, config_for(kMacB, kIpB)};
  OffloadPeer() {
    stack.poll(clock.now());
    (void)dev.take_transmitted();
  }
  void send(const Frame& f, phy::RxInfo info) {
    dev.inject(Bytes(f), info);
    stack.poll(clock.now());
  }
};

// A UDP datagram from the peer to 10.0.0.2:7000. `partial`: the checksum field holds only
// the pseudo-header sum, as a sender relying on checksum offload leaves it.
Frame udp_frame(std::size_t payload_len, bool partial) {
  std::vector<std::byte> udp(8 + payload_len);
  store_be16(udp, 0, 40000);
  store_be16(udp, 2, 7000);
  store_be16(udp, 4, static_cast<std::uint16_t>(udp.size()));
  for (std::size_t i = 0; i < payload_len; ++i) store_u8(udp, 8 + i, static_cast<std::uint8_t>(i));
  Checksum c;
  c.add_pseudo_header(kPeerIp, kIpB, 17, static_cast<std::uint16_t>(udp.size()));
  if (partial) {
    store_be16(udp, 6, static_cast<std::uint16_t>(~c.finish()));
  } else {
    c.add(udp);
    store_be16(udp, 6, c.finish());
  }
  return ipv4_frame(kPeerMac, kMacB, ip_header(kPeerIp, kIpB, wire::IpProto::Udp), udp);
}

int bound_udp(Stack& s) {
  auto fd = s.sockets().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd);
  auto addr = make_sockaddr(Ipv4Addr::any(), 7000);
  REQUIRE(s.sockets().bind(*fd, addr) == Errno::Ok);
  int big = 1 << 20;
  REQUIRE(s.sockets().setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) == Errno::Ok);
  return *fd;
}

std::size_t recv_len(Stack& s, int fd, std::vector<std::byte>& buf) {
  auto n = s.sockets().recvfrom(fd, MutBytes(buf), 0, nullptr);
  return n ? *n : 0;
}

}  // namespace

TEST_CASE("offload: a checksum-partial UDP datagram is delivered only when the device says so",
          "[stack][udp][offload]") {
  OffloadPeer p;
  const int fd = bound_udp(p.stack);
  std::vector<std::byte> buf(70000);
  const Frame partial = udp_frame(100, true);

  p.send(partial, {.checksum_unverified = true});
  CHECK(recv_len(p.stack, fd, buf) == 100);
  CHECK(p.stack.stats().eth.rx_checksum_offloaded == 1);
  CHECK(p.stack.stats().udp.rx_drop_bad_checksum == 0);

  // The same bytes from a wire (no device report) fail the RFC 768 check.
  p.send(partial, {});
  CHECK(recv_len(p.stack, fd, buf) == 0);
  CHECK(p.stack.stats().udp.rx_drop_bad_checksum == 1);

  // A complete checksum still verifies when the device reports nothing.
  p.send(udp_frame(100, false), {});
  CHECK(recv_len(p.stack, fd, buf) == 100);
}

TEST_CASE("offload: a 64 KiB superframe passes Ethernet and IPv4 whole", "[stack][offload]") {
  OffloadPeer p;
  const int fd = bound_udp(p.stack);
  std::vector<std::byte> buf(70000);
  // 14 + 20 + 8 + 65507: the largest IPv4 datagram, in one frame.
  const Frame big = udp_frame(65507, true);
  REQUIRE(big.size() == kSuperframeBound);

  p.send(big, {.checksum_unverified = true, .superframe = true});
  REQUIRE(recv_len(p.stack, fd, buf) == 65507);
  CHECK(load_u8(buf, 65506) == static_cast<std::uint8_t>(65506));
  CHECK(p.stack.stats().eth.rx_superframes == 1);
  CHECK(p.stack.stats().eth.rx_drop_oversize == 0);
  CHECK(p.stack.stats().ipv4.rx_delivered == 1);
}

TEST_CASE("offload: only a frame marked as a superframe may exceed the MTU",
          "[stack][offload][ethernet]") {
  OffloadPeer p;
  const int fd = bound_udp(p.stack);
  std::vector<std::byte> buf(70000);

  // Longer than the MTU without the superframe mark: an oversize frame, as on a wire.
  p.send(udp_frame(3000, false), {});
  CHECK(p.stack.stats().eth.rx_drop_oversize == 1);
  CHECK(recv_len(p.stack, fd, buf) == 0);

  // Past the device's own bound even with the mark.
  Frame too_long = udp_frame(65507, false);
  too_long.push_back(std::byte{0});
  p.send(too_long, {.superframe = true});
  CHECK(p.stack.stats().eth.rx_drop_oversize == 2);

  // A plain stack (caps without max_rx_frame) keeps the MTU bound for marked frames too.
  ScriptedPeer plain;
  plain.dev.inject(Bytes(udp_frame(3000, false)), {.superframe = true});
  plain.stack.poll(plain.clock.now());
  CHECK(plain.stack.stats().eth.rx_drop_oversize == 1);
}
