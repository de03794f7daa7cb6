// A textbook UDP client, written against the Berkeley sockets API (socket, connect,
// send, recv) and running on tapir's stack through the blocking facade: it sends COUNT
// lines to SERVER PORT and prints each reply.
//
//   udp_client [--tap tap0] [--ip 10.0.0.2/24] [--count 3] [--timeout-ms 2000]
//              [--broadcast] [--no-reply] SERVER PORT
//
// --broadcast sets SO_BROADCAST (needed to send to 255.255.255.255 or the subnet's
// broadcast address); --no-reply only sends (for broadcast and multicast receivers that
// do not answer). Exit status 0 when every line was answered (or sent, with --no-reply).
#include <arpa/inet.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "int_arg.hpp"
#include "phy/tap_device.hpp"
#include "tapir/bsd.hpp"

namespace bsd = tapir::bsd;

static void die(const char* what) {
  std::fprintf(stderr, "udp_client: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

int main(int argc, char** argv) {
  std::string tap = "tap0", ip = "10.0.0.2/24";
  int count = 3, timeout_ms = 2000;
  bool broadcast = false, no_reply = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    bool has_value = i + 1 < argc;
    if (flag == "--tap" && has_value)
      tap = argv[++i];
    else if (flag == "--ip" && has_value)
      ip = argv[++i];
    else if (flag == "--count" && has_value)
      count = int_arg("udp_client", "--count", argv[++i], 0, 1000000);
    else if (flag == "--timeout-ms" && has_value)
      timeout_ms = int_arg("udp_client", "--timeout-ms", argv[++i], 1, 3600000);
    else if (flag == "--broadcast")
      broadcast = true;
    else if (flag == "--no-reply")
      no_reply = true;
    else
      args.push_back(flag);
  }
  auto cidr = tapir::Ipv4Cidr::parse(ip);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  if (args.size() != 2 || !cidr || inet_pton(AF_INET, args[0].c_str(), &server.sin_addr) != 1) {
    std::fprintf(stderr,
                 "usage: udp_client [--tap NAME] [--ip ADDR/LEN] [--count N] [--timeout-ms MS]\n"
                 "                  [--broadcast] [--no-reply] SERVER PORT\n");
    return 2;
  }
  server.sin_port =
      htons(static_cast<uint16_t>(int_arg("udp_client", "PORT", args[1].c_str(), 1, 65535)));
  tapir::StackConfig config;
  config.address = *cidr;
  tapir::Runtime runtime(
      std::make_unique<tapir::phy::TapDevice>(tapir::phy::TapConfig{.name = tap}), config);
  bsd::use(runtime);

  int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  int on = 1;
  if (broadcast && bsd::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) < 0) {
    die("setsockopt SO_BROADCAST");
  }
  timeval tv{timeout_ms / 1000, static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
  if (bsd::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) die("setsockopt");
  if (bsd::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) < 0) die("connect");

  int answered = 0;
  for (int i = 1; i <= count; ++i) {
    std::string line = "line " + std::to_string(i) + " from tapir";
    if (bsd::send(fd, line.data(), line.size(), 0) < 0) die("send");
    if (no_reply) continue;
    char buf[65536];
    ssize_t n = bsd::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      std::fprintf(stderr, "udp_client: recv: %s\n",
                   errno == EAGAIN ? "no reply (timed out)" : std::strerror(errno));
      continue;
    }
    std::printf("reply: %.*s\n", static_cast<int>(n), buf);
    ++answered;
  }
  std::fflush(stdout);
  bsd::close(fd);
  return no_reply || answered == count ? 0 : 1;
}
