// When a connection's send and receive buffers are freed (Connection::release_idle_buffers,
// docs/hot-path.md): an idle connection holds none, and a busy one (request/response, a
// reader that drains) keeps them between requests instead of allocating them per segment.
#include "support/tcp_harness.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

// The peer's data segment at offset `off` (from its ISS + 1), acknowledging `ack`.
Frame data(std::uint32_t off, std::string payload, std::uint32_t ack) {
  return seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1 + off,
              .ack = ack,
              .payload = std::move(payload)});
}

// Buffer memory the connection holds beyond its own object.
std::size_t buffer_bytes(TcpHarness& h, int fd) {
  return h.conn(fd).memory_bytes() - sizeof(tcp::Connection);
}

// One request/response exchange on an established passive connection: the peer sends
// `req` at `off`, the application reads it and writes it back, and the peer acknowledges
// the echo. Returns the stack's next sequence offset (from ISS + 1).
std::uint32_t exchange(TcpHarness& h, int fd, std::uint32_t& off, std::uint32_t sent,
                       const std::string& req) {
  h.send(data(off, req, h.iss + 1 + sent));
  off += static_cast<std::uint32_t>(req.size());
  REQUIRE(h.read(fd) == req);
  REQUIRE(h.write(fd, req).value() == req.size());
  h.expect({.flags = {.psh = true, .ack = true},
            .seq = h.iss + 1 + sent,
            .ack = kPeerIss + 1 + off,
            .payload = req});
  sent += static_cast<std::uint32_t>(req.size());
  h.send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1 + off, .ack = h.iss + 1 + sent}));
  return sent;
}

}  // namespace

TEST_CASE("buffers: a connection used once keeps no buffer memory", "[tcp][buffers]") {
  TcpHarness h;
  int fd = h.established_passive();
  CHECK(buffer_bytes(h, fd) == 0);
  std::uint32_t off = 0;
  exchange(h, fd, off, 0, "hello");
  // The receive buffer was freed when the read emptied it, the send buffer when the ACK
  // emptied it: no timer needed, nothing held.
  CHECK(buffer_bytes(h, fd) == 0);
  CHECK(h.tcp_stats().buffers_released == 2);
  CHECK_FALSE(h.conn(fd).next_deadline());
  h.finish();
}

TEST_CASE("buffers: a connection that reuses them keeps them until idle for the release delay",
          "[tcp][buffers]") {
  TcpHarness h;
  const Duration delay = h.stack().config().tcp.buffer_release_delay;
  REQUIRE(delay == std::chrono::seconds(1));
  int fd = h.established_passive();
  std::uint32_t off = 0;
  std::uint32_t sent = exchange(h, fd, off, 0, "first");
  REQUIRE(h.tcp_stats().buffers_released == 2);

  // From the second use on, both buffers stay, however long the connection is busy: each
  // use pushes the release back (the timer, armed once, is re-armed when it fires early).
  for (int i = 0; i < 10; ++i) {
    h.advance(std::chrono::milliseconds(300));
    sent = exchange(h, fd, off, sent, "request " + std::to_string(i));
    CHECK(buffer_bytes(h, fd) == 2 * tcp::ByteRing::kMinAllocation);
  }
  CHECK(h.tcp_stats().buffers_released == 2);

  // Idle from here: freed after one to two delays (the timer checks for use when it
  // fires), and not before one.
  h.advance(delay - std::chrono::microseconds(1));
  CHECK(buffer_bytes(h, fd) == 2 * tcp::ByteRing::kMinAllocation);
  h.advance(delay + std::chrono::microseconds(1));
  CHECK(buffer_bytes(h, fd) == 0);
  CHECK(h.tcp_stats().buffers_released == 4);
  CHECK_FALSE(h.conn(fd).next_deadline());
  h.expect_nothing();  // freeing memory sends nothing

  // Used again, the buffers are allocated again and kept again.
  sent = exchange(h, fd, off, sent, "again");
  CHECK(buffer_bytes(h, fd) == 2 * tcp::ByteRing::kMinAllocation);
  // Armed when the read emptied the receive buffer; the echo moved data after that, so
  // the timer waits a second delay.
  h.advance(delay);
  CHECK(buffer_bytes(h, fd) == 2 * tcp::ByteRing::kMinAllocation);
  h.advance(delay);
  CHECK(buffer_bytes(h, fd) == 0);
  CHECK(h.tcp_stats().buffers_released == 6);
  h.finish();
}

TEST_CASE("buffers: a buffer that still holds data is never freed by the timer", "[tcp][buffers]") {
  TcpHarness h;
  const Duration delay = h.stack().config().tcp.buffer_release_delay;
  int fd = h.established_passive();
  std::uint32_t off = 0;
  std::uint32_t sent = exchange(h, fd, off, 0, "one");
  sent = exchange(h, fd, off, sent, "two");  // both buffers now kept, the timer armed
  // Unread data arrives; the application does not read it.
  h.send(data(off, "unread", h.iss + 1 + sent));
  h.advance(delay);
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 1 + off + 6});  // the delayed ACK
  // "unread" moved through the receive buffer after the timer was armed: it waits one
  // more delay, then the empty send buffer goes and the receive buffer, holding
  // "unread", stays.
  CHECK(buffer_bytes(h, fd) == 2 * tcp::ByteRing::kMinAllocation);
  h.advance(delay);
  CHECK(buffer_bytes(h, fd) == tcp::ByteRing::kMinAllocation);
  CHECK_FALSE(h.conn(fd).next_deadline());  // no timer while nothing can be freed
  CHECK(h.read(fd) == "unread");
  h.advance(delay);
  CHECK(buffer_bytes(h, fd) == 0);
  h.finish();
}

TEST_CASE("buffers: TIME-WAIT frees them at once", "[tcp][buffers]") {
  TcpHarness h;
  int fd = h.established_passive();
  std::uint32_t off = 0;
  std::uint32_t sent = exchange(h, fd, off, 0, "one");
  sent = exchange(h, fd, off, sent, "two");
  REQUIRE(buffer_bytes(h, fd) > 0);
  // Active close: FIN out, the peer's ACK and FIN in, TIME-WAIT.
  REQUIRE(h.shutdown(fd, SHUT_WR) == Errno::Ok);
  h.expect({.flags = {.fin = true, .ack = true}, .seq = h.iss + 1 + sent});
  h.send(seg(
      {.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1 + off, .ack = h.iss + 2 + sent}));
  h.expect({.flags = {.ack = true}, .ack = kPeerIss + 2 + off});
  REQUIRE(h.state(fd) == tcp::TcpState::TimeWait);
  CHECK(buffer_bytes(h, fd) == 0);
  h.finish();
}
