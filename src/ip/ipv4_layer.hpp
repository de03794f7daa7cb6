// IPv4 (RFC 791; RFC 1122 §3.2.1, §3.3): validation of received datagrams, delivery to
// the protocol above, reassembly, routing of outgoing datagrams (on-link or via the
// default gateway), fragmentation above the MTU, and IP identification.
#pragma once

#include <array>
#include <set>

#include "ip/datagram.hpp"
#include "ip/icmp.hpp"
#include "ip/igmp.hpp"
#include "ip/reassembly.hpp"
#include "link/ethernet_layer.hpp"
#include "tapir/random.hpp"
#include "util/function_ref.hpp"

namespace tapir::ip {

using FillPayload = FunctionRef<void(MutBytes payload, const wire::Ipv4Repr& hdr)>;

class Ipv4Layer final : public link::Ipv4Receiver {
 public:
  Ipv4Layer(link::EthernetLayer& link, const StackConfig& cfg, Stats& stats, Rng& rng);

  // Registers the handler of an IP protocol (UDP, TCP, IGMP). ICMP is built in.
  void add_protocol(wire::IpProto proto, TransportHandler* h);

  void on_ipv4(Bytes datagram, Instant now, bool link_multicast, bool checksum_offloaded) override;
  void on_unresolved(Bytes datagram, Instant now) override;

  // Sends one datagram of `payload_len` octets written by `fill` (which also receives the
  // final header, for pseudo-header checksums). Fragments above the MTU (RFC 791 §3.2).
  // Errors: MsgSize (above 65535, or above the MTU with dont_frag), NetUnreach (no route).
  // With p.tso, a superframe up to max_tso_datagram() for the device to segment; OpNotSupp
  // (nothing sent) when it cannot go that way now, so the caller sends plain datagrams.
  Errno send(const SendParams& p, std::size_t payload_len, FillPayload fill, Instant now);
  // The largest superframe send() takes with p.tso, 0 when the device cannot segment.
  std::size_t max_tso_datagram() const { return link_.max_tso_datagram(); }

  // The neighbour to hand a datagram for `dst` to: dst itself when on-link (or broadcast
  // / multicast), else the default gateway; nullopt when there is no route.
  std::optional<Ipv4Addr> next_hop(Ipv4Addr dst) const;
  // True for addresses this host receives on: its own, broadcasts, joined groups.
  bool accepts(Ipv4Addr dst) const;
  bool is_local(Ipv4Addr a) const { return a == cfg_.address.addr; }
  Ipv4Cidr address() const { return cfg_.address; }
  std::size_t mtu() const { return link_.mtu(); }

  // Group membership, counted per member: the first join and the last leave change the
  // link-layer filter and tell IGMP (RFC 1112 §7.2, RFC 2236 §3).
  void join_group(Ipv4Addr group, Instant now);
  void leave_group(Ipv4Addr group, Instant now);
  bool joined(Ipv4Addr group) const { return groups_.contains(group); }

  Icmp& icmp() { return icmp_; }
  Igmp& igmp() { return igmp_; }
  void poll(Instant now);
  std::optional<Instant> next_deadline() const {
    return earliest(reasm_.next_deadline(), igmp_.next_deadline());
  }

 private:
  bool valid_source(Ipv4Addr src) const;
  void deliver(const Datagram& d, Instant now);
  Errno send_fragmented(const wire::Ipv4Repr& hdr, Ipv4Addr next_hop, FillPayload fill,
                        Instant now);
  Errno send_tso(wire::Ipv4Repr& hdr, Ipv4Addr next_hop, const TsoParams& tso, FillPayload fill,
                 Instant now);

  link::EthernetLayer& link_;
  StackConfig cfg_;
  Stats& stats_;
  Icmp icmp_;
  Igmp igmp_;
  Reassembly reasm_;
  std::array<TransportHandler*, 256> handlers_{};
  std::multiset<Ipv4Addr> groups_;
  std::uint16_t next_ident_;
  std::vector<std::byte> frag_buf_;  // whole payload of a datagram being fragmented
  spdlog::logger& log_;
};

}  // namespace tapir::ip
