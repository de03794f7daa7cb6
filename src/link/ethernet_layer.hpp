// The link layer: Ethernet II framing, ARP (RFC 826) and the neighbour cache.
//
// Receive: on_frame() validates the frame, filters by destination MAC, answers ARP, and
// hands IPv4 payloads up through Ipv4Receiver. Transmit: the IP layer writes a datagram
// straight into the frame buffer returned by tx_buffer(), which is the device's own next
// transmit slot when it offers one (Device::tx_slot: the TAP does) and the layer's frame
// buffer otherwise; then send_ipv4() resolves the next hop and hands the frame to the
// device, or parks a copy in the neighbour cache until ARP answers (docs/hot-path.md).
#pragma once

#include <set>

#include "link/neighbor_cache.hpp"
#include "tapir/device.hpp"
#include "tapir/stack_config.hpp"
#include "tapir/stats.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"

namespace spdlog {
class logger;
}

namespace tapir::link {

// The layer above, as the link layer sees it (implemented by ip::Ipv4Layer).
class Ipv4Receiver {
 public:
  // `checksum_offloaded`: the device marked the frame's TCP/UDP checksum as not computed
  // (phy::RxInfo::checksum_unverified); the transport must not verify it.
  virtual void on_ipv4(Bytes datagram, Instant now, bool link_multicast,
                       bool checksum_offloaded) = 0;
  // One of our own datagrams was dropped because its next hop never answered ARP.
  virtual void on_unresolved(Bytes datagram, Instant now) = 0;

 protected:
  ~Ipv4Receiver() = default;
};

class EthernetLayer {
 public:
  EthernetLayer(phy::Device& dev, MacAddr mac, Ipv4Cidr addr, std::size_t mtu, const ArpConfig& arp,
                Stats& stats);

  void set_receiver(Ipv4Receiver* up) { up_ = up; }
  MacAddr mac() const { return mac_; }
  std::size_t mtu() const { return mtu_; }

  // Receive path: one frame as read from the device.
  void on_frame(Bytes frame, Instant now);

  // Transmit path. tx_buffer(len) is the IP datagram area of the frame being built (valid
  // until the next send). send_ipv4 sends those `len` octets to `next_hop`, which may be
  // a unicast neighbour, the limited or directed broadcast, or a multicast group.
  MutBytes tx_buffer(std::size_t len);
  Errno send_ipv4(Ipv4Addr next_hop, std::size_t len, Instant now);
  // Superframes (TCP segmentation offload, docs/offload.md): the largest IPv4 datagram the
  // device segments (0: it cannot), the datagram area of the superframe buffer, and
  // send_ipv4_tso, which hands it to the device with `gso` (offsets from the IPv4 header)
  // to cut into segments. It answers OpNotSupp and sends nothing when the superframe cannot
  // go now (no resolved unicast neighbour, or the device refuses it); the caller then sends
  // plain datagrams, which can wait for ARP.
  std::size_t max_tso_datagram() const { return max_tso_datagram_; }
  MutBytes tso_buffer(std::size_t len);
  Errno send_ipv4_tso(Ipv4Addr next_hop, std::size_t len, phy::GsoInfo gso, Instant now);

  // Multicast groups whose MAC the interface accepts (RFC 1112 §6.4).
  void join_multicast(Ipv4Addr group);
  void leave_multicast(Ipv4Addr group);

  // RFC 5227 §2.3 announcement: a gratuitous ARP request for our own address.
  void announce(Instant now);

  void poll(Instant now);
  std::optional<Instant> next_deadline() const { return cache_.next_deadline(); }
  const NeighborCache& neighbors() const { return cache_; }

 private:
  void on_arp(Bytes payload, Instant now);
  void send_arp(const wire::ArpRepr& arp, MacAddr dst, Instant now);
  Errno send_frame(MacAddr dst, wire::EtherType type, std::size_t payload_len, Instant now);
  void send_pending(MacAddr dst, const std::deque<std::vector<std::byte>>& datagrams, Instant now);
  void request(const ArpRequestToSend& r, Instant now);
  bool accepts(MacAddr dst) const;

  phy::Device& dev_;
  MacAddr mac_;
  Ipv4Cidr addr_;
  std::size_t mtu_;
  std::size_t max_rx_frame_;  // the longest frame accepted: MTU-sized, or a superframe
  // The largest superframe datagram, from the device's tso_max; 0 without TSO.
  std::size_t max_tso_datagram_;
  std::vector<std::byte> tso_frame_;  // the superframe being built (grown on first use)
  Stats& stats_;
  NeighborCache cache_;
  Ipv4Receiver* up_ = nullptr;
  std::multiset<MacAddr> multicast_;  // a multiset: several groups may share one MAC
  std::vector<std::byte> frame_;      // the frame buffer when the device lends none
  MutBytes tx_;                       // the frame being built: a device slot or frame_
  spdlog::logger& log_;
  spdlog::logger& arp_log_;
};

}  // namespace tapir::link
