// A textbook UDP echo server, written against the Berkeley sockets API as every
// networking text teaches it (socket, bind, recvfrom, sendto), running on tapir's stack
// through the blocking facade instead of the kernel's.
//
//   udp_server [--tap tap0] [--ip 10.0.0.2/24] [--port 7] [--group 239.1.2.3]
//
// With --group it also joins a multicast group (IP_ADD_MEMBERSHIP), so datagrams sent to
// the group and port are echoed too (tapir answers the router's IGMP queries for it).
#include <arpa/inet.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "int_arg.hpp"
#include "phy/tap_device.hpp"
#include "tapir/bsd.hpp"

namespace bsd = tapir::bsd;

static void die(const char* what) {
  std::fprintf(stderr, "udp_server: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

int main(int argc, char** argv) {
  std::string tap = "tap0", ip = "10.0.0.2/24", group;
  int port = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--tap")
      tap = argv[i + 1];
    else if (flag == "--ip")
      ip = argv[i + 1];
    else if (flag == "--port")
      port = int_arg("udp_server", "--port", argv[i + 1], 1, 65535);
    else if (flag == "--group")
      group = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: udp_server [--tap NAME] [--ip ADDR/LEN] [--port N] [--group ADDR]\n");
      return 2;
    }
  }
  auto cidr = tapir::Ipv4Cidr::parse(ip);
  if (!cidr || port <= 0 || port > 65535) {
    std::fprintf(stderr, "udp_server: bad --ip or --port\n");
    return 2;
  }
  tapir::StackConfig config;
  config.address = *cidr;
  tapir::Runtime runtime(
      std::make_unique<tapir::phy::TapDevice>(tapir::phy::TapConfig{.name = tap}), config);
  bsd::use(runtime);

  int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bsd::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("bind");
  if (!group.empty()) {
    ip_mreq mreq{};
    if (inet_pton(AF_INET, group.c_str(), &mreq.imr_multiaddr) != 1) {
      std::fprintf(stderr, "udp_server: bad --group address '%s'\n", group.c_str());
      return 2;
    }
    mreq.imr_interface.s_addr = htonl(INADDR_ANY);
    if (bsd::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0) {
      die("setsockopt IP_ADD_MEMBERSHIP");
    }
  }
  std::printf("udp_server: serving on %s port %d%s%s\n", cidr->addr.to_string().c_str(), port,
              group.empty() ? "" : " and group ", group.c_str());
  std::fflush(stdout);

  static char buf[65536];
  for (;;) {
    sockaddr_in from{};
    socklen_t fromlen = sizeof from;
    ssize_t n = bsd::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
    if (n < 0) die("recvfrom");
    if (bsd::sendto(fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from),
                    fromlen) < 0) {
      std::fprintf(stderr, "udp_server: sendto: %s\n", std::strerror(errno));
    }
  }
}
