// Choosing the congestion control (RFC 5681/6582 NewReno or RFC 9438 CUBIC): the stack's
// default (TcpConfig::congestion, --congestion) and Linux's TCP_CONGESTION socket option,
// its argument rules and errnos, inheritance by accepted connections, and switching on a
// live connection, which keeps cwnd and ssthresh as Linux does.
#include <netinet/tcp.h>

#include <cstring>

#include "support/tcp_harness.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

Errno set_cc(TcpHarness& h, int fd, std::string_view name) {
  return h.sockets().setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name.data(),
                                static_cast<socklen_t>(name.size()));
}

std::string get_cc(TcpHarness& h, int fd) {
  char buf[32];
  std::memset(buf, 'x', sizeof buf);
  socklen_t len = sizeof buf;
  REQUIRE(h.sockets().getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, buf, &len) == Errno::Ok);
  REQUIRE(len == 16);  // TCP_CA_NAME_MAX
  return std::string(buf, ::strnlen(buf, len));
}

int stream_socket(TcpHarness& h) {
  auto s = h.sockets().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(s);
  return *s;
}

Frame ack_to(std::uint32_t ack) {
  return seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = ack});
}

}  // namespace

TEST_CASE("TCP_CONGESTION: newreno by default, cubic and reno accepted, read back by name",
          "[tcp][socket][congestion][linux]") {
  TcpHarness h;
  int fd = stream_socket(h);
  CHECK(get_cc(h, fd) == "newreno");
  REQUIRE(set_cc(h, fd, "cubic") == Errno::Ok);
  CHECK(get_cc(h, fd) == "cubic");
  // LINUX: "reno" is Linux's name for its NewReno.
  REQUIRE(set_cc(h, fd, "reno") == Errno::Ok);
  CHECK(get_cc(h, fd) == "newreno");
  REQUIRE(set_cc(h, fd, "newreno") == Errno::Ok);
  CHECK(get_cc(h, fd) == "newreno");
  CHECK(h.close(fd) == Errno::Ok);
  h.finish();
}

TEST_CASE("TCP_CONGESTION: ENOENT for an unknown name, EINVAL for an empty one, as Linux",
          "[tcp][socket][congestion][linux]") {
  TcpHarness h;
  int fd = stream_socket(h);
  REQUIRE(set_cc(h, fd, "cubic") == Errno::Ok);
  CHECK(set_cc(h, fd, "bbr") == Errno::NoEnt);
  CHECK(set_cc(h, fd, "CUBIC") == Errno::NoEnt);
  CHECK(set_cc(h, fd, "") == Errno::Inval);
  CHECK(h.sockets().setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, nullptr, 5) == Errno::Inval);
  CHECK(get_cc(h, fd) == "cubic");  // failures change nothing
  // The name ends at the option's length or at a NUL, and is at most 15 octets.
  CHECK(h.sockets().setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "renovation", 4) == Errno::Ok);
  CHECK(get_cc(h, fd) == "newreno");
  const char with_nul[] = "cubic\0junk";
  CHECK(h.sockets().setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, with_nul, sizeof with_nul) ==
        Errno::Ok);
  CHECK(get_cc(h, fd) == "cubic");
  CHECK(set_cc(h, fd, "cubic0123456789xyz") == Errno::NoEnt);
  // getsockopt copies min(len, 16) octets and reports that length.
  char small[3];
  socklen_t len = sizeof small;
  REQUIRE(h.sockets().getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, small, &len) == Errno::Ok);
  CHECK(len == 3);
  CHECK(std::string(small, 3) == "cub");
  // Not a TCP socket: the TCP level does not exist there.
  auto udp = h.sockets().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(udp);
  CHECK(h.sockets().setsockopt(*udp, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5) == Errno::NoProtoOpt);
  CHECK(h.sockets().close(*udp) == Errno::Ok);
  CHECK(h.close(fd) == Errno::Ok);
  h.finish();
}

TEST_CASE("TCP_CONGESTION: set before connect, the connection runs that algorithm",
          "[tcp][socket][congestion]") {
  TcpHarness h;
  int fd = stream_socket(h);
  REQUIRE(set_cc(h, fd, "cubic") == Errno::Ok);
  REQUIRE(h.sockets().connect(fd, make_sockaddr(kRemoteIp, kPeerPort)) == Errno::InProgress);
  auto syn = h.expect({.flags = {.syn = true}});
  h.send(seg({.flags = {.syn = true, .ack = true},
              .seq = kPeerIss,
              .ack = syn.tcp.seq + 1,
              .mss = kPeerMss,
              .dst_port = syn.tcp.src_port}));
  h.expect({.flags = {.ack = true}});
  CHECK(h.conn(fd).congestion().name() == "cubic");
  CHECK(h.conn(fd).cwnd() == 3 * 1460);  // RFC 5681 eq. 1 for the negotiated SMSS
  CHECK(get_cc(h, fd) == "cubic");
  CHECK(h.close(fd) == Errno::Ok);
  h.finish();
}

TEST_CASE("TCP_CONGESTION: accepted connections inherit the listener's algorithm",
          "[tcp][socket][congestion][linux]") {
  TcpHarness h;
  int l = h.listen();
  REQUIRE(set_cc(h, l, "cubic") == Errno::Ok);
  CHECK(get_cc(h, l) == "cubic");
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = kPeerMss}));
  auto sa = h.expect({.flags = {.syn = true, .ack = true}});
  h.send(ack_to(sa.tcp.seq + 1));
  int fd = h.accept(l);
  CHECK(get_cc(h, fd) == "cubic");
  CHECK(h.conn(fd).congestion().name() == "cubic");
  CHECK(h.conn(fd).cwnd() == 3 * 1460);
  h.finish();
}

TEST_CASE("TCP_CONGESTION: the stack's default comes from TcpConfig::congestion",
          "[tcp][socket][congestion]") {
  auto cfg = TcpHarness::default_config();
  cfg.tcp.congestion = CongestionAlgorithm::Cubic;
  TcpHarness h(cfg);
  int fd = h.established_passive();
  CHECK(get_cc(h, fd) == "cubic");
  CHECK(h.conn(fd).congestion().name() == "cubic");
  // A socket can still choose NewReno.
  REQUIRE(set_cc(h, fd, "newreno") == Errno::Ok);
  CHECK(h.conn(fd).congestion().name() == "newreno");
  h.finish();
}

TEST_CASE("TCP_CONGESTION: switching a live connection keeps cwnd and ssthresh (LINUX)",
          "[tcp][socket][congestion][linux]") {
  TcpHarness h;
  int fd = h.established_passive();
  // Grow cwnd by slow start: 3 segments out, each acknowledged: cwnd 3 -> 6 segments.
  REQUIRE(h.write(fd, std::string(3 * 1460, 's')).value() == 3 * 1460);
  for (std::uint32_t i = 1; i <= 3; ++i) {
    h.next();
    h.send(ack_to(h.iss + 1 + i * 1460));
  }
  const std::uint64_t cwnd = h.conn(fd).cwnd();
  CHECK(cwnd == 6 * 1460);
  REQUIRE(set_cc(h, fd, "cubic") == Errno::Ok);
  CHECK(h.conn(fd).congestion().name() == "cubic");
  CHECK(h.conn(fd).cwnd() == cwnd);
  CHECK(h.conn(fd).congestion().ssthresh() == tcp::kMaxAdvertisedWindow);
  REQUIRE(set_cc(h, fd, "cubic") == Errno::Ok);  // the same algorithm: nothing changes
  CHECK(h.conn(fd).cwnd() == cwnd);

  // A loss under CUBIC: ssthresh = 0.7 * FlightSize; switching back to NewReno in fast
  // recovery keeps that ssthresh and deflates cwnd to it (RFC 5681 §3.2 step 6).
  REQUIRE(h.write(fd, std::string(6 * 1460, 'l')).value() == 6 * 1460);
  for (int i = 0; i < 6; ++i) h.next();
  for (int i = 0; i < 3; ++i) h.send(ack_to(h.iss + 1 + 3 * 1460));
  while (h.pending() > 0) h.next();  // limited transmit, then the fast retransmit
  REQUIRE(h.conn(fd).congestion().in_recovery());
  const std::uint64_t ssthresh = h.conn(fd).congestion().ssthresh();
  CHECK(ssthresh == 6 * 1460 * 7 / 10);
  REQUIRE(set_cc(h, fd, "reno") == Errno::Ok);
  CHECK(h.conn(fd).congestion().name() == "newreno");
  CHECK(h.conn(fd).congestion().ssthresh() == ssthresh);
  CHECK(h.conn(fd).cwnd() == ssthresh);
  CHECK_FALSE(h.conn(fd).congestion().in_recovery());
  // The connection goes on: everything acknowledged, nothing left to send.
  h.send(ack_to(h.iss + 1 + 9 * 1460));
  CHECK(h.conn(fd).snd().una == h.conn(fd).snd().max);
  h.finish();
}
