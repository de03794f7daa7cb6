#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "wire/ethernet.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

TEST_CASE("Ethernet: deconstruct a captured ARP request frame", "[wire][ethernet]") {
  auto frame = hex(fixtures::kArpRequest);
  auto f = EthernetView::checked(frame);
  REQUIRE(f);
  CHECK(f->dst() == MacAddr::broadcast());
  CHECK(f->src() == kMacA);
  CHECK(f->ethertype() == EtherType::Arp);
  CHECK(f->payload().size() == 28);
}

TEST_CASE("Ethernet: construct a header with the setters", "[wire][ethernet]") {
  std::vector<std::byte> buf(EthernetView::kHeaderLen);
  auto f = EthernetFrame<MutBytes>::unchecked(buf);
  f.set_dst(kMacB);
  f.set_src(kMacA);
  f.set_ethertype(EtherType::Ipv4);
  CHECK(to_hex(buf) ==
        "020000000002020000000001"
        "0800");
}

TEST_CASE("Ethernet: parse a frame into a repr", "[wire][ethernet]") {
  auto frame = hex(fixtures::kArpReply);
  auto r = EthernetRepr::parse(*EthernetView::checked(frame));
  CHECK(r == EthernetRepr{kMacA, kMacB, EtherType::Arp});
}

TEST_CASE("Ethernet: emit a repr", "[wire][ethernet]") {
  std::vector<std::byte> buf(EthernetRepr::header_len());
  auto f = EthernetFrame<MutBytes>::unchecked(buf);
  EthernetRepr{MacAddr::broadcast(), kMacA, EtherType::Arp}.emit(f);
  CHECK(to_hex(buf) == to_hex(Bytes(hex(fixtures::kArpRequest)).first(14)));
}

TEST_CASE("Ethernet: checked() rejects a frame shorter than the header", "[wire][ethernet]") {
  std::vector<std::byte> buf(13);
  CHECK(error_of(EthernetView::checked(buf)) == ParseError::Truncated);
  std::vector<std::byte> exact(14);
  CHECK(EthernetView::checked(exact));
}

TEST_CASE("Ethernet: an unknown EtherType survives a round trip", "[wire][ethernet]") {
  // LLDP (0x88cc) is not a type tapir speaks; the enum keeps its value.
  auto frame = hex("0180c200000e 020000000001 88cc 0000");
  auto r = EthernetRepr::parse(*EthernetView::checked(frame));
  CHECK(static_cast<std::uint16_t>(r.ethertype) == 0x88cc);
  std::vector<std::byte> out(14);
  auto f = EthernetFrame<MutBytes>::unchecked(out);
  r.emit(f);
  CHECK(to_hex(out) == to_hex(Bytes(frame).first(14)));
}
