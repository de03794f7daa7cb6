// PortRegistry: who owns which (protocol, address, port). It only decides binds; the
// demultiplexers of UDP and TCP are separate (gVisor keeps ports.PortManager apart from
// its demuxer for the same reason).
//
// Conflict rule: two reservations of one protocol and port conflict when their addresses
// are equal or either is the wildcard 0.0.0.0 — unless the reuse rules allow it. tapir
// follows Linux's SO_REUSEADDR semantics (net/ipv4/inet_connection_sock.c, udp.c):
//  * UDP: allowed when both sockets set SO_REUSEADDR (then both receive broadcasts and
//    multicasts; a unicast goes to the most specific, else the latest bound).
//  * TCP: allowed when both set SO_REUSEADDR and neither is listening; a connection in
//    TIME-WAIT never blocks a socket that sets SO_REUSEADDR (RFC 9293 §3.6.1 reuse).
// Ephemeral ports come from a configurable range (RFC 6335 §6: 49152-65535 by default),
// chosen by RFC 6056 §3.3.1 Algorithm 1: a seeded random offset, then a linear probe;
// a caller's predicate can reject candidates (TCP: a port whose 4-tuple is in use).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "tapir/address.hpp"
#include "tapir/errno.hpp"
#include "tapir/random.hpp"
#include "tapir/result.hpp"

namespace tapir::socket {

enum class Proto : std::uint8_t { Udp, Tcp };

struct Reservation {
  Proto proto;
  Ipv4Addr addr;
  std::uint16_t port;
  bool reuse_addr = false;
  bool listening = false;   // TCP: in LISTEN
  bool time_wait = false;   // TCP: only a TIME-WAIT connection holds it
  std::uint64_t owner = 0;  // an opaque id of the socket holding it
};

class PortRegistry {
 public:
  PortRegistry(std::uint16_t first, std::uint16_t last, Rng& rng)
      : first_(first), last_(last), rng_(rng) {}

  // Reserves `r.port` (or, when it is 0, an ephemeral port accepted by `usable`).
  // Errors: AddrInUse (conflict), AddrNotAvail (ephemeral range exhausted).
  Result<std::uint16_t> reserve(Reservation r,
                                const std::function<bool(std::uint16_t)>& usable = {});
  // Releases the reservation of `owner` on (proto, port); a no-op if there is none.
  void release(Proto proto, std::uint16_t port, std::uint64_t owner);
  // Updates the flags of an existing reservation (listen(), entering TIME-WAIT).
  void update(Proto proto, std::uint16_t port, std::uint64_t owner, bool listening, bool time_wait);

  bool conflicts(const Reservation& r) const;
  std::size_t size() const;
  std::pair<std::uint16_t, std::uint16_t> ephemeral_range() const { return {first_, last_}; }

 private:
  static std::uint32_t key(Proto p, std::uint16_t port) {
    return (static_cast<std::uint32_t>(p) << 16) | port;
  }
  std::uint16_t first_, last_;
  Rng& rng_;
  std::map<std::uint32_t, std::vector<Reservation>> held_;
};

}  // namespace tapir::socket
