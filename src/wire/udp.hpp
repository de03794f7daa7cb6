// UDP over IPv4 (RFC 768), checksummed over the IPv4 pseudo-header.
//
//   0      7 8     15 16    23 24    31
//  +--------+--------+--------+--------+
//  |     Source      |   Destination   |
//  |      Port       |      Port       |
//  +--------+--------+--------+--------+
//  |     Length      |    Checksum     |
//  +--------+--------+--------+--------+
//  |          data octets ...
//  +---------------- ...
//
// Length counts the header and the data. A zero checksum means the sender computed none
// (RFC 768 "Fields"); a computed checksum of zero is therefore sent as all ones.
#pragma once

#include "tapir/address.hpp"
#include "util/checksum.hpp"
#include "wire/common.hpp"

namespace tapir::wire {

namespace udp_field {
inline constexpr Field kSrcPort{0, 2};
inline constexpr Field kDstPort{2, 2};
inline constexpr Field kLength{4, 2};
inline constexpr Field kChecksum{6, 2};
}  // namespace udp_field

template <ByteSpan S>
class UdpPacket {
 public:
  static constexpr std::size_t kHeaderLen = udp_field::kChecksum.end();  // 8

  // `s` is the IP payload. Checks, in order: the header fits (Truncated), the length field
  // covers at least the header (BadTotalLen) and stays inside the IP payload (BadTotalLen:
  // the two length fields disagree). Octets past the length field are ignored.
  static Result<UdpPacket, ParseError> checked(S s) {
    if (s.size() < kHeaderLen) return ParseError::Truncated;
    UdpPacket p(s);
    if (p.length() < kHeaderLen) return ParseError::BadTotalLen;
    if (p.length() > s.size()) return ParseError::BadTotalLen;
    return p;
  }
  static UdpPacket unchecked(S s) { return UdpPacket(s); }

  std::uint16_t src_port() const { return load_be16(b_, udp_field::kSrcPort.off); }
  std::uint16_t dst_port() const { return load_be16(b_, udp_field::kDstPort.off); }
  std::uint16_t length() const { return load_be16(b_, udp_field::kLength.off); }
  std::uint16_t checksum() const { return load_be16(b_, udp_field::kChecksum.off); }
  S header() const { return b_.first(kHeaderLen); }
  // Header and data, cut to the length field.
  S datagram() const { return b_.first(length()); }
  S payload() const { return b_.subspan(kHeaderLen, length() - kHeaderLen); }
  // True when the checksum is absent (zero) or sums to zero with the pseudo-header.
  bool verify_checksum(Ipv4Addr src, Ipv4Addr dst) const {
    if (checksum() == 0) return true;
    return sum(src, dst) == 0;
  }

  void set_src_port(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, udp_field::kSrcPort.off, v);
  }
  void set_dst_port(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, udp_field::kDstPort.off, v);
  }
  void set_length(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, udp_field::kLength.off, v);
  }
  void set_checksum(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, udp_field::kChecksum.off, v);
  }
  // Computes the checksum over pseudo-header, header and data (length() octets).
  void fill_checksum(Ipv4Addr src, Ipv4Addr dst) requires WritableSpan<S> {
    set_checksum(0);
    std::uint16_t c = sum(src, dst);
    // RFC 768: "If the computed checksum is zero, it is transmitted as all ones".
    set_checksum(c == 0 ? 0xffff : c);
  }

 private:
  explicit UdpPacket(S s) : b_(s) {}
  std::uint16_t sum(Ipv4Addr src, Ipv4Addr dst) const {
    Checksum c;
    c.add_pseudo_header(src, dst, static_cast<std::uint8_t>(IpProto::Udp), length());
    c.add(datagram());
    return c.finish();
  }
  S b_;
};
using UdpView = UdpPacket<Bytes>;

struct UdpRepr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t payload_len = 0;
  // RFC 768: false means "no checksum" (sent and received as zero). parse() sets it from
  // the received field so that a datagram without a checksum re-emits without one.
  bool has_checksum = true;

  // Semantic checks on a checked view: the checksum (unless ignored or absent), then the
  // destination port (BadPort for 0, which no socket can bind).
  static Result<UdpRepr, ParseError> parse(const UdpView& p, Ipv4Addr src, Ipv4Addr dst,
                                           ChecksumMode mode = ChecksumMode::Verify);
  static constexpr std::size_t header_len() { return UdpView::kHeaderLen; }
  std::size_t buffer_len() const { return header_len() + payload_len; }
  // `out` holds header_len() octets for the header followed by the payload_len octets of
  // data the caller already placed there. Fills the header and the checksum.
  void emit(MutBytes out, Ipv4Addr src, Ipv4Addr dst) const;
  friend bool operator==(const UdpRepr&, const UdpRepr&) = default;
};

}  // namespace tapir::wire
