#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "util/checksum.hpp"
#include "wire/icmpv4.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

namespace {
std::vector<std::byte> icmp_message(std::string_view frame_hex) {
  auto f = hex(frame_hex);
  return copy(l4_of(f));
}
}  // namespace

TEST_CASE("ICMP: deconstruct a captured echo request", "[wire][icmp]") {
  auto m = icmp_message(fixtures::kIcmpEchoRequest);
  REQUIRE(m.size() == 64);
  CHECK(load_u8(m, 0) == icmp_type::kEchoRequest);
  CHECK(load_u8(m, 1) == 0);
  CHECK(load_be16(m, 2) == 0xe8ca);
  CHECK(load_be16(m, 4) == 6350);  // identifier
  CHECK(load_be16(m, 6) == 1);     // sequence
  CHECK(internet_checksum(m) == 0);
}

TEST_CASE("ICMP: construct an echo reply header by hand", "[wire][icmp]") {
  auto expected = icmp_message(fixtures::kIcmpEchoReply);
  auto m = expected;
  std::fill_n(m.begin(), 8, std::byte{0});
  store_u8(m, 0, icmp_type::kEchoReply);
  store_be16(m, 4, 6350);
  store_be16(m, 6, 1);
  store_be16(m, 2, internet_checksum(m));
  CHECK(to_hex(m) == to_hex(expected));
}

TEST_CASE("ICMP: parse a captured echo request", "[wire][icmp]") {
  auto m = icmp_message(fixtures::kIcmpEchoRequest);
  auto r = Icmpv4Repr::parse(m);
  REQUIRE(r);
  CHECK(r->type == icmp_type::kEchoRequest);
  CHECK(r->code == 0);
  CHECK(r->echo_ident() == 6350);
  CHECK(r->echo_seq() == 1);
  CHECK(r->data.size() == 56);
  CHECK_FALSE(r->is_error());
  CHECK(r->buffer_len() == 64);
}

TEST_CASE("ICMP: emit an echo reply", "[wire][icmp]") {
  auto expected = icmp_message(fixtures::kIcmpEchoReply);
  auto data = copy(Bytes(expected).subspan(8));
  Icmpv4Repr r{icmp_type::kEchoReply, 0, Icmpv4Repr::echo_rest(6350, 1), data};
  std::vector<std::byte> out(r.buffer_len());
  r.emit(out);
  CHECK(to_hex(out) == to_hex(expected));
}

TEST_CASE("ICMP: parse a captured port unreachable", "[wire][icmp]") {
  auto m = icmp_message(fixtures::kIcmpPortUnreachable);
  auto r = Icmpv4Repr::parse(m);
  REQUIRE(r);
  CHECK(r->type == icmp_type::kDestUnreachable);
  CHECK(r->code == icmp_unreach::kPort);
  CHECK(r->is_error());
  // Linux quotes the whole offending datagram when it fits (RFC 1812 §4.3.2.3).
  REQUIRE(r->data.size() == 40);
  CHECK(load_u8(r->data, 0) == 0x45);
  CHECK(load_be16(r->data, 22) == 9);  // quoted UDP destination port
}

TEST_CASE("ICMP: parse() error branches", "[wire][icmp]") {
  auto m = icmp_message(fixtures::kIcmpEchoRequest);
  SECTION("shorter than the 8-octet header is Truncated") {
    CHECK(error_of(Icmpv4Repr::parse(Bytes(m).first(7))) == ParseError::Truncated);
  }
  SECTION("a corrupted message is BadChecksum unless checksums are ignored") {
    store_u8(m, 20, 0xff);
    CHECK(error_of(Icmpv4Repr::parse(m)) == ParseError::BadChecksum);
    CHECK(Icmpv4Repr::parse(m, ChecksumMode::Ignore));
  }
}
