#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "wire/udp.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

namespace {

// "hello tapir\n" from 10.0.0.1:5353 to 10.0.0.2:7: 14e9 0007 0014 3c0c + data.
std::vector<std::byte> datagram() {
  auto f = hex(fixtures::kUdpDatagram);
  return copy(l4_of(f));
}

}  // namespace

TEST_CASE("UDP: deconstruct a captured datagram", "[wire][udp]") {
  auto b = datagram();
  auto p = UdpView::checked(b);
  REQUIRE(p);
  CHECK(p->src_port() == 5353);
  CHECK(p->dst_port() == 7);
  CHECK(p->length() == 20);
  CHECK(p->checksum() == 0x3c0c);
  CHECK(to_hex(p->payload()) == to_hex(as_bytes("hello tapir\n")));
  CHECK(p->verify_checksum(kA, kB));
  CHECK_FALSE(p->verify_checksum(kB, kC));  // the pseudo-header counts
}

TEST_CASE("UDP: construct a datagram with the setters", "[wire][udp]") {
  auto expected = datagram();
  auto b = expected;
  std::fill_n(b.begin(), 8, std::byte{0});
  auto p = UdpPacket<MutBytes>::unchecked(b);
  p.set_src_port(5353);
  p.set_dst_port(7);
  p.set_length(20);
  p.fill_checksum(kA, kB);
  CHECK(to_hex(b) == to_hex(expected));
}

TEST_CASE("UDP: parse a captured datagram", "[wire][udp]") {
  auto b = datagram();
  auto r = UdpRepr::parse(*UdpView::checked(b), kA, kB);
  REQUIRE(r);
  CHECK(*r == UdpRepr{5353, 7, 12, true});
  CHECK(r->buffer_len() == 20);
}

TEST_CASE("UDP: emit fills header and checksum around the caller's payload", "[wire][udp]") {
  auto expected = datagram();
  std::vector<std::byte> b(20);
  auto data = as_bytes("hello tapir\n");
  std::copy(data.begin(), data.end(), b.begin() + 8);
  UdpRepr{5353, 7, 12}.emit(b, kA, kB);
  CHECK(to_hex(b) == to_hex(expected));
}

TEST_CASE("UDP: checked() error branches", "[wire][udp]") {
  auto b = datagram();
  SECTION("shorter than the header is Truncated") {
    CHECK(error_of(UdpView::checked(Bytes(b).first(7))) == ParseError::Truncated);
  }
  SECTION("a length field below the header is BadTotalLen") {
    store_be16(b, 4, 7);
    CHECK(error_of(UdpView::checked(b)) == ParseError::BadTotalLen);
  }
  SECTION("a length field beyond the IP payload is BadTotalLen") {
    CHECK(error_of(UdpView::checked(Bytes(b).first(19))) == ParseError::BadTotalLen);
  }
  SECTION("octets after the length field are not payload") {
    b.push_back(std::byte{0xee});
    auto p = UdpView::checked(b);
    REQUIRE(p);
    CHECK(p->payload().size() == 12);
    CHECK(UdpRepr::parse(*p, kA, kB));
  }
}

TEST_CASE("UDP: parse() error branches", "[wire][udp]") {
  SECTION("a corrupted datagram is BadChecksum unless checksums are ignored") {
    auto b = datagram();
    store_u8(b, 10, 0x00);
    auto p = *UdpView::checked(b);
    CHECK(error_of(UdpRepr::parse(p, kA, kB)) == ParseError::BadChecksum);
    CHECK(UdpRepr::parse(p, kA, kB, ChecksumMode::Ignore));
  }
  SECTION("destination port 0 is BadPort") {
    std::vector<std::byte> b(8);
    UdpRepr{5353, 0, 0}.emit(b, kA, kB);
    CHECK(error_of(UdpRepr::parse(*UdpView::checked(b), kA, kB)) == ParseError::BadPort);
  }
}

TEST_CASE("UDP: a zero checksum means none was sent", "[wire][udp][rfc768]") {
  // Captured from a socket with SO_NO_CHECK set.
  auto f = hex(fixtures::kUdpNoChecksum);
  auto b = copy(l4_of(f));
  auto p = UdpView::checked(b);
  REQUIRE(p);
  CHECK(p->checksum() == 0);
  CHECK(p->verify_checksum(kA, kB));
  auto r = UdpRepr::parse(*p, kA, kB);
  REQUIRE(r);
  CHECK(*r == UdpRepr{5355, 7, 11, false});
  SECTION("and re-emits without one") {
    auto out = b;
    r->emit(out, kA, kB);
    CHECK(to_hex(out) == to_hex(b));
  }
  SECTION("and with has_checksum set a real checksum is computed") {
    auto out = b;
    UdpRepr{5355, 7, 11, true}.emit(out, kA, kB);
    auto q = *UdpView::checked(out);
    CHECK(q.checksum() != 0);
    CHECK(q.verify_checksum(kA, kB));
  }
}

TEST_CASE("UDP: a computed checksum of 0 is sent as 0xffff", "[wire][udp][rfc768]") {
  // Choose a 2-octet payload that makes the one's-complement sum 0xffff: with a zero
  // payload the checksum is c, so a payload word of c adds up to all ones.
  std::vector<std::byte> b(10);
  UdpRepr r{1000, 2000, 2};
  r.emit(b, kA, kB);
  auto c = load_be16(b, 6);
  store_be16(b, 8, c);
  r.emit(b, kA, kB);
  CHECK(load_be16(b, 6) == 0xffff);
  auto parsed = UdpRepr::parse(*UdpView::checked(b), kA, kB);
  REQUIRE(parsed);
  CHECK(parsed->has_checksum);
}
