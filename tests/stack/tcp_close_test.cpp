// Closing (RFC 9293 §3.6, §3.10.4, §3.10.5, §3.10.7.4 eighth step): both orders of close,
// simultaneous close, TIME-WAIT and its reuse (RFC 1122 §4.2.2.13), resets in each closing
// state, SO_LINGER aborts, half-close, and the rules for data nobody will read.
#include "support/tcp_harness.hpp"

using namespace tapir;
using namespace tapir::test;
using tapir::tcp::TcpState;

namespace {
void set_linger(TcpHarness& h, int fd, int on, int secs) {
  linger l{on, secs};
  REQUIRE(h.sockets().setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) == Errno::Ok);
}
}  // namespace

TEST_CASE("close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, then CLOSED after the TIME-WAIT period",
          "[tcp][rfc9293-3.10.7.4][rfc9293-3.6]") {
  TcpHarness h;
  int fd = h.time_wait();
  CHECK(h.took(TcpState::Established, TcpState::FinWait1));
  CHECK(h.took(TcpState::FinWait1, TcpState::FinWait2));
  CHECK(h.took(TcpState::FinWait2, TcpState::TimeWait));
  CHECK(h.state(fd) == TcpState::TimeWait);
  CHECK(h.read(fd).empty());  // end of stream
  // cfg.time_wait: 60 s (LINUX: TCP_TIMEWAIT_LEN).
  h.advance(60s - 1ms);
  CHECK(h.state(fd) == TcpState::TimeWait);
  h.advance(1ms);
  CHECK(h.took(TcpState::TimeWait, TcpState::Closed));
  CHECK(h.live_connections() == 0);
  h.expect_nothing();
  h.finish();
}

TEST_CASE("close: TIME-WAIT lasts 2*MSL when configured so", "[tcp][rfc9293-3.3.2]") {
  auto cfg = TcpHarness::default_config();
  cfg.tcp.time_wait = tcp::kTimeWaitRfc;  // 2 * 2 minutes
  TcpHarness h(cfg);
  int fd = h.time_wait();
  h.advance(240s - 1ms);
  CHECK(h.state(fd) == TcpState::TimeWait);
  h.advance(1ms);
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("close: a retransmitted FIN in TIME-WAIT is acknowledged and restarts the timer",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.time_wait();
  h.advance(30s);
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 2}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 2, .ack = kPeerIss + 2});
  h.advance(60s - 1ms);
  CHECK(h.state(fd) == TcpState::TimeWait);
  h.advance(1ms);
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("close: simultaneous close goes through CLOSING to TIME-WAIT",
          "[tcp][rfc9293-3.6][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.closing();
  CHECK(h.took(TcpState::FinWait1, TcpState::Closing));
  // An ACK that does not cover our FIN is ignored in CLOSING.
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 2, .ack = h.iss + 1}));
  CHECK(h.state(fd) == TcpState::Closing);
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 2, .ack = h.iss + 2}));
  h.expect_nothing();
  CHECK(h.took(TcpState::Closing, TcpState::TimeWait));
  h.advance(60s);
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("close: a FIN that also acknowledges ours goes from FIN-WAIT-1 straight to TIME-WAIT",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.fin_wait_1();
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 2}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 2, .ack = kPeerIss + 2});
  CHECK(h.state(fd) == TcpState::TimeWait);
  CHECK(h.took(TcpState::FinWait1, TcpState::TimeWait));
  CHECK_FALSE(h.took(TcpState::FinWait1, TcpState::FinWait2));
  h.finish();
}

TEST_CASE("close: the passive side goes CLOSE-WAIT, LAST-ACK, CLOSED",
          "[tcp][rfc9293-3.6][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.close_wait();
  CHECK(h.took(TcpState::Established, TcpState::CloseWait));
  short ev = h.poll(fd);
  CHECK((ev & POLLIN) != 0);
  CHECK((ev & POLLRDHUP) != 0);
  CHECK((ev & POLLHUP) == 0);
  CHECK(h.read(fd).empty());
  // Sending still works in CLOSE-WAIT.
  REQUIRE(h.write(fd, "bye"));
  h.expect({.flags = {.psh = true, .ack = true},
            .seq = h.iss + 1,
            .ack = kPeerIss + 2,
            .payload = "bye"});
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect({.flags = {.fin = true, .ack = true}, .seq = h.iss + 4, .ack = kPeerIss + 2});
  CHECK(h.took(TcpState::CloseWait, TcpState::LastAck));
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 2, .ack = h.iss + 5}));
  h.expect_nothing();
  CHECK(h.took(TcpState::LastAck, TcpState::Closed));
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("close: the application's FIN carries the ACK of the peer's FIN",
          "[tcp][rfc1122-4.2.3.2][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .payload = "last words"}));
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 11, .ack = h.iss + 1}));
  // Nothing yet: the data and the FIN are acknowledged by what the application does next.
  h.expect_nothing();
  CHECK(h.state(fd) == TcpState::CloseWait);
  CHECK(h.read(fd) == "last words");
  CHECK(h.read(fd).empty());
  REQUIRE(h.close(fd) == Errno::Ok);
  // One segment where an immediate ACK would have made two: FIN,ACK acknowledging both.
  h.expect(
      {.flags = {.fin = true, .ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 12, .at = 0ms});
  h.expect_nothing();
  CHECK(h.took(TcpState::CloseWait, TcpState::LastAck));
  // The delayed-ACK timer went with that segment: nothing more when it would have run out.
  h.advance(40ms);
  h.expect_nothing();
  CHECK(h.tcp_stats().tx_delayed_acks == 0);
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 12, .ack = h.iss + 2}));
  CHECK(h.took(TcpState::LastAck, TcpState::Closed));
  h.finish();
}

TEST_CASE("close: a FIN that fills a gap is acknowledged at once", "[tcp][rfc5681-4.2]") {
  TcpHarness h;
  int fd = h.established_passive();
  // "world" and the FIN arrive before "hello ": a duplicate ACK at once (out of order)...
  h.send(seg({.flags = {.fin = true, .ack = true},
              .seq = kPeerIss + 7,
              .ack = h.iss + 1,
              .payload = "world"}));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1, .at = 0ms});
  // ...and the segment that fills the gap is acknowledged at once, FIN included.
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1, .payload = "hello "}));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 13, .at = 0ms});
  CHECK(h.state(fd) == TcpState::CloseWait);
  CHECK(h.read(fd) == "hello world");
  h.finish();
}

TEST_CASE("close: a repeated FIN in CLOSE-WAIT is acknowledged at once",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.close_wait();  // the first FIN's ACK went after the delayed-ACK time
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 2, .at = 40ms});
  CHECK(h.state(fd) == TcpState::CloseWait);
  h.finish();
}

TEST_CASE("close: the FIN is retransmitted on timeout in FIN-WAIT-1",
          "[tcp][rfc9293-3.10.4][rfc6298-5]") {
  TcpHarness h;
  int fd = h.fin_wait_1();
  // The handshake's RTT sample (0 ms) gives RTO = the 200 ms minimum; then it doubles.
  h.advance(200ms);
  h.expect({.flags = {.fin = true, .ack = true}, .seq = h.iss + 1, .at = 200ms});
  h.advance(400ms);
  h.expect({.flags = {.fin = true, .ack = true}, .seq = h.iss + 1, .at = 600ms});
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 2}));
  CHECK(h.state(fd) == TcpState::FinWait2);
  h.advance(10s);
  h.expect_nothing();
  h.finish();
}

TEST_CASE("close: LAST-ACK retransmits its FIN and gives up with a RST after R2",
          "[tcp][rfc1122-4.2.3.5]") {
  TcpHarness h;
  h.last_ack();
  for (int i = 0; i < 15; ++i) {
    h.advance(60s);
    auto s = h.next();
    CHECK(s.tcp.flags == wire::TcpFlags{.fin = true, .ack = true});
  }
  h.advance(60s);
  h.expect({.flags = {.rst = true}, .seq = h.iss + 2});
  CHECK(h.live_connections() == 0);
  CHECK(h.tcp_stats().rto_expired == 15);
  CHECK(h.tcp_stats().timeouts == 1);
  h.finish();
}

TEST_CASE("close: pending data goes out before the FIN, with Nagle lifted",
          "[tcp][rfc9293-3.10.4]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, std::string(3000, 'd')).value() == 3000);
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .payload_len = 1460});
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1461, .payload_len = 1460});
  h.expect_nothing();  // Nagle holds the last 80
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect(
      {.flags = {.fin = true, .psh = true, .ack = true}, .seq = h.iss + 2921, .payload_len = 80});
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 3002}));
  CHECK(h.state_of_only_connection() == TcpState::FinWait2);
  h.finish();
}

TEST_CASE("close: an orphan in FIN-WAIT-2 is dropped after the TIME-WAIT period",
          "[tcp][rfc9293-3.10.4]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect({.flags = {.fin = true, .ack = true}, .seq = h.iss + 1});
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 2}));
  CHECK(h.state_of_only_connection() == TcpState::FinWait2);
  h.advance(60s - 1ms);
  CHECK(h.live_connections() == 1);
  h.advance(1ms);
  h.expect_nothing();
  CHECK(h.took(TcpState::FinWait2, TcpState::Closed));
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("close: a socket half-closed by shutdown keeps FIN-WAIT-2 as long as it wants",
          "[tcp][rfc9293-3.10.4]") {
  TcpHarness h;
  int fd = h.fin_wait_2();
  h.advance(std::chrono::minutes(10));
  CHECK(h.state(fd) == TcpState::FinWait2);
  h.finish();
}

// ---- Resets in the closing states ----

TEST_CASE("close: RST in FIN-WAIT-1, FIN-WAIT-2 or CLOSE-WAIT reports ECONNRESET",
          "[tcp][rfc9293-3.10.7.4]") {
  for (int which = 0; which < 3; ++which) {
    TcpHarness h;
    int fd = which == 0 ? h.fin_wait_1() : which == 1 ? h.fin_wait_2() : h.close_wait();
    TcpState before = h.state(fd);
    std::uint32_t rcv_nxt = which == 2 ? kPeerIss + 2 : kPeerIss + 1;
    h.send(seg({.flags = {.rst = true}, .seq = rcv_nxt}));
    CHECK(h.took(before, TcpState::Closed));
    CHECK(h.so_error(fd) == Errno::ConnReset);
    h.finish();
  }
}

TEST_CASE("close: RST in CLOSING, LAST-ACK or TIME-WAIT just closes", "[tcp][rfc9293-3.10.7.4]") {
  for (int which = 0; which < 3; ++which) {
    TcpHarness h;
    int fd = which == 0 ? h.closing() : which == 1 ? h.last_ack() : h.time_wait();
    TcpState before = h.state(fd);
    h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 2}));
    CHECK(h.took(before, TcpState::Closed));
    CHECK(h.so_error(fd) == Errno::Ok);
    CHECK(h.live_connections() == 0);
    h.finish();
  }
}

TEST_CASE("close: SO_LINGER with a zero timeout aborts with a RST",
          "[tcp][rfc9293-3.10.5][socket]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, "unsent?"));
  h.expect({.flags = {.psh = true, .ack = true}, .payload = "unsent?"});
  set_linger(h, fd, 1, 0);
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect({.flags = {.rst = true}, .seq = h.iss + 8});
  CHECK(h.took(TcpState::Established, TcpState::Closed));
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("close: SO_LINGER with a timeout closes normally in the background", "[tcp][socket]") {
  TcpHarness h;
  int fd = h.established_passive();
  set_linger(h, fd, 1, 5);
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect({.flags = {.fin = true, .ack = true}, .seq = h.iss + 1});
  h.finish();
}

TEST_CASE("close: closing with unread data resets the connection",
          "[tcp][rfc2525-2.17][rfc9293-3.10.5]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .payload = "never read"}));
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect({.flags = {.rst = true}, .seq = h.iss + 1});
  CHECK(h.tcp_stats().aborts_unread_data == 1);
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("close: data arriving after close() is answered with RST", "[tcp][rfc1122-4.2.2.13]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect({.flags = {.fin = true, .ack = true}, .seq = h.iss + 1});
  // A retransmission of nothing new is fine; new data is not.
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 2,
              .payload = "too late"}));
  h.expect({.flags = {.rst = true}, .seq = h.iss + 2});
  CHECK(h.tcp_stats().rx_data_after_close == 1);
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("close: shutdown(SHUT_WR) half-closes, reads keep working, sends get EPIPE",
          "[tcp][rfc9293-3.10.4][socket]") {
  TcpHarness h;
  int fd = h.fin_wait_2();
  CHECK(h.write(fd, "no").error() == Errno::Pipe);
  short ev = h.poll(fd);
  CHECK((ev & POLLOUT) != 0);  // LINUX: writable, to meet EPIPE
  CHECK((ev & POLLHUP) == 0);
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 2,
              .payload = "still talking"}));
  CHECK(h.read(fd) == "still talking");
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 14, .ack = h.iss + 2}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 2, .ack = kPeerIss + 15});
  CHECK(h.state(fd) == TcpState::TimeWait);
  ev = h.poll(fd);
  CHECK((ev & POLLHUP) != 0);
  CHECK((ev & POLLIN) != 0);
  CHECK(h.read(fd).empty());
  h.finish();
}

TEST_CASE("close: shutdown(SHUT_RD) ends reading at once", "[tcp][socket]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.shutdown(fd, SHUT_RD) == Errno::Ok);
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .payload = "dropped"}));
  CHECK(h.read(fd).empty());
  CHECK(h.state(fd) == TcpState::Established);
  h.finish();
}

TEST_CASE("close: shutdown errors: ENOTCONN before a connection, EINVAL for a bad how",
          "[tcp][socket]") {
  TcpHarness h;
  auto s = h.sockets().socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s);
  CHECK(h.sockets().shutdown(*s, SHUT_WR) == Errno::NotConn);
  CHECK(h.sockets().shutdown(*s, 7) == Errno::Inval);
  std::array<std::byte, 4> buf;
  CHECK(h.sockets().recv(*s, MutBytes(buf), 0).error() == Errno::NotConn);
  CHECK(h.sockets().send(*s, as_bytes(std::string_view("x")), 0).error() == Errno::Pipe);
  CHECK(h.sockets().getpeername(*s).error() == Errno::NotConn);
  short ev = h.poll(*s);
  CHECK(ev == (POLLOUT | POLLHUP));  // Linux: an unconnected stream socket
  CHECK(h.sockets().close(*s) == Errno::Ok);
  h.finish();
}

// ---- TIME-WAIT reuse and the port reservation ----

TEST_CASE("close: a new SYN above the old sequence space reopens a TIME-WAIT connection",
          "[tcp][rfc1122-4.2.2.13][rfc9293-3.6.1]") {
  TcpHarness h;
  h.time_wait();
  std::uint32_t old_iss = h.iss;
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss + 100000, .mss = 1460}));
  auto sa = h.expect({.flags = {.syn = true, .ack = true}, .ack = kPeerIss + 100001});
  // The new ISS lies above everything the old incarnation sent.
  CHECK(tcp::SeqNum(sa.tcp.seq).after(tcp::SeqNum(old_iss + 2)));
  CHECK(h.tcp_stats().time_wait_reopens == 1);
  CHECK(h.took(TcpState::TimeWait, TcpState::Closed));
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 100001, .ack = sa.tcp.seq + 1}));
  int fd2 = h.accept(h.listener);
  CHECK(h.state(fd2) == TcpState::Established);
  h.finish();
}

TEST_CASE("close: an old SYN in TIME-WAIT does not reopen it and gets an ACK",
          "[tcp][rfc1122-4.2.2.13][rfc5961-4]") {
  TcpHarness h;
  int fd = h.time_wait();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 2, .ack = kPeerIss + 2});
  CHECK(h.state(fd) == TcpState::TimeWait);
  CHECK(h.tcp_stats().time_wait_reopens == 0);
  h.finish();
}

TEST_CASE("close: the active opener keeps its port until TIME-WAIT ends",
          "[tcp][socket][rfc9293-3.6]") {
  TcpHarness h;
  int fd = h.established_active();
  CHECK(h.port_reservations() == 1);
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect({.flags = {.fin = true, .ack = true}, .seq = h.iss + 1});
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 2}));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2});
  CHECK(h.state_of_only_connection() == TcpState::TimeWait);
  CHECK(h.port_reservations() == 1);  // the socket is closed, the connection is not gone
  h.advance(60s);
  CHECK(h.live_connections() == 0);
  CHECK(h.port_reservations() == 0);
  h.finish();
}
