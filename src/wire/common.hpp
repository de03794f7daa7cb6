// Shared vocabulary of the wire codecs: parse errors with a reason, protocol numbers,
// and the field-table helper. wire/ is pure: no state, no I/O, no logging, no allocation.
//
// The contract (after smoltcp's wire/mod.rs):
//  * A view's `checked(span)` validates every length invariant once. After it succeeds no
//    accessor can read out of bounds. Untrusted input is only ever parsed through checked().
//  * `unchecked(span)` is for transmit buffers, which the sender sized exactly from the
//    repr's header_len(); never call checked() on a transmit buffer.
//  * A repr is a plain value: `parse(view)` checks semantics (checksums, flag combinations)
//    and `emit(view)` writes exactly header_len() bytes and never fails.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tapir/bytes.hpp"
#include "tapir/result.hpp"

namespace tapir::wire {

enum class ParseError : std::uint8_t {
  Truncated,     // the buffer ends before a field the header says is there
  BadVersion,    // IP version is not 4
  BadHeaderLen,  // IHL / data offset below the minimum or beyond the buffer
  BadTotalLen,   // a length field disagrees with the header or the buffer
  BadChecksum,   // checksum mismatch
  BadOption,     // an option's length runs past the header or is below its minimum
  BadFlags,      // an illegal flag combination (TCP SYN+FIN, SYN+RST, no flags)
  BadPort,       // port 0 where a real port is required
  BadAddress,    // an address that may not appear in this field
  Unsupported,   // a well-formed header this stack does not speak (ARP over non-Ethernet)
};
std::string_view to_string(ParseError e);

enum class ChecksumMode : std::uint8_t {
  Verify,  // receive: check, and fail with BadChecksum
  Ignore,  // receive with checksum offload, or replaying a capture with offloaded checksums
};

// RFC 1700 / IANA numbers. The fixed underlying type keeps unknown values intact, so an
// unknown EtherType or protocol survives a round trip (like smoltcp's Unknown(x)).
enum class EtherType : std::uint16_t { Ipv4 = 0x0800, Arp = 0x0806, Vlan = 0x8100, Ipv6 = 0x86dd };
enum class IpProto : std::uint8_t { Icmp = 1, Igmp = 2, Tcp = 6, Udp = 17 };

// A header field: `off` bytes from the start, `len` bytes long.
struct Field {
  std::size_t off;
  std::size_t len;
  constexpr std::size_t end() const { return off + len; }
};

template <class S>
concept WritableSpan = std::same_as<S, MutBytes>;

template <class S>
concept ByteSpan = std::same_as<S, MutBytes> || std::same_as<S, Bytes>;

}  // namespace tapir::wire
