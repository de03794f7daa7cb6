// IPv4 input and output (RFC 791; RFC 1122 §3.2.1 and §3.3).
#include "ip/ipv4_layer.hpp"

#include <algorithm>
#include <cstring>

#include "util/log.hpp"

namespace tapir::ip {

using wire::IpProto;
using wire::Ipv4Repr;
using wire::Ipv4View;

Ipv4Layer::Ipv4Layer(link::EthernetLayer& link, const StackConfig& cfg, Stats& stats, Rng& rng)
    : link_(link),
      cfg_(cfg),
      stats_(stats),
      icmp_(*this, cfg.icmp, stats.icmp),
      igmp_(*this, stats.igmp, rng),
      reasm_(cfg.ipv4, stats.ipv4),
      // RFC 6864 §4.2: the ID need only be unique per (src, dst, protocol) while fragments
      // may live; a counter from a seeded random start is enough and reproducible.
      next_ident_(static_cast<std::uint16_t>(rng.next_u32())),
      log_(log::get("ip")) {
  handlers_[static_cast<std::uint8_t>(IpProto::Icmp)] = &icmp_;
  handlers_[static_cast<std::uint8_t>(IpProto::Igmp)] = &igmp_;
  // RFC 1112 §4: every multicast-capable host belongs to the all-hosts group 224.0.0.1
  // (which IGMP never reports).
  join_group(Igmp::kAllSystems, Instant{});
}

void Ipv4Layer::add_protocol(IpProto proto, TransportHandler* h) {
  handlers_[static_cast<std::uint8_t>(proto)] = h;
  icmp_.route_errors_to(proto, h);
}

bool Ipv4Layer::accepts(Ipv4Addr dst) const {
  // RFC 1122 §3.3.6 / §3.2.1.3: our address, the limited broadcast, the directed broadcast
  // of our subnet, and multicast groups we joined.
  return dst == cfg_.address.addr || dst.is_broadcast() ||
         cfg_.address.directed_broadcast() == dst || (dst.is_multicast() && joined(dst));
}

bool Ipv4Layer::valid_source(Ipv4Addr src) const {
  // RFC 1122 §3.2.1.3: a source that is a broadcast or multicast address does not name a
  // host and MUST be discarded; our own address arriving from the wire means a loop or a
  // spoof. 0.0.0.0 is allowed (hosts use it while they configure, e.g. DHCP).
  return !src.is_broadcast() && !src.is_multicast() && cfg_.address.directed_broadcast() != src &&
         src != cfg_.address.addr;
}

void Ipv4Layer::on_ipv4(Bytes bytes, Instant now, bool link_multicast, bool checksum_offloaded) {
  ++stats_.ipv4.rx_packets;
  auto view = Ipv4View::checked(bytes);
  if (!view) {
    switch (view.error()) {
      case wire::ParseError::BadVersion:
        ++stats_.ipv4.rx_drop_bad_version;
        break;
      case wire::ParseError::BadHeaderLen:
        ++stats_.ipv4.rx_drop_bad_header_len;
        break;
      case wire::ParseError::BadTotalLen:
        ++stats_.ipv4.rx_drop_bad_total_len;
        break;
      default:
        ++stats_.ipv4.rx_drop_truncated;
        break;
    }
    TAPIR_LOG_DEBUG(&log_, "drop {}", wire::to_string(view.error()));
    return;
  }
  auto repr = Ipv4Repr::parse(*view);
  if (!repr) {
    ++(repr.error() == wire::ParseError::BadChecksum ? stats_.ipv4.rx_drop_bad_checksum
                                                     : stats_.ipv4.rx_drop_bad_option);
    TAPIR_LOG_DEBUG(&log_, "drop {} from {}", wire::to_string(repr.error()),
                    view->src().to_string());
    return;
  }
  if (!valid_source(repr->src)) {
    ++stats_.ipv4.rx_drop_bad_source;
    return;
  }
  // RFC 1122 §3.3.6: a datagram received in a link-layer broadcast SHOULD be discarded
  // unless its IP destination is a broadcast or multicast address.
  bool group_dst = repr->dst.is_broadcast() || repr->dst.is_multicast() ||
                   cfg_.address.directed_broadcast() == repr->dst;
  if (!accepts(repr->dst) || (link_multicast && !group_dst)) {
    ++stats_.ipv4.rx_drop_not_for_us;
    return;
  }
  Datagram d{*repr, view->payload(), link_multicast, cfg_.address.directed_broadcast() == repr->dst,
             checksum_offloaded};
  if (!view->is_fragment()) {
    deliver(d, now);
    return;
  }
  // RFC 791 §3.2 / RFC 815: hold fragments until the datagram is whole.
  auto whole = reasm_.add(*repr, view->payload(), now);
  if (!whole) return;
  // A reassembled datagram is checked whole, whatever its fragments' frames said.
  Datagram full{whole->ip, whole->payload, link_multicast, d.group_dst};
  deliver(full, now);
}

void Ipv4Layer::deliver(const Datagram& d, Instant now) {
  auto* h = handlers_[static_cast<std::uint8_t>(d.ip.protocol)];
  if (!h) {
    // RFC 1122 §3.2.2.1: protocol unreachable for a transport we do not speak.
    ++stats_.ipv4.rx_drop_unknown_protocol;
    TAPIR_LOG_DEBUG(&log_, "drop unknown protocol {}", static_cast<int>(d.ip.protocol));
    icmp_.send_error(wire::icmp_type::kDestUnreachable, wire::icmp_unreach::kProtocol, d, now);
    return;
  }
  ++stats_.ipv4.rx_delivered;
  h->on_datagram(d, now);
}

void Ipv4Layer::on_unresolved(Bytes datagram, Instant now) {
  // RFC 1122 §3.3.1.4 / §2.3.2.1: when the next hop cannot be resolved, tell the transport
  // as an ICMP host unreachable would (LINUX: connect() fails with EHOSTUNREACH). The
  // datagram is our own, so it is trusted; only non-first fragments carry no ports.
  auto view = Ipv4View::checked(datagram);
  if (!view || view->frag_offset() != 0) return;
  IcmpError e;
  e.type = wire::icmp_type::kDestUnreachable;
  e.code = wire::icmp_unreach::kHost;
  e.reporter = cfg_.address.addr;
  e.inner.src = view->src();
  e.inner.dst = view->dst();
  e.inner.protocol = view->protocol();
  e.inner.ident = view->ident();
  e.inner_payload = view->payload();
  icmp_.deliver_error(e, now);
}

std::optional<Ipv4Addr> Ipv4Layer::next_hop(Ipv4Addr dst) const {
  // RFC 1122 §3.3.1.1: on-link destinations go direct; everything else to the gateway.
  if (dst.is_broadcast() || dst.is_multicast() || cfg_.address.contains(dst)) return dst;
  return cfg_.gateway;
}

Errno Ipv4Layer::send(const SendParams& p, std::size_t payload_len, FillPayload fill, Instant now) {
  TAPIR_ASSERT(p.options.size() % 4 == 0 && p.options.size() <= 40, "bad IP options length");
  Ipv4Repr hdr;
  hdr.src = p.src.value_or(cfg_.address.addr);
  hdr.dst = p.dst;
  hdr.protocol = p.proto;
  hdr.ttl = p.ttl ? p.ttl : cfg_.ipv4.ttl;
  hdr.tos = p.tos;
  hdr.dont_frag = p.dont_frag;
  std::copy(p.options.begin(), p.options.end(), hdr.options.begin());
  hdr.options_len = static_cast<std::uint8_t>(p.options.size());
  // RFC 791: the total length field caps a datagram at 65535 octets.
  if (hdr.header_len() + payload_len > 65535) {
    ++stats_.ipv4.tx_drop_too_big;
    return Errno::MsgSize;
  }
  hdr.payload_len = static_cast<std::uint16_t>(payload_len);
  auto hop = next_hop(p.dst);
  if (!hop) {
    ++stats_.ipv4.tx_drop_no_route;
    return Errno::NetUnreach;
  }
  if (p.tso) return send_tso(hdr, *hop, *p.tso, fill, now);
  hdr.ident = next_ident_++;
  if (hdr.total_len() > mtu()) {
    if (p.dont_frag) {
      ++stats_.ipv4.tx_drop_too_big;
      return Errno::MsgSize;
    }
    return send_fragmented(hdr, *hop, fill, now);
  }
  auto buf = link_.tx_buffer(hdr.total_len());
  hdr.emit(buf);
  fill(buf.subspan(hdr.header_len()), hdr);
  ++stats_.ipv4.tx_packets;
  return link_.send_ipv4(*hop, hdr.total_len(), now);
}

Errno Ipv4Layer::send_fragmented(const Ipv4Repr& whole, Ipv4Addr hop, FillPayload fill,
                                 Instant now) {
  frag_buf_.resize(whole.payload_len);
  fill(MutBytes(frag_buf_), whole);
  ++stats_.ipv4.tx_fragmented;

  // RFC 791 §3.2 fragmentation procedure: every fragment but the last carries a multiple
  // of 8 octets; the first keeps all options, later ones only those with the copy bit.
  Ipv4Repr later = whole;
  later.options_len = 0;
  for (std::size_t i = 0; i < whole.options_len;) {
    auto kind = std::to_integer<std::uint8_t>(whole.options[i]);
    if (kind == wire::ipv4_option::kEnd) break;
    std::size_t len =
        kind == wire::ipv4_option::kNop ? 1 : std::to_integer<std::uint8_t>(whole.options[i + 1]);
    if (kind & 0x80) {
      std::copy_n(whole.options.begin() + static_cast<std::ptrdiff_t>(i), len,
                  later.options.begin() + later.options_len);
      later.options_len = static_cast<std::uint8_t>(later.options_len + len);
    }
    i += len;
  }
  later.options_len = static_cast<std::uint8_t>((later.options_len + 3) / 4 * 4);  // pad with EOL

  std::size_t offset = 0;
  while (offset < whole.payload_len) {
    Ipv4Repr f = offset == 0 ? whole : later;
    std::size_t room = (mtu() - f.header_len()) / 8 * 8;
    std::size_t len = std::min<std::size_t>(room, whole.payload_len - offset);
    f.frag_offset = static_cast<std::uint16_t>(offset);
    f.more_frags = offset + len < whole.payload_len;
    f.payload_len = static_cast<std::uint16_t>(len);
    auto buf = link_.tx_buffer(f.total_len());
    f.emit(buf);
    std::memcpy(buf.data() + f.header_len(), frag_buf_.data() + offset, len);
    ++stats_.ipv4.tx_fragments;
    ++stats_.ipv4.tx_packets;
    if (auto err = link_.send_ipv4(hop, f.total_len(), now); err != Errno::Ok) return err;
    offset += len;
  }
  return Errno::Ok;
}

Errno Ipv4Layer::send_tso(Ipv4Repr& hdr, Ipv4Addr hop, const TsoParams& tso, FillPayload fill,
                          Instant now) {
  if (hdr.total_len() > max_tso_datagram()) return Errno::OpNotSupp;
  // The device cuts the superframe into datagrams that fit the MTU, so it is never
  // fragmented: DF as on every TCP segment, and the MTU check does not apply to it.
  hdr.dont_frag = true;
  // LINUX (inet_gso_segment): the segments carry IDs ident, ident+1, ... (no fixed-ID flag
  // comes with a TAP's GSO frames), so the counter moves past all of them (RFC 6864 §4.2).
  hdr.ident = next_ident_;
  auto buf = link_.tso_buffer(hdr.total_len());
  hdr.emit(buf);
  fill(buf.subspan(hdr.header_len()), hdr);
  const auto ip_hlen = static_cast<std::uint16_t>(hdr.header_len());
  const phy::GsoInfo gso{.type = phy::GsoType::TcpV4,
                         .segment_size = tso.segment_size,
                         .header_len = static_cast<std::uint16_t>(ip_hlen + tso.header_len),
                         .csum_start = ip_hlen,
                         .csum_offset = tso.csum_offset};
  Errno err = link_.send_ipv4_tso(hop, hdr.total_len(), gso, now);
  if (err == Errno::OpNotSupp) return err;
  next_ident_ = static_cast<std::uint16_t>(next_ident_ + tso.segments);
  ++stats_.ipv4.tx_packets;
  return err;
}

void Ipv4Layer::join_group(Ipv4Addr group, Instant now) {
  groups_.insert(group);
  link_.join_multicast(group);
  if (groups_.count(group) == 1) igmp_.on_join(group, now);
}

void Ipv4Layer::leave_group(Ipv4Addr group, Instant now) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return;
  groups_.erase(it);
  link_.leave_multicast(group);
  if (!groups_.contains(group)) igmp_.on_leave(group, now);
}

void Ipv4Layer::poll(Instant now) {
  igmp_.poll(now);
  reasm_.poll(now, [&](const Ipv4Repr& hdr, Bytes first_octets) {
    // RFC 792 / RFC 1122 §3.3.2: time exceeded, code 1 (fragment reassembly time
    // exceeded), only if fragment zero arrived.
    icmp_.send_error(wire::icmp_type::kTimeExceeded, 1, hdr, first_octets, now);
  });
}

}  // namespace tapir::ip
