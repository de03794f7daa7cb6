// SYN-SENT (RFC 9293 §3.10.7.3), simultaneous open (§3.5 Figure 8) and the active side of
// SYN-RECEIVED, the SYN retransmission timer (RFC 6298), ICMP errors during connect (RFC
// 1122 §4.2.3.9), and the connect()-related errnos of the socket API.
#include "support/tcp_harness.hpp"

using namespace tapir;
using namespace tapir::test;
using tapir::tcp::TcpState;

TEST_CASE("SYN-SENT: connect sends a SYN with MSS and window scale, and is not yet writable",
          "[tcp][rfc9293-3.10.7.3][rfc7323-2.2]") {
  TcpHarness h;
  int fd = h.connect(kStackPort);
  h.expect({.flags = {.syn = true}, .window = 65535, .mss = 1460, .window_scale = 7});
  CHECK(h.state(fd) == TcpState::SynSent);
  CHECK(h.poll(fd) == 0);
  CHECK(h.tcp_stats().active_opens == 1);
  // While connecting: EALREADY for another connect, EAGAIN for I/O, ENOTCONN for shutdown
  // and getpeername (Linux).
  CHECK(h.sockets().connect(fd, make_sockaddr(kRemoteIp, kPeerPort)) == Errno::Already);
  CHECK(h.sockets().send(fd, as_bytes(std::string_view("x")), 0).error() == Errno::Again);
  std::array<std::byte, 4> buf;
  CHECK(h.sockets().recv(fd, MutBytes(buf), 0).error() == Errno::Again);
  CHECK(h.sockets().shutdown(fd, SHUT_WR) == Errno::NotConn);
  CHECK(h.sockets().getpeername(fd).error() == Errno::NotConn);
  h.finish();
}

TEST_CASE("SYN-SENT: SYN,ACK establishes, is acknowledged, and connect completes",
          "[tcp][rfc9293-3.10.7.3]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.syn = true, .ack = true},
              .seq = kPeerIss,
              .ack = h.iss + 1,
              .window = 8000,
              .mss = 1000}));
  // Without the peer's window scale option, scaling is off (RFC 7323 §2.2) and our ACK's
  // window is not shifted.
  h.expect({.flags = {.ack = true},
            .seq = h.iss + 1,
            .ack = kPeerIss + 1,
            .window = 65535,
            .no_options = true});
  CHECK(h.state(fd) == TcpState::Established);
  CHECK((h.poll(fd) & POLLOUT) != 0);
  CHECK(h.so_error(fd) == Errno::Ok);
  auto& c = h.conn(fd);
  CHECK(c.snd().wnd == 8000);
  CHECK(c.negotiated().smss == 1000);  // the peer's MSS (RFC 9293 §3.7.1)
  CHECK_FALSE(c.negotiated().window_scaling);
  CHECK(h.sockets().connect(fd, make_sockaddr(kRemoteIp, kPeerPort)) == Errno::IsConn);
  h.finish();
}

TEST_CASE("SYN-SENT: a SYN,ACK without MSS option means 536", "[tcp][rfc9293-3.7.1]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.syn = true, .ack = true}, .seq = kPeerIss, .ack = h.iss + 1}));
  h.expect({.flags = {.ack = true}});
  CHECK(h.conn(fd).negotiated().smss == 536);
  REQUIRE(h.write(fd, std::string(600, 'a')).value() == 600);
  h.expect({.flags = {.ack = true}, .payload_len = 536});
  h.expect_nothing();  // Nagle holds the 64-octet tail while 536 are unacknowledged
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 537}));
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 537, .payload_len = 64});
  h.finish();
}

TEST_CASE("SYN-SENT: a SYN,ACK with window scale turns scaling on both ways",
          "[tcp][rfc7323-2.2]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.syn = true, .ack = true},
              .seq = kPeerIss,
              .ack = h.iss + 1,
              .window = 1000,
              .mss = 1460,
              .window_scale = 3}));
  // Our window: 256 KiB >> 7.
  h.expect({.flags = {.ack = true}, .window = 2048});
  auto& c = h.conn(fd);
  CHECK(c.negotiated().window_scaling);
  CHECK(c.snd().wnd == 1000);  // the SYN,ACK's own window is never scaled
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1, .window = 1000}));
  CHECK(c.snd().wnd == 8000);
  h.finish();
}

TEST_CASE("SYN-SENT: data and FIN riding on the SYN,ACK are taken", "[tcp][rfc9293-3.10.7.3]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.fin = true, .syn = true, .ack = true},
              .seq = kPeerIss,
              .ack = h.iss + 1,
              .payload = "hi"}));
  // SYN+FIN is an illegal combination (RFC 9293 §3.1 leaves it, tapir drops it as Linux does).
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_drop_bad_flags == 1);
  h.send(seg({.flags = {.syn = true, .psh = true, .ack = true},
              .seq = kPeerIss,
              .ack = h.iss + 1,
              .payload = "hi"}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 3});
  CHECK(h.read(fd) == "hi");
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 3, .ack = h.iss + 1}));
  h.expect_nothing();  // the ACK of the FIN is delayed (RFC 1122 §4.2.3.2)
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 4});
  CHECK(h.state(fd) == TcpState::CloseWait);
  h.finish();
}

TEST_CASE("SYN-SENT: RST with an acceptable ACK refuses the connection: ECONNREFUSED",
          "[tcp][rfc9293-3.10.7.3]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.rst = true, .ack = true}, .seq = 0, .ack = h.iss + 1}));
  h.expect_nothing();
  CHECK(h.took(TcpState::SynSent, TcpState::Closed));
  short ev = h.poll(fd);
  CHECK((ev & POLLERR) != 0);
  CHECK((ev & POLLHUP) != 0);
  CHECK((ev & POLLOUT) != 0);
  // The error is reported once: connect() says it (Linux), then SO_ERROR is clear.
  CHECK(h.sockets().connect(fd, make_sockaddr(kRemoteIp, kPeerPort)) == Errno::ConnRefused);
  CHECK(h.so_error(fd) == Errno::Ok);
  CHECK(h.tcp_stats().rx_resets == 1);
  h.finish();
}

TEST_CASE("SYN-SENT: the refusal is reported by SO_ERROR and by recv, each once",
          "[tcp][rfc9293-3.10.7.3][socket]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.rst = true, .ack = true}, .seq = 0, .ack = h.iss + 1}));
  CHECK(h.so_error(fd) == Errno::ConnRefused);
  CHECK(h.so_error(fd) == Errno::Ok);
  int fd2 = h.connect(kStackPort + 1);
  auto syn = h.expect({.flags = {.syn = true}});
  h.send(seg({.flags = {.rst = true, .ack = true},
              .seq = 0,
              .ack = syn.tcp.seq + 1,
              .dst_port = kStackPort + 1}));
  std::array<std::byte, 4> buf;
  CHECK(h.sockets().recv(fd2, MutBytes(buf), 0).error() == Errno::ConnRefused);
  CHECK(h.sockets().recv(fd2, MutBytes(buf), 0).error() == Errno::NotConn);
  h.finish();
}

TEST_CASE("SYN-SENT: RST without ACK, or with an unacceptable ACK, is dropped",
          "[tcp][rfc9293-3.10.7.3][rfc5961-3]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss}));
  h.send(seg({.flags = {.rst = true, .ack = true}, .seq = kPeerIss, .ack = h.iss + 2}));
  h.expect_nothing();
  CHECK(h.state(fd) == TcpState::SynSent);
  CHECK(h.tcp_stats().rx_resets == 0);
  h.finish();
}

TEST_CASE("SYN-SENT: an ACK for something never sent gets RST with SEQ=SEG.ACK",
          "[tcp][rfc9293-3.10.7.3]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss, .ack = h.iss + 5}));
  h.expect({.flags = {.rst = true}, .seq = h.iss + 5});
  h.send(seg({.flags = {.syn = true, .ack = true}, .seq = kPeerIss, .ack = h.iss}));
  h.expect({.flags = {.rst = true}, .seq = h.iss});
  CHECK(h.state(fd) == TcpState::SynSent);
  CHECK(h.tcp_stats().rx_drop_ack_unsent == 2);
  h.finish();
}

TEST_CASE("SYN-SENT: an acceptable ACK without SYN is dropped", "[tcp][rfc9293-3.10.7.3]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss, .ack = h.iss + 1}));
  h.expect_nothing();
  CHECK(h.state(fd) == TcpState::SynSent);
  h.finish();
}

TEST_CASE("SYN-SENT: the SYN is retransmitted with exponential backoff, then ETIMEDOUT",
          "[tcp][rfc6298-5][rfc1122-4.2.3.5]") {
  TcpHarness h;
  int fd = h.syn_sent();
  // RFC 6298 (2.1) initial RTO 1 s, (5.5) doubled on each expiry.
  Duration at = 0s;
  for (Duration rto : {1s, 2s, 4s, 8s, 16s, 32s}) {
    h.advance(rto - 1ms);
    h.expect_nothing();
    h.advance(1ms);
    at += rto;
    h.expect({.flags = {.syn = true}, .seq = h.iss, .mss = 1460, .at = at});
  }
  // The seventh expiry (the RTO capped at 60 s, RFC 6298 (2.5)) gives up: no RST for a
  // handshake that never completed.
  h.advance(60s - 1ms);
  CHECK(h.state(fd) == TcpState::SynSent);
  h.advance(1ms);
  h.expect_nothing();
  CHECK((h.poll(fd) & POLLERR) != 0);
  CHECK(h.so_error(fd) == Errno::TimedOut);
  CHECK(h.tcp_stats().timeouts == 1);
  CHECK(h.tcp_stats().rto_expired == 6);
  h.finish();
}

TEST_CASE("SYN-SENT: after a SYN timeout the RTO restarts at 3 s", "[tcp][rfc6298-5.7]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.advance(1s);
  h.expect({.flags = {.syn = true}, .seq = h.iss});
  h.send(seg({.flags = {.syn = true, .ack = true}, .seq = kPeerIss, .ack = h.iss + 1}));
  h.expect({.flags = {.ack = true}});
  CHECK(h.conn(fd).rto() == 3s);
  // Karn: the SYN was sent twice, so its ACK gave no sample.
  CHECK_FALSE(h.conn(fd).srtt());
  h.finish();
}

TEST_CASE("SYN-SENT: close() before the answer deletes the TCB without a RST",
          "[tcp][rfc9293-3.10.4]") {
  TcpHarness h;
  int fd = h.syn_sent();
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect_nothing();
  CHECK(h.took(TcpState::SynSent, TcpState::Closed));
  CHECK(h.live_connections() == 0);
  CHECK(h.port_reservations() == 0);
  // A late SYN,ACK finds no socket: RST.
  h.send(seg({.flags = {.syn = true, .ack = true}, .seq = kPeerIss, .ack = h.iss + 1}));
  h.expect({.flags = {.rst = true}, .seq = h.iss + 1});
  h.finish();
}

TEST_CASE("SYN-SENT: ICMP port unreachable refuses the connection",
          "[tcp][rfc1122-4.2.3.9][rfc5927]") {
  TcpHarness h;
  h.fd = h.connect(kStackPort);
  auto syn = h.expect({.flags = {.syn = true}});
  // An error quoting a sequence number we never sent is not believed (RFC 5927 §4.1).
  Seen forged = syn;
  forged.tcp.seq += 1000;
  h.send(icmp_error(wire::icmp_type::kDestUnreachable, wire::icmp_unreach::kPort, forged));
  CHECK(h.state(h.fd) == TcpState::SynSent);
  h.send(icmp_error(wire::icmp_type::kDestUnreachable, wire::icmp_unreach::kPort, syn));
  CHECK(h.took(TcpState::SynSent, TcpState::Closed));
  CHECK(h.so_error(h.fd) == Errno::ConnRefused);
  h.finish();
}

TEST_CASE("SYN-SENT: ICMP host unreachable is soft, and reported when the connect times out",
          "[tcp][rfc1122-4.2.3.9]") {
  TcpHarness h;
  int fd = h.connect(kStackPort);
  auto syn = h.expect({.flags = {.syn = true}});
  h.send(icmp_error(wire::icmp_type::kDestUnreachable, wire::icmp_unreach::kHost, syn));
  CHECK(h.state(fd) == TcpState::SynSent);  // RFC 1122 §4.2.3.9: MUST NOT abort
  h.advance(200s);
  CHECK(h.so_error(fd) == Errno::HostUnreach);
  h.finish();
}

// ---- Simultaneous open (RFC 9293 §3.5 Figure 8) ----

TEST_CASE("SYN-SENT: a SYN without ACK is a simultaneous open: SYN-RECEIVED, SYN,ACK",
          "[tcp][rfc9293-3.10.7.3][rfc9293-3.5]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = 1460}));
  // "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>": our original ISS again.
  h.expect({.flags = {.syn = true, .ack = true}, .seq = h.iss, .ack = kPeerIss + 1, .mss = 1460});
  CHECK(h.state(fd) == TcpState::SynReceived);
  CHECK(h.took(TcpState::SynSent, TcpState::SynReceived));
  // Figure 8 line 6: the peer's SYN,ACK (its SYN again, and the ACK of ours) completes it.
  h.send(
      seg({.flags = {.syn = true, .ack = true}, .seq = kPeerIss, .ack = h.iss + 1, .mss = 1460}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 1});
  CHECK(h.state(fd) == TcpState::Established);
  CHECK(h.took(TcpState::SynReceived, TcpState::Established));
  CHECK((h.poll(fd) & POLLOUT) != 0);
  REQUIRE(h.write(fd, "go"));
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 1, .payload = "go"});
  h.finish();
}

TEST_CASE("SYN-RECEIVED (active): a plain ACK of our SYN also completes the open",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss}));
  h.expect({.flags = {.syn = true, .ack = true}, .seq = h.iss});
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1}));
  h.expect_nothing();
  CHECK(h.state(fd) == TcpState::Established);
  h.finish();
}

TEST_CASE("SYN-RECEIVED (active): the SYN,ACK is retransmitted on timeout",
          "[tcp][rfc9293-3.10.7.3][rfc6298-5]") {
  TcpHarness h;
  h.syn_sent();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss}));
  h.expect({.flags = {.syn = true, .ack = true}, .seq = h.iss, .at = 0ms});
  // The SYN's timer keeps running: it expires 1 s after the SYN.
  h.advance(1s);
  h.expect({.flags = {.syn = true, .ack = true}, .seq = h.iss, .ack = kPeerIss + 1, .at = 1s});
  h.finish();
}

TEST_CASE("SYN-RECEIVED (active): RST refuses the connection", "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss}));
  h.expect({.flags = {.syn = true, .ack = true}});
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 1}));
  CHECK(h.took(TcpState::SynReceived, TcpState::Closed));
  CHECK(h.so_error(fd) == Errno::ConnRefused);
  h.finish();
}

TEST_CASE("SYN-RECEIVED (active): close() queues a FIN sent once the ACK arrives",
          "[tcp][rfc9293-3.10.4]") {
  TcpHarness h;
  int fd = h.syn_sent();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss}));
  h.expect({.flags = {.syn = true, .ack = true}});
  REQUIRE(h.shutdown(fd, SHUT_WR) == Errno::NotConn);  // not connected yet (Linux)
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect_nothing();
  CHECK(h.state_of_only_connection() == TcpState::SynReceived);
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1}));
  h.expect({.flags = {.fin = true, .ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 1});
  CHECK(h.took(TcpState::SynReceived, TcpState::FinWait1));
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 2}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 2, .ack = kPeerIss + 2});
  CHECK(h.took(TcpState::FinWait1, TcpState::TimeWait));
  h.finish();
}
