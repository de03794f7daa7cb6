// Selective acknowledgements against a scripted peer: the SACK blocks the stack sends as a
// receiver (RFC 2018 §4) and its SACK-based loss recovery as a sender (RFC 6675 §5):
// entering recovery, retransmitting exactly the holes, ignoring bad blocks, and what a
// timeout does to the scoreboard (RFC 6675 §5.1, RFC 2018 §8).
#include "stack/tcp_options_peer.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

using Blocks = std::vector<wire::SackBlock>;

// Peer sequence number of peer stream offset `off`.
std::uint32_t p(std::uint32_t off) { return kPeerIss + 1 + off; }

constexpr std::uint32_t kSeg = 1448;  // the stack's SMSS with timestamps (1460 - 12)

// Grows cwnd by slow start so that `segments` full segments can be in flight, and leaves
// them sent and unacknowledged: writes segments + 3 segments, acknowledges the first 3
// (the initial window) one by one. Returns the stack's TSval of the last segment seen.
std::uint32_t fill_flight(TcpHarness& h, std::uint32_t segments) {
  REQUIRE(segments == 6);  // IW 3 segments, +1 per ACK in slow start: 6 after 3 ACKs
  REQUIRE(h.write(h.fd, std::string((segments + 3) * kSeg, 'q')));
  std::uint32_t ts = 0;
  for (int i = 0; i < 3; ++i)
    ts = h.expect({.flags = {.ack = true}, .payload_len = kSeg}).tcp.timestamps->first;
  for (std::uint32_t i = 1; i <= 3; ++i) {
    h.send(ack_sack(h, i * kSeg, {}, Ts{kT + i, ts}));
    // Each ACK of one segment lets two out (slow start: cwnd grows by one SMSS).
    for (int k = 0; k < 2; ++k) ts = h.next().tcp.timestamps->first;
  }
  h.expect_nothing();
  return ts;
}

}  // namespace

// ---- Receiver: RFC 2018 §4 ----

TEST_CASE("SACK: out-of-order data is reported in SACK blocks, the newest first",
          "[tcp][rfc2018-4]") {
  TcpHarness h;
  int fd = established_ts(h, true);
  h.send(data_ts(h, 10, std::string(10, 'b'), kT));
  h.expect({.flags = {.ack = true}, .ack = p(0), .sack = Blocks{{p(10), p(20)}}});
  h.send(data_ts(h, 30, std::string(10, 'd'), kT));
  h.expect({.flags = {.ack = true}, .ack = p(0), .sack = Blocks{{p(30), p(40)}, {p(10), p(20)}}});
  h.send(data_ts(h, 50, std::string(10, 'f'), kT));
  h.expect(
      {.flags = {.ack = true}, .sack = Blocks{{p(50), p(60)}, {p(30), p(40)}, {p(10), p(20)}}});
  // RFC 2018 §3: with timestamps at most three blocks fit; the oldest is left out.
  h.send(data_ts(h, 70, std::string(10, 'h'), kT));
  h.expect(
      {.flags = {.ack = true}, .sack = Blocks{{p(70), p(80)}, {p(50), p(60)}, {p(30), p(40)}}});
  // "The first SACK block ... MUST specify the contiguous block of data containing the
  // segment which triggered this ACK": growing an old block moves it to the front.
  h.send(data_ts(h, 20, std::string(5, 'c'), kT));
  h.expect(
      {.flags = {.ack = true}, .sack = Blocks{{p(10), p(25)}, {p(70), p(80)}, {p(50), p(60)}}});
  // Filling the first hole moves the cumulative ACK, which frees the first place: it goes
  // to the lowest range, just past the next hole; the newest follow.
  h.send(data_ts(h, 0, std::string(10, 'a'), kT));
  h.expect({.flags = {.ack = true},
            .ack = p(25),
            .sack = Blocks{{p(30), p(40)}, {p(70), p(80)}, {p(50), p(60)}}});
  CHECK(h.tcp_stats().sack_blocks_sent == 1 + 2 + 3 + 3 + 3 + 3);
  // Once nothing is held out of order, ACKs carry no SACK option.
  h.send(data_ts(h, 25, std::string(55, 'x'), kT));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = p(80), .sack = Blocks{}});
  CHECK(h.read(fd).size() == 80);
  h.finish();
}

TEST_CASE("SACK: without timestamps four blocks fit", "[tcp][rfc2018-3]") {
  TcpHarness h;
  h.listen();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = kPeerMss, .sack_permitted = true}));
  auto sa =
      h.expect({.flags = {.syn = true, .ack = true}, .has_ts = false, .sack_permitted = true});
  h.iss = sa.tcp.seq;
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1}));
  h.fd = h.accept(h.listener);
  for (std::uint32_t off : {10u, 30u, 50u, 70u, 90u}) {
    h.send(seg({.flags = {.ack = true}, .seq = p(off), .ack = h.iss + 1, .payload = "0123456789"}));
    h.next();
  }
  h.send(seg({.flags = {.ack = true}, .seq = p(110), .ack = h.iss + 1, .payload = "z"}));
  h.expect({.flags = {.ack = true},
            .sack = Blocks{{p(110), p(111)}, {p(90), p(100)}, {p(70), p(80)}, {p(50), p(60)}}});
  h.finish();
}

TEST_CASE("SACK: no SACK option on a connection that did not negotiate it", "[tcp][rfc2018-4]") {
  TcpHarness h;
  h.established_passive();
  h.send(seg({.flags = {.ack = true}, .seq = p(10), .ack = h.iss + 1, .payload = "later"}));
  h.expect({.flags = {.ack = true}, .ack = p(0), .sack = Blocks{}});
  CHECK(h.tcp_stats().sack_blocks_sent == 0);
  h.finish();
}

TEST_CASE("SACK: a data segment carrying SACK blocks gives their octets from its payload",
          "[tcp][rfc2018-3][rfc6691]") {
  TcpHarness h;
  int fd = established_ts(h, true);
  h.send(data_ts(h, 100, "held", kT));
  h.next();  // the duplicate ACK with one block
  REQUIRE(h.write(fd, std::string(2 * kSeg, 'w')));
  // 1448 - (2 NOPs + kind + length + 8 octets) = 1436: the segment still fits the MSS.
  auto s = h.expect(
      {.flags = {.ack = true}, .payload_len = kSeg - 12, .sack = Blocks{{p(100), p(104)}}});
  CHECK(s.tcp.header_len() + s.payload.size() == 1460 + 20);
  h.finish();
}

// ---- Sender: RFC 6675 ----

TEST_CASE("SACK: recovery retransmits exactly the holes the scoreboard shows",
          "[tcp][rfc6675-5][rfc6675-4]") {
  TcpHarness h;
  int fd = established_ts(h, true);
  auto& c = h.conn(fd);
  std::uint32_t ts = fill_flight(h, 6);
  // In flight: segments 3..8 (offsets 3*kSeg..9*kSeg). Segments 4 and 6 are lost; 5, 7
  // and 8 arrive and are SACKed, each a duplicate ACK by RFC 6675 §2.
  auto at = [](std::uint32_t n) { return n * kSeg; };
  h.send(ack_sack(h, at(4), {}, Ts{kT + 10, ts}));  // segment 3 arrived
  h.expect_nothing();
  h.send(ack_sack(h, at(4), {{at(5), at(6)}}, Ts{kT + 11, ts}));
  h.send(ack_sack(h, at(4), {{at(7), at(8)}, {at(5), at(6)}}, Ts{kT + 12, ts}));
  h.expect_nothing();  // two duplicate ACKs, no new data to send (limited transmit)
  CHECK(c.sack_recovery().dup_acks == 2);
  h.send(ack_sack(h, at(4), {{at(7), at(9)}, {at(5), at(6)}}, Ts{kT + 13, ts}));
  // The third: RFC 6675 §5 (4.3) resends segment 4 at HighACK. cwnd = ssthresh =
  // FlightSize/2 = 2.5 segments, and pipe = 2 segments (the resent 4; 6, with only two
  // SACKed segments above it, is not deemed lost and counts as in flight): no more.
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1 + at(4), .payload_len = kSeg});
  h.expect_nothing();
  CHECK(c.sack_recovery().active);
  CHECK(c.sack_recovery().recovery_point == at(9));
  CHECK(c.sack_recovery().high_rxt == at(5));
  CHECK(h.tcp_stats().sack_recoveries == 1);
  // A partial ACK (the resent 4 arrived): pipe drops to one segment, and NextSeg () rule
  // (3) resends 6, unSACKed below the highest SACKed octet. Nothing SACKed goes again.
  h.send(ack_sack(h, at(6), {{at(7), at(9)}}, Ts{kT + 14, ts}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1 + at(6), .payload_len = kSeg});
  h.expect_nothing();
  CHECK(c.sack_recovery().active);
  CHECK(h.tcp_stats().retransmitted_segments == 2);
  CHECK(h.tcp_stats().retransmitted_bytes == 2 * kSeg);
  // RFC 6675 §5 (A): the ACK covering RecoveryPoint ends recovery.
  h.send(ack_sack(h, at(9), {}, Ts{kT + 15, ts}));
  CHECK_FALSE(c.sack_recovery().active);
  CHECK(c.sack_scoreboard().empty());
  CHECK(h.tcp_stats().rto_expired == 0);
  h.finish();
}

TEST_CASE("SACK: IsLost enters recovery before three duplicate ACKs", "[tcp][rfc6675-5]") {
  TcpHarness h;
  int fd = established_ts(h, true);
  std::uint32_t ts = fill_flight(h, 6);
  auto at = [](std::uint32_t n) { return n * kSeg; };
  // One ACK SACKs segments 4..6 above the lost 3: more than (DupThresh - 1) * SMSS octets
  // are SACKed above HighACK, so IsLost (HighACK + 1) holds at the first duplicate ACK.
  h.send(ack_sack(h, at(3), {{at(4), at(7)}}, Ts{kT + 10, ts}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1 + at(3), .payload_len = kSeg});
  CHECK(h.conn(fd).sack_recovery().active);
  CHECK(h.conn(fd).sack_recovery().dup_acks == 1);
  h.finish();
}

TEST_CASE("SACK: blocks that are empty, below SND.UNA or past SND.NXT are ignored",
          "[tcp][rfc2018-5][rfc5961]") {
  TcpHarness h;
  int fd = established_ts(h, true);
  std::uint32_t ts = fill_flight(h, 6);
  auto at = [](std::uint32_t n) { return n * kSeg; };
  auto& c = h.conn(fd);
  h.send(ack_sack(h, at(3), {{at(5), at(5)}, {at(2), at(3)}, {at(8), at(10)}}, Ts{kT + 10, ts}));
  // Inverted: right before left.
  h.send(ack_sack(h, at(3), {{at(6), at(5)}}, Ts{kT + 11, ts}));
  CHECK(h.tcp_stats().sack_blocks_received == 4);
  CHECK(h.tcp_stats().sack_blocks_ignored == 4);
  CHECK(c.sack_scoreboard().empty());
  CHECK(c.sack_recovery().dup_acks == 0);
  // A block straddling SND.UNA keeps its part above it.
  h.send(ack_sack(h, at(3), {{at(2), at(4)}}, Ts{kT + 12, ts}));
  REQUIRE(c.sack_scoreboard().ranges().size() == 1);
  CHECK(c.sack_scoreboard().ranges()[0].begin == at(3));
  CHECK(c.sack_scoreboard().ranges()[0].end == at(4));
  h.finish();
}

TEST_CASE("SACK: SACK blocks are ignored on a connection that did not negotiate SACK",
          "[tcp][rfc2018-2]") {
  TcpHarness h;
  int fd = established_ts(h, false);
  REQUIRE(h.write(fd, std::string(3 * kSeg, 's')));
  auto first = h.next();
  h.next();
  h.next();
  h.send(ack_sack(h, 0, {{kSeg, 2 * kSeg}}, Ts{kT, first.tcp.timestamps->first}));
  CHECK(h.tcp_stats().sack_blocks_received == 0);
  CHECK(h.conn(fd).sack_scoreboard().empty());
  h.finish();
}

TEST_CASE("SACK: a timeout clears the scoreboard, and the resend skips what is SACKed after it",
          "[tcp][rfc6675-5.1][rfc2018-8]") {
  TcpHarness h;
  int fd = established_ts(h, true);
  auto& c = h.conn(fd);
  REQUIRE(h.write(fd, std::string(3 * kSeg, 't')));
  std::uint32_t ts = 0;
  for (int i = 0; i < 3; ++i) ts = h.next().tcp.timestamps->first;
  // Segments 0 and 1 are lost; 2 arrives: one duplicate ACK, no recovery yet.
  h.send(ack_sack(h, 0, {{2 * kSeg, 3 * kSeg}}, Ts{kT, ts}));
  CHECK_FALSE(c.sack_scoreboard().empty());
  CHECK_FALSE(c.sack_recovery().active);
  // RTO (200 ms): RFC 2018 §8, "the data sender MUST retransmit the segment at the left
  // edge of the window after a retransmit timeout", and forgets the SACK information.
  h.advance(200ms);
  auto rto = h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .payload_len = kSeg});
  CHECK(c.sack_scoreboard().empty());
  CHECK(c.sack_recovery().recovery_point == 3 * kSeg);
  // Segment 0 arrives; the receiver still holds 2 and says so. The go-back-N resend
  // sends segment 1 and skips segment 2.
  h.send(ack_sack(h, kSeg, {{2 * kSeg, 3 * kSeg}}, Ts{kT + 1, rto.tcp.timestamps->first}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1 + kSeg, .payload_len = kSeg});
  h.expect_nothing();
  CHECK(h.tcp_stats().retransmitted_segments == 2);
  CHECK(h.tcp_stats().retransmitted_bytes == 2 * kSeg);
  CHECK_FALSE(c.sack_recovery().active);  // no new recovery below RecoveryPoint
  h.send(ack_sack(h, 3 * kSeg, {}, Ts{kT + 2, rto.tcp.timestamps->first}));
  CHECK(c.snd().una == c.snd().max);
  h.finish();
}
