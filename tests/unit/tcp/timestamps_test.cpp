// The RFC 7323 Timestamps rules (src/tcp/timestamps.hpp) and the per-connection clock
// offset (IsnGenerator::ts_offset), without a connection.
#include <catch2/catch.hpp>

#include <set>

#include "tapir/random.hpp"
#include "tcp/isn.hpp"
#include "tcp/timestamps.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {
const Ipv4Addr kLocal = Ipv4Addr::from_octets(10, 0, 0, 2);
const Ipv4Addr kRemote = Ipv4Addr::from_octets(10, 0, 0, 1);

TimestampVars vars(std::uint32_t recent, Instant at, std::uint32_t last_ack_sent) {
  TimestampVars v;
  v.recent = recent;
  v.recent_at = at;
  v.last_ack_sent = SeqNum(last_ack_sent);
  return v;
}
}  // namespace

TEST_CASE("timestamps: RFC 7323 §5.2 comparisons are modulo 2^32", "[tcp][rfc7323-5.2]") {
  CHECK(ts_before(1, 2));
  CHECK_FALSE(ts_before(2, 2));
  CHECK_FALSE(ts_before(3, 2));
  CHECK(ts_before(0xfffffff0u, 0x10));  // across the wrap
  CHECK_FALSE(ts_before(0x10, 0xfffffff0u));
  CHECK(ts_before(0, 0x7fffffff));
  CHECK_FALSE(ts_before(0, 0x80000001u));  // more than 2^31 ahead is behind
}

TEST_CASE("timestamps: RFC 7323 §3.3 the clock ticks each millisecond plus the offset",
          "[tcp][rfc7323-3.3][rfc7323-5.4]") {
  CHECK(ts_clock(Instant{}, 0) == 0);
  CHECK(ts_clock(Instant::from_micros(999), 0) == 0);
  CHECK(ts_clock(Instant::from_micros(1000), 0) == 1);
  CHECK(ts_clock(Instant::from_millis(1234), 100) == 1334);
  // The offset wraps like any timestamp.
  CHECK(ts_clock(Instant::from_millis(20), 0xfffffff0u) == 4);
  // Far from the epoch (more than 2^32 ms) the clock is the low 32 bits.
  CHECK(ts_clock(Instant::from_millis((std::int64_t{1} << 32) + 7), 0) == 7);
}

TEST_CASE("timestamps: RFC 7323 §5.3 R1 PAWS rejects a TSval below TS.Recent",
          "[tcp][rfc7323-5.3]") {
  const Instant t0 = Instant::from_millis(5000);
  auto v = vars(1000, t0, 0);
  CHECK(paws_rejects(999, v, t0));
  CHECK(paws_rejects(0, v, t0 + 1s));
  CHECK_FALSE(paws_rejects(1000, v, t0));  // equal is not older
  CHECK_FALSE(paws_rejects(1001, v, t0));
  CHECK_FALSE(paws_rejects(0x80000000u, v, t0));  // ahead by less than 2^31
}

TEST_CASE("timestamps: RFC 7323 §5.5 TS.Recent older than 24 days is no longer valid",
          "[tcp][rfc7323-5.5]") {
  const Instant t0 = Instant::from_millis(5000);
  auto v = vars(1000, t0, 0);
  CHECK(paws_rejects(999, v, t0 + kTsRecentLifetime));
  CHECK_FALSE(paws_rejects(999, v, t0 + kTsRecentLifetime + 1us));
  CHECK(kTsRecentLifetime == std::chrono::hours(24 * 24));
}

TEST_CASE("timestamps: RFC 7323 §4.3 TS.Recent takes a newer TSval at or before Last.ACK.sent",
          "[tcp][rfc7323-4.3]") {
  auto v = vars(1000, Instant{}, 5000);
  CHECK(ts_recent_takes(1000, SeqNum(5000), v));        // equal TSval, at Last.ACK.sent
  CHECK(ts_recent_takes(1001, SeqNum(4000), v));        // a retransmission below it
  CHECK_FALSE(ts_recent_takes(1001, SeqNum(5001), v));  // beyond: delayed or out of order
  CHECK_FALSE(ts_recent_takes(999, SeqNum(5000), v));   // older
  // Sequence numbers compare modulo 2^32 too.
  auto w = vars(1, Instant{}, 0x10);
  CHECK(ts_recent_takes(2, SeqNum(0xfffffff0u), w));
  CHECK_FALSE(ts_recent_takes(2, SeqNum(0x11), w));
}

TEST_CASE("timestamps: RFC 7323 §4.1 the RTT is the clock minus TSecr, never negative",
          "[tcp][rfc7323-4.1]") {
  CHECK(ts_rtt(1030, 1000) == std::optional<Duration>(30ms));
  CHECK(ts_rtt(1000, 1000) == std::optional<Duration>(0ms));
  CHECK(ts_rtt(5, 0xfffffffbu) == std::optional<Duration>(10ms));  // across the wrap
  CHECK_FALSE(ts_rtt(1000, 1001).has_value());                     // from the future
  CHECK_FALSE(ts_rtt(1000, 0).has_value());                        // nothing echoed
}

TEST_CASE("timestamps: RFC 7323 §5.4 the offset is per connection, seeded and repeatable",
          "[tcp][rfc7323-5.4][isn]") {
  SeededRng rng1(42);
  SeededRng rng2(42);
  SeededRng rng3(43);
  IsnGenerator g1(rng1);
  IsnGenerator g2(rng2);
  IsnGenerator g3(rng3);
  const auto off = g1.ts_offset(kLocal, 80, kRemote, 40000);
  CHECK(off == g2.ts_offset(kLocal, 80, kRemote, 40000));
  CHECK(off != g3.ts_offset(kLocal, 80, kRemote, 40000));
  std::set<std::uint32_t> seen;
  for (std::uint16_t port = 40000; port < 40064; ++port) {
    seen.insert(g1.ts_offset(kLocal, 80, kRemote, port));
  }
  CHECK(seen.size() == 64);
  // Not the ISN's F: at Instant 0 the ISN is F itself, and the offset is another PRF value.
  CHECK(off != g1.isn(kLocal, 80, kRemote, 40000, Instant{}).raw());
}

TEST_CASE("timestamps: RFC 7323 §5.4 the offset is SipHash over the tagged connection-id",
          "[tcp][rfc7323-5.4][isn]") {
  const SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  IsnGenerator g(key);
  std::array<std::byte, 13> id{};
  store_be32(id, 0, kLocal.value);
  store_be16(id, 4, 80);
  store_be32(id, 6, kRemote.value);
  store_be16(id, 10, 40000);
  id[12] = std::byte{'T'};
  CHECK(g.ts_offset(kLocal, 80, kRemote, 40000) == static_cast<std::uint32_t>(siphash24(key, id)));
}
