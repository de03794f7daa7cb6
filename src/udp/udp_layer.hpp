// UDP (RFC 768; RFC 1122 §4.1): demultiplexing to endpoints, checksums, receive-buffer
// limits, ICMP port unreachable for datagrams no endpoint wants, and ICMP errors turned
// into ECONNREFUSED on connected endpoints (as Linux reports them).
//
// An endpoint is the protocol state of one UDP socket; the socket table owns it and
// attaches it here once it is bound.
#pragma once

#include <functional>
#include <unordered_map>
#include <vector>

#include "ip/ipv4_layer.hpp"
#include "tapir/stats.hpp"
#include "util/slot_ring.hpp"

namespace spdlog {
class logger;
}

namespace tapir::udp {

struct ReceivedDatagram {
  Ipv4Addr from;
  std::uint16_t from_port = 0;
  Ipv4Addr to;                  // our address it was sent to (unicast, broadcast or group)
  std::vector<std::byte> data;  // reused: a queue slot keeps its buffer (SlotRing)
};

struct UdpEndpoint {
  // Binding (set by the socket table) and connection (connect() on a datagram socket).
  Ipv4Addr local_addr;
  std::uint16_t local_port = 0;
  bool connected = false;
  Ipv4Addr remote_addr;
  std::uint16_t remote_port = 0;

  // RFC 1122 §4.1.3.4: a datagram socket keeps datagram boundaries: one queue entry each.
  // The slots and their buffers are reused, so a steady flow allocates nothing; once the
  // queue drains, the socket layer trims it to kRxSlotsKept slots.
  SlotRing<ReceivedDatagram> rx;
  static constexpr std::size_t kRxSlotsKept = 64;
  std::size_t rx_bytes = 0;     // payload octets queued
  std::size_t rcvbuf = 212992;  // SO_RCVBUF: queued payload octets above this are dropped
  std::uint64_t rx_dropped = 0;
  // An asynchronous error (ECONNREFUSED from ICMP port unreachable), reported once by the
  // next call on the socket, then cleared (SO_ERROR reads and clears it too).
  Errno pending_error = Errno::Ok;

  // Options.
  bool broadcast = false;          // SO_BROADCAST
  std::uint8_t ttl = 0;            // IP_TTL (0: the stack default)
  std::uint8_t multicast_ttl = 1;  // IP_MULTICAST_TTL (RFC 1112 §6.1: default 1)
  bool multicast_loop = true;      // IP_MULTICAST_LOOP
  std::vector<Ipv4Addr> groups;    // IP_ADD_MEMBERSHIP

  int owner = -1;  // the socket table's descriptor, for readiness notices
};

class UdpLayer final : public ip::TransportHandler {
 public:
  UdpLayer(ip::Ipv4Layer& ip, UdpStats& stats);

  void attach(UdpEndpoint* ep);
  void detach(UdpEndpoint* ep);

  // Sends `payload` from `ep` to dst:port. Errors: MsgSize (above 65507 octets), Acces
  // (broadcast without SO_BROADCAST), NetUnreach, and the endpoint's pending error.
  Errno send(UdpEndpoint& ep, Ipv4Addr dst, std::uint16_t port, Bytes payload, Instant now);

  void on_datagram(const ip::Datagram& d, Instant now) override;
  void on_icmp_error(const ip::IcmpError& err, Instant now) override;

  // Called with the owner descriptor whenever an endpoint's readiness may have changed.
  void set_notify(std::function<void(int)> f) { notify_ = std::move(f); }

  static constexpr std::size_t kMaxPayload = 65535 - 20 - 8;  // 65507

 private:
  void deliver(UdpEndpoint& ep, const ip::Datagram& d, std::uint16_t src_port, Bytes payload);
  UdpEndpoint* best_match(const std::vector<UdpEndpoint*>& eps, Ipv4Addr src, std::uint16_t sport,
                          Ipv4Addr dst);
  bool matches(const UdpEndpoint& ep, Ipv4Addr src, std::uint16_t sport, Ipv4Addr dst) const;

  ip::Ipv4Layer& ip_;
  UdpStats& stats_;
  std::unordered_map<std::uint16_t, std::vector<UdpEndpoint*>> by_port_;
  std::function<void(int)> notify_;
  std::vector<std::byte> loop_buf_;  // IP_MULTICAST_LOOP's copy of a datagram, reused
  spdlog::logger& log_;
};

}  // namespace tapir::udp
