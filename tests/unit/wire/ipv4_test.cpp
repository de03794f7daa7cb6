#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "wire/ipv4.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

namespace {

std::vector<std::byte> ip_packet(std::string_view frame_hex) {
  auto f = hex(frame_hex);
  return copy(ip_of(f));
}

// The echo request's header: 45 00 0054 3fef 4000 40 01 e6b7 0a000001 0a000002.
Ipv4Repr echo_request_repr() {
  Ipv4Repr r;
  r.src = kA;
  r.dst = kB;
  r.protocol = IpProto::Icmp;
  r.ttl = 64;
  r.ident = 0x3fef;
  r.dont_frag = true;
  r.payload_len = 64;
  return r;
}

}  // namespace

TEST_CASE("IPv4: deconstruct a captured echo request", "[wire][ipv4]") {
  auto b = ip_packet(fixtures::kIcmpEchoRequest);
  auto v = Ipv4View::checked(b);
  REQUIRE(v);
  CHECK(v->version() == 4);
  CHECK(v->header_len() == 20);
  CHECK(v->tos() == 0);
  CHECK(v->total_len() == 84);
  CHECK(v->ident() == 0x3fef);
  CHECK(v->dont_frag());
  CHECK_FALSE(v->more_frags());
  CHECK_FALSE(v->reserved_flag());
  CHECK(v->frag_offset() == 0);
  CHECK_FALSE(v->is_fragment());
  CHECK(v->ttl() == 64);
  CHECK(v->protocol() == IpProto::Icmp);
  CHECK(v->checksum() == 0xe6b7);
  CHECK(v->src() == kA);
  CHECK(v->dst() == kB);
  CHECK(v->options().empty());
  CHECK(v->payload().size() == 64);
  CHECK(v->verify_checksum());
}

TEST_CASE("IPv4: deconstruct captured fragments", "[wire][ipv4][fragment]") {
  auto first = ip_packet(fixtures::kIcmpFragFirst);
  auto middle = ip_packet(fixtures::kIcmpFragMiddle);
  auto last = ip_packet(fixtures::kIcmpFragLast);
  auto f = Ipv4View::checked(first);
  auto m = Ipv4View::checked(middle);
  auto l = Ipv4View::checked(last);
  REQUIRE((f && m && l));
  CHECK((f->more_frags() && f->frag_offset() == 0 && f->is_fragment()));
  CHECK((m->more_frags() && m->frag_offset() == 1480 && m->is_fragment()));
  CHECK((!l->more_frags() && l->frag_offset() == 2960 && l->is_fragment()));
  CHECK(f->ident() == m->ident());
  CHECK(m->ident() == l->ident());
  CHECK(f->payload().size() + m->payload().size() + l->payload().size() == 4008);
}

TEST_CASE("IPv4: deconstruct a captured record-route option", "[wire][ipv4][options]") {
  auto b = ip_packet(fixtures::kIcmpEchoRequestRr);
  auto v = Ipv4View::checked(b);
  REQUIRE(v);
  CHECK(v->header_len() == 60);
  auto o = v->options();
  REQUIRE(o.size() == 40);
  CHECK(load_u8(o, 0) == ipv4_option::kNop);
  CHECK(load_u8(o, 1) == ipv4_option::kRecordRoute);
  CHECK(load_u8(o, 2) == 39);  // length: 3 + 9 addresses
  CHECK(load_u8(o, 3) == 8);   // pointer: Linux recorded its own address
  CHECK(load_be32(o, 4) == kA.value);
  CHECK(validate_ipv4_options(o));
  CHECK(v->payload().size() == 64);
}

TEST_CASE("IPv4: construct a header with the setters", "[wire][ipv4]") {
  std::vector<std::byte> b(20);
  auto p = Ipv4Packet<MutBytes>::unchecked(b);
  p.set_ver_ihl(20);
  p.set_tos(0);
  p.set_total_len(84);
  p.set_ident(0x3fef);
  p.set_flags_frag(true, false, 0);
  p.set_ttl(64);
  p.set_protocol(IpProto::Icmp);
  p.set_src(kA);
  p.set_dst(kB);
  p.fill_checksum();
  CHECK(to_hex(b) == to_hex(Bytes(ip_packet(fixtures::kIcmpEchoRequest)).first(20)));
}

TEST_CASE("IPv4: parse a captured header into a repr", "[wire][ipv4]") {
  auto b = ip_packet(fixtures::kIcmpEchoRequest);
  auto r = Ipv4Repr::parse(*Ipv4View::checked(b));
  REQUIRE(r);
  CHECK(*r == echo_request_repr());
  CHECK(r->header_len() == 20);
  CHECK(r->total_len() == 84);
}

TEST_CASE("IPv4: emit a repr", "[wire][ipv4]") {
  auto r = echo_request_repr();
  std::vector<std::byte> b(r.header_len());
  r.emit(b);
  CHECK(to_hex(b) == to_hex(Bytes(ip_packet(fixtures::kIcmpEchoRequest)).first(20)));
}

TEST_CASE("IPv4: options round-trip byte for byte", "[wire][ipv4][options]") {
  for (auto frame : {fixtures::kIcmpEchoRequestRr, fixtures::kIcmpEchoReplyRr}) {
    auto b = ip_packet(frame);
    auto r = Ipv4Repr::parse(*Ipv4View::checked(b));
    REQUIRE(r);
    CHECK(r->options_len == 40);
    std::vector<std::byte> out(r->header_len());
    r->emit(out);
    CHECK(to_hex(out) == to_hex(Bytes(b).first(60)));
  }
}

TEST_CASE("IPv4: Ethernet padding after total length is not payload", "[wire][ipv4]") {
  auto f = hex(fixtures::kTcpRstAck);  // 54-octet frame: IP total length 40
  auto b = copy(Bytes(f).subspan(14));
  b.resize(46);  // padded to the 60-octet Ethernet minimum
  auto v = Ipv4View::checked(b);
  REQUIRE(v);
  CHECK(v->payload().size() == 20);
}

TEST_CASE("IPv4: checked() error branches", "[wire][ipv4]") {
  auto b = ip_packet(fixtures::kIcmpEchoRequest);
  SECTION("shorter than the fixed header is Truncated") {
    CHECK(error_of(Ipv4View::checked(Bytes(b).first(19))) == ParseError::Truncated);
  }
  SECTION("version 6 is BadVersion") {
    store_u8(b, 0, 0x65);
    CHECK(error_of(Ipv4View::checked(b)) == ParseError::BadVersion);
  }
  SECTION("IHL below 5 is BadHeaderLen") {
    store_u8(b, 0, 0x44);
    CHECK(error_of(Ipv4View::checked(b)) == ParseError::BadHeaderLen);
  }
  SECTION("IHL beyond the buffer is Truncated") {
    store_u8(b, 0, 0x46);
    CHECK(error_of(Ipv4View::checked(Bytes(b).first(20))) == ParseError::Truncated);
  }
  SECTION("total length below the header is BadTotalLen") {
    store_be16(b, 2, 19);
    CHECK(error_of(Ipv4View::checked(b)) == ParseError::BadTotalLen);
  }
  SECTION("total length beyond the buffer is Truncated") {
    CHECK(error_of(Ipv4View::checked(Bytes(b).first(83))) == ParseError::Truncated);
  }
}

TEST_CASE("IPv4: parse() error branches", "[wire][ipv4]") {
  SECTION("a corrupted header is BadChecksum unless checksums are ignored") {
    auto b = ip_packet(fixtures::kIcmpEchoRequest);
    store_u8(b, 8, 63);  // TTL changed without updating the checksum
    auto v = *Ipv4View::checked(b);
    CHECK(error_of(Ipv4Repr::parse(v)) == ParseError::BadChecksum);
    CHECK(Ipv4Repr::parse(v, ChecksumMode::Ignore));
  }
  // Options with a broken structure (RFC 791 §3.1): the checksum is refreshed so that
  // only the option check can fail.
  auto with_options = [](std::string_view opts_hex) {
    auto opts = hex(opts_hex);
    std::vector<std::byte> b(20 + opts.size());
    auto p = Ipv4Packet<MutBytes>::unchecked(b);
    p.set_ver_ihl(b.size());
    p.set_total_len(static_cast<std::uint16_t>(b.size()));
    p.set_ttl(64);
    p.set_protocol(IpProto::Udp);
    std::copy(opts.begin(), opts.end(), b.begin() + 20);
    p.fill_checksum();
    return b;
  };
  SECTION("an option length below 2 is BadOption") {
    auto b = with_options("07 01 00 00");
    CHECK(error_of(Ipv4Repr::parse(*Ipv4View::checked(b))) == ParseError::BadOption);
  }
  SECTION("an option running past the header is BadOption") {
    auto b = with_options("01 07 27 04");
    CHECK(error_of(Ipv4Repr::parse(*Ipv4View::checked(b))) == ParseError::BadOption);
  }
  SECTION("an option whose length octet is missing is BadOption") {
    auto b = with_options("01 01 01 07");
    CHECK(error_of(Ipv4Repr::parse(*Ipv4View::checked(b))) == ParseError::BadOption);
  }
  SECTION("NOP padding and an End option are fine") {
    auto b = with_options("01 01 00 07");
    CHECK(Ipv4Repr::parse(*Ipv4View::checked(b)));
  }
}
