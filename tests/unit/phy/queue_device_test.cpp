#include "phy/queue_device.hpp"

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

TEST_CASE("QueueDevice: injected frames are received in order, any length", "[phy]") {
  QueueDevice dev;
  const Instant t0;
  dev.inject(frame_of(10, 1));  // a runt: tests feed malformed frames through here
  dev.inject(frame_of(4000, 2));
  CHECK(dev.pending() == 2);
  auto f = dev.receive(t0);
  REQUIRE(f);
  CHECK(copy_of(*f) == frame_of(10, 1));
  f = dev.receive(t0);
  REQUIRE(f);
  CHECK(copy_of(*f) == frame_of(4000, 2));
  CHECK_FALSE(dev.receive(t0));
  CHECK(dev.stats().rx_frames == 2);
}

TEST_CASE("QueueDevice: take_transmitted returns the frames sent since the last call", "[phy]") {
  QueueDevice dev;
  const Instant t0;
  REQUIRE(dev.transmit(frame_of(60, 1), t0) == Errno::Ok);
  REQUIRE(dev.transmit(frame_of(61, 2), t0) == Errno::Ok);
  auto sent = dev.take_transmitted();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0] == frame_of(60, 1));
  CHECK(sent[1] == frame_of(61, 2));
  CHECK(dev.take_transmitted().empty());
  REQUIRE(dev.transmit(frame_of(62, 3), t0) == Errno::Ok);
  sent = dev.take_transmitted();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0] == frame_of(62, 3));
}

TEST_CASE("QueueDevice: fail_transmit makes the device refuse frames", "[phy]") {
  QueueDevice dev;
  const Instant t0;
  dev.fail_transmit(Errno::Again);
  CHECK(dev.transmit(frame_of(60, 1), t0) == Errno::Again);
  CHECK(dev.take_transmitted().empty());
  CHECK(dev.stats().tx_refused == 1);
  dev.fail_transmit(Errno::Ok);
  CHECK(dev.transmit(frame_of(60, 2), t0) == Errno::Ok);
  CHECK(dev.take_transmitted().size() == 1);
}

TEST_CASE("QueueDevice: frames longer than the MTU allows are refused with MsgSize", "[phy]") {
  QueueDevice dev({.mtu = 576});
  const Instant t0;
  CHECK(dev.caps().mtu == 576);
  CHECK(dev.transmit(frame_of(max_frame_len(576), 1), t0) == Errno::Ok);
  CHECK(dev.transmit(frame_of(max_frame_len(576) + 1, 1), t0) == Errno::MsgSize);
  CHECK(dev.take_transmitted().size() == 1);
}
