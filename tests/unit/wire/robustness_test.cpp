// Hostile input: every truncation and a seeded set of single-octet corruptions of every
// captured frame go through format_frame, format_frame_verbose and each layer's
// checked() + parse(). Nothing may crash or read out of bounds (each input is copied into
// an allocation of its exact size, so ASan and the span assertions see any overread), and
// whatever parses must re-emit into a frame that parses to the same reprs.
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "frame_codec.hpp"
#include "tapir/random.hpp"
#include "wire/format.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

namespace {

bool same_layers(const Decoded& a, const Decoded& b) {
  return a.eth == b.eth && a.arp == b.arp && a.ip == b.ip && a.icmp == b.icmp && a.udp == b.udp &&
         to_hex(a.udp_payload) == to_hex(b.udp_payload) && a.tcp == b.tcp &&
         to_hex(a.raw) == to_hex(b.raw);
}

// Runs every decoder over `input`; returns how many of the two checksum modes parsed it.
int exercise(const std::vector<std::byte>& input) {
  int parsed = 0;
  for (auto mode : {ChecksumMode::Verify, ChecksumMode::Ignore}) {
    CHECK_FALSE(format_frame(input, mode).empty());
    CHECK_FALSE(format_frame_verbose(input, mode).empty());
    auto d = decode(input, mode);
    if (!d.ok()) continue;
    ++parsed;
    auto emitted = encode(d);  // `again` views these octets: keep them alive
    auto again = decode(emitted, ChecksumMode::Verify);
    INFO("re-emitted frame fails in " << again.error_layer);
    REQUIRE(again.ok());
    CHECK(same_layers(d, again));
  }
  return parsed;
}

}  // namespace

TEST_CASE("robustness: every truncation of every capture", "[wire][robustness]") {
  for (const auto& c : fixtures::kAllCaptures) {
    INFO(c.name);
    auto frame = hex(c.hex);
    int parsed = 0;
    for (std::size_t len = 0; len <= frame.size(); ++len) {
      INFO("len=" << len);
      std::vector<std::byte> cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(len));
      parsed += exercise(cut) > 0;
    }
    // The whole frame parses; a frame cut inside the IP datagram never does.
    CHECK(parsed >= 1);
  }
}

TEST_CASE("robustness: seeded single-octet corruptions of every capture", "[wire][robustness]") {
  const std::uint64_t seed = 0x7a91c0de;
  INFO("seed=" << seed);
  SeededRng rng(seed);
  std::size_t total = 0, still_parsing = 0;
  for (const auto& c : fixtures::kAllCaptures) {
    INFO(c.name);
    auto frame = hex(c.hex);
    for (int i = 0; i < 300; ++i) {
      auto bad = frame;
      auto pos = rng.below(static_cast<std::uint32_t>(bad.size()));
      auto flip = static_cast<std::uint8_t>(1 + rng.below(255));  // never 0: always a change
      bad[pos] ^= std::byte{flip};
      INFO("pos=" << pos << " xor=" << static_cast<unsigned>(flip));
      still_parsing += exercise(bad) > 0;
      ++total;
    }
  }
  // Checksums catch most corruptions but not those outside them (MACs, padding, ignored
  // modes): both outcomes must have been exercised.
  CHECK(still_parsing > 0);
  CHECK(still_parsing < total);
}

TEST_CASE("robustness: corrupted checksums are caught in Verify mode", "[wire][robustness]") {
  // Every transport checksum covers the whole segment: any single-octet change past the
  // Ethernet header must fail in Verify mode (MACs and EtherType are not covered).
  SeededRng rng(42);
  INFO("seed=42");
  for (const auto& c : fixtures::kAllCaptures) {
    INFO(c.name);
    auto frame = hex(c.hex);
    if (load_be16(frame, 12) != 0x0800) continue;
    for (int i = 0; i < 50; ++i) {
      auto bad = frame;
      auto pos = kEthLen + rng.below(static_cast<std::uint32_t>(bad.size() - kEthLen));
      bad[pos] ^= std::byte{static_cast<std::uint8_t>(1 + rng.below(255))};
      auto d = decode(bad, ChecksumMode::Verify);
      INFO("pos=" << pos);
      bool is_fragment = d.ip && (d.ip->more_frags || d.ip->frag_offset != 0);
      // A fragment's payload is not checked until reassembly; a UDP checksum of zero
      // would mean "none", which a change to the checksum field itself can produce.
      if (is_fragment || (d.udp && !d.udp->has_checksum)) continue;
      CHECK_FALSE(d.ok());
    }
  }
}
