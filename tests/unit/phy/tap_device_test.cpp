#include "phy/tap_device.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/private_netns.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "phy/common.hpp"

using namespace tapir;
using namespace tapir::phy;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DeviceError& e) {
    return e.what();
  }
  return "(no DeviceError)";
}

}  // namespace

TEST_CASE("TapDevice: invalid interface names are refused before any system call", "[phy]") {
  struct Case {
    std::string name;
    std::string reason;
  };
  const Case c =
      GENERATE(Case{"", "the name is empty"}, Case{"tap/0", "contains '/'"},
               Case{"tap 0", "contains whitespace"}, Case{"tap\t0", "contains whitespace"},
               Case{"tap0\n", "contains whitespace"}, Case{"tap:0", "contains ':'"},
               Case{"..", "reserved"}, Case{"tapirtapirtapir0", "longer than 15 characters"});
  INFO("name='" << c.name << "'");
  const std::string msg = error_of([&] { TapDevice tap({.name = c.name}); });
  INFO(msg);
  CHECK(msg.find("invalid TAP name") != std::string::npos);
  CHECK(msg.find(c.reason) != std::string::npos);
}

TEST_CASE("TapDevice: names up to 15 characters are valid", "[phy]") {
  CHECK_NOTHROW(TapDevice::validate_name("tap0"));
  CHECK_NOTHROW(TapDevice::validate_name("tapirtapirtapir"));
  CHECK_NOTHROW(TapDevice::validate_name("tap%d"));
}

// ---------------------------------------------------------------------------------------
// Against the kernel: a forked child moves into a fresh network namespace of its own, so
// nothing it creates is visible to (or survives beyond) the test process.

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

constexpr std::uint32_t kTapIp = 0x0a4d0001;   // 10.77.0.1, the kernel's side
constexpr std::uint32_t kPeerIp = 0x0a4d0002;  // 10.77.0.2, the neighbour we play
constexpr std::array<std::uint8_t, 6> kPeerMac{0x02, 0x00, 0x00, 0x00, 0x77, 0x02};
// A second neighbour, whose ARP reply is built in the TAP's own tx slot (tx_slot()).
constexpr std::uint32_t kPeer2Ip = 0x0a4d0003;  // 10.77.0.3
constexpr std::array<std::uint8_t, 6> kPeer2Mac{0x02, 0x00, 0x00, 0x00, 0x77, 0x03};
constexpr std::uint16_t kPeerPort = 9;

sockaddr_in inet_addr_of(std::uint32_t ip, std::uint16_t port = 0) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(ip);
  sa.sin_port = htons(port);
  return sa;
}

void set_addr(int sock, const std::string& ifname, unsigned long req, std::uint32_t ip) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  const sockaddr_in sa = inet_addr_of(ip);
  std::memcpy(&ifr.ifr_addr, &sa, sizeof sa);
  sys(::ioctl(sock, req, &ifr), "ioctl address of " + ifname);
}

std::array<std::uint8_t, 6> hw_addr(int sock, const std::string& ifname) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  sys(::ioctl(sock, SIOCGIFHWADDR, &ifr), "SIOCGIFHWADDR " + ifname);
  std::array<std::uint8_t, 6> mac{};
  std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

bool mac_at(Bytes f, std::size_t off, const std::array<std::uint8_t, 6>& mac) {
  for (std::size_t i = 0; i < mac.size(); ++i) {
    if (load_u8(f, off + i) != mac[i]) return false;
  }
  return true;
}

// Polls the TAP until `match` accepts a frame; other traffic (IPv6 router solicitations,
// MLD reports) is skipped. Gives up after 50 polls of 100 ms.
std::vector<std::byte> wait_for(TapDevice& tap, const std::function<bool(Bytes)>& match,
                                const std::string& what) {
  for (int round = 0; round < 50; ++round) {
    pollfd pfd{tap.wait_fd(), POLLIN, 0};
    sys(::poll(&pfd, 1, 100), "poll");
    while (auto f = tap.receive(Instant{})) {
      if (match(*f)) return {f->begin(), f->end()};
    }
  }
  throw ChildFailure("no " + what + " arrived on " + tap.name());
}

std::function<bool(Bytes)> is_arp_request_for(std::uint32_t ip) {
  return [ip](Bytes f) {
    return f.size() >= 42 && load_be16(f, 12) == 0x0806 && load_be16(f, 20) == 1 &&
           load_be32(f, 28) == kTapIp && load_be32(f, 38) == ip;
  };
}

std::function<bool(Bytes)> is_udp_to(std::uint32_t ip, const std::array<std::uint8_t, 6>& mac) {
  return [ip, mac](Bytes f) {
    return f.size() >= 42 && mac_at(f, 0, mac) && load_be16(f, 12) == 0x0800 &&
           load_u8(f, 23) == 17 && load_be32(f, 30) == ip && load_be16(f, 36) == kPeerPort;
  };
}

// An ARP reply from ip/mac to the TAP, written into the first 60 octets of `f`.
void write_arp_reply(MutBytes f, const std::array<std::uint8_t, 6>& tap_mac, std::uint32_t ip,
                     const std::array<std::uint8_t, 6>& mac) {
  std::fill(f.begin(), f.begin() + 60, std::byte{0});
  for (std::size_t i = 0; i < 6; ++i) {
    store_u8(f, i, tap_mac[i]);
    store_u8(f, 6 + i, mac[i]);
    store_u8(f, 22 + i, mac[i]);      // sender hardware address
    store_u8(f, 32 + i, tap_mac[i]);  // target hardware address
  }
  store_be16(f, 12, 0x0806);
  store_be16(f, 14, 1);       // Ethernet
  store_be16(f, 16, 0x0800);  // IPv4
  store_u8(f, 18, 6);
  store_u8(f, 19, 4);
  store_be16(f, 20, 2);  // reply
  store_be32(f, 28, ip);
  store_be32(f, 38, kTapIp);
}

std::vector<std::byte> arp_reply(const std::array<std::uint8_t, 6>& tap_mac) {
  std::vector<std::byte> f(60);
  write_arp_reply(f, tap_mac, kPeerIp, kPeerMac);
  return f;
}

void send_udp(int sock, std::uint32_t ip) {
  const sockaddr_in peer = inet_addr_of(ip, kPeerPort);
  const char payload[] = "tapir";
  sys(static_cast<int>(::sendto(sock, payload, sizeof payload, 0,
                                reinterpret_cast<const sockaddr*>(&peer), sizeof peer)),
      "sendto");
}

// The kernel emits an ARP request for the neighbour when a datagram is sent to it; our
// reply (through transmit) resolves it, and the queued datagram then arrives for our MAC.
void check_receive_and_transmit() {
  TapDevice tap({.name = "tapirt0"});
  expect(tap.created(), "a fresh namespace has no tapirt0, so it must be created");
  expect(tap.caps().mtu == 1500, "default TAP MTU is 1500, got " + std::to_string(tap.caps().mtu));
  expect(tap.wait_fd() >= 0, "wait_fd() is the TAP fd");

  const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sys(sock, "socket");
  set_addr(sock, tap.name(), SIOCSIFADDR, kTapIp);
  set_addr(sock, tap.name(), SIOCSIFNETMASK, 0xffffff00);
  const auto tap_mac = hw_addr(sock, tap.name());

  send_udp(sock, kPeerIp);
  (void)wait_for(tap, is_arp_request_for(kPeerIp), "ARP request for 10.77.0.2");

  expect(tap.transmit(arp_reply(tap_mac), Instant{}) == Errno::Ok, "transmit ARP reply");
  tap.flush(Instant{});
  expect(tap.stats().tx_frames == 1, "the kernel accepted the ARP reply");
  (void)wait_for(tap, is_udp_to(kPeerIp, kPeerMac), "UDP datagram to our MAC after the ARP reply");
  expect(tap.stats().rx_frames >= 2, "rx_frames counts the frames handed out");

  // The zero-copy path: the reply is built in the device's tx slot and transmitted from
  // there; the kernel resolving 10.77.0.3 to its MAC shows the frame arrived whole.
  send_udp(sock, kPeer2Ip);
  (void)wait_for(tap, is_arp_request_for(kPeer2Ip), "ARP request for 10.77.0.3");
  MutBytes slot = tap.tx_slot(60);
  expect(slot.size() >= 60, "tx_slot lends a buffer for a minimum-size frame");
  expect(tap.tx_slot(1515).empty(), "tx_slot lends nothing longer than a frame at the MTU");
  write_arp_reply(slot, tap_mac, kPeer2Ip, kPeer2Mac);
  expect(tap.transmit(slot.first(60), Instant{}) == Errno::Ok, "transmit ARP reply in place");
  tap.flush(Instant{});
  expect(tap.stats().tx_frames == 2, "the kernel accepted the ARP reply built in place");
  (void)wait_for(tap, is_udp_to(kPeer2Ip, kPeer2Mac), "UDP datagram to 10.77.0.3's MAC");
  expect(tap.stats().rx_errors == 0 && tap.stats().tx_errors == 0, "no device errors");

  // Draining the queue costs one read(2) per frame plus the one that finds it empty:
  // nothing is read ahead and no empty read is repeated. (However the kernel spreads the
  // two datagrams over wake-ups, every drain obeys that count.)
  send_udp(sock, kPeerIp);
  send_udp(sock, kPeerIp);
  std::uint64_t frames = 0;
  for (int round = 0; round < 20 && frames < 2; ++round) {
    pollfd pfd{tap.wait_fd(), POLLIN, 0};
    sys(::poll(&pfd, 1, 100), "poll");
    if (!(pfd.revents & POLLIN)) continue;
    const std::uint64_t reads_before = tap.stats().rx_reads;
    std::uint64_t batch = 0;
    while (tap.receive(Instant{})) ++batch;
    const std::uint64_t reads = tap.stats().rx_reads - reads_before;
    expect(batch == 0 || reads == batch + 1, std::to_string(batch) + " frames took " +
                                                 std::to_string(reads) + " reads, not " +
                                                 std::to_string(batch + 1));
    frames += batch;
  }
  expect(frames >= 2, "both datagrams arrived");
  // Every receive() reads the TAP: a frame may have arrived since.
  const std::uint64_t reads_before = tap.stats().rx_reads;
  (void)tap.receive(Instant{});
  expect(tap.stats().rx_reads > reads_before, "a new batch reads the TAP");

  // A second TUNSETIFF on the same single-queue TAP is refused while the first holds it.
  std::string msg = error_of([] { TapDevice again({.name = "tapirt0"}); });
  expect(msg.find("another process holds tapirt0") != std::string::npos, "busy hint: " + msg);
  ::close(sock);
}

// A persistent TAP that already exists is attached to, not created, and can get a new MTU.
void check_attach_to_persistent() {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  sys(fd, "open /dev/net/tun");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "tapirp0", IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  sys(::ioctl(fd, TUNSETIFF, &ifr), "TUNSETIFF tapirp0");
  sys(::ioctl(fd, TUNSETPERSIST, 1), "TUNSETPERSIST");
  ::close(fd);

  TapDevice tap({.name = "tapirp0", .mtu = 1400});
  expect(!tap.created(), "tapirp0 existed, so created() is false");
  expect(tap.caps().mtu == 1400, "MTU set to 1400, got " + std::to_string(tap.caps().mtu));

  std::string msg = error_of([] { TapDevice lo({.name = "lo"}); });
  expect(msg.find("exists but is not a single-queue TAP") != std::string::npos,
         "non-TAP hint: " + msg);
}

// Without CAP_NET_ADMIN the kernel refuses to create a TAP; the message says what to grant.
void check_without_cap_net_admin() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, 2> data{};
  sys(static_cast<int>(::syscall(SYS_capget, &hdr, data.data())), "capget");
  data[0].effective &= ~(1U << CAP_NET_ADMIN);
  sys(static_cast<int>(::syscall(SYS_capset, &hdr, data.data())), "capset");
  std::string msg = error_of([] { TapDevice tap({.name = "tapirt1"}); });
  expect(msg.find("ioctl TUNSETIFF tapirt1") != std::string::npos, "names the step: " + msg);
  expect(msg.find("CAP_NET_ADMIN") != std::string::npos, "permission hint: " + msg);
}

}  // namespace

TEST_CASE("TapDevice: receives kernel frames and transmits to it in a private netns",
          "[phy][netns]") {
  test::run_in_private_netns([] {
    check_receive_and_transmit();
    check_attach_to_persistent();
    check_without_cap_net_admin();
  });
}
