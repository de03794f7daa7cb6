#include "app/frame_compare.hpp"

#include <catch2/catch.hpp>

#include "replay/replay_support.hpp"
#include "util/checksum.hpp"

using namespace tapir;
using namespace tapir::test;
using app::compare_frames;
using app::frame_fields;

namespace {

Frame echo_reply(std::uint16_t ident, std::uint8_t ttl, std::string_view text) {
  wire::Ipv4Repr ip;
  ip.src = kStackIp;
  ip.dst = kKernelIp;
  ip.protocol = wire::IpProto::Icmp;
  ip.ttl = ttl;
  ip.ident = ident;
  return ipv4_frame(kStackMac, kKernelMac, ip, icmp_message(0, 5, 1, as_bytes(text)));
}

std::string value_of(const std::vector<app::FrameField>& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return f.value;
  }
  return "(none)";
}

auto none = [](std::string_view) { return false; };

}  // namespace

TEST_CASE("frame_fields: the verbose decode's fields, the data and the trailer",
          "[replay][compare]") {
  auto f = echo_reply(0x1234, 64, "abc");
  f.resize(60, std::byte{0});  // Ethernet padding
  const auto fields = frame_fields(f);
  CHECK(value_of(fields, "eth.src") == "02:00:00:00:00:02");
  CHECK(value_of(fields, "ipv4.id") == "0x1234");
  CHECK(value_of(fields, "ipv4.ttl") == "64");
  CHECK(value_of(fields, "icmp.id") == "5");
  CHECK(value_of(fields, "data") == "616263");
  CHECK(value_of(fields, "eth.trailer") == std::string(2 * (60 - 14 - 31), '0'));
}

TEST_CASE("compare_frames: equal frames have no differences", "[replay][compare]") {
  const auto f = echo_reply(1, 64, "hello");
  CHECK(compare_frames(f, f, none).empty());
}

TEST_CASE("compare_frames: names each differing field with both values", "[replay][compare]") {
  const auto diffs = compare_frames(echo_reply(1, 64, "hello"), echo_reply(1, 63, "hello"), none);
  REQUIRE(diffs.size() == 2);
  CHECK(diffs[0].field == "ipv4.ttl");
  CHECK(diffs[0].expected == "64");
  CHECK(diffs[0].actual == "63");
  CHECK(diffs[1].field == "ipv4.checksum");
}

TEST_CASE("compare_frames: an ignored field and the checksums it changes", "[replay][compare]") {
  const auto a = echo_reply(0x1111, 64, "hello");
  const auto b = echo_reply(0x2222, 64, "hello");
  auto ident = [](std::string_view f) { return f == "ipv4.id"; };
  CHECK(compare_frames(a, b, ident).empty());
  // The ignored field does not hide a difference elsewhere.
  const auto c = echo_reply(0x2222, 63, "hello");
  const auto diffs = compare_frames(a, c, ident);
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].field == "ipv4.ttl");
  // A checksum that went bad is still reported (and the decode stops at that layer).
  auto broken = b;
  broken[14 + 10] ^= std::byte{0xff};
  bool reported = false;
  for (const auto& d : compare_frames(a, broken, ident)) {
    if (d.field == "ipv4.checksum") reported = d.actual.find("(bad)") != std::string::npos;
  }
  CHECK(reported);
}

TEST_CASE("compare_frames: payload differences name the first differing octet",
          "[replay][compare]") {
  const auto diffs = compare_frames(echo_reply(1, 64, "hello"), echo_reply(1, 64, "help!"), none);
  bool found = false;
  for (const auto& d : diffs) {
    if (d.field != "data") continue;
    found = true;
    CHECK(d.expected == "5 octets; octet 3 = 0x6c");
    CHECK(d.actual == "5 octets; octet 3 = 0x70");
  }
  CHECK(found);
}

TEST_CASE("compare_frames: fields only one frame has, and frames that do not decode",
          "[replay][compare]") {
  wire::ArpRepr arp{wire::ArpOp::Reply, kStackMac, kStackIp, kKernelMac, kKernelIp};
  const auto diffs = compare_frames(arp_frame(kKernelMac, arp), echo_reply(1, 64, "x"), none);
  bool absent = false;
  for (const auto& d : diffs) {
    if (d.field == "arp.op") absent = d.actual == "(absent)";
  }
  CHECK(absent);
  const Frame runt(8, std::byte{1});
  const auto d2 = compare_frames(runt, echo_reply(1, 64, "x"), none);
  REQUIRE_FALSE(d2.empty());
  CHECK(d2[0].field == "error");
}
