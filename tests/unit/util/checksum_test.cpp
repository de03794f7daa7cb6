#include <catch2/catch.hpp>

#include <vector>

#include "tapir/random.hpp"
#include "util/checksum.hpp"

using namespace tapir;

namespace {
// RFC 1071 as written, one big-endian 16-bit word at a time, folding at the end: the
// reference the word-parallel Checksum::add must match bit for bit.
std::uint16_t reference_checksum(Bytes b) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < b.size(); i += 2) {
    std::uint64_t hi = std::to_integer<std::uint8_t>(b[i]);
    std::uint64_t lo = i + 1 < b.size() ? std::to_integer<std::uint8_t>(b[i + 1]) : 0;
    sum += (hi << 8) | lo;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}
}  // namespace

TEST_CASE("RFC 1071 §3 example sums to the documented value", "[checksum][rfc1071]") {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum (one's complement) to ddf2.
  auto b = bytes_from_hex("0001f203f4f5f6f7");
  Checksum c;
  c.add(b);
  CHECK(c.finish() == static_cast<std::uint16_t>(~0xddf2));
}

TEST_CASE("checksum is independent of how the data is split", "[checksum]") {
  auto b = bytes_from_hex("4500003c1c4640004006b1e6ac100a63ac100a0c");
  auto whole = internet_checksum(b);
  for (std::size_t cut = 0; cut <= b.size(); ++cut) {
    Checksum c;
    c.add(Bytes(b).first(cut));
    c.add(Bytes(b).subspan(cut));
    INFO("cut=" << cut);
    CHECK(c.finish() == whole);
  }
}

TEST_CASE("a real IPv4 header verifies to zero", "[checksum]") {
  // Header of an ICMP echo request sent by Linux 6.1 (ping 10.0.0.2 from 10.0.0.1).
  auto h = bytes_from_hex("45000054 5ac4 4000 4001 cbe2 0a000001 0a000002");
  CHECK(internet_checksum(h) == 0);
}

TEST_CASE("RFC 1624 incremental update equals a full recomputation", "[checksum][rfc1624]") {
  auto h = bytes_from_hex("45000054 5ac4 4000 4001 cbe2 0a000001 0a000002");
  auto old_csum = load_be16(h, 10);
  // Decrement the TTL (byte 8) as a router would: the 16-bit word at 8 changes.
  auto old_word = load_be16(h, 8);
  store_u8(h, 8, 0x3f);
  auto new_word = load_be16(h, 8);
  auto incremental = checksum_update16(old_csum, old_word, new_word);
  store_be16(h, 10, 0);
  CHECK(incremental == internet_checksum(h));
}

TEST_CASE("the word-parallel sum equals RFC 1071 word by word at every length and offset",
          "[checksum][rfc1071]") {
  const std::uint64_t seed = 0x1071;
  INFO("seed=" << seed);
  SeededRng rng(seed);
  std::vector<std::byte> buf(70000 + 16);
  for (auto& b : buf) b = std::byte(rng.next_u32() >> 24);
  // Every length up to 300 at all 8 alignments (the 32-, 8-, 4-, 2- and 1-octet steps
  // and their odd starts), then random lengths and offsets up to a 64 KiB superframe.
  for (std::size_t len = 0; len <= 300; ++len) {
    for (std::size_t off = 0; off < 8; ++off) {
      const Bytes b = Bytes(buf).subspan(off, len);
      INFO("len=" << len << " off=" << off);
      REQUIRE(internet_checksum(b) == reference_checksum(b));
    }
  }
  for (int i = 0; i < 2000; ++i) {
    const std::size_t len = rng.below(65536);
    const std::size_t off = rng.below(16);
    const Bytes b = Bytes(buf).subspan(off, len);
    INFO("len=" << len << " off=" << off);
    REQUIRE(internet_checksum(b) == reference_checksum(b));
  }
}

TEST_CASE("the word-parallel sum equals RFC 1071 when the data comes in odd pieces",
          "[checksum][rfc1071]") {
  const std::uint64_t seed = 0x1624;
  INFO("seed=" << seed);
  SeededRng rng(seed);
  std::vector<std::byte> buf(4096);
  for (auto& b : buf) b = std::byte(rng.next_u32() >> 24);
  for (int i = 0; i < 2000; ++i) {
    const std::size_t len = rng.below(static_cast<std::uint32_t>(buf.size()));
    const Bytes whole = Bytes(buf).first(len);
    // Cut into up to 6 pieces at random points, odd ones included.
    Checksum c;
    std::size_t at = 0;
    for (int piece = 0; piece < 5 && at < len; ++piece) {
      const std::size_t n = rng.below(static_cast<std::uint32_t>(len - at + 1));
      c.add(whole.subspan(at, n));
      at += n;
    }
    c.add(whole.subspan(at));
    INFO("len=" << len);
    REQUIRE(c.finish() == reference_checksum(whole));
  }
}

TEST_CASE("the word-parallel sum keeps RFC 1071's zero cases apart", "[checksum][rfc1071]") {
  // All zeros sums to 0 (checksum 0xffff); all ones sums to 0xffff (checksum 0): the
  // 64-bit end-around carry must not turn one into the other.
  for (std::size_t len : {0, 1, 2, 7, 8, 9, 31, 32, 33, 64, 1500, 65535}) {
    INFO("len=" << len);
    const std::vector<std::byte> zeros(len, std::byte{0});
    const std::vector<std::byte> ones(len + (len % 2), std::byte{0xff});
    CHECK(internet_checksum(zeros) == 0xffff);
    CHECK(internet_checksum(ones) == reference_checksum(ones));
    CHECK(internet_checksum(ones) == (len == 0 ? 0xffff : 0));
  }
}
