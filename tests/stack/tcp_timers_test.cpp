// TCP timers (RFC 9293 §3.8, §3.10.8): retransmission (RFC 6298: RTO, backoff, Karn's
// rule, R2), fast retransmit and NewReno recovery (RFC 5681 §3.2, RFC 6582), the persist
// timer and zero-window probes (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17), delayed ACKs,
// keep-alive (RFC 1122 §4.2.3.6) and the idle restart of cwnd (RFC 5681 §4.1).
#include <netinet/tcp.h>

#include "support/tcp_harness.hpp"

using namespace tapir;
using namespace tapir::test;
using tapir::tcp::TcpState;

namespace {

Frame ack_to(TcpHarness&, std::uint32_t ack, std::uint16_t window = kPeerWindow) {
  return seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = ack, .window = window});
}

// ESTABLISHED by an active open whose SYN,ACK arrives `rtt` after the SYN.
int established_after(TcpHarness& h, Duration rtt) {
  h.syn_sent();
  h.advance(rtt);
  h.send(seg(
      {.flags = {.syn = true, .ack = true}, .seq = kPeerIss, .ack = h.iss + 1, .mss = kPeerMss}));
  h.expect({.flags = {.ack = true}});
  return h.fd;
}

}  // namespace

// ---- Retransmission timer ----

TEST_CASE("RTO: data is retransmitted at RTO with exponential backoff",
          "[tcp][rfc6298-5][rfc6298-2]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, "a"));
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 1, .payload = "a"});
  // The handshake's sample of 0 ms gives SRTT + 4*RTTVAR below the 200 ms minimum
  // (RFC 6298 (2.4); LINUX: TCP_RTO_MIN), so RTO = 200 ms, then (5.5) doubling.
  CHECK(h.conn(fd).rto() == 200ms);
  Duration at = 0ms;
  for (Duration rto : {200ms, 400ms, 800ms, 1600ms}) {
    h.advance(rto - 1ms);
    h.expect_nothing();
    h.advance(1ms);
    at += rto;
    h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 1, .payload = "a", .at = at});
  }
  CHECK(h.tcp_stats().rto_expired == 4);
  CHECK(h.tcp_stats().retransmitted_segments == 4);
  CHECK(h.conn(fd).rto() == 3200ms);
  h.finish();
}

TEST_CASE("RTO: the minimum is configurable, RFC 6298 (2.4) says 1 s", "[tcp][rfc6298-2.4]") {
  auto cfg = TcpHarness::default_config();
  cfg.tcp.min_rto = 1s;
  TcpHarness h(cfg);
  int fd = h.established_passive();
  REQUIRE(h.write(fd, "a"));
  h.expect({.flags = {.psh = true, .ack = true}});
  h.advance(999ms);
  h.expect_nothing();
  h.advance(1ms);
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 1, .at = 1s});
  h.finish();
}

TEST_CASE("RTO: SRTT and RTTVAR follow RFC 6298 (2.2) and (2.3)", "[tcp][rfc6298-2]") {
  TcpHarness h;
  int fd = established_after(h, 100ms);
  auto& c = h.conn(fd);
  // (2.2): SRTT = R = 100 ms, RTTVAR = R/2 = 50 ms, RTO = SRTT + 4*RTTVAR = 300 ms.
  CHECK(c.srtt() == 100ms);
  CHECK(c.rto() == 300ms);
  REQUIRE(h.write(fd, "a"));
  h.expect({.flags = {.psh = true, .ack = true}});
  h.advance(20ms);
  h.send(ack_to(h, h.iss + 2));
  // (2.3) with R' = 20 ms: RTTVAR = 3/4*50 + 1/4*80 = 57.5; SRTT = 7/8*100 + 1/8*20 = 90;
  // RTO = 90 + 4*57.5 = 320 ms.
  CHECK(c.srtt() == 90ms);
  CHECK(c.rto() == 320ms);
  h.finish();
}

TEST_CASE("RTO: Karn's rule: the ACK of a retransmitted segment gives no sample",
          "[tcp][rfc6298-3][rfc6298-5]") {
  TcpHarness h;
  int fd = established_after(h, 100ms);  // RTO 300 ms
  auto& c = h.conn(fd);
  REQUIRE(h.write(fd, "a"));
  h.expect({.flags = {.psh = true, .ack = true}, .payload = "a"});
  h.advance(300ms);
  h.expect({.flags = {.psh = true, .ack = true}, .payload = "a"});  // RTO doubles to 600
  h.advance(50ms);
  h.send(ack_to(h, h.iss + 2));  // ambiguous: the first send or the retransmission?
  CHECK(c.srtt() == 100ms);
  CHECK(c.rto() == 600ms);  // the backed-off RTO stays until a valid sample
  REQUIRE(h.write(fd, "b"));
  h.expect({.flags = {.psh = true, .ack = true}, .payload = "b"});
  h.advance(50ms);
  h.send(ack_to(h, h.iss + 3));
  // A sample from a segment sent once: R' = 50 ms, RTTVAR = (3*50 + 50)/4 = 50,
  // SRTT = (7*100 + 50)/8 = 93.75, RTO = 93.75 + 200 ms (the backoff collapses).
  CHECK(c.srtt() == 93750us);
  CHECK(c.rto() == 293750us);
  h.finish();
}

TEST_CASE("RTO: after R2 retransmissions the connection is reset with ETIMEDOUT",
          "[tcp][rfc1122-4.2.3.5][rfc6298-2.5]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, "a"));
  h.expect({.flags = {.psh = true, .ack = true}});
  // max_retransmits = 15 (LINUX: tcp_retries2); the RTO is capped at 60 s.
  for (int i = 0; i < 15; ++i) {
    h.advance(60s);
    h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 1, .payload = "a"});
  }
  h.advance(60s);
  h.expect({.flags = {.rst = true}, .seq = h.iss + 2});
  CHECK(h.took(TcpState::Established, TcpState::Closed));
  CHECK((h.poll(fd) & POLLERR) != 0);
  CHECK(h.so_error(fd) == Errno::TimedOut);
  CHECK(h.tcp_stats().timeouts == 1);
  h.finish();
}

// ---- Fast retransmit and NewReno ----

TEST_CASE("fast retransmit on the third duplicate ACK, limited transmit before it",
          "[tcp][rfc5681-3.2][rfc3042]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, std::string(5 * 1460, 'f')).value() == 5 * 1460);
  for (std::uint32_t i = 0; i < 3; ++i) {
    h.expect({.flags = {.ack = true}, .seq = h.iss + 1 + i * 1460, .payload_len = 1460});
  }
  h.expect_nothing();  // IW = 3 segments
  // The first segment is lost; each later arrival makes the peer repeat ack = ISS+1.
  h.send(ack_to(h, h.iss + 1));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1 + 3 * 1460, .payload_len = 1460});
  h.send(ack_to(h, h.iss + 1));
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 1 + 4 * 1460});
  h.send(ack_to(h, h.iss + 1));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .payload_len = 1460, .at = 0ms});
  CHECK(h.tcp_stats().rx_dup_acks == 3);
  CHECK(h.tcp_stats().fast_retransmits == 1);
  // RFC 5681 §3.2: ssthresh = FlightSize/2 = 3650, cwnd = ssthresh + 3*SMSS.
  CHECK(h.conn(fd).cwnd() == 3650 + 3 * 1460);
  // The full ACK ends recovery: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
  h.send(ack_to(h, h.iss + 1 + 5 * 1460));
  CHECK(h.conn(fd).cwnd() == 2920);
  h.expect_nothing();
  CHECK(h.tcp_stats().rto_expired == 0);
  h.finish();
}

TEST_CASE("NewReno: a partial ACK retransmits the next hole at once", "[tcp][rfc6582-3.2]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, std::string(5 * 1460, 'n')).value() == 5 * 1460);
  for (int i = 0; i < 3; ++i) h.next();
  for (int i = 0; i < 3; ++i) h.send(ack_to(h, h.iss + 1));
  h.next();                                              // limited transmit: segment 4
  h.next();                                              // segment 5
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1});  // fast retransmit of segment 1
  // Segments 1 and 2 arrive, segment 3 was lost too: a partial ACK (below `recover`).
  h.send(ack_to(h, h.iss + 1 + 2 * 1460));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1 + 2 * 1460, .payload_len = 1460});
  CHECK(h.tcp_stats().retransmitted_segments == 2);
  h.send(ack_to(h, h.iss + 1 + 5 * 1460));
  h.expect_nothing();
  CHECK(h.conn(fd).snd().una == h.conn(fd).snd().max);
  h.finish();
}

// ---- Persist timer and zero windows ----

TEST_CASE("persist: a zero window is probed with one octet, backing off, until it opens",
          "[tcp][rfc9293-3.8.6.1][rfc1122-4.2.2.17]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, std::string(1000, 'p')));
  h.expect({.flags = {.psh = true, .ack = true}, .payload_len = 1000});
  h.send(ack_to(h, h.iss + 1001, 0));
  REQUIRE(h.write(fd, std::string(500, 'q')));
  h.expect_nothing();
  // The first probe after one RTO (200 ms), then 400 ms later (backoff).
  h.advance(200ms);
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1001, .payload = "q", .at = 200ms});
  h.send(ack_to(h, h.iss + 1001, 0));  // still closed: the probe octet was dropped
  h.advance(399ms);
  h.expect_nothing();
  h.advance(1ms);
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1001, .payload = "q", .at = 600ms});
  h.send(ack_to(h, h.iss + 1001, 0));
  CHECK(h.tcp_stats().tx_window_probes == 2);
  CHECK(h.tcp_stats().rx_dup_acks == 0);  // answers to probes are not duplicate ACKs
  CHECK(h.tcp_stats().fast_retransmits == 0);
  // The window opens: everything from SND.UNA goes out.
  h.send(ack_to(h, h.iss + 1001, 8000));
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 1001, .payload_len = 500});
  h.send(ack_to(h, h.iss + 1501));
  h.advance(10s);
  h.expect_nothing();
  h.finish();
}

TEST_CASE("persist: a probe octet taken by a reopened window is not sent again",
          "[tcp][rfc9293-3.8.6.1]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, "abc"));
  h.expect({.flags = {.psh = true, .ack = true}, .payload = "abc"});
  h.send(ack_to(h, h.iss + 4, 0));
  REQUIRE(h.write(fd, "xyz"));
  h.advance(200ms);
  h.expect({.flags = {.ack = true}, .seq = h.iss + 4, .payload = "x"});
  h.send(ack_to(h, h.iss + 5, 1000));  // the peer took the octet and opened its window
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 5, .payload = "yz"});
  h.finish();
}

TEST_CASE("persist: probes go on while answered, and give up when they are not",
          "[tcp][rfc1122-4.2.2.17]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, "a"));
  h.next();
  h.send(ack_to(h, h.iss + 2, 0));
  REQUIRE(h.write(fd, "b"));
  // Answered probes: the window may stay closed indefinitely (RFC 1122 §4.2.2.17).
  for (int i = 0; i < 20; ++i) {
    h.advance(60s);
    REQUIRE(h.pending() > 0);
    while (h.pending() > 0) {
      auto p = h.next();
      CHECK(p.tcp.seq == h.iss + 2);
      CHECK(p.payload == "b");
    }
    h.send(ack_to(h, h.iss + 2, 0));
  }
  CHECK(h.state(fd) == TcpState::Established);
  // Unanswered: after R2 = 15 probes the peer is taken for dead.
  int probes = 0;
  bool reset = false;
  while (!reset && probes < 100) {
    h.advance(60s);
    while (h.pending() > 0) {
      auto p = h.next();
      if (p.tcp.flags.rst) {
        reset = true;
      } else {
        ++probes;
      }
    }
  }
  CHECK(reset);
  CHECK(probes == 15);
  CHECK(h.so_error(fd) == Errno::TimedOut);
  h.finish();
}

// ---- Delayed ACK ----

TEST_CASE("delayed ACK: the delay is configurable (below 500 ms)", "[tcp][rfc1122-4.2.3.2]") {
  auto cfg = TcpHarness::default_config();
  cfg.tcp.delayed_ack = 200ms;
  TcpHarness h(cfg);
  h.established_passive();
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .payload = "d"}));
  h.advance(199ms);
  h.expect_nothing();
  h.advance(1ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2, .at = 200ms});
  h.finish();
}

TEST_CASE("delayed ACK: data sent before the timer carries the ACK", "[tcp][rfc9293-3.8.6.3]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .payload = "ping"}));
  h.advance(10ms);
  REQUIRE(h.write(fd, "pong"));
  h.expect({.flags = {.psh = true, .ack = true}, .ack = kPeerIss + 5, .payload = "pong"});
  h.advance(100ms);
  h.expect_nothing();  // the ACK went with the data: the timer is off
  CHECK(h.tcp_stats().tx_delayed_acks == 0);
  h.finish();
}

// ---- Keep-alive ----

TEST_CASE("keep-alive: probes after TCP_KEEPIDLE, every TCP_KEEPINTVL, dead after TCP_KEEPCNT",
          "[tcp][rfc1122-4.2.3.6][socket]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 10);
  h.set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 2);
  h.set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 3);
  h.set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(h.sockets().getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &len) == Errno::Ok);
  CHECK(v == 1);
  h.advance(10s - 1ms);
  h.expect_nothing();
  h.advance(1ms);
  // RFC 1122 §4.2.3.6: SEG.SEQ = SND.NXT - 1, no data.
  h.expect(
      {.flags = {.ack = true}, .seq = h.iss, .ack = kPeerIss + 1, .payload_len = 0, .at = 10s});
  h.send(ack_to(h, h.iss + 1));  // answered: idle again from now
  h.advance(10s);
  h.expect({.flags = {.ack = true}, .seq = h.iss, .at = 20s});
  h.advance(2s);
  h.expect({.flags = {.ack = true}, .seq = h.iss, .at = 22s});
  h.advance(2s);
  h.expect({.flags = {.ack = true}, .seq = h.iss, .at = 24s});
  h.advance(2s);
  h.expect({.flags = {.rst = true}, .seq = h.iss + 1, .at = 26s});
  CHECK(h.so_error(fd) == Errno::TimedOut);
  CHECK(h.tcp_stats().keepalive_probes == 4);
  CHECK(h.tcp_stats().keepalive_timeouts == 1);
  h.finish();
}

TEST_CASE("keep-alive: off by default, two hours idle by default when on",
          "[tcp][rfc1122-4.2.3.6]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.advance(std::chrono::hours(3));
  h.expect_nothing();
  h.set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  h.advance(std::chrono::hours(2) - 1s);
  h.expect_nothing();
  h.advance(1s);
  h.expect({.flags = {.ack = true}, .seq = h.iss});
  h.set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 0);
  h.advance(std::chrono::hours(3));
  h.expect_nothing();
  h.finish();
}

TEST_CASE("keep-alive: not sent while data is outstanding", "[tcp][rfc1122-4.2.3.6]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 1);
  h.set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  REQUIRE(h.write(fd, "a"));
  h.next();
  h.advance(1500ms);
  // Only retransmissions of "a" at 200, 600 and 1400 ms, no keep-alive probe.
  for (int i = 0; i < 3; ++i) h.expect({.flags = {.psh = true, .ack = true}, .payload = "a"});
  h.expect_nothing();
  CHECK(h.tcp_stats().keepalive_probes == 0);
  h.finish();
}

// ---- Congestion window after idle ----

TEST_CASE("cwnd restarts from the initial window after an idle RTO", "[tcp][rfc5681-4.1]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, std::string(2920, 'i')));
  h.next();
  h.next();
  h.send(ack_to(h, h.iss + 2921));
  CHECK(h.conn(fd).cwnd() == 4380 + 1460);
  h.advance(1s);  // idle for longer than the RTO (200 ms)
  REQUIRE(h.write(fd, "x"));
  h.next();
  CHECK(h.conn(fd).cwnd() == 4380);
  h.finish();
}

TEST_CASE("no deadline stays in the past after a poll (no busy loop)", "[tcp][timers]") {
  TcpHarness h(TcpHarness::default_config());
  int fd = h.established_passive();
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .payload = std::string(1000, 'r')}));
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1001,
              .ack = h.iss + 1,
              .payload = std::string(1000, 'r')}));
  CHECK(h.read(fd).size() == 2000);
  auto t = h.stack().next_deadline();
  CHECK((!t || *t > h.now()));
  h.advance(1s);  // the harness fails if any deadline is still due after a poll
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2001, .at = 40ms});
  h.finish();
}
