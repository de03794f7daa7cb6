// What the IP layer hands to the protocols above it, and what they hand back.
#pragma once

#include "tapir/address.hpp"
#include "tapir/time.hpp"
#include "wire/ipv4.hpp"

namespace tapir::ip {

// A received datagram, whole (reassembled if it came in fragments).
struct Datagram {
  const wire::Ipv4Repr& ip;
  Bytes payload;
  bool link_multicast = false;  // arrived in a link-layer broadcast or multicast frame
  // The IP destination was a broadcast or multicast address (not our unicast address).
  bool to_group() const { return ip.dst.is_broadcast() || ip.dst.is_multicast() || group_dst; }
  bool group_dst = false;  // directed broadcast of our subnet
  // The device vouched for the TCP/UDP checksum or left it to offload (only the
  // pseudo-header sum is filled in): the transport skips its own check. Set only for
  // frames from a trusted host-side device (a TAP with offloads), never from a wire.
  bool transport_checksum_verified_by_device = false;
};

// An ICMP error (RFC 792) about a datagram we sent, as delivered to its protocol.
struct IcmpError {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t rest = 0;  // e.g. next-hop MTU for fragmentation needed (RFC 1191)
  Ipv4Addr reporter;       // who sent the error
  wire::Ipv4Repr inner;    // the header of our datagram, as quoted
  Bytes inner_payload;     // at least its first 8 octets (ports of UDP/TCP)
};

// A protocol above IP (ICMP, IGMP, UDP, TCP).
class TransportHandler {
 public:
  virtual void on_datagram(const Datagram& d, Instant now) = 0;
  virtual void on_icmp_error(const IcmpError& /*err*/, Instant /*now*/) {}

 protected:
  ~TransportHandler() = default;
};

// A datagram the device segments (TCP segmentation offload, docs/offload.md): it leaves as
// `segments` datagrams, each with a copy of the first `header_len` octets of the payload
// (the transport header) and the next `segment_size` octets of what follows.
struct TsoParams {
  std::uint16_t segment_size = 0;
  std::uint16_t header_len = 0;
  std::uint16_t csum_offset = 0;  // the transport checksum field, from the transport header
  std::size_t segments = 0;
};

// How to send one datagram. The payload is written by the caller's fill callback.
struct SendParams {
  Ipv4Addr dst;
  wire::IpProto proto = wire::IpProto::Udp;
  std::optional<Ipv4Addr> src;  // default: the interface address
  std::uint8_t ttl = 0;         // 0: the configured default
  std::uint8_t tos = 0;
  bool dont_frag = false;
  Bytes options;  // a multiple of 4 octets (e.g. IGMP's Router Alert)
  // Set: a superframe for the device to segment, above the MTU (Ipv4Layer::send).
  std::optional<TsoParams> tso;
};

}  // namespace tapir::ip
