#include "phy/fault_injector.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <set>
#include <vector>

#include "phy/common.hpp"
#include "phy/queue_device.hpp"

using namespace tapir;
using namespace tapir::phy;

namespace {

using Frame = std::vector<std::byte>;
using Frames = std::vector<Frame>;

// A 64-octet frame whose number is stored after the Ethernet header.
Frame numbered(std::uint32_t n, std::size_t len = 64) {
  Frame f(len, std::byte{0x5a});
  store_be32(f, 14, n);
  return f;
}
std::uint32_t number_of(const Frame& f) { return load_be32(f, 14); }

// Sends `count` numbered frames through the tx side, one every 100 us, and returns what the
// wrapped device got.
Frames send_through(const FaultInjectorConfig& cfg, std::uint32_t count) {
  QueueDevice inner;
  FaultInjector faults(inner, cfg);
  Instant now;
  for (std::uint32_t i = 0; i < count; ++i) {
    (void)faults.transmit(numbered(i), now);
    faults.flush(now);
    now += Duration(100);
  }
  // Let every held or delayed frame out.
  while (auto due = faults.next_deadline()) {
    now = std::max(now, *due);
    faults.flush(now);
  }
  return inner.take_transmitted();
}

// Feeds `count` numbered frames into the rx side and returns what the stack would receive.
Frames receive_through(const FaultInjectorConfig& cfg, std::uint32_t count) {
  QueueDevice inner;
  FaultInjector faults(inner, cfg);
  Frames out;
  Instant now;
  for (std::uint32_t i = 0; i < count; ++i) {
    inner.inject(numbered(i));
    while (auto f = faults.receive(now)) out.emplace_back(f->begin(), f->end());
    now += Duration(100);
  }
  while (auto due = faults.next_deadline()) {
    now = std::max(now, *due);
    while (auto f = faults.receive(now)) out.emplace_back(f->begin(), f->end());
  }
  return out;
}

int differing_bits(const Frame& a, const Frame& b) {
  REQUIRE(a.size() == b.size());
  int bits = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    bits += std::popcount(std::to_integer<unsigned>(a[i] ^ b[i]));
  }
  return bits;
}

const FaultConfig kEverything{.drop_pct = 10, .dup_pct = 10, .reorder_pct = 10, .corrupt_pct = 10};

}  // namespace

TEST_CASE("FaultInjector: the same seed gives the same frames, another seed does not", "[phy]") {
  const std::uint64_t seed = GENERATE(1, 42, 0xdeadbeef);
  INFO("seed=" << seed);
  const auto cfg = FaultInjectorConfig::both(seed, kEverything);
  const Frames tx = send_through(cfg, 1000);
  CHECK(tx == send_through(cfg, 1000));
  CHECK(tx != send_through(FaultInjectorConfig::both(seed + 1, kEverything), 1000));
  const Frames rx = receive_through(cfg, 1000);
  CHECK(rx == receive_through(cfg, 1000));
  CHECK(rx != receive_through(FaultInjectorConfig::both(seed + 1, kEverything), 1000));
}

TEST_CASE("FaultInjector: drop, duplicate and corrupt rates match the configuration", "[phy]") {
  constexpr std::uint32_t kFrames = 10'000;
  const double pct = GENERATE(1.0, 10.0, 50.0);
  const std::uint64_t seed = 7;
  INFO("seed=" << seed << " pct=" << pct);
  // Five standard deviations of a binomial count, so only a real bias fails.
  const double p = pct / 100;
  const double tolerance = 5 * std::sqrt(kFrames * p * (1 - p));
  const double expected = kFrames * p;

  SECTION("drop") {
    QueueDevice inner;
    FaultInjector faults(inner, {.seed = seed, .tx = {.drop_pct = pct}});
    for (std::uint32_t i = 0; i < kFrames; ++i) (void)faults.transmit(numbered(i), Instant{});
    const auto sent = inner.take_transmitted();
    const auto dropped = faults.stats().tx.dropped;
    CHECK(sent.size() + dropped == kFrames);
    CHECK(std::abs(static_cast<double>(dropped) - expected) < tolerance);
  }
  SECTION("duplicate") {
    const Frames got = receive_through({.seed = seed, .rx = {.dup_pct = pct}}, kFrames);
    const double dups = static_cast<double>(got.size()) - kFrames;
    CHECK(std::abs(dups - expected) < tolerance);
    // A duplicate follows its original directly.
    std::size_t adjacent_pairs = 0;
    for (std::size_t i = 1; i < got.size(); ++i) adjacent_pairs += got[i] == got[i - 1];
    CHECK(adjacent_pairs == got.size() - kFrames);
  }
  SECTION("corrupt") {
    const Frames got = send_through({.seed = seed, .tx = {.corrupt_pct = pct}}, kFrames);
    REQUIRE(got.size() == kFrames);
    std::uint32_t corrupted = 0;
    for (std::uint32_t i = 0; i < kFrames; ++i) corrupted += got[i] != numbered(i);
    CHECK(std::abs(static_cast<double>(corrupted) - expected) < tolerance);
  }
}

TEST_CASE("FaultInjector: corruption flips exactly one bit, anywhere in the frame", "[phy]") {
  const Frames got = send_through({.seed = 3, .tx = {.corrupt_pct = 100}}, 2000);
  REQUIRE(got.size() == 2000);
  std::set<std::size_t> bytes_hit;
  for (std::uint32_t i = 0; i < got.size(); ++i) {
    const Frame want = numbered(i);
    REQUIRE(differing_bits(got[i], want) == 1);
    for (std::size_t b = 0; b < want.size(); ++b) {
      if (got[i][b] != want[b]) bytes_hit.insert(b);
    }
  }
  // 2000 flips over 64 octets reach every octet, the first and the last included.
  CHECK(bytes_hit.size() == 64);
}

TEST_CASE("FaultInjector: a delayed frame is held until its deadline", "[phy]") {
  const Instant t0 = Instant::from_millis(1000);
  const Duration delay = std::chrono::milliseconds(5);
  QueueDevice inner;
  FaultInjector faults(inner, FaultInjectorConfig::both(1, {.delay = delay}));

  SECTION("tx") {
    REQUIRE(faults.transmit(numbered(1), t0) == Errno::Ok);
    faults.flush(t0);
    CHECK(inner.take_transmitted().empty());
    REQUIRE(faults.next_deadline() == t0 + delay);
    faults.flush(t0 + delay - Duration(1));
    CHECK(inner.take_transmitted().empty());
    faults.flush(t0 + delay);
    CHECK(inner.take_transmitted() == Frames{numbered(1)});
    CHECK_FALSE(faults.next_deadline());
    CHECK(faults.stats().tx.delayed == 1);
  }
  SECTION("rx") {
    inner.inject(numbered(2));
    CHECK_FALSE(faults.receive(t0));
    REQUIRE(faults.next_deadline() == t0 + delay);
    CHECK_FALSE(faults.receive(t0 + delay - Duration(1)));
    auto f = faults.receive(t0 + delay);
    REQUIRE(f);
    CHECK(Frame(f->begin(), f->end()) == numbered(2));
    CHECK_FALSE(faults.next_deadline());
  }
}

TEST_CASE("FaultInjector: a reordered frame goes out right after its successor", "[phy]") {
  SECTION("every frame is held back once, so pairs swap") {
    const Frames got = send_through({.seed = 5, .tx = {.reorder_pct = 100}}, 6);
    std::vector<std::uint32_t> order;
    for (const auto& f : got) order.push_back(number_of(f));
    CHECK(order == std::vector<std::uint32_t>{1, 0, 3, 2, 5, 4});
  }
  SECTION("a held frame with no successor leaves after reorder_hold") {
    QueueDevice inner;
    const Duration hold = std::chrono::milliseconds(3);
    FaultInjector faults(inner, {.seed = 5, .tx = {.reorder_pct = 100, .reorder_hold = hold}});
    const Instant t0 = Instant::from_millis(50);
    REQUIRE(faults.transmit(numbered(9), t0) == Errno::Ok);
    faults.flush(t0);
    CHECK(inner.take_transmitted().empty());
    REQUIRE(faults.next_deadline() == t0 + hold);
    faults.flush(t0 + hold);
    CHECK(inner.take_transmitted() == Frames{numbered(9)});
  }
  SECTION("at 20% some frames arrive out of order and none is lost") {
    const Frames got = receive_through({.seed = 11, .rx = {.reorder_pct = 20}}, 1000);
    REQUIRE(got.size() == 1000);
    std::size_t inversions = 0;
    std::set<std::uint32_t> seen;
    for (std::size_t i = 0; i < got.size(); ++i) {
      seen.insert(number_of(got[i]));
      if (i > 0 && number_of(got[i]) < number_of(got[i - 1])) ++inversions;
    }
    CHECK(seen.size() == 1000);
    CHECK(inversions > 100);
    CHECK(inversions < 300);
  }
}

TEST_CASE("FaultInjector: the token bucket passes the burst, then the rate", "[phy]") {
  QueueDevice inner;
  // 1000 octets per second with a 1000-octet bucket: ten 100-octet frames at once.
  FaultInjector faults(inner, {.seed = 1, .tx = {.rate_bytes_per_sec = 1000, .burst_bytes = 1000}});
  const Instant t0 = Instant::from_millis(7);
  for (std::uint32_t i = 0; i < 11; ++i) (void)faults.transmit(numbered(i, 100), t0);
  CHECK(inner.take_transmitted().size() == 10);
  CHECK(faults.stats().tx.rate_limited == 1);
  // 99 ms refill 99 octets: not enough; at 100 ms one more frame fits.
  (void)faults.transmit(numbered(11, 100), t0 + std::chrono::milliseconds(99));
  CHECK(inner.take_transmitted().empty());
  (void)faults.transmit(numbered(12, 100), t0 + std::chrono::milliseconds(199));
  CHECK(inner.take_transmitted().size() == 1);
  CHECK(faults.stats().tx.rate_limited == 2);
}

TEST_CASE("FaultInjector: directions are configured separately", "[phy]") {
  QueueDevice inner;
  FaultInjector faults(inner, {.seed = 1, .rx = {.drop_pct = 100}, .tx = {}});
  const Instant t0;
  for (std::uint32_t i = 0; i < 10; ++i) {
    inner.inject(numbered(i));
    REQUIRE(faults.transmit(numbered(i), t0) == Errno::Ok);
  }
  CHECK_FALSE(faults.receive(t0));
  CHECK(inner.take_transmitted().size() == 10);
  const FaultStats s = faults.stats();
  CHECK(s.rx.frames_in == 10);
  CHECK(s.rx.dropped == 10);
  CHECK(s.rx.frames_out == 0);
  CHECK(s.tx.frames_in == 10);
  CHECK(s.tx.frames_out == 10);
  CHECK(s.tx.dropped == 0);
}

TEST_CASE("FaultInjector: size limit, MTU and device refusals", "[phy]") {
  QueueDevice inner({.mtu = 1500});
  FaultInjector faults(inner, {.seed = 1, .tx = {.max_frame_len = 100}});
  const Instant t0;
  CHECK(faults.transmit(numbered(1, 100), t0) == Errno::Ok);
  CHECK(faults.transmit(numbered(2, 101), t0) == Errno::Ok);
  CHECK(faults.stats().tx.too_big == 1);
  CHECK(faults.transmit(numbered(3, max_frame_len(1500) + 1), t0) == Errno::MsgSize);
  CHECK(inner.take_transmitted().size() == 1);

  inner.fail_transmit(Errno::Again);
  CHECK(faults.transmit(numbered(4), t0) == Errno::Again);
  CHECK(faults.stats().tx.refused == 1);
}

TEST_CASE("FaultInjector: a percentage outside 0..100 is a setup error", "[phy]") {
  QueueDevice inner;
  CHECK_THROWS_AS(FaultInjector(inner, {.rx = {.drop_pct = 101}}), DeviceError);
  CHECK_THROWS_AS(FaultInjector(inner, {.tx = {.corrupt_pct = -1}}), DeviceError);
}
