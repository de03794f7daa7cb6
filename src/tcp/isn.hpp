// Initial sequence numbers per RFC 6528 §3 (folded into RFC 9293 §3.4.1, MUST-8/SHLD-1):
//
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// M is a timer ticking every 4 microseconds, taken from the Instant passed in (never a
// clock), and F is SipHash-2-4 keyed with a 128-bit secret drawn once from the injected
// Rng. The same seed gives the same ISNs, so traces replay exactly; different 4-tuples get
// unrelated sequence spaces, and one connection's ISN tells nothing about another's.
//
// SipHash-2-4 is implemented here from its published description (Aumasson and Bernstein,
// "SipHash: a fast short-input PRF", 2012) and checked against the paper's test vector.
#pragma once

#include <cstdint>

#include "tapir/address.hpp"
#include "tapir/bytes.hpp"
#include "tapir/random.hpp"
#include "tapir/time.hpp"
#include "tcp/seq.hpp"

namespace tapir::tcp {

// A 128-bit SipHash key as two 64-bit words (k0 = key bytes 0..7, little-endian).
struct SipKey {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
  // The key from 16 bytes, as the paper encodes it (little-endian words).
  static SipKey from_bytes(Bytes b16);
  friend bool operator==(const SipKey&, const SipKey&) = default;
};

// SipHash-2-4 of `data` under `key` (2 compression rounds, 4 finalization rounds).
std::uint64_t siphash24(const SipKey& key, Bytes data);

class IsnGenerator {
 public:
  // Draws the secret from `rng` (RFC 6528 §3: a key of 128 bits "should be adequate").
  explicit IsnGenerator(Rng& rng);
  explicit IsnGenerator(SipKey secret) : secret_(secret) {}

  // The ISN for a connection from local_ip:local_port to remote_ip:remote_port at `now`.
  SeqNum isn(Ipv4Addr local_ip, std::uint16_t local_port, Ipv4Addr remote_ip,
             std::uint16_t remote_port, Instant now) const;

  // RFC 7323 §5.4: the offset added to the timestamp clock of this connection, the same
  // PRF over the 4-tuple with a different input, so it is unrelated to F of the ISN.
  std::uint32_t ts_offset(Ipv4Addr local_ip, std::uint16_t local_port, Ipv4Addr remote_ip,
                          std::uint16_t remote_port) const;

 private:
  SipKey secret_;
};

}  // namespace tapir::tcp
