#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "wire/arp.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

namespace {
std::vector<std::byte> arp_request() { return copy(Bytes(hex(fixtures::kArpRequest)).subspan(14)); }
}  // namespace

TEST_CASE("ARP: deconstruct a captured request through the field table", "[wire][arp]") {
  auto b = arp_request();
  REQUIRE(b.size() == ArpRepr::kLen);
  CHECK(load_be16(b, arp_field::kHtype.off) == 1);
  CHECK(load_be16(b, arp_field::kPtype.off) == 0x0800);
  CHECK(load_u8(b, arp_field::kHlen.off) == 6);
  CHECK(load_u8(b, arp_field::kPlen.off) == 4);
  CHECK(load_be16(b, arp_field::kOper.off) == 1);
  CHECK(load_be32(b, arp_field::kSpa.off) == kA.value);
  CHECK(load_be32(b, arp_field::kTpa.off) == kB.value);
}

TEST_CASE("ARP: construct a request through the field table", "[wire][arp]") {
  std::vector<std::byte> b(ArpRepr::kLen);
  store_be16(b, arp_field::kHtype.off, 1);
  store_be16(b, arp_field::kPtype.off, 0x0800);
  store_u8(b, arp_field::kHlen.off, 6);
  store_u8(b, arp_field::kPlen.off, 4);
  store_be16(b, arp_field::kOper.off, 1);
  for (std::size_t i = 0; i < 6; ++i) store_u8(b, arp_field::kSha.off + i, kMacA.octets[i]);
  store_be32(b, arp_field::kSpa.off, kA.value);
  store_be32(b, arp_field::kTpa.off, kB.value);
  CHECK(to_hex(b) == to_hex(arp_request()));
}

TEST_CASE("ARP: parse a captured request and reply", "[wire][arp]") {
  auto req = ArpRepr::parse(arp_request());
  REQUIRE(req);
  CHECK(*req == ArpRepr{ArpOp::Request, kMacA, kA, MacAddr{}, kB});
  CHECK_FALSE(req->is_gratuitous());
  auto reply = ArpRepr::parse(Bytes(hex(fixtures::kArpReply)).subspan(14));
  REQUIRE(reply);
  CHECK(*reply == ArpRepr{ArpOp::Reply, kMacB, kB, kMacA, kA});
}

TEST_CASE("ARP: emit a reply", "[wire][arp]") {
  std::vector<std::byte> b(ArpRepr::buffer_len());
  ArpRepr{ArpOp::Reply, kMacB, kB, kMacA, kA}.emit(b);
  CHECK(to_hex(b) == to_hex(Bytes(hex(fixtures::kArpReply)).subspan(14)));
}

TEST_CASE("ARP: a frame padded to the Ethernet minimum still parses", "[wire][arp]") {
  auto b = arp_request();
  b.resize(46);  // RFC 894: 60-octet frames, so 18 octets of zero padding after ARP
  CHECK(ArpRepr::parse(b));
}

TEST_CASE("ARP: parse() error branches", "[wire][arp]") {
  auto b = arp_request();
  SECTION("shorter than the fixed part is Truncated") {
    CHECK(error_of(ArpRepr::parse(Bytes(b).first(7))) == ParseError::Truncated);
  }
  SECTION("a hardware type other than Ethernet is Unsupported") {
    store_be16(b, arp_field::kHtype.off, 6);  // IEEE 802
    CHECK(error_of(ArpRepr::parse(b)) == ParseError::Unsupported);
  }
  SECTION("a protocol type other than IPv4 is Unsupported") {
    store_be16(b, arp_field::kPtype.off, 0x86dd);
    CHECK(error_of(ArpRepr::parse(b)) == ParseError::Unsupported);
  }
  SECTION("address lengths other than 6 and 4 are Unsupported") {
    store_u8(b, arp_field::kHlen.off, 8);
    CHECK(error_of(ArpRepr::parse(b)) == ParseError::Unsupported);
    store_u8(b, arp_field::kHlen.off, 6);
    store_u8(b, arp_field::kPlen.off, 16);
    CHECK(error_of(ArpRepr::parse(b)) == ParseError::Unsupported);
  }
  SECTION("a valid fixed part but missing addresses is Truncated") {
    CHECK(error_of(ArpRepr::parse(Bytes(b).first(27))) == ParseError::Truncated);
  }
  SECTION("an opcode other than request or reply is BadFlags") {
    store_be16(b, arp_field::kOper.off, 3);  // RARP request
    CHECK(error_of(ArpRepr::parse(b)) == ParseError::BadFlags);
  }
}

TEST_CASE("ARP: gratuitous announcements are recognised", "[wire][arp][rfc5227]") {
  ArpRepr r{ArpOp::Request, kMacA, kA, MacAddr{}, kA};
  CHECK(r.is_gratuitous());
}
