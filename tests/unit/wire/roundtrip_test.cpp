// emit(parse(x)) == x, byte for byte, for every frame captured from Linux: each layer is
// parsed into its repr and emitted again into a fresh buffer (checksums recomputed).
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "frame_codec.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

TEST_CASE("round trip: every captured Linux frame re-emits byte for byte", "[wire][roundtrip]") {
  for (const auto& c : fixtures::kAllCaptures) {
    INFO(c.name);
    auto frame = hex(c.hex);
    auto d = decode(frame, ChecksumMode::Verify);
    INFO("error in " << d.error_layer);
    REQUIRE(d.ok());
    CHECK(to_hex(encode(d)) == to_hex(frame));
  }
}

TEST_CASE("round trip: every capture decodes down to its innermost layer", "[wire][roundtrip]") {
  // Only fragments after the first stop at IPv4; everything else reaches a known protocol.
  std::size_t arp = 0, icmp = 0, udp = 0, tcp = 0, frag = 0;
  for (const auto& c : fixtures::kAllCaptures) {
    auto d = decode(hex(c.hex), ChecksumMode::Verify);
    REQUIRE(d.ok());
    arp += d.arp.has_value();
    icmp += d.icmp.has_value();
    udp += d.udp.has_value();
    tcp += d.tcp.has_value();
    frag += d.ip && (d.ip->more_frags || d.ip->frag_offset != 0);
  }
  CHECK(arp == 2);
  CHECK(icmp == 5);
  CHECK(udp == 3);
  CHECK(tcp == 18);
  CHECK(frag == 3);
  CHECK(arp + icmp + udp + tcp + frag == fixtures::kAllCaptures.size());
}

TEST_CASE("round trip: a padded frame re-emits without its padding", "[wire][roundtrip]") {
  auto frame = hex(fixtures::kTcpRstAck);  // 54 octets on the wire from veth
  auto padded = frame;
  padded.resize(EthernetView::kMinFrameLen);
  auto d = decode(padded, ChecksumMode::Verify);
  REQUIRE(d.ok());
  CHECK(to_hex(encode(d)) == to_hex(frame));
}
