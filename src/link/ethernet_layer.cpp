// Ethernet II receive/transmit and ARP (RFC 826; RFC 1122 §2.3.2; RFC 5227 §2.3).
#include "link/ethernet_layer.hpp"

#include <algorithm>
#include <cstring>

#include "util/log.hpp"

namespace tapir::link {

using wire::ArpOp;
using wire::ArpRepr;
using wire::EtherType;
using EthFrameMut = wire::EthernetFrame<MutBytes>;

EthernetLayer::EthernetLayer(phy::Device& dev, MacAddr mac, Ipv4Cidr addr, std::size_t mtu,
                             const ArpConfig& arp, Stats& stats)
    : dev_(dev),
      mac_(mac),
      addr_(addr),
      mtu_(mtu),
      max_rx_frame_(std::max(wire::EthernetView::kHeaderLen + mtu, dev.caps().max_rx_frame)),
      // RFC 791: whatever the device takes, a datagram ends at 65535 octets.
      max_tso_datagram_(
          dev.caps().tso_max > wire::EthernetView::kHeaderLen + mtu
              ? std::min<std::size_t>(dev.caps().tso_max - wire::EthernetView::kHeaderLen, 65535)
              : 0),
      stats_(stats),
      cache_(arp, stats.arp),
      frame_(wire::EthernetView::kHeaderLen + mtu),
      log_(log::get("eth")),
      arp_log_(log::get("arp")) {}

bool EthernetLayer::accepts(MacAddr dst) const {
  return dst == mac_ || dst.is_broadcast() || (dst.is_multicast() && multicast_.contains(dst));
}

void EthernetLayer::on_frame(Bytes frame, Instant now) {
  ++stats_.eth.rx_frames;
  stats_.eth.rx_bytes += frame.size();
  auto eth = wire::EthernetView::checked(frame);
  if (!eth) {
    ++stats_.eth.rx_drop_truncated;
    TAPIR_LOG_DEBUG(&log_, "drop truncated frame len={}", frame.size());
    return;
  }
  // Only a frame the device marks as a coalesced superframe may exceed the MTU, and never
  // the device's own receive bound (caps().max_rx_frame).
  const phy::RxInfo info = dev_.last_rx_info();
  const bool over_mtu = frame.size() > wire::EthernetView::kHeaderLen + mtu_;
  if ((over_mtu && !info.superframe) || frame.size() > max_rx_frame_) {
    ++stats_.eth.rx_drop_oversize;
    TAPIR_LOG_DEBUG(&log_, "drop oversize frame len={} mtu={}", frame.size(), mtu_);
    return;
  }
  if (info.superframe) ++stats_.eth.rx_superframes;
  if (info.checksum_unverified) ++stats_.eth.rx_checksum_offloaded;
  if (!accepts(eth->dst())) {
    ++stats_.eth.rx_drop_not_for_us;
    return;
  }
  // IEEE 802.3: a group address is never a valid source; our own source means a loop.
  if (eth->src().is_multicast() || eth->src() == mac_) {
    ++stats_.eth.rx_drop_own_source;
    return;
  }
  switch (eth->ethertype()) {
    case EtherType::Ipv4:
      if (up_) {
        up_->on_ipv4(eth->payload(), now, eth->dst().is_multicast(), info.checksum_unverified);
      }
      return;
    case EtherType::Arp:
      on_arp(eth->payload(), now);
      return;
    case EtherType::Vlan:
      // DEVIATION: 802.1Q tagged frames are not supported; the TAP carries untagged
      // frames unless a VLAN is configured on the host side.
      ++stats_.eth.rx_drop_vlan;
      TAPIR_LOG_DEBUG(&log_, "drop vlan-tagged frame");
      return;
    default:
      ++stats_.eth.rx_drop_unknown_ethertype;
      TAPIR_LOG_DEBUG(&log_, "drop ethertype 0x{:04x}", static_cast<unsigned>(eth->ethertype()));
      return;
  }
}

void EthernetLayer::on_arp(Bytes payload, Instant now) {
  auto parsed = ArpRepr::parse(payload);
  if (!parsed) {
    switch (parsed.error()) {
      case wire::ParseError::Unsupported:
        ++stats_.arp.rx_drop_unsupported;
        break;
      case wire::ParseError::BadFlags:
        ++stats_.arp.rx_drop_bad_opcode;
        break;
      default:
        ++stats_.arp.rx_drop_malformed;
        break;
    }
    TAPIR_LOG_DEBUG(&arp_log_, "drop {}", wire::to_string(parsed.error()));
    return;
  }
  const ArpRepr& arp = *parsed;
  ++(arp.op == ArpOp::Request ? stats_.arp.rx_requests : stats_.arp.rx_replies);
  // A sender address that is a group or zero MAC, or a broadcast/multicast IP, would
  // poison the cache (RFC 1812 §3.3.2 forbids such mappings).
  if (arp.sender_mac.is_multicast() || arp.sender_mac.is_zero() || arp.sender_ip.is_broadcast() ||
      arp.sender_ip.is_multicast()) {
    ++stats_.arp.rx_drop_bad_sender;
    return;
  }
  if (arp.sender_ip == addr_.addr) {
    // Someone else claims our address (RFC 5227 §2.4 conflict). Never cache it.
    ++stats_.arp.rx_conflict;
    SPDLOG_LOGGER_WARN(&arp_log_, "address conflict: {} claims {}", arp.sender_mac.to_string(),
                       arp.sender_ip.to_string());
    return;
  }
  if (arp.is_gratuitous()) ++stats_.arp.rx_gratuitous;
  bool for_us = arp.target_ip == addr_.addr;
  // RFC 826 "Packet Reception": update an existing entry for the sender whatever the
  // target (the merge flag); add one only if we are the target.
  if (!arp.sender_ip.is_unspecified()) {
    auto waiting = cache_.learn(arp.sender_ip, arp.sender_mac, for_us, now);
    if (!waiting.empty()) send_pending(arp.sender_mac, waiting, now);
  }
  if (!for_us) {
    if (!arp.is_gratuitous()) ++stats_.arp.rx_drop_not_for_us;
    return;
  }
  if (arp.op == ArpOp::Request) {
    // RFC 826: swap sender and target, fill in our MAC, and send the reply unicast.
    ArpRepr reply{ArpOp::Reply, mac_, addr_.addr, arp.sender_mac, arp.sender_ip};
    send_arp(reply, arp.sender_mac, now);
    ++stats_.arp.tx_replies;
  }
}

MutBytes EthernetLayer::tx_buffer(std::size_t len) {
  TAPIR_ASSERT(len <= mtu_, "datagram larger than the MTU");
  // Built where the device will send it from (no copy between here and the TAP), when the
  // device lends a buffer long enough for the frame and its minimum-length padding.
  const std::size_t frame_len =
      std::max(wire::EthernetView::kHeaderLen + len, wire::EthernetView::kMinFrameLen);
  MutBytes slot = dev_.tx_slot(frame_len);
  tx_ = slot.size() >= frame_len ? slot : MutBytes(frame_);
  return tx_.subspan(wire::EthernetView::kHeaderLen, len);
}

Errno EthernetLayer::send_frame(MacAddr dst, EtherType type, std::size_t payload_len, Instant now) {
  auto f = EthFrameMut::unchecked(tx_);
  wire::EthernetRepr{dst, mac_, type}.emit(f);
  std::size_t len = wire::EthernetView::kHeaderLen + payload_len;
  // IEEE 802.3 minimum frame: pad short frames with zeros (receivers trim by IP length).
  if (len < wire::EthernetView::kMinFrameLen) {
    std::fill(tx_.begin() + static_cast<std::ptrdiff_t>(len),
              tx_.begin() + static_cast<std::ptrdiff_t>(wire::EthernetView::kMinFrameLen),
              std::byte{0});
    len = wire::EthernetView::kMinFrameLen;
  }
  Errno err = dev_.transmit(Bytes(tx_).first(len), now);
  if (err != Errno::Ok) {
    ++stats_.eth.tx_drop_device;
    TAPIR_LOG_DEBUG(&log_, "device refused frame: {}", to_string(err));
    return err;
  }
  ++stats_.eth.tx_frames;
  stats_.eth.tx_bytes += len;
  return Errno::Ok;
}

void EthernetLayer::send_arp(const ArpRepr& arp, MacAddr dst, Instant now) {
  arp.emit(tx_buffer(ArpRepr::kLen));
  (void)send_frame(dst, EtherType::Arp, ArpRepr::kLen, now);
}

void EthernetLayer::request(const ArpRequestToSend& r, Instant now) {
  // RFC 826: a request carries our addresses as sender and a zero target MAC.
  ArpRepr req{ArpOp::Request, mac_, addr_.addr, MacAddr{}, r.target};
  ++stats_.arp.tx_requests;
  TAPIR_LOG_DEBUG(&arp_log_, "who-has {} tell {}{}", r.target.to_string(), addr_.addr.to_string(),
                  r.unicast_to ? " (refresh)" : "");
  send_arp(req, r.unicast_to.value_or(MacAddr::broadcast()), now);
}

void EthernetLayer::announce(Instant now) {
  // RFC 5227 §2.3: an ARP announcement is a request with sender IP == target IP.
  ArpRepr ann{ArpOp::Request, mac_, addr_.addr, MacAddr{}, addr_.addr};
  ++stats_.arp.tx_gratuitous;
  send_arp(ann, MacAddr::broadcast(), now);
}

Errno EthernetLayer::send_ipv4(Ipv4Addr next_hop, std::size_t len, Instant now) {
  MacAddr dst;
  if (next_hop.is_broadcast() || addr_.directed_broadcast() == next_hop) {
    dst = MacAddr::broadcast();
  } else if (next_hop.is_multicast()) {
    dst = multicast_mac(next_hop);  // RFC 1112 §6.4
  } else {
    std::optional<ArpRequestToSend> refresh;
    auto mac = cache_.lookup(next_hop, now, &refresh);
    if (!mac) {
      auto req =
          cache_.enqueue(next_hop, Bytes(tx_).subspan(wire::EthernetView::kHeaderLen, len), now);
      if (req) request(*req, now);
      return Errno::Ok;  // queued (or counted as dropped): the caller's job is done
    }
    // The datagram sits in the one frame buffer: send it before a refresh request
    // (which is built in the same buffer) overwrites it.
    Errno err = send_frame(*mac, EtherType::Ipv4, len, now);
    if (refresh) request(*refresh, now);
    return err;
  }
  return send_frame(dst, EtherType::Ipv4, len, now);
}

MutBytes EthernetLayer::tso_buffer(std::size_t len) {
  TAPIR_ASSERT(len <= max_tso_datagram_, "superframe larger than the device takes");
  if (tso_frame_.size() < wire::EthernetView::kHeaderLen + len) {
    tso_frame_.resize(wire::EthernetView::kHeaderLen + max_tso_datagram_);
  }
  return MutBytes(tso_frame_).subspan(wire::EthernetView::kHeaderLen, len);
}

Errno EthernetLayer::send_ipv4_tso(Ipv4Addr next_hop, std::size_t len, phy::GsoInfo gso,
                                   Instant now) {
  // A superframe cannot wait in the neighbour cache, whose datagrams go out as plain frames
  // later: only a unicast neighbour with a known MAC takes one.
  if (next_hop.is_broadcast() || next_hop.is_multicast() ||
      addr_.directed_broadcast() == next_hop) {
    return Errno::OpNotSupp;
  }
  std::optional<ArpRequestToSend> refresh;
  auto mac = cache_.lookup(next_hop, now, &refresh);
  if (!mac) return Errno::OpNotSupp;
  constexpr auto kEth = static_cast<std::uint16_t>(wire::EthernetView::kHeaderLen);
  auto f = EthFrameMut::unchecked(MutBytes(tso_frame_));
  wire::EthernetRepr{*mac, mac_, EtherType::Ipv4}.emit(f);
  gso.header_len = static_cast<std::uint16_t>(gso.header_len + kEth);
  gso.csum_start = static_cast<std::uint16_t>(gso.csum_start + kEth);
  const std::size_t frame_len = kEth + len;
  Errno err = dev_.transmit_gso(Bytes(tso_frame_).first(frame_len), gso, now);
  if (refresh) request(*refresh, now);
  if (err == Errno::OpNotSupp) return err;
  if (err != Errno::Ok) {
    ++stats_.eth.tx_drop_device;
    TAPIR_LOG_DEBUG(&log_, "device refused superframe: {}", to_string(err));
    return err;
  }
  ++stats_.eth.tx_frames;
  stats_.eth.tx_bytes += frame_len;
  return Errno::Ok;
}

void EthernetLayer::send_pending(MacAddr dst, const std::deque<std::vector<std::byte>>& datagrams,
                                 Instant now) {
  for (const auto& d : datagrams) {
    auto buf = tx_buffer(d.size());
    std::memcpy(buf.data(), d.data(), d.size());
    (void)send_frame(dst, EtherType::Ipv4, d.size(), now);
  }
}

void EthernetLayer::join_multicast(Ipv4Addr group) { multicast_.insert(multicast_mac(group)); }

void EthernetLayer::leave_multicast(Ipv4Addr group) {
  auto it = multicast_.find(multicast_mac(group));
  if (it != multicast_.end()) multicast_.erase(it);
}

void EthernetLayer::poll(Instant now) {
  cache_.poll(
      now, [&](const ArpRequestToSend& r) { request(r, now); },
      [&](Bytes datagram) {
        if (up_) up_->on_unresolved(datagram, now);
      });
}

}  // namespace tapir::link
