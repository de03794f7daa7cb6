#include "phy/memory_wire.hpp"

#include <catch2/catch.hpp>

#include <vector>

#include "phy/common.hpp"

using namespace tapir;
using namespace tapir::phy;

namespace {

std::vector<std::byte> frame_of(std::size_t len, std::uint8_t fill) {
  return std::vector<std::byte>(len, std::byte{fill});
}

std::vector<std::byte> copy_of(Bytes b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("MemoryWire: frames sent on one end arrive at the other in order", "[phy]") {
  MemoryWire wire;
  Device& a = wire.end_a();
  Device& b = wire.end_b();
  const Instant t0;

  for (std::uint8_t i = 1; i <= 3; ++i) REQUIRE(a.transmit(frame_of(60, i), t0) == Errno::Ok);
  REQUIRE(b.transmit(frame_of(70, 9), t0) == Errno::Ok);

  // Nothing loops back to the sender.
  auto at_a = a.receive(t0);
  REQUIRE(at_a);
  CHECK(copy_of(*at_a) == frame_of(70, 9));
  CHECK_FALSE(a.receive(t0));

  for (std::uint8_t i = 1; i <= 3; ++i) {
    auto f = b.receive(t0);
    REQUIRE(f);
    CHECK(copy_of(*f) == frame_of(60, i));
  }
  CHECK_FALSE(b.receive(t0));
  CHECK(wire.end_a().stats().tx_frames == 3);
  CHECK(wire.end_b().stats().rx_frames == 3);
}

TEST_CASE("MemoryWire: a full queue refuses with Again and counts the drop", "[phy]") {
  MemoryWire wire({.queue_frames = 2});
  const Instant t0;
  CHECK(wire.end_a().transmit(frame_of(60, 1), t0) == Errno::Ok);
  CHECK(wire.end_a().transmit(frame_of(60, 2), t0) == Errno::Ok);
  CHECK(wire.end_a().transmit(frame_of(60, 3), t0) == Errno::Again);
  CHECK(wire.end_a().stats().tx_drop_full == 1);
  CHECK(wire.end_b().pending() == 2);
  // The other direction has its own queue.
  CHECK(wire.end_b().transmit(frame_of(60, 4), t0) == Errno::Ok);

  REQUIRE(wire.end_b().receive(t0));
  CHECK(wire.end_a().transmit(frame_of(60, 5), t0) == Errno::Ok);
  auto f = wire.end_b().receive(t0);
  REQUIRE(f);
  CHECK(copy_of(*f) == frame_of(60, 2));
  f = wire.end_b().receive(t0);
  REQUIRE(f);
  CHECK(copy_of(*f) == frame_of(60, 5));
}

TEST_CASE("MemoryWire: frames longer than the MTU allows are refused with MsgSize", "[phy]") {
  MemoryWire wire({.mtu = 100});
  const Instant t0;
  CHECK(wire.end_a().caps().mtu == 100);
  CHECK(wire.end_b().caps().mtu == 100);
  CHECK(wire.end_a().transmit(frame_of(max_frame_len(100), 1), t0) == Errno::Ok);
  CHECK(wire.end_a().transmit(frame_of(max_frame_len(100) + 1, 1), t0) == Errno::MsgSize);
  CHECK(wire.end_a().stats().tx_drop_too_big == 1);
  CHECK(wire.end_b().pending() == 1);
}

TEST_CASE("MemoryWire: a received frame stays intact until the next receive", "[phy]") {
  MemoryWire wire({.queue_frames = 4});
  const Instant t0;
  REQUIRE(wire.end_a().transmit(frame_of(60, 1), t0) == Errno::Ok);
  auto f = wire.end_b().receive(t0);
  REQUIRE(f);
  // Refilling the queue behind the returned view must not disturb it.
  for (std::uint8_t i = 2; i <= 5; ++i)
    REQUIRE(wire.end_a().transmit(frame_of(60, i), t0) == Errno::Ok);
  CHECK(copy_of(*f) == frame_of(60, 1));
}
