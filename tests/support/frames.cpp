#include "support/frames.hpp"

#include <catch2/catch.hpp>
#include <cstring>

namespace tapir::test {

Frame arp_frame(MacAddr eth_dst, const wire::ArpRepr& arp) {
  Frame f(wire::EthernetView::kHeaderLen + wire::ArpRepr::kLen);
  auto eth = wire::EthernetFrame<MutBytes>::unchecked(MutBytes(f));
  wire::EthernetRepr{eth_dst, arp.sender_mac, wire::EtherType::Arp}.emit(eth);
  arp.emit(eth.payload());
  return f;
}

Frame ipv4_frame(MacAddr src, MacAddr dst, wire::Ipv4Repr ip, Bytes payload) {
  ip.payload_len = static_cast<std::uint16_t>(payload.size());
  Frame f(wire::EthernetView::kHeaderLen + ip.total_len());
  auto eth = wire::EthernetFrame<MutBytes>::unchecked(MutBytes(f));
  wire::EthernetRepr{dst, src, wire::EtherType::Ipv4}.emit(eth);
  ip.emit(eth.payload());
  if (!payload.empty()) {
    std::memcpy(eth.payload().data() + ip.header_len(), payload.data(), payload.size());
  }
  return f;
}

std::vector<std::byte> icmp_message(std::uint8_t type, std::uint16_t id, std::uint16_t seq,
                                    Bytes data) {
  wire::Icmpv4Repr r{type, 0, wire::Icmpv4Repr::echo_rest(id, seq), data};
  std::vector<std::byte> out(r.buffer_len());
  r.emit(MutBytes(out));
  return out;
}

Decoded decode(const Frame& f) {
  Decoded d;
  auto eth = wire::EthernetView::checked(Bytes(f));
  REQUIRE(eth.has_value());
  d.eth = wire::EthernetRepr::parse(*eth);
  if (d.eth.ethertype == wire::EtherType::Arp) {
    auto arp = wire::ArpRepr::parse(eth->payload());
    REQUIRE(arp.has_value());
    d.arp = *arp;
  } else if (d.eth.ethertype == wire::EtherType::Ipv4) {
    auto v = wire::Ipv4View::checked(eth->payload());
    REQUIRE(v.has_value());
    auto ip = wire::Ipv4Repr::parse(*v);
    REQUIRE(ip.has_value());
    d.ip = *ip;
    d.ip_payload = v->payload();
    if (ip->protocol == wire::IpProto::Icmp && !v->is_fragment()) {
      auto icmp = wire::Icmpv4Repr::parse(d.ip_payload);
      REQUIRE(icmp.has_value());
      d.icmp = *icmp;
    }
  }
  return d;
}

}  // namespace tapir::test
