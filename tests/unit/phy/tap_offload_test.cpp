// TapDevice with offloads, against the kernel in a private network namespace (as in
// tap_device_test.cpp): the vnet-header open, checksum-partial receive, a superframe the
// kernel segments, and the fallback to plain frames when TUNSETOFFLOAD is refused.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/private_netns.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "phy/tap_device.hpp"
#include "util/checksum.hpp"
#include "wire/tcp.hpp"

using namespace tapir;
using namespace tapir::phy;

namespace {

struct ChildFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void expect(bool ok, const std::string& what) {
  if (!ok) throw ChildFailure(what);
}

void sys(int rc, const std::string& what) {
  if (rc < 0) throw ChildFailure(what + ": " + std::strerror(errno));
}

constexpr std::uint32_t kTapIp = 0x0a4e0001;   // 10.78.0.1, the kernel on the offload TAP
constexpr std::uint32_t kPeerIp = 0x0a4e0002;  // 10.78.0.2, the neighbour we play there
constexpr std::uint32_t kOutIp = 0x0a4f0001;   // 10.79.0.1, the kernel on the plain TAP
constexpr std::uint32_t kFarIp = 0x0a4f0002;   // 10.79.0.2, where the superframe is routed
constexpr std::array<std::uint8_t, 6> kPeerMac{0x02, 0x00, 0x00, 0x00, 0x78, 0x02};

sockaddr_in inet_addr_of(std::uint32_t ip, std::uint16_t port = 0) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(ip);
  sa.sin_port = htons(port);
  return sa;
}

void set_addr(int sock, const std::string& ifname, std::uint32_t ip) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  sockaddr_in sa = inet_addr_of(ip);
  std::memcpy(&ifr.ifr_addr, &sa, sizeof sa);
  sys(::ioctl(sock, SIOCSIFADDR, &ifr), "SIOCSIFADDR " + ifname);
  sa = inet_addr_of(0xffffff00);
  std::memcpy(&ifr.ifr_addr, &sa, sizeof sa);
  sys(::ioctl(sock, SIOCSIFNETMASK, &ifr), "SIOCSIFNETMASK " + ifname);
}

// A permanent neighbour entry, so the kernel sends without asking ARP first.
void set_neighbour(int sock, const std::string& ifname, std::uint32_t ip) {
  arpreq req{};
  const sockaddr_in sa = inet_addr_of(ip);
  std::memcpy(&req.arp_pa, &sa, sizeof sa);
  req.arp_ha.sa_family = ARPHRD_ETHER;
  std::memcpy(req.arp_ha.sa_data, kPeerMac.data(), kPeerMac.size());
  req.arp_flags = ATF_COM | ATF_PERM;
  std::strncpy(req.arp_dev, ifname.c_str(), sizeof req.arp_dev - 1);
  sys(::ioctl(sock, SIOCSARP, &req), "SIOCSARP " + ifname);
}

std::array<std::uint8_t, 6> hw_addr(int sock, const std::string& ifname) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  sys(::ioctl(sock, SIOCGIFHWADDR, &ifr), "SIOCGIFHWADDR " + ifname);
  std::array<std::uint8_t, 6> mac{};
  std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

bool is_ipv4_to(Bytes f, std::uint32_t dst, std::uint8_t proto) {
  return f.size() >= 34 && load_be16(f, 12) == 0x0800 && load_u8(f, 23) == proto &&
         load_be32(f, 30) == dst;
}

// Polls until `match` accepts a frame (IPv6 chatter is skipped); 50 polls of 100 ms.
std::vector<std::byte> wait_for(TapDevice& tap, const std::function<bool(Bytes)>& match,
                                const std::string& what, RxInfo* info = nullptr) {
  for (int round = 0; round < 50; ++round) {
    pollfd pfd{tap.wait_fd(), POLLIN, 0};
    sys(::poll(&pfd, 1, 100), "poll");
    while (auto f = tap.receive(Instant{})) {
      if (!match(*f)) continue;
      if (info) *info = tap.last_rx_info();
      return {f->begin(), f->end()};
    }
  }
  throw ChildFailure("no " + what + " arrived on " + tap.name());
}

void send_udp(int sock, std::uint32_t dst, std::size_t len) {
  const sockaddr_in to = inet_addr_of(dst, 9);
  std::vector<char> payload(len, 'u');
  sys(static_cast<int>(::sendto(sock, payload.data(), payload.size(), 0,
                                reinterpret_cast<const sockaddr*>(&to), sizeof to)),
      "sendto");
}

// Kernel UDP out of a TAP with TUN_F_CSUM leaves the checksum to the device: the frame comes
// with NEEDS_CSUM and only the pseudo-header sum in the UDP checksum field.
void check_offload_receive(int sock, TapDevice& tap) {
  expect(tap.offload_active(), "this kernel accepts IFF_VNET_HDR and TUNSETOFFLOAD");
  expect(tap.caps().max_rx_frame == 14 + 65535, "superframe receive bound");
  expect(tap.caps().tso_max == 14 + 65535, "superframe transmit bound");
  send_udp(sock, kPeerIp, 100);
  RxInfo info;
  auto f = wait_for(
      tap, [](Bytes b) { return is_ipv4_to(b, kPeerIp, 17); }, "UDP datagram", &info);
  expect(f.size() == 14 + 20 + 8 + 100,
         "the vnet header is stripped: frame of 142 octets, got " + std::to_string(f.size()));
  expect(info.checksum_unverified, "the kernel left the UDP checksum to offload");
  expect(!info.superframe, "a small datagram is not a superframe");
  Checksum pseudo;
  pseudo.add_pseudo_header(Ipv4Addr{kTapIp}, Ipv4Addr{kPeerIp}, 17, 108);
  expect(load_be16(f, 40) == static_cast<std::uint16_t>(~pseudo.finish()),
         "the checksum field holds the pseudo-header sum");
  expect(tap.stats().rx_checksum_partial >= 1, "rx_checksum_partial counted");
}

// One TCP superframe from 10.78.0.2 to 10.79.0.2 with 4 x 1000 octets of payload.
std::vector<std::byte> tcp_superframe(const std::array<std::uint8_t, 6>& tap_mac) {
  constexpr std::size_t kPayload = 4000;
  std::vector<std::byte> f(14 + 20 + 20 + kPayload);
  for (std::size_t i = 0; i < 6; ++i) {
    store_u8(f, i, tap_mac[i]);
    store_u8(f, 6 + i, kPeerMac[i]);
  }
  store_be16(f, 12, 0x0800);
  MutBytes ip = MutBytes(f).subspan(14);
  store_u8(ip, 0, 0x45);
  store_be16(ip, 2, static_cast<std::uint16_t>(ip.size()));
  store_be16(ip, 6, 0x4000);  // DF
  store_u8(ip, 8, 64);
  store_u8(ip, 9, 6);
  store_be32(ip, 12, kPeerIp);
  store_be32(ip, 16, kFarIp);
  store_be16(ip, 10, internet_checksum(Bytes(ip).first(20)));
  MutBytes tcp = ip.subspan(20);
  store_be16(tcp, 0, 40000);
  store_be16(tcp, 2, 9);
  store_be32(tcp, 4, 1000000);
  store_be32(tcp, 8, 1);
  store_u8(tcp, 12, 0x50);
  store_u8(tcp, 13, 0x18);  // PSH, ACK
  store_be16(tcp, 14, 65535);
  for (std::size_t i = 0; i < kPayload; ++i) store_u8(tcp, 20 + i, static_cast<std::uint8_t>(i));
  Checksum pseudo;
  pseudo.add_pseudo_header(Ipv4Addr{kPeerIp}, Ipv4Addr{kFarIp}, 6,
                           static_cast<std::uint16_t>(tcp.size()));
  store_be16(tcp, 16, static_cast<std::uint16_t>(~pseudo.finish()));
  return f;
}

// The kernel forwards our superframe out of a TAP without offloads, so it must cut it into
// segments of gso_size with complete checksums; we read them there.
void check_transmit_gso(int sock, TapDevice& tap) {
  TapDevice out({.name = "tapiro1"});
  set_addr(sock, out.name(), kOutIp);
  set_neighbour(sock, out.name(), kFarIp);
  const int fwd = ::open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
  sys(fwd, "open ip_forward");
  sys(static_cast<int>(::write(fwd, "1", 1)), "enable ip_forward");
  ::close(fwd);

  const auto frame = tcp_superframe(hw_addr(sock, tap.name()));
  const GsoInfo gso{.type = GsoType::TcpV4,
                    .segment_size = 1000,
                    .header_len = 14 + 20 + 20,
                    .csum_start = 14 + 20,
                    .csum_offset = 16};
  expect(tap.transmit_gso(frame, gso, Instant{}) == Errno::Ok, "transmit_gso");
  expect(tap.stats().tx_superframes == 1, "the kernel took the superframe");
  for (std::uint32_t i = 0; i < 4; ++i) {
    auto seg = wait_for(
        out, [](Bytes b) { return is_ipv4_to(b, kFarIp, 6); }, "segment " + std::to_string(i));
    const std::string which = "segment " + std::to_string(i);
    expect(seg.size() == 14 + 20 + 20 + 1000, which + " carries 1000 octets");
    expect(load_u8(seg, 22) == 63, which + " was forwarded (TTL 63)");
    auto view = wire::TcpView::checked(Bytes(seg).subspan(34));
    expect(bool(view), which + " parses");
    auto repr = wire::TcpRepr::parse(*view, Ipv4Addr{kPeerIp}, Ipv4Addr{kFarIp});
    expect(bool(repr), which + " has a complete, valid TCP checksum");
    expect(repr->seq == 1000000 + 1000 * i, which + " sequence number");
    expect(load_u8(repr->payload, 0) == static_cast<std::uint8_t>(1000 * i), which + " payload");
  }
  expect(tap.transmit_gso(Bytes(frame).first(40), gso, Instant{}) == Errno::Inval,
         "offsets outside the frame are refused");
}

// An unknown TUNSETOFFLOAD bit makes the kernel answer EINVAL: the device falls back to a
// plain TAP that still carries frames.
void check_fallback(int sock) {
  TapDevice tap({.name = "tapiro2", .offload = true, .offload_features = 0x01 | 0x80000000U});
  expect(!tap.offload_active(), "offload is off after the refusal");
  expect(tap.caps().max_rx_frame == 0 && tap.caps().tso_max == 0, "plain caps");
  expect(tap.transmit_gso(std::vector<std::byte>(60), GsoInfo{}, Instant{}) == Errno::OpNotSupp,
         "transmit_gso is not supported on a plain TAP");
  set_addr(sock, tap.name(), 0x0a500001);  // 10.80.0.1
  set_neighbour(sock, tap.name(), 0x0a500002);
  send_udp(sock, 0x0a500002, 100);
  RxInfo info{.checksum_unverified = true, .superframe = true};
  auto f = wait_for(
      tap, [](Bytes b) { return is_ipv4_to(b, 0x0a500002, 17); }, "plain UDP datagram", &info);
  expect(f.size() == 142 && load_u8(f, 0) == kPeerMac[0] && load_u8(f, 5) == kPeerMac[5],
         "a plain frame starts with the Ethernet header");
  expect(!info.checksum_unverified && !info.superframe, "plain frames report nothing");
}

}  // namespace

TEST_CASE("TapDevice offload: vnet header, checksum-partial receive, GSO transmit, fallback",
          "[phy][netns]") {
  test::run_in_private_netns([] {
    const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sys(sock, "socket");
    TapDevice tap({.name = "tapiro0", .offload = true});
    set_addr(sock, tap.name(), kTapIp);
    set_neighbour(sock, tap.name(), kPeerIp);
    check_offload_receive(sock, tap);
    check_transmit_gso(sock, tap);
    check_fallback(sock);
    ::close(sock);
  });
}
