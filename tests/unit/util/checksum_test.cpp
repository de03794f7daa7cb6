#include <catch2/catch.hpp>

#include "util/checksum.hpp"

using namespace tapir;

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
