// Decodes a whole Ethernet frame into the reprs of every layer, and emits them back, for
// the round-trip and robustness tests. A layer that does not parse stops the decoding and
// names itself in `error`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmpv4.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace tapir::wire::test {

struct Decoded {
  EthernetRepr eth;
  std::optional<ArpRepr> arp;
  std::optional<Ipv4Repr> ip;
  std::optional<Icmpv4Repr> icmp;
  std::optional<UdpRepr> udp;
  Bytes udp_payload;
  std::optional<TcpRepr> tcp;
  Bytes raw;  // a payload kept verbatim: fragments, unknown protocols and EtherTypes
  std::string error_layer;
  std::optional<ParseError> error;

  bool ok() const { return !error; }
};

inline Decoded fail(Decoded d, std::string layer, ParseError e) {
  d.error_layer = std::move(layer);
  d.error = e;
  return d;
}

inline Decoded decode_l4(Decoded d, const Ipv4View& v, ChecksumMode mode) {
  switch (v.protocol()) {
    case IpProto::Icmp: {
      auto r = Icmpv4Repr::parse(v.payload(), mode);
      if (!r) return fail(d, "icmp", r.error());
      d.icmp = *r;
      return d;
    }
    case IpProto::Udp: {
      auto p = UdpView::checked(v.payload());
      if (!p) return fail(d, "udp", p.error());
      auto r = UdpRepr::parse(*p, v.src(), v.dst(), mode);
      if (!r) return fail(d, "udp", r.error());
      d.udp = *r;
      d.udp_payload = p->payload();
      return d;
    }
    case IpProto::Tcp: {
      auto p = TcpView::checked(v.payload());
      if (!p) return fail(d, "tcp", p.error());
      auto r = TcpRepr::parse(*p, v.src(), v.dst(), mode);
      if (!r) return fail(d, "tcp", r.error());
      d.tcp = *r;
      return d;
    }
    default:
      d.raw = v.payload();
      return d;
  }
}

inline Decoded decode(Bytes frame, ChecksumMode mode) {
  Decoded d;
  auto f = EthernetView::checked(frame);
  if (!f) return fail(d, "ethernet", f.error());
  d.eth = EthernetRepr::parse(*f);
  if (d.eth.ethertype == EtherType::Arp) {
    auto r = ArpRepr::parse(f->payload());
    if (!r) return fail(d, "arp", r.error());
    d.arp = *r;
    return d;
  }
  if (d.eth.ethertype != EtherType::Ipv4) {
    d.raw = f->payload();
    return d;
  }
  auto v = Ipv4View::checked(f->payload());
  if (!v) return fail(d, "ipv4", v.error());
  auto ip = Ipv4Repr::parse(*v, mode);
  if (!ip) return fail(d, "ipv4", ip.error());
  d.ip = *ip;
  // A fragment's transport header (if any) is checked only after reassembly.
  if (v->is_fragment()) {
    d.raw = v->payload();
    return d;
  }
  return decode_l4(d, *v, mode);
}

// Emits every decoded layer into a fresh buffer (Ethernet padding is not reproduced).
inline std::vector<std::byte> encode(const Decoded& d) {
  std::size_t inner = d.arp ? ArpRepr::buffer_len() : d.ip ? d.ip->total_len() : d.raw.size();
  std::vector<std::byte> out(EthernetRepr::header_len() + inner);
  auto eth = EthernetFrame<MutBytes>::unchecked(out);
  d.eth.emit(eth);
  auto body = MutBytes(out).subspan(EthernetRepr::header_len());
  if (d.arp) {
    d.arp->emit(body);
    return out;
  }
  if (!d.ip) {
    std::copy(d.raw.begin(), d.raw.end(), body.begin());
    return out;
  }
  d.ip->emit(body);
  auto l4 = body.subspan(d.ip->header_len());
  if (d.icmp) {
    d.icmp->emit(l4);
  } else if (d.udp) {
    std::copy(d.udp_payload.begin(), d.udp_payload.end(),
              l4.begin() + static_cast<std::ptrdiff_t>(UdpRepr::header_len()));
    d.udp->emit(l4, d.ip->src, d.ip->dst);
  } else if (d.tcp) {
    d.tcp->emit(l4, d.ip->src, d.ip->dst);
  } else {
    std::copy(d.raw.begin(), d.raw.end(), l4.begin());
  }
  return out;
}

}  // namespace tapir::wire::test
