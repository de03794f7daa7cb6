// UDP input and output (RFC 768; RFC 1122 §4.1).
#include "udp/udp_layer.hpp"

#include <algorithm>
#include <cstring>

#include "util/log.hpp"
#include "wire/udp.hpp"

namespace tapir::udp {

UdpLayer::UdpLayer(ip::Ipv4Layer& ip, UdpStats& stats)
    : ip_(ip), stats_(stats), log_(log::get("udp")) {}

void UdpLayer::attach(UdpEndpoint* ep) { by_port_[ep->local_port].push_back(ep); }

void UdpLayer::detach(UdpEndpoint* ep) {
  auto it = by_port_.find(ep->local_port);
  if (it == by_port_.end()) return;
  std::erase(it->second, ep);
  if (it->second.empty()) by_port_.erase(it);
}

bool UdpLayer::matches(const UdpEndpoint& ep, Ipv4Addr src, std::uint16_t sport,
                       Ipv4Addr dst) const {
  // A socket bound to a specific address receives only datagrams to it (a socket bound
  // to a group address receives that group); a connected socket only from its peer.
  if (!ep.local_addr.is_unspecified() && ep.local_addr != dst) return false;
  if (ep.connected && (ep.remote_addr != src || ep.remote_port != sport)) return false;
  return true;
}

UdpEndpoint* UdpLayer::best_match(const std::vector<UdpEndpoint*>& eps, Ipv4Addr src,
                                  std::uint16_t sport, Ipv4Addr dst) {
  // Most specific first (gVisor's transport_demuxer order): the connected 4-tuple, then
  // a bound address, then the wildcard. Among equals the socket bound last wins, as on
  // Linux with SO_REUSEADDR.
  UdpEndpoint* best = nullptr;
  int best_score = -1;
  for (auto* ep : eps) {
    if (!matches(*ep, src, sport, dst)) continue;
    int score = (ep->connected ? 2 : 0) + (ep->local_addr.is_unspecified() ? 0 : 1);
    if (score >= best_score) {
      best = ep;
      best_score = score;
    }
  }
  return best;
}

void UdpLayer::on_datagram(const ip::Datagram& d, Instant now) {
  ++stats_.rx_datagrams;
  auto view = wire::UdpView::checked(d.payload);
  if (!view) {
    ++(view.error() == wire::ParseError::Truncated ? stats_.rx_drop_truncated
                                                   : stats_.rx_drop_bad_length);
    TAPIR_LOG_DEBUG(&log_, "drop {} from {}", wire::to_string(view.error()), d.ip.src.to_string());
    return;
  }
  // RFC 768 / RFC 1122 §4.1.3.4: verify the checksum when one was sent (zero: none), unless
  // the device offloaded it (a checksum-partial frame holds only the pseudo-header sum).
  auto repr =
      wire::UdpRepr::parse(*view, d.ip.src, d.ip.dst,
                           d.transport_checksum_verified_by_device ? wire::ChecksumMode::Ignore
                                                                   : wire::ChecksumMode::Verify);
  if (!repr) {
    ++(repr.error() == wire::ParseError::BadChecksum ? stats_.rx_drop_bad_checksum
                                                     : stats_.rx_drop_bad_length);
    TAPIR_LOG_DEBUG(&log_, "drop {} from {}", wire::to_string(repr.error()), d.ip.src.to_string());
    return;
  }
  Bytes payload = view->payload();
  auto it = by_port_.find(repr->dst_port);
  if (d.to_group()) {
    // RFC 1122 §4.1.3.5 / RFC 1112 §6.4: a broadcast or multicast datagram goes to every
    // socket on the port that would accept it. LINUX: like Linux's default
    // IP_MULTICAST_ALL=1, a wildcard-bound socket receives any group the host has joined.
    bool any = false;
    if (it != by_port_.end()) {
      for (auto* ep : it->second) {
        if (!matches(*ep, d.ip.src, repr->src_port, d.ip.dst)) continue;
        deliver(*ep, d, repr->src_port, payload);
        any = true;
      }
    }
    if (!any) ++stats_.rx_drop_no_port;
    return;
  }
  UdpEndpoint* ep =
      it == by_port_.end() ? nullptr : best_match(it->second, d.ip.src, repr->src_port, d.ip.dst);
  if (!ep) {
    // RFC 1122 §4.1.3.1: a datagram for a port with no listener SHOULD get an ICMP port
    // unreachable (rate limited, and never for broadcasts: the ICMP layer enforces both).
    ++stats_.rx_drop_no_port;
    ip_.icmp().send_error(wire::icmp_type::kDestUnreachable, wire::icmp_unreach::kPort, d, now);
    return;
  }
  deliver(*ep, d, repr->src_port, payload);
}

void UdpLayer::deliver(UdpEndpoint& ep, const ip::Datagram& d, std::uint16_t src_port,
                       Bytes payload) {
  if (ep.rx_bytes + payload.size() > ep.rcvbuf) {
    ++stats_.rx_drop_buffer_full;
    ++ep.rx_dropped;
    return;
  }
  auto& slot = ep.rx.push_back();
  slot.from = d.ip.src;
  slot.from_port = src_port;
  slot.to = d.ip.dst;
  // The slots a socket keeps (see kRxSlotsKept) get room for any unfragmented datagram the
  // first time, so that a steady flow of varying sizes never reallocates them. Deeper
  // queues take exact sizes: SO_RCVBUF counts payload octets, and a backlog of tiny
  // datagrams must not pin an MTU each.
  if (ep.rx.size() <= UdpEndpoint::kRxSlotsKept && slot.data.capacity() < ip_.mtu()) {
    slot.data.reserve(ip_.mtu());
  }
  slot.data.assign(payload.begin(), payload.end());  // the one copy: reuses the slot's buffer
  ep.rx_bytes += payload.size();
  ++stats_.rx_delivered;
  if (notify_) notify_(ep.owner);
}

void UdpLayer::on_icmp_error(const ip::IcmpError& err, Instant) {
  if (err.inner_payload.size() < 8) return;
  std::uint16_t sport = load_be16(err.inner_payload, 0);
  std::uint16_t dport = load_be16(err.inner_payload, 2);
  auto it = by_port_.find(sport);
  if (it == by_port_.end()) return;
  // LINUX: only a connected socket learns of the error (an unconnected one could not
  // tell which of its destinations it concerns), as ECONNREFUSED for port unreachable and
  // EHOSTUNREACH/ENETUNREACH for the others.
  for (auto* ep : it->second) {
    if (!ep->connected || ep->remote_addr != err.inner.dst || ep->remote_port != dport) continue;
    if (err.type == wire::icmp_type::kDestUnreachable) {
      ep->pending_error =
          err.code == wire::icmp_unreach::kPort || err.code == wire::icmp_unreach::kProtocol
              ? Errno::ConnRefused
          : err.code == wire::icmp_unreach::kNet ? Errno::NetUnreach
                                                 : Errno::HostUnreach;
    } else if (err.type == wire::icmp_type::kTimeExceeded) {
      ep->pending_error = Errno::HostUnreach;
    } else {
      continue;
    }
    ++stats_.rx_icmp_errors;
    if (notify_) notify_(ep->owner);
  }
}

Errno UdpLayer::send(UdpEndpoint& ep, Ipv4Addr dst, std::uint16_t port, Bytes payload,
                     Instant now) {
  if (payload.size() > kMaxPayload) return Errno::MsgSize;
  bool bcast = dst.is_broadcast() || ip_.address().directed_broadcast() == dst;
  // RFC 1122 §4.1.3.5 leaves broadcast to the application; BSD requires SO_BROADCAST.
  if (bcast && !ep.broadcast) return Errno::Acces;
  if (port == 0) return Errno::Inval;
  wire::UdpRepr repr{ep.local_port, port, static_cast<std::uint16_t>(payload.size()), true};
  ip::SendParams p{.dst = dst, .proto = wire::IpProto::Udp};
  if (!ep.local_addr.is_unspecified() && !ep.local_addr.is_multicast()) p.src = ep.local_addr;
  p.ttl = dst.is_multicast() ? ep.multicast_ttl : ep.ttl;
  Errno err = ip_.send(
      p, repr.buffer_len(),
      [&](MutBytes out, const wire::Ipv4Repr& hdr) {
        std::memcpy(out.data() + repr.header_len(), payload.data(), payload.size());
        repr.emit(out, hdr.src, hdr.dst);
      },
      now);
  if (err != Errno::Ok) return err;
  ++stats_.tx_datagrams;
  // IP_MULTICAST_LOOP: a datagram to a group this host joined is also delivered locally.
  if (dst.is_multicast() && ep.multicast_loop && ip_.joined(dst)) {
    wire::Ipv4Repr hdr;
    hdr.src = p.src.value_or(ip_.address().addr);
    hdr.dst = dst;
    hdr.protocol = wire::IpProto::Udp;
    loop_buf_.resize(repr.buffer_len());
    std::memcpy(loop_buf_.data() + repr.header_len(), payload.data(), payload.size());
    repr.emit(MutBytes(loop_buf_), hdr.src, hdr.dst);
    hdr.payload_len = static_cast<std::uint16_t>(loop_buf_.size());
    on_datagram(ip::Datagram{hdr, Bytes(loop_buf_)}, now);
  }
  return Errno::Ok;
}

}  // namespace tapir::udp
