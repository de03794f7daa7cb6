// The Internet checksum (RFC 1071) with the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1)
// and incremental update (RFC 1624).
#pragma once

#include <cstdint>

#include "tapir/address.hpp"
#include "tapir/bytes.hpp"

namespace tapir {

// Accumulates a one's-complement sum over any number of spans, odd lengths included
// (RFC 1071 §4.1: a trailing odd byte is padded with zero on the right).
class Checksum {
 public:
  void add(Bytes b);
  void add_u16(std::uint16_t v) { sum_ += v; }
  void add_u32(std::uint32_t v) { sum_ += (v >> 16) + (v & 0xffff); }
  // RFC 768 / RFC 9293 §3.1: source, destination, zero, protocol, transport length.
  void add_pseudo_header(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto, std::uint16_t len) {
    add_u32(src.value);
    add_u32(dst.value);
    add_u16(proto);
    add_u16(len);
  }
  // The folded one's-complement sum, complemented: the value that goes on the wire.
  std::uint16_t finish() const;

 private:
  std::uint64_t sum_ = 0;
  bool odd_ = false;  // the previous span ended on an odd byte
};

// Checksum of one span. A packet whose checksum field is included verifies to 0.
std::uint16_t internet_checksum(Bytes b);

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), the checksum after one 16-bit field changes
// from `old_field` to `new_field`, without summing the packet again.
std::uint16_t checksum_update16(std::uint16_t checksum, std::uint16_t old_field,
                                std::uint16_t new_field);

}  // namespace tapir
