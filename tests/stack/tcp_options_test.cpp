// TCP options negotiated in the SYNs and used for the connection's life: Timestamps with
// RTT measurement and PAWS (RFC 7323 §3-§5), against a scripted peer that offers them or
// not.
#include <netinet/tcp.h>

#include "stack/tcp_options_peer.hpp"

using namespace tapir;
using namespace tapir::test;
using tapir::tcp::TcpState;

// ---- Negotiation (RFC 7323 §3.2, RFC 2018 §2) ----

TEST_CASE("options: a SYN offering timestamps and SACK gets both back, TSecr echoing its TSval",
          "[tcp][rfc7323-3.2][rfc2018-2]") {
  TcpHarness h;
  std::uint32_t our = 0;
  int fd = established_ts(h, true, &our);
  auto& c = h.conn(fd);
  CHECK(c.negotiated().timestamps);
  CHECK(c.negotiated().sack);
  // RFC 6691 §2: the peer's MSS of 1460 counts data only; 12 octets go to the option.
  CHECK(c.negotiated().smss == 1448);
  REQUIRE(h.write(fd, std::string(2 * 1448, 'x')));
  // Every later segment carries TSopt; TSecr is TS.Recent, the handshake ACK's TSval.
  auto first = h.expect({.flags = {.ack = true},
                         .seq = h.iss + 1,
                         .payload_len = 1448,
                         .has_ts = true,
                         .tsecr = kPeerTsval + 1,
                         .sack_permitted = false});
  h.expect({.flags = {.psh = true, .ack = true}, .payload_len = 1448, .tsecr = kPeerTsval + 1});
  // The timestamp clock ticks in milliseconds from the SYN,ACK's value.
  CHECK(first.tcp.timestamps->first == our);
  CHECK(first.tcp.header_len() == 32);
  h.finish();
}

TEST_CASE("options: a SYN without timestamps or SACK-Permitted gets neither back",
          "[tcp][rfc7323-3.2][rfc2018-2]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.expect_nothing();
  auto& c = h.conn(fd);
  CHECK_FALSE(c.negotiated().timestamps);
  CHECK_FALSE(c.negotiated().sack);
  CHECK(c.negotiated().smss == 1460);
  REQUIRE(h.write(fd, "abc"));
  h.expect({.flags = {.psh = true, .ack = true}, .payload = "abc", .has_ts = false});
  // A TSopt on a connection that did not negotiate it "MUST be ignored and the packet
  // processed normally" (RFC 7323 §3.2).
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 4, .ts = Ts{1, 2}}));
  CHECK(c.snd().una.raw() == h.iss + 4);
  h.finish();
}

TEST_CASE("options: the SYN,ACK of a passive open answers only what the SYN offered",
          "[tcp][rfc7323-3.2][rfc2018-2]") {
  SECTION("timestamps only") {
    TcpHarness h;
    h.listen();
    h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = kPeerMss, .ts = Ts{5, 0}}));
    h.expect({.flags = {.syn = true, .ack = true}, .has_ts = true, .sack_permitted = false});
    h.finish();
  }
  SECTION("SACK-Permitted only") {
    TcpHarness h;
    h.listen();
    h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = kPeerMss, .sack_permitted = true}));
    h.expect({.flags = {.syn = true, .ack = true}, .has_ts = false, .sack_permitted = true});
    h.finish();
  }
}

TEST_CASE("options: an active open offers timestamps and SACK, and uses what the SYN,ACK takes",
          "[tcp][rfc7323-3.2][rfc2018-2]") {
  SECTION("the peer takes both") {
    TcpHarness h;
    int fd = h.connect(kStackPort);
    // RFC 7323 §3.2: TSecr is zero in a SYN (no ACK bit).
    auto syn =
        h.expect({.flags = {.syn = true}, .has_ts = true, .tsecr = 0, .sack_permitted = true});
    h.iss = syn.tcp.seq;
    h.send(seg({.flags = {.syn = true, .ack = true},
                .seq = kPeerIss,
                .ack = h.iss + 1,
                .mss = kPeerMss,
                .ts = Ts{kPeerTsval, syn.tcp.timestamps->first},
                .sack_permitted = true}));
    h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1, .has_ts = true, .tsecr = kPeerTsval});
    CHECK(h.conn(fd).negotiated().timestamps);
    CHECK(h.conn(fd).negotiated().sack);
    h.finish();
  }
  SECTION("the peer takes neither") {
    TcpHarness h;
    int fd = h.established_active();
    CHECK_FALSE(h.conn(fd).negotiated().timestamps);
    CHECK_FALSE(h.conn(fd).negotiated().sack);
    REQUIRE(h.write(fd, "x"));
    h.expect({.flags = {.psh = true, .ack = true}, .has_ts = false});
    h.finish();
  }
}

TEST_CASE("options: with timestamps and SACK off in TcpConfig, neither is offered nor accepted",
          "[tcp][rfc7323-3.2][rfc2018-2]") {
  auto cfg = TcpHarness::default_config();
  cfg.tcp.timestamps = false;
  cfg.tcp.sack = false;
  TcpHarness h(cfg);
  h.connect(kStackPort);
  h.expect({.flags = {.syn = true}, .has_ts = false, .sack_permitted = false});
  h.listen(81);
  h.send(seg({.flags = {.syn = true},
              .seq = kPeerIss,
              .mss = kPeerMss,
              .dst_port = 81,
              .ts = Ts{5, 0},
              .sack_permitted = true}));
  h.expect({.flags = {.syn = true, .ack = true}, .has_ts = false, .sack_permitted = false});
  h.finish();
}

// ---- Which timestamp is echoed (RFC 7323 §4.3, §4.2) ----

TEST_CASE("timestamps: TS.Recent follows Last.ACK.sent: delayed, out-of-order and hole-filling",
          "[tcp][rfc7323-4.3][rfc7323-4.2]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  // (A) A delayed ACK for two segments echoes the earlier segment's TSval: the second
  // starts after Last.ACK.sent.
  h.send(data_ts(h, 0, "aa", kT));
  h.send(data_ts(h, 2, "bb", kT + 1));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 5, .tsecr = kT});
  // (B) An out-of-order segment does not move TS.Recent: the duplicate ACK still echoes 100.
  h.send(data_ts(h, 6, "dd", kT + 3));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 5, .tsecr = kT});
  // (C) The segment that fills the hole gives the TSval echoed.
  h.send(data_ts(h, 4, "cc", kT + 4));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 9, .tsecr = kT + 4});
  CHECK(h.read(fd) == "aabbccdd");
  h.finish();
}

// ---- PAWS (RFC 7323 §5) ----

TEST_CASE("timestamps: PAWS drops a segment older than TS.Recent and acknowledges it",
          "[tcp][rfc7323-5.3]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  h.send(data_ts(h, 0, "new", kT));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 4, .tsecr = kT});
  // An old duplicate: in the window, but its TSval is below TS.Recent.
  h.send(data_ts(h, 3, "old", kT - 1));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 4, .tsecr = kT});
  CHECK(h.tcp_stats().paws_rejected == 1);
  CHECK(h.read(fd) == "new");
  // The same octets with a current TSval are taken (TSval equal to TS.Recent passes).
  h.send(data_ts(h, 3, "old", kT));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 7});
  CHECK(h.read(fd) == "old");
  h.finish();
}

TEST_CASE("timestamps: TSval comparisons wrap modulo 2^32", "[tcp][rfc7323-5.2]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  // Each TSval is less than 2^31 after the one before, so each is newer, across the wrap.
  h.send(data_ts(h, 0, "a", 0x7ffffff0u));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2, .tsecr = 0x7ffffff0u});
  h.send(data_ts(h, 1, "b", 0xffffff00u));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 3, .tsecr = 0xffffff00u});
  h.send(data_ts(h, 2, "c", 0x10));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 4, .tsecr = 0x10});
  CHECK(h.read(fd) == "abc");
  CHECK(h.tcp_stats().paws_rejected == 0);
  h.finish();
}

TEST_CASE("timestamps: a RST is not subject to PAWS", "[tcp][rfc7323-5.3]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  h.send(data_ts(h, 0, "x", kT));
  h.advance(40ms);
  h.next();
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 2, .ts = Ts{1, 0}}));
  CHECK(h.took(TcpState::Established, TcpState::Closed));
  CHECK(h.so_error(fd) == Errno::ConnReset);
  h.finish();
}

TEST_CASE("timestamps: after 24 days idle TS.Recent is invalid and an older TSval is taken",
          "[tcp][rfc7323-5.5]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  h.send(data_ts(h, 0, "a", 1000000));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .tsecr = 1000000});
  h.advance(std::chrono::hours(24 * 24) - 1s);
  h.send(data_ts(h, 1, "b", 20));
  // Within 24 days of the last update: PAWS still applies (rejected, acknowledged).
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2, .tsecr = 1000000});
  CHECK(h.tcp_stats().paws_rejected == 1);
  h.advance(2s);
  h.send(data_ts(h, 1, "b", 20));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 3, .tsecr = 20});
  CHECK(h.read(fd) == "ab");
  h.finish();
}

TEST_CASE("timestamps: a segment without TSopt on a connection using them is dropped silently",
          "[tcp][rfc7323-3.2]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  h.send(seg({.flags = {.psh = true, .ack = true}, .seq = kPeerIss + 1, .payload = "bare"}));
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_drop_no_timestamp == 1);
  CHECK(h.state(fd) == TcpState::Established);
  CHECK(h.read(fd).empty());
  h.finish();
}

// ---- RTT measurement (RFC 7323 §4.1) ----

TEST_CASE("timestamps: the TSecr of a retransmission's ACK gives the RTT sample Karn forbids",
          "[tcp][rfc7323-4.1][rfc6298-3]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  auto& c = h.conn(fd);
  REQUIRE(c.srtt() == 0ms);  // the handshake: 0 ms
  REQUIRE(h.write(fd, "a"));
  h.expect({.flags = {.psh = true, .ack = true}, .payload = "a"});
  h.advance(200ms);
  auto again = h.expect({.flags = {.psh = true, .ack = true}, .payload = "a", .has_ts = true});
  CHECK(c.rto() == 400ms);
  // The ACK echoes the retransmission's TSval 30 ms later: R = 30 ms, unambiguous.
  h.advance(30ms);
  h.send(seg({.flags = {.ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 2,
              .ts = Ts{kPeerTsval + 2, again.tcp.timestamps->first}}));
  // RFC 6298 (2.3): RTTVAR = (3*0 + 30)/4 = 7.5 ms, SRTT = (7*0 + 30)/8 = 3.75 ms; the
  // backed-off RTO collapses to max(200 ms, SRTT + 4*RTTVAR).
  CHECK(c.srtt() == 3750us);
  CHECK(c.rto() == 200ms);
  h.finish();
}

TEST_CASE("timestamps: a TSecr from the future gives no sample", "[tcp][rfc7323-4.1]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  auto& c = h.conn(fd);
  REQUIRE(h.write(fd, "a"));
  auto sent = h.expect({.flags = {.psh = true, .ack = true}, .payload = "a"});
  h.advance(200ms);
  h.next();  // the retransmission: Karn's rule stops the segment's own timing
  h.send(seg({.flags = {.ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 2,
              .ts = Ts{kPeerTsval + 2, sent.tcp.timestamps->first + 100000}}));
  CHECK(c.srtt() == 0ms);
  CHECK(c.rto() == 400ms);
  h.finish();
}

TEST_CASE("timestamps: resets carry TSopt with TSecr zero", "[tcp][rfc7323-3.2]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  linger l{1, 0};
  REQUIRE(h.sockets().setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) == Errno::Ok);
  REQUIRE(h.close(fd) == Errno::Ok);
  h.expect({.flags = {.rst = true}, .has_ts = true, .tsecr = 0});
  h.finish();
}
