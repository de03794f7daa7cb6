#include "phy/vnet_header.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <vector>

using namespace tapir;
using namespace tapir::phy;

namespace {

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

}  // namespace

TEST_CASE("VnetHeader: a TCPv4 GSO header with a partial checksum parses field by field", "[phy]") {
  // flags NEEDS_CSUM, gso TCPV4, hdr_len 66, gso_size 1448, csum_start 34, csum_offset 16,
  // little-endian as the tun driver writes them on this host.
  const auto raw = bytes_of({0x01, 0x01, 66, 0, 0xa8, 0x05, 34, 0, 16, 0});
  auto h = VnetHeader::parse(raw);
  REQUIRE(h);
  CHECK(h->flags == VnetHeader::kNeedsCsum);
  CHECK(h->gso_type == VnetHeader::kGsoTcpV4);
  CHECK(h->hdr_len == 66);
  CHECK(h->gso_size == 1448);
  CHECK(h->csum_start == 34);
  CHECK(h->csum_offset == 16);
  CHECK(h->checksum_unverified());
  CHECK(h->superframe());

  std::array<std::byte, VnetHeader::kLen> out{};
  h->emit(out);
  CHECK(std::vector<std::byte>(out.begin(), out.end()) == raw);
}

TEST_CASE("VnetHeader: a zero header is a plain frame with a complete checksum", "[phy]") {
  std::array<std::byte, VnetHeader::kLen> raw{};
  auto h = VnetHeader::parse(raw);
  REQUIRE(h);
  CHECK_FALSE(h->checksum_unverified());
  CHECK_FALSE(h->superframe());
  std::array<std::byte, VnetHeader::kLen> out{};
  out.fill(std::byte{0xff});
  VnetHeader{}.emit(out);
  CHECK(out == raw);
}

TEST_CASE("VnetHeader: DATA_VALID also spares the transport check, ECN keeps TCPv4", "[phy]") {
  auto valid = VnetHeader::parse(bytes_of({0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}));
  REQUIRE(valid);
  CHECK(valid->checksum_unverified());
  CHECK_FALSE(valid->superframe());
  auto ecn = VnetHeader::parse(bytes_of({0x01, 0x81, 54, 0, 0xb4, 0x05, 34, 0, 16, 0}));
  REQUIRE(ecn);
  CHECK(ecn->superframe());
}

TEST_CASE("VnetHeader: short headers and GSO kinds tapir did not ask for are refused", "[phy]") {
  auto short_hdr = VnetHeader::parse(bytes_of({0, 0, 0, 0, 0, 0, 0, 0, 0}));
  REQUIRE_FALSE(short_hdr);
  CHECK(short_hdr.error() == wire::ParseError::Truncated);
  for (int kind : {int{VnetHeader::kGsoUdp}, int{VnetHeader::kGsoTcpV6}, 5}) {
    auto h = VnetHeader::parse(bytes_of({0x01, kind, 0, 0, 0, 0, 0, 0, 0, 0}));
    REQUIRE_FALSE(h);
    CHECK(h.error() == wire::ParseError::Unsupported);
  }
}
