// CLOSED (no socket, RFC 9293 §3.10.7.1), LISTEN (§3.10.7.2) and the passive side of
// SYN-RECEIVED (§3.10.7.4), against a scripted peer.
#include "support/tcp_harness.hpp"

using namespace tapir;
using namespace tapir::test;
using tapir::tcp::TcpState;

namespace {
constexpr std::uint16_t kOtherPort = 40001;
}  // namespace

// ---- §3.10.7.1 CLOSED: a segment for no socket ----

TEST_CASE("CLOSED: a SYN to a closed port gets RST,ACK with SEQ=0 and ACK=SEG.SEQ+SEG.LEN",
          "[tcp][rfc9293-3.10.7.1]") {
  TcpHarness h;
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .dst_port = 81}));
  h.expect({.flags = {.rst = true, .ack = true}, .seq = 0, .ack = kPeerIss + 1, .window = 0});
  // With data and a FIN, SEG.LEN counts them all.
  h.send(
      seg({.flags = {.fin = true, .psh = true}, .seq = 500, .payload = "abcde", .dst_port = 81}));
  h.expect({.flags = {.rst = true, .ack = true}, .seq = 0, .ack = 506});
  CHECK(h.tcp_stats().rx_no_socket == 2);
  CHECK(h.tcp_stats().tx_resets == 2);
  h.finish();
}

TEST_CASE("CLOSED: a segment with ACK to a closed port gets RST with SEQ=SEG.ACK",
          "[tcp][rfc9293-3.10.7.1]") {
  TcpHarness h;
  h.send(seg({.flags = {.ack = true}, .seq = 7, .ack = 123456, .dst_port = 81}));
  h.expect({.flags = {.rst = true}, .seq = 123456});
  h.send(seg(
      {.flags = {.psh = true, .ack = true}, .seq = 7, .ack = 99, .payload = "x", .dst_port = 81}));
  h.expect({.flags = {.rst = true}, .seq = 99});
  h.finish();
}

TEST_CASE("CLOSED: a RST to a closed port is discarded without reply", "[tcp][rfc9293-3.10.7.1]") {
  TcpHarness h;
  h.send(seg({.flags = {.rst = true}, .seq = 7, .dst_port = 81}));
  h.send(seg({.flags = {.rst = true, .ack = true}, .seq = 7, .ack = 9, .dst_port = 81}));
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_no_socket == 2);
  CHECK(h.tcp_stats().tx_resets == 0);
  h.finish();
}

// ---- §3.10.7.2 LISTEN ----

TEST_CASE("LISTEN: a SYN is answered by SYN,ACK carrying our MSS, and the ACK establishes",
          "[tcp][rfc9293-3.10.7.2]") {
  TcpHarness h;
  int l = h.listen();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = 1460}));
  auto sa = h.expect(
      {.flags = {.syn = true, .ack = true}, .ack = kPeerIss + 1, .window = 65535, .mss = 1460});
  CHECK_FALSE(sa.tcp.window_scale);  // RFC 7323 §2.2: only when the SYN offered it
  CHECK(h.tcp_stats().passive_opens == 1);
  CHECK((h.poll(l) & POLLIN) == 0);  // nothing to accept before the handshake ends
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = sa.tcp.seq + 1}));
  h.expect_nothing();
  CHECK((h.poll(l) & POLLIN) != 0);
  sockaddr_in peer{};
  int fd = h.accept(l, &peer);
  CHECK(sockaddr_addr(peer) == kRemoteIp);
  CHECK(sockaddr_port(peer) == kPeerPort);
  CHECK(h.state(fd) == TcpState::Established);
  auto name = h.sockets().getpeername(fd);
  REQUIRE(name);
  CHECK(sockaddr_port(*name) == kPeerPort);
  CHECK(h.took(TcpState::Listen, TcpState::SynReceived));
  CHECK(h.took(TcpState::SynReceived, TcpState::Established));
  h.finish();
}

TEST_CASE("LISTEN: a SYN offering window scaling gets our shift back",
          "[tcp][rfc7323-2.2][rfc9293-3.10.7.2]") {
  TcpHarness h;
  h.listen();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = 1460, .window_scale = 2}));
  // max_buffer 4 MiB needs a shift of 7 to fit 16 bits (RFC 7323 §2.3).
  auto sa = h.expect({.flags = {.syn = true, .ack = true},
                      .ack = kPeerIss + 1,
                      .window = 65535,
                      .mss = 1460,
                      .window_scale = 7});
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = sa.tcp.seq + 1, .window = 1000}));
  int fd = h.accept(h.listener);
  auto& c = h.conn(fd);
  CHECK(c.negotiated().window_scaling);
  CHECK(c.snd().wnd == 4000);  // 1000 << 2: windows after the SYN are scaled
  // Our ACKs now carry the receive window shifted right by 7: 256 KiB >> 7.
  REQUIRE(h.write(fd, "x"));
  h.expect({.flags = {.psh = true, .ack = true}, .window = (256 * 1024) >> 7, .payload = "x"});
  h.finish();
}

TEST_CASE("LISTEN: a RST is ignored", "[tcp][rfc9293-3.10.7.2]") {
  TcpHarness h;
  h.listen();
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss}));
  h.expect_nothing();
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("LISTEN: an ACK is answered by RST with SEQ=SEG.ACK", "[tcp][rfc9293-3.10.7.2]") {
  TcpHarness h;
  h.listen();
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss, .ack = 4242}));
  h.expect({.flags = {.rst = true}, .seq = 4242});
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("LISTEN: a segment with neither SYN, RST nor ACK is dropped and counted",
          "[tcp][rfc9293-3.10.7.2]") {
  TcpHarness h;
  h.listen();
  h.send(seg({.flags = {.fin = true}, .seq = kPeerIss}));
  h.send(seg({.flags = {.psh = true}, .seq = kPeerIss, .payload = "data"}));
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_drop_no_ack == 2);
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("LISTEN: data on the SYN is not acknowledged, the peer sends it again",
          "[tcp][rfc9293-3.10.7.2]") {
  TcpHarness h;
  h.listen();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .payload = "early", .mss = 1460}));
  auto sa = h.expect({.flags = {.syn = true, .ack = true}, .ack = kPeerIss + 1});
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = sa.tcp.seq + 1,
              .payload = "early"}));
  int fd = h.accept(h.listener);
  CHECK(h.read(fd) == "early");
  h.finish();
}

TEST_CASE("LISTEN: data on the handshake's ACK is delivered", "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.syn_received();
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .payload = "hello"}));
  int fd = h.accept(h.listener);
  CHECK(h.read(fd) == "hello");
  h.advance(40ms);  // the delayed ACK
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 6});
  h.finish();
}

TEST_CASE("LISTEN: a FIN on the handshake's ACK goes on to CLOSE-WAIT", "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.syn_received();
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1}));
  h.expect_nothing();  // the ACK of the FIN is delayed (RFC 1122 §4.2.3.2)
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 2, .at = 40ms});
  int fd = h.accept(h.listener);
  CHECK(h.state(fd) == TcpState::CloseWait);
  CHECK(h.read(fd).empty());  // end of stream
  h.finish();
}

TEST_CASE("LISTEN: a SYN to a broadcast address is dropped", "[tcp][rfc1122-4.2.3.10]") {
  TcpHarness h;
  h.listen();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .dst = Ipv4Addr::broadcast()}));
  h.send(
      seg({.flags = {.syn = true}, .seq = kPeerIss, .dst = Ipv4Addr::from_octets(10, 0, 0, 255)}));
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_drop_broadcast == 2);
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("LISTEN: the accept queue is bounded by the backlog and overflow is counted",
          "[tcp][rfc9293-3.10.7.2]") {
  TcpHarness h;
  int l = h.listen(kStackPort, 1);
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss}));
  auto sa = h.expect({.flags = {.syn = true, .ack = true}});
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = sa.tcp.seq + 1}));
  // The queue holds one established connection: a second SYN is dropped (the peer
  // retries), not refused.
  h.send(seg({.flags = {.syn = true}, .seq = 77, .src_port = kOtherPort}));
  h.expect_nothing();
  CHECK(h.tcp_stats().listen_overflows == 1);
  h.accept(l);
  h.send(seg({.flags = {.syn = true}, .seq = 77, .src_port = kOtherPort}));
  h.expect({.flags = {.syn = true, .ack = true}, .ack = 78, .dst_port = kOtherPort});
  h.finish();
}

TEST_CASE("LISTEN: the SYN-RECEIVED table is bounded and SYNs beyond it are counted",
          "[tcp][rfc9293-3.10.7.2]") {
  auto cfg = TcpHarness::default_config();
  cfg.tcp.max_syn_backlog = 2;
  TcpHarness h(cfg);
  h.listen();
  for (std::uint16_t i = 0; i < 3; ++i) {
    h.send(seg({.flags = {.syn = true},
                .seq = kPeerIss,
                .src_port = static_cast<std::uint16_t>(kPeerPort + i)}));
  }
  h.expect({.flags = {.syn = true, .ack = true}, .dst_port = kPeerPort});
  h.expect({.flags = {.syn = true, .ack = true}, .dst_port = kPeerPort + 1});
  h.expect_nothing();
  CHECK(h.tcp_stats().listen_syn_drops == 1);
  CHECK(h.live_connections() == 2);
  h.finish();
}

TEST_CASE("LISTEN: listen() errors: EOPNOTSUPP on UDP, EINVAL when connected, backlog update",
          "[tcp][socket]") {
  TcpHarness h;
  auto u = h.sockets().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(u);
  CHECK(h.sockets().listen(*u, 5) == Errno::OpNotSupp);
  CHECK(h.sockets().close(*u) == Errno::Ok);
  int l = h.listen(8080, 3);
  CHECK(h.sockets().listen(l, 10) == Errno::Ok);  // Linux: listen() again sets the backlog
  CHECK(h.sockets().accept(l, nullptr).error() == Errno::Again);
  CHECK(h.sockets().send(l, as_bytes(std::string_view("x")), 0).error() == Errno::Pipe);
  std::array<std::byte, 4> buf;
  CHECK(h.sockets().recv(l, MutBytes(buf), 0).error() == Errno::NotConn);
  CHECK(h.sockets().connect(l, make_sockaddr(kRemoteIp, 9)) == Errno::IsConn);
  int fd = h.established_active();
  CHECK(h.sockets().listen(fd, 5) == Errno::Inval);
  CHECK(h.sockets().accept(fd, nullptr).error() == Errno::Inval);
  h.finish();
}

// ---- SYN-RECEIVED, passive (§3.10.7.4 with the LISTEN return) ----

TEST_CASE("SYN-RECEIVED: a repeated SYN gets the SYN,ACK again at once",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.syn_received();
  h.advance(100ms);
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = 1460}));
  h.expect({.flags = {.syn = true, .ack = true}, .seq = h.iss, .ack = kPeerIss + 1, .mss = 1460});
  CHECK(h.live_connections() == 1);
  h.finish();
}

TEST_CASE("SYN-RECEIVED: the SYN,ACK is retransmitted with backoff, then the child expires",
          "[tcp][rfc6298-5][rfc9293-3.8.3]") {
  TcpHarness h;
  h.syn_received();
  // RFC 6298 (2.1) RTO = 1 s, doubled on each expiry (5.5): 1, 3, 7, 15, 31, 63 s.
  Duration at = 0s;
  for (Duration rto : {1s, 2s, 4s, 8s, 16s, 32s}) {
    h.advance(rto);
    at += rto;
    h.expect({.flags = {.syn = true, .ack = true}, .seq = h.iss, .ack = kPeerIss + 1, .at = at});
  }
  // max_syn_retransmits = 6: the next expiry gives up, silently (LINUX); the RTO is
  // capped at max_rto = 60 s (RFC 6298 (2.5)), so that is at 123 s.
  h.advance(59s);
  h.expect_nothing();
  CHECK(h.live_connections() == 1);
  h.advance(1s);
  h.expect_nothing();
  CHECK(h.live_connections() == 0);
  CHECK(h.tcp_stats().timeouts == 1);
  CHECK(h.tcp_stats().retransmitted_segments == 6);
  h.finish();
}

TEST_CASE("SYN-RECEIVED: RST at RCV.NXT returns the passive open to LISTEN",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int l = h.listen();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss}));
  h.expect({.flags = {.syn = true, .ack = true}});
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 1}));
  h.expect_nothing();
  CHECK(h.took(TcpState::SynReceived, TcpState::Listen));
  CHECK(h.live_connections() == 0);
  CHECK(h.tcp_stats().rx_resets == 1);
  CHECK((h.poll(l) & POLLIN) == 0);
  // The listener still listens.
  h.send(seg({.flags = {.syn = true}, .seq = 5000}));
  h.expect({.flags = {.syn = true, .ack = true}, .ack = 5001});
  h.finish();
}

TEST_CASE("SYN-RECEIVED: an in-window RST not at RCV.NXT gets a challenge ACK",
          "[tcp][rfc5961-3.2][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.syn_received();
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 100}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 1});
  CHECK(h.tcp_stats().tx_challenge_acks == 1);
  CHECK(h.live_connections() == 1);
  h.finish();
}

TEST_CASE("SYN-RECEIVED: a new SYN in the window returns the passive open to LISTEN",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.syn_received();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss + 10}));
  h.expect_nothing();
  CHECK(h.took(TcpState::SynReceived, TcpState::Listen));
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("SYN-RECEIVED: an unacceptable ACK gets RST with SEQ=SEG.ACK",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.syn_received();
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 7}));
  h.expect({.flags = {.rst = true}, .seq = h.iss + 7});
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss}));
  h.expect({.flags = {.rst = true}, .seq = h.iss});
  // The handshake can still complete.
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1}));
  h.expect_nothing();
  int fd = h.accept(h.listener);
  CHECK(h.state(fd) == TcpState::Established);
  h.finish();
}

TEST_CASE("SYN-RECEIVED: closing the listener resets its children", "[tcp][rfc9293-3.10.5]") {
  TcpHarness h;
  int l = h.listen();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss}));
  auto a = h.expect({.flags = {.syn = true, .ack = true}});
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = a.tcp.seq + 1}));
  h.send(seg({.flags = {.syn = true}, .seq = 900, .src_port = kOtherPort}));
  auto b = h.expect({.flags = {.syn = true, .ack = true}, .dst_port = kOtherPort});
  REQUIRE(h.close(l) == Errno::Ok);
  h.expect({.flags = {.rst = true}, .seq = b.tcp.seq + 1, .dst_port = kOtherPort});
  h.expect({.flags = {.rst = true}, .seq = a.tcp.seq + 1});
  CHECK(h.live_connections() == 0);
  CHECK(h.port_reservations() == 0);
  h.finish();
}

TEST_CASE("LISTEN: accepted connections hold no port reservation of their own", "[tcp][socket]") {
  TcpHarness h;
  int fd = h.established_passive();
  CHECK(h.port_reservations() == 1);  // the listener's
  REQUIRE(h.close(h.listener) == Errno::Ok);
  CHECK(h.port_reservations() == 0);
  CHECK(h.state(fd) == TcpState::Established);  // an accepted connection outlives it
  h.finish();
}
