// Bad input at every layer is dropped, counted under its reason, and never crashes
// (run under ASan+UBSan in CI). The base frames are an ARP request and an ICMP echo
// request as Linux 6.1 sends them.
#include "stack/fixture.hpp"
#include "tapir/random.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {
Frame echo_frame(std::size_t data_len = 56) {
  std::vector<std::byte> data(data_len, std::byte{0x61});
  auto msg = icmp_message(wire::icmp_type::kEchoRequest, 7, 1, data);
  return ipv4_frame(kPeerMac, kMacB, ip_header(kPeerIp, kIpB, wire::IpProto::Icmp), msg);
}
Frame truncate(Frame f, std::size_t n) {
  f.resize(n);
  return f;
}
constexpr std::size_t kEth = 14;
}  // namespace

TEST_CASE("frames truncated at every header boundary are counted, not crashed on",
          "[stack][malformed]") {
  ScriptedPeer p;
  p.introduce();
  const Frame good = echo_frame();
  auto& st = p.stack.stats();
  SECTION("shorter than an Ethernet header") {
    for (std::size_t n = 0; n < kEth; ++n) CHECK(p.send(truncate(good, n)).empty());
    CHECK(st.eth.rx_drop_truncated == kEth);
  }
  SECTION("inside the IPv4 header") {
    for (std::size_t n = kEth; n < kEth + 20; ++n) CHECK(p.send(truncate(good, n)).empty());
    CHECK(st.ipv4.rx_drop_truncated == 20);
  }
  SECTION("inside the payload the IPv4 total length promises") {
    for (std::size_t n = kEth + 20; n < good.size(); ++n) CHECK(p.send(truncate(good, n)).empty());
    CHECK(st.ipv4.rx_drop_truncated == good.size() - kEth - 20);
  }
  SECTION("an ICMP message shorter than its header") {
    // IPv4 says 4 octets of payload: consistent at the IP layer, truncated for ICMP.
    std::vector<std::byte> four(4);
    CHECK(p.send(ipv4_frame(kPeerMac, kMacB, ip_header(kPeerIp, kIpB, wire::IpProto::Icmp), four))
              .empty());
    CHECK(st.icmp.rx_drop_truncated == 1);
  }
  SECTION("an ARP body cut short") {
    wire::ArpRepr req{wire::ArpOp::Request, kPeerMac, kPeerIp, MacAddr{}, kIpB};
    Frame arp = arp_frame(MacAddr::broadcast(), req);
    for (std::size_t n = kEth; n < arp.size(); ++n) CHECK(p.send(truncate(arp, n)).empty());
    CHECK(st.arp.rx_drop_malformed == arp.size() - kEth);
  }
}

TEST_CASE("bad IPv4 header fields are counted by reason", "[stack][malformed][ipv4][rfc791]") {
  ScriptedPeer p;
  p.introduce();
  auto& st = p.stack.stats();
  auto mutate = [&](std::size_t off, std::uint8_t v, bool fix_checksum) {
    Frame f = echo_frame();
    store_u8(MutBytes(f), kEth + off, v);
    if (fix_checksum) {
      auto ip = wire::Ipv4Packet<MutBytes>::unchecked(MutBytes(f).subspan(kEth));
      if (ip.header_len() >= 20 && ip.header_len() <= f.size() - kEth) ip.fill_checksum();
    }
    return p.send(f);
  };
  CHECK(mutate(0, 0x65, true).empty());  // version 6
  CHECK(st.ipv4.rx_drop_bad_version == 1);
  CHECK(mutate(0, 0x44, false).empty());  // IHL 4
  CHECK(st.ipv4.rx_drop_bad_header_len == 1);
  CHECK(mutate(3, 0x10, true).empty());  // total length 16 < header
  CHECK(st.ipv4.rx_drop_bad_total_len == 1);
  CHECK(mutate(10, 0x00, false).empty());  // checksum zeroed
  CHECK(st.ipv4.rx_drop_bad_checksum == 1);
  CHECK(mutate(16, 11, true).empty());  // destination 11.0.0.2: not ours
  CHECK(st.ipv4.rx_drop_not_for_us == 1);
}

TEST_CASE("malformed IPv4 options are dropped", "[stack][malformed][ipv4][rfc791]") {
  ScriptedPeer p;
  p.introduce();
  auto ip = ip_header(kPeerIp, kIpB, wire::IpProto::Icmp);
  ip.options_len = 4;
  ip.options[0] = std::byte{7};   // record route
  ip.options[1] = std::byte{40};  // claims 40 octets in a 4-octet option area
  auto msg = icmp_message(wire::icmp_type::kEchoRequest, 1, 1, {});
  CHECK(p.send(ipv4_frame(kPeerMac, kMacB, ip, msg)).empty());
  CHECK(p.stack.stats().ipv4.rx_drop_bad_option == 1);
  // Well-formed options are accepted and the echo answered.
  ip.options[1] = std::byte{3};
  ip.options[3] = std::byte{0};
  CHECK(p.send(ipv4_frame(kPeerMac, kMacB, ip, msg)).size() == 1);
}

TEST_CASE("broadcast or multicast sources are dropped",
          "[stack][malformed][ipv4][rfc1122-3.2.1.3]") {
  ScriptedPeer p;
  p.introduce();
  auto msg = icmp_message(wire::icmp_type::kEchoRequest, 1, 1, {});
  for (auto src : {Ipv4Addr::broadcast(), Ipv4Addr::from_octets(224, 0, 0, 5),
                   Ipv4Addr::from_octets(10, 0, 0, 255), kIpB}) {
    CHECK(p.send(ipv4_frame(kPeerMac, kMacB, ip_header(src, kIpB, wire::IpProto::Icmp), msg))
              .empty());
  }
  CHECK(p.stack.stats().ipv4.rx_drop_bad_source == 4);
}

TEST_CASE("unicast IP in a link-layer broadcast is dropped",
          "[stack][malformed][ipv4][rfc1122-3.3.6]") {
  ScriptedPeer p;
  p.introduce();
  auto msg = icmp_message(wire::icmp_type::kEchoRequest, 1, 1, {});
  CHECK(p.send(ipv4_frame(kPeerMac, MacAddr::broadcast(),
                          ip_header(kPeerIp, kIpB, wire::IpProto::Icmp), msg))
            .empty());
  CHECK(p.stack.stats().ipv4.rx_drop_not_for_us == 1);
}

TEST_CASE("bad ICMP checksum is counted", "[stack][malformed][icmp]") {
  ScriptedPeer p;
  p.introduce();
  Frame f = echo_frame();
  f[kEth + 20 + 2] ^= std::byte{0x01};
  CHECK(p.send(f).empty());
  CHECK(p.stack.stats().icmp.rx_drop_bad_checksum == 1);
}

TEST_CASE("link-layer oddities are counted by reason", "[stack][malformed][eth]") {
  ScriptedPeer p;
  p.introduce();
  auto& st = p.stack.stats();
  SECTION("unknown EtherType") {
    Frame f = echo_frame();
    store_be16(MutBytes(f), 12, 0x88b5);  // IEEE local experimental
    CHECK(p.send(f).empty());
    CHECK(st.eth.rx_drop_unknown_ethertype == 1);
  }
  SECTION("802.1Q VLAN tag") {
    Frame f = echo_frame();
    f.insert(f.begin() + 12, {std::byte{0x81}, std::byte{0x00}, std::byte{0x00}, std::byte{0x05}});
    CHECK(p.send(f).empty());
    CHECK(st.eth.rx_drop_vlan == 1);
  }
  SECTION("oversize frame") {
    CHECK(p.send(echo_frame(1500)).empty());
    CHECK(st.eth.rx_drop_oversize == 1);
  }
  SECTION("another host's MAC") {
    Frame f = echo_frame();
    f[5] = std::byte{0x99};
    CHECK(p.send(f).empty());
    CHECK(st.eth.rx_drop_not_for_us == 1);
  }
  SECTION("our own MAC as source") {
    Frame f = echo_frame();
    for (std::size_t i = 0; i < 6; ++i) f[6 + i] = std::byte{kMacB.octets[i]};
    CHECK(p.send(f).empty());
    CHECK(st.eth.rx_drop_own_source == 1);
  }
  SECTION("ARP for another hardware type") {
    wire::ArpRepr req{wire::ArpOp::Request, kPeerMac, kPeerIp, MacAddr{}, kIpB};
    Frame f = arp_frame(MacAddr::broadcast(), req);
    store_be16(MutBytes(f), kEth, 6);  // IEEE 802 networks
    CHECK(p.send(f).empty());
    CHECK(st.arp.rx_drop_unsupported == 1);
  }
  SECTION("ARP with an unknown opcode") {
    wire::ArpRepr req{wire::ArpOp::Request, kPeerMac, kPeerIp, MacAddr{}, kIpB};
    Frame f = arp_frame(MacAddr::broadcast(), req);
    store_be16(MutBytes(f), kEth + 6, 9);
    CHECK(p.send(f).empty());
    CHECK(st.arp.rx_drop_bad_opcode == 1);
  }
}

TEST_CASE("a seeded storm of random corruptions never crashes the stack",
          "[stack][malformed][fuzz]") {
  ScriptedPeer p;
  p.introduce();
  SeededRng rng(20261121);
  INFO("seed=20261121");
  const Frame base = echo_frame(200);
  for (int i = 0; i < 20000; ++i) {
    Frame f = base;
    int flips = 1 + static_cast<int>(rng.below(4));
    for (int k = 0; k < flips; ++k)
      f[rng.below(static_cast<std::uint32_t>(f.size()))] = std::byte(rng.next_u32() & 0xff);
    if (rng.below(4) == 0) f.resize(rng.below(static_cast<std::uint32_t>(f.size())));
    (void)p.send(f);
  }
  // The stack still answers a good echo afterwards.
  CHECK(p.send(echo_frame()).size() >= 1);
}
