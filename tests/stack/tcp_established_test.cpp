// ESTABLISHED (RFC 9293 §3.10.7.4): the acceptability test, RST and SYN handling with RFC
// 5961, the ACK field, segment text and its acknowledgement (delayed ACKs, RFC 1122
// §4.2.3.2), sending (MSS, Nagle, sender SWS avoidance), receiver SWS avoidance, and bad
// input of every kind.
#include <netinet/tcp.h>

#include "support/tcp_harness.hpp"

using namespace tapir;
using namespace tapir::test;
using tapir::tcp::TcpState;

namespace {

// ESTABLISHED with the peer's SYN carrying `window` (no scaling).
int established_with_window(TcpHarness& h, std::uint16_t window) {
  h.listen();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .window = window, .mss = kPeerMss}));
  auto sa = h.expect({.flags = {.syn = true, .ack = true}});
  h.iss = sa.tcp.seq;
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1, .window = window}));
  h.fd = h.accept(h.listener);
  return h.fd;
}

StackConfig small_receive_buffer(std::size_t n) {
  auto cfg = TcpHarness::default_config();
  cfg.tcp.recv_buffer = n;
  return cfg;
}

// The peer's data segment at offset `off` (from its ISS + 1), acknowledging `ack`.
Frame data(std::uint32_t off, std::string payload, std::uint32_t ack) {
  return seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1 + off,
              .ack = ack,
              .payload = std::move(payload)});
}

// A 10000-octet receive buffer takes four full segments (every second one acknowledged at
// once) and leaves the peer 4160 octets of window, less than half; then the application
// reads all 5840, which would give the peer 10000. Nothing is sent yet: that update waits
// for what the application does next.
int read_with_4160_known(TcpHarness& h) {
  int fd = established_with_window(h, 65535);
  for (std::uint32_t off = 0; off < 4 * 1460; off += 1460) {
    h.send(data(off, std::string(1460, 'a'), h.iss + 1));
  }
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2921, .window = 7080});
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 5841, .window = 4160});
  CHECK(h.read(fd).size() == 5840);
  h.expect_nothing();
  return fd;
}

}  // namespace

// ---- Receiving, and when to acknowledge ----

TEST_CASE("ESTABLISHED: in-order data is acknowledged after the 40 ms delayed-ACK timer",
          "[tcp][rfc1122-4.2.3.2][rfc9293-3.8.6.3]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(data(0, std::string(100, 'a'), h.iss + 1));
  h.expect_nothing();
  h.advance(39ms);
  h.expect_nothing();
  h.advance(1ms);
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 101, .at = 40ms});
  CHECK(h.tcp_stats().tx_delayed_acks == 1);
  CHECK(h.read(fd) == std::string(100, 'a'));
  h.finish();
}

TEST_CASE("ESTABLISHED: every second full-sized segment is acknowledged at once",
          "[tcp][rfc1122-4.2.3.2][rfc9293-3.8.6.3]") {
  TcpHarness h;
  h.established_passive();
  h.send(data(0, std::string(1460, 'a'), h.iss + 1));
  h.expect_nothing();
  h.send(data(1460, std::string(1460, 'b'), h.iss + 1));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2921, .at = 0ms});
  h.send(data(2920, std::string(1460, 'c'), h.iss + 1));
  h.expect_nothing();
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 4381});
  h.finish();
}

TEST_CASE(
    "ESTABLISHED: full-sized segments taken in one poll are acknowledged once, after the batch",
    "[tcp][rfc5681-4.2][rfc9293-3.8.6.3]") {
  TcpHarness h;
  int fd = h.established_passive();
  // Eight segments waiting at the device together: one ACK for all of them once the poll
  // has taken them, not one for every second segment (four).
  std::vector<Frame> batch;
  for (std::uint32_t i = 0; i < 8; ++i)
    batch.push_back(data(i * 1460, std::string(1460, 'a'), h.iss + 1));
  h.send_batch(batch);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1 + 8 * 1460, .at = 0ms});
  h.expect_nothing();
  CHECK(h.read(fd).size() == 8 * 1460);
  // A single segment still waits for the delayed-ACK timer.
  h.send(data(8 * 1460, "x", h.iss + 1));
  h.expect_nothing();
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2 + 8 * 1460});
  h.finish();
}

TEST_CASE("ESTABLISHED: within a batch, a quarter of the receive buffer is acknowledged at once",
          "[tcp][rfc5681-4.2]") {
  TcpHarness h(small_receive_buffer(16 * 1460));  // a quarter: 4 segments
  h.established_passive();
  std::vector<Frame> batch;
  for (std::uint32_t i = 0; i < 6; ++i)
    batch.push_back(data(i * 1460, std::string(1460, 'a'), h.iss + 1));
  h.send_batch(batch);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1 + 4 * 1460, .at = 0ms});
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1 + 6 * 1460, .at = 0ms});  // the batch's end
  h.expect_nothing();
  h.finish();
}

TEST_CASE("ESTABLISHED: out-of-order segments in a batch are each acknowledged at once",
          "[tcp][rfc5681-4.2][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.established_passive();
  // The second segment is lost: each one after it draws its own duplicate ACK, so that
  // the peer counts three duplicates for its fast retransmit (RFC 5681 §3.2).
  h.send_batch({data(0, std::string(1460, 'a'), h.iss + 1),
                data(2 * 1460, std::string(1460, 'c'), h.iss + 1),
                data(3 * 1460, std::string(1460, 'd'), h.iss + 1),
                data(4 * 1460, std::string(1460, 'e'), h.iss + 1)});
  for (int i = 0; i < 3; ++i) h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1461, .at = 0ms});
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_ooo_segments == 3);
  h.finish();
}

TEST_CASE("ESTABLISHED: out-of-order data is acknowledged at once, and so is filling the hole",
          "[tcp][rfc5681-4.2][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(data(1000, std::string(500, 'b'), h.iss + 1));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1});  // a duplicate ACK
  h.send(data(2000, std::string(500, 'd'), h.iss + 1));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1});
  CHECK(h.tcp_stats().rx_ooo_segments == 2);
  CHECK(h.read(fd).empty());
  // Filling the first hole moves RCV.NXT past the parked data: ACKed at once.
  h.send(data(0, std::string(1000, 'a'), h.iss + 1));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1501});
  h.send(data(1500, std::string(500, 'c'), h.iss + 1));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2501});
  CHECK(h.read(fd) == std::string(1000, 'a') + std::string(500, 'b') + std::string(500, 'c') +
                          std::string(500, 'd'));
  h.finish();
}

TEST_CASE("ESTABLISHED: overlapping retransmissions deliver only the new octets",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(data(0, "hello", h.iss + 1));
  h.send(data(3, "lo world", h.iss + 1));
  CHECK(h.read(fd) == "hello world");
  // Entirely old data is unacceptable: ACKed at once and dropped.
  h.send(data(0, "hello", h.iss + 1));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 12});
  CHECK(h.tcp_stats().rx_drop_unacceptable == 1);
  CHECK(h.read(fd).empty());
  h.finish();
}

TEST_CASE("ESTABLISHED: data beyond the window is unacceptable: ACK and drop",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h(small_receive_buffer(1000));
  int fd = established_with_window(h, 65535);
  h.send(data(1000, "late", h.iss + 1));  // starts at the right edge: outside
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1, .window = 1000});
  CHECK(h.tcp_stats().rx_drop_unacceptable == 1);
  // A segment straddling the right edge is trimmed to the window.
  h.send(data(0, std::string(1200, 'x'), h.iss + 1));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1001, .window = 0});
  CHECK(h.read(fd).size() == 1000);
  h.finish();
}

TEST_CASE("ESTABLISHED: a full receive buffer advertises a zero window, probes get ACKs",
          "[tcp][rfc9293-3.8.6.1][rfc9293-3.10.7.4]") {
  TcpHarness h(small_receive_buffer(2000));
  int fd = established_with_window(h, 65535);
  h.send(data(0, std::string(1460, 'a'), h.iss + 1));
  h.send(data(1460, std::string(540, 'b'), h.iss + 1));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2001, .window = 0});
  // A zero-window probe: one octet at RCV.NXT. Dropped, and answered with the window.
  h.send(data(2000, "c", h.iss + 1));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2001, .window = 0});
  // An empty ACK at RCV.NXT is still processed with a zero window.
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 2001, .ack = h.iss + 1, .window = 500}));
  h.expect_nothing();
  CHECK(h.conn(fd).snd().wnd == 500);
  // RFC 9293 §3.8.6.2.2 (receiver SWS): reading 100 octets does not reopen the window;
  // reading min(RCV.BUFF/2, MSS) = 1000 does, with a window update at once.
  CHECK(h.read(fd, 100).size() == 100);
  h.expect_nothing();
  CHECK(h.read(fd, 899).size() == 899);
  h.expect_nothing();
  CHECK(h.read(fd, 1).size() == 1);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2001, .window = 1000});
  h.finish();
}

TEST_CASE("ESTABLISHED: a window update the peer may soon need rides on the reply",
          "[tcp][rfc9293-3.8.6.2.2]") {
  TcpHarness h(small_receive_buffer(10000));
  int fd = read_with_4160_known(h);
  // ...and its reply carries it: one segment, not an ACK and then the data.
  REQUIRE(h.write(fd, "reply"));
  h.expect({.flags = {.psh = true, .ack = true},
            .ack = kPeerIss + 5841,
            .window = 10000,
            .payload = "reply"});
  h.expect_nothing();
  h.finish();
}

TEST_CASE("ESTABLISHED: with no reply, the window update goes at the next poll",
          "[tcp][rfc9293-3.8.6.2.2]") {
  TcpHarness h(small_receive_buffer(10000));
  read_with_4160_known(h);
  h.advance(1ms);  // the event loop's next round: due at once
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 5841, .window = 10000, .at = 0ms});
  h.finish();
}

TEST_CASE("ESTABLISHED: a read that leaves the peer more than half the window sends nothing",
          "[tcp][rfc9293-3.8.6.2.2]") {
  TcpHarness h(small_receive_buffer(10000));
  int fd = established_with_window(h, 65535);
  h.send(data(0, std::string(1000, 'a'), h.iss + 1));
  h.send(data(1000, std::string(1000, 'b'), h.iss + 1));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2001, .window = 8000});
  // 8000 of 10000 is still open: the peer is not held back, and the larger window goes
  // with the next ACK there is reason to send.
  CHECK(h.read(fd).size() == 2000);
  h.advance(1s);
  h.expect_nothing();
  h.send(data(2000, "c", h.iss + 1));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2002, .window = 9999});
  h.finish();
}

TEST_CASE("ESTABLISHED: a bare FIN is taken even into a zero window", "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h(small_receive_buffer(1000));
  int fd = established_with_window(h, 65535);
  h.send(data(0, std::string(1000, 'a'), h.iss + 1));
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1001, .window = 0});
  h.send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1001, .ack = h.iss + 1}));
  h.expect_nothing();  // its ACK is delayed (RFC 1122 §4.2.3.2), like a data segment's
  h.advance(40ms);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1002, .window = 0});
  CHECK(h.state(fd) == TcpState::CloseWait);
  CHECK(h.read(fd).size() == 1000);
  CHECK(h.read(fd).empty());
  h.finish();
}

TEST_CASE("ESTABLISHED: MSG_PEEK leaves the data in place", "[tcp][socket]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(data(0, "peek", h.iss + 1));
  std::array<std::byte, 8> buf;
  CHECK(h.sockets().recv(fd, MutBytes(buf), MSG_PEEK).value() == 4);
  CHECK(h.read(fd) == "peek");
  h.finish();
}

TEST_CASE("ESTABLISHED: MSG_TRUNC discards the data instead of copying it (as Linux)",
          "[tcp][socket]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(data(0, "abcdefghij", h.iss + 1));
  std::array<std::byte, 4> buf{};
  // With MSG_PEEK the octets are counted, neither copied nor consumed.
  CHECK(h.sockets().recv(fd, MutBytes(buf), MSG_PEEK | MSG_TRUNC).value() == 4);
  CHECK(buf == std::array<std::byte, 4>{});
  // The buffer's size bounds how many go; none is copied.
  CHECK(h.sockets().recv(fd, MutBytes(buf), MSG_TRUNC).value() == 4);
  CHECK(buf == std::array<std::byte, 4>{});
  CHECK(h.read(fd) == "efghij");
  CHECK(h.stack().stats().socket.stream_bytes_received == 10);
  h.finish();
}

// ---- RST and SYN, with RFC 5961 ----

TEST_CASE("ESTABLISHED: RST at RCV.NXT resets the connection: ECONNRESET",
          "[tcp][rfc9293-3.10.7.4][rfc5961-3.2]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 1}));
  h.expect_nothing();
  CHECK(h.took(TcpState::Established, TcpState::Closed));
  short ev = h.poll(fd);
  CHECK((ev & POLLERR) != 0);
  CHECK((ev & POLLHUP) != 0);
  CHECK((ev & POLLIN) != 0);
  std::array<std::byte, 8> buf;
  CHECK(h.sockets().recv(fd, MutBytes(buf), 0).error() == Errno::ConnReset);
  CHECK(h.sockets().recv(fd, MutBytes(buf), 0).value() == 0);
  CHECK(h.sockets().send(fd, as_bytes(std::string_view("x")), 0).error() == Errno::Pipe);
  CHECK(h.sockets().shutdown(fd, SHUT_WR) == Errno::NotConn);
  CHECK(h.live_connections() == 0);
  h.finish();
}

TEST_CASE("ESTABLISHED: the reset error is also reported by SO_ERROR and send, once",
          "[tcp][rfc9293-3.10.7.4][socket]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.rst = true, .ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1}));
  CHECK(h.sockets().send(fd, as_bytes(std::string_view("x")), 0).error() == Errno::ConnReset);
  CHECK(h.so_error(fd) == Errno::Ok);
  CHECK(h.sockets().send(fd, as_bytes(std::string_view("x")), 0).error() == Errno::Pipe);
  h.finish();
}

TEST_CASE("ESTABLISHED: an in-window RST not at RCV.NXT gets a challenge ACK",
          "[tcp][rfc5961-3.2]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 1000}));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 1});
  CHECK(h.state(fd) == TcpState::Established);
  CHECK(h.tcp_stats().tx_challenge_acks == 1);
  // Out of the window: silently dropped.
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 100000}));
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss}));
  h.expect_nothing();
  CHECK(h.state(fd) == TcpState::Established);
  CHECK(h.tcp_stats().rx_drop_unacceptable == 2);
  h.finish();
}

TEST_CASE("ESTABLISHED: challenge ACKs are rate limited per second", "[tcp][rfc5961-7]") {
  auto cfg = TcpHarness::default_config();
  cfg.tcp.challenge_ack_limit = 2;
  TcpHarness h(cfg);
  h.established_passive();
  for (int i = 0; i < 3; ++i) h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 500}));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1});
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1});
  h.expect_nothing();
  CHECK(h.tcp_stats().tx_challenge_acks == 2);
  CHECK(h.tcp_stats().challenge_acks_limited == 1);
  h.advance(1s);
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss + 500}));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1});
  h.finish();
}

TEST_CASE("ESTABLISHED: a SYN gets a challenge ACK and the connection survives",
          "[tcp][rfc5961-4][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss + 10}));  // in the window
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 1});
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss - 5000}));  // outside it
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 1});
  CHECK(h.state(fd) == TcpState::Established);
  h.send(data(0, "still here", h.iss + 1));
  CHECK(h.read(fd) == "still here");
  h.finish();
}

// ---- The ACK field ----

TEST_CASE("ESTABLISHED: an ACK for data never sent gets an ACK and is dropped, data too",
          "[tcp][rfc9293-3.10.7.4][rfc5961-5.2]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(data(0, "ignored", h.iss + 10));
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .ack = kPeerIss + 1});
  CHECK(h.tcp_stats().rx_drop_ack_unsent == 1);
  CHECK(h.read(fd).empty());
  h.finish();
}

TEST_CASE("ESTABLISHED: an ACK older than SND.UNA - MAX.SND.WND gets a challenge ACK",
          "[tcp][rfc5961-5.2]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(data(0, "old", h.iss + 1 - 70000));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1});
  CHECK(h.tcp_stats().rx_drop_old_ack == 1);
  CHECK(h.read(fd).empty());
  // Within MAX.SND.WND below SND.UNA the ACK is acceptable and the data is taken.
  h.send(data(0, "ok", h.iss + 1 - 1000));
  CHECK(h.read(fd) == "ok");
  h.finish();
}

TEST_CASE("ESTABLISHED: a segment without ACK is dropped and counted", "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.psh = true}, .seq = kPeerIss + 1, .payload = "noack"}));
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_drop_no_ack == 1);
  CHECK(h.read(fd).empty());
  h.finish();
}

TEST_CASE("ESTABLISHED: the send window follows SND.WL1/WL2, old segments cannot shrink it",
          "[tcp][rfc9293-3.10.7.4]") {
  TcpHarness h;
  int fd = h.established_passive();
  auto& c = h.conn(fd);
  h.send(data(0, "a", h.iss + 1));  // newer segment: window update
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 2, .ack = h.iss + 1, .window = 3000}));
  CHECK(c.snd().wnd == 3000);
  // A reordered older segment (SEG.SEQ < SND.WL1) does not move the window.
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1, .window = 10}));
  CHECK(c.snd().wnd == 3000);
  h.finish();
}

// ---- Sending ----

TEST_CASE("ESTABLISHED: data goes out in MSS-sized segments within the initial window",
          "[tcp][rfc5681-3.1][rfc9293-3.7.1]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, std::string(5000, 'z')).value() == 5000);
  // RFC 5681 §3.1 eq. (1): IW = 3 * SMSS for SMSS 1460; PSH marks the end of queued data.
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .payload_len = 1460});
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1461, .payload_len = 1460});
  h.expect({.flags = {.ack = true}, .seq = h.iss + 2921, .payload_len = 1460});
  h.expect_nothing();
  CHECK(h.conn(fd).cwnd() == 4380);
  // The 620-octet tail waits for the ACK of everything (Nagle); slow start adds
  // min(N, SMSS) for the ACK (RFC 5681 §3.1 eq. (2)).
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1461}));
  h.expect_nothing();
  CHECK(h.conn(fd).cwnd() == 4380 + 1460);
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 4381}));
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 4381, .payload_len = 620});
  CHECK(h.conn(fd).cwnd() == 4380 + 2 * 1460);
  h.finish();
}

TEST_CASE("ESTABLISHED: Nagle holds small segments while data is unacknowledged",
          "[tcp][rfc9293-3.7.4][rfc1122-4.2.3.4]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, "a"));
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 1, .payload = "a"});
  REQUIRE(h.write(fd, "b"));
  REQUIRE(h.write(fd, "c"));
  h.expect_nothing();
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 2}));
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 2, .payload = "bc"});
  h.finish();
}

TEST_CASE("ESTABLISHED: TCP_NODELAY turns Nagle off, and releases a held segment",
          "[tcp][rfc9293-3.7.4][socket]") {
  TcpHarness h;
  int fd = h.established_passive();
  REQUIRE(h.write(fd, "a"));
  h.expect({.flags = {.psh = true, .ack = true}, .payload = "a"});
  REQUIRE(h.write(fd, "b"));
  h.expect_nothing();
  h.set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 2, .payload = "b"});
  REQUIRE(h.write(fd, "c"));
  h.expect({.flags = {.psh = true, .ack = true}, .seq = h.iss + 3, .payload = "c"});
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(h.sockets().getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == Errno::Ok);
  CHECK(v == 1);
  h.finish();
}

TEST_CASE(
    "ESTABLISHED: sender SWS avoidance waits for half the largest window, "
    "then the override timer sends what fits",
    "[tcp][rfc9293-3.8.6.2.1]") {
  TcpHarness h;
  int fd = established_with_window(h, 2000);  // MAX.SND.WND = 2000
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1, .window = 900}));
  REQUIRE(h.write(fd, std::string(1500, 'q')).value() == 1500);
  // 900 < min(MSS, queued) and < 2000/2: held back.
  h.expect_nothing();
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1, .window = 1000}));
  // 1000 >= MAX.SND.WND / 2: a partial segment may go.
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1, .payload_len = 1000});
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1001, .window = 100}));
  h.expect_nothing();
  // The override timeout (one RTO, 200 ms here) sends the 100 octets the window allows.
  h.advance(199ms);
  h.expect_nothing();
  h.advance(1ms);
  h.expect({.flags = {.ack = true}, .seq = h.iss + 1001, .payload_len = 100});
  h.finish();
}

TEST_CASE("ESTABLISHED: a full send buffer refuses with EAGAIN and clears POLLOUT",
          "[tcp][socket]") {
  auto cfg = TcpHarness::default_config();
  cfg.tcp.send_buffer = 4000;
  TcpHarness h(cfg);
  int fd = h.established_passive();
  CHECK(h.write(fd, std::string(10000, 'w')).value() == 4000);
  CHECK(h.write(fd, "more").error() == Errno::Again);
  CHECK((h.poll(fd) & POLLOUT) == 0);
  h.expect({.flags = {.ack = true}, .payload_len = 1460});
  h.expect({.flags = {.ack = true}, .payload_len = 1460});
  h.expect_nothing();  // Nagle holds the 1080-octet tail
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = h.iss + 1461}));
  CHECK((h.poll(fd) & POLLOUT) != 0);
  CHECK(h.write(fd, std::string(2000, 'w')).value() == 1460);
  h.finish();
}

// ---- Bad input: dropped, counted, harmless ----

TEST_CASE("ESTABLISHED: illegal flag combinations are dropped and counted", "[tcp][rfc9293-3.1]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.fin = true, .syn = true}, .seq = kPeerIss + 1}));
  h.send(seg({.flags = {.syn = true, .rst = true}, .seq = kPeerIss + 1}));
  h.send(seg({.flags = {}, .seq = kPeerIss + 1, .payload = "none"}));
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_drop_bad_flags == 3);
  CHECK(h.state(fd) == TcpState::Established);
  h.send(data(0, "fine", h.iss + 1));
  CHECK(h.read(fd) == "fine");
  h.finish();
}

TEST_CASE("ESTABLISHED: a bad checksum is dropped and counted", "[tcp][rfc9293-3.1]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 1, .bad_checksum = true}));
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .payload = "bad",
              .bad_checksum = true}));
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_drop_bad_checksum == 2);
  CHECK(h.state(fd) == TcpState::Established);
  CHECK(h.read(fd).empty());
  h.finish();
}

TEST_CASE("ESTABLISHED: a checksum the device vouches for is not checked again",
          "[tcp][rfc9293-3.1][offload]") {
  TcpHarness h;
  int fd = h.established_passive();
  // A checksum-partial segment (what an offloading TAP hands over) carries a "wrong" sum.
  Frame partial = seg({.flags = {.psh = true, .ack = true},
                       .seq = kPeerIss + 1,
                       .ack = h.iss + 1,
                       .payload = "offloaded",
                       .bad_checksum = true});
  h.send(partial, {.checksum_unverified = true});
  CHECK(h.read(fd) == "offloaded");
  CHECK(h.tcp_stats().rx_drop_bad_checksum == 0);
  // The same bytes from a wire are checked, and dropped.
  h.send(partial);
  CHECK(h.tcp_stats().rx_drop_bad_checksum == 1);
  h.finish();
}

TEST_CASE("ESTABLISHED: bad data offsets and truncated headers are dropped and counted",
          "[tcp][rfc9293-3.1]") {
  TcpHarness h;
  int fd = h.established_passive();
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 1, .data_offset_words = 4}));
  h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 1, .data_offset_words = 15}));
  // A TCP header of 12 octets.
  wire::Ipv4Repr ip;
  ip.src = kRemoteIp;
  ip.dst = kStackIp;
  ip.protocol = wire::IpProto::Tcp;
  ip.payload_len = 12;
  std::vector<std::byte> pkt(ip.total_len());
  ip.emit(MutBytes(pkt).first(ip.header_len()));
  h.send_raw_ip(Bytes(pkt));
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_drop_bad_offset == 2);
  CHECK(h.tcp_stats().rx_drop_truncated == 1);
  CHECK(h.state(fd) == TcpState::Established);
  h.finish();
}

TEST_CASE("ESTABLISHED: options with bad lengths are dropped and counted", "[tcp][rfc9293-3.2]") {
  TcpHarness h;
  int fd = h.established_passive();
  // MSS with length 3, a length octet of 0, an option running past the header.
  for (auto opts : {std::vector<std::uint8_t>{2, 3, 5, 0}, std::vector<std::uint8_t>{8, 0},
                    std::vector<std::uint8_t>{1, 1, 3, 9, 1}}) {
    h.send(seg({.flags = {.rst = true}, .seq = kPeerIss + 1, .raw_options = opts}));
  }
  h.expect_nothing();
  CHECK(h.tcp_stats().rx_drop_bad_option == 3);
  CHECK(h.state(fd) == TcpState::Established);
  // An unknown option kind with a good length is skipped (RFC 9293 §3.1, MUST-6).
  h.send(seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .payload = "ok",
              .raw_options = {99, 4, 0, 0}}));
  CHECK(h.read(fd) == "ok");
  h.finish();
}
