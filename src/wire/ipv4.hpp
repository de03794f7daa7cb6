// IPv4 header (RFC 791 §3.1).
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |Version|  IHL  |Type of Service|          Total Length         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |         Identification        |Flags|      Fragment Offset    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Time to Live |    Protocol   |         Header Checksum       |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                       Source Address                          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    Destination Address                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    Options                    |    Padding    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <array>

#include "tapir/address.hpp"
#include "util/checksum.hpp"
#include "wire/common.hpp"

namespace tapir::wire {

namespace ipv4_field {
inline constexpr Field kVerIhl{0, 1};
inline constexpr Field kTos{1, 1};
inline constexpr Field kTotalLen{2, 2};
inline constexpr Field kIdent{4, 2};
inline constexpr Field kFlagsFrag{6, 2};
inline constexpr Field kTtl{8, 1};
inline constexpr Field kProto{9, 1};
inline constexpr Field kChecksum{10, 2};
inline constexpr Field kSrc{12, 4};
inline constexpr Field kDst{16, 4};
}  // namespace ipv4_field

template <ByteSpan S>
class Ipv4Packet {
 public:
  static constexpr std::size_t kMinHeaderLen = ipv4_field::kDst.end();  // 20
  static constexpr std::size_t kMaxHeaderLen = 60;
  static constexpr std::uint16_t kFlagDf = 0x4000;
  static constexpr std::uint16_t kFlagMf = 0x2000;

  // smoltcp's ordered checks: the fixed header fits, version 4, IHL >= 5, the IHL bytes fit,
  // IHL <= total length, total length <= buffer. Trailing bytes (Ethernet padding) are allowed
  // and cut off by payload().
  static Result<Ipv4Packet, ParseError> checked(S s) {
    if (s.size() < kMinHeaderLen) return ParseError::Truncated;
    Ipv4Packet p(s);
    if (p.version() != 4) return ParseError::BadVersion;
    if (p.header_len() < kMinHeaderLen) return ParseError::BadHeaderLen;
    if (p.header_len() > s.size()) return ParseError::Truncated;
    if (p.total_len() < p.header_len()) return ParseError::BadTotalLen;
    if (p.total_len() > s.size()) return ParseError::Truncated;
    return p;
  }
  static Ipv4Packet unchecked(S s) { return Ipv4Packet(s); }

  std::uint8_t version() const { return load_u8(b_, 0) >> 4; }
  std::size_t header_len() const { return std::size_t{load_u8(b_, 0) & 0x0fu} * 4; }
  std::uint8_t tos() const { return load_u8(b_, ipv4_field::kTos.off); }
  std::uint16_t total_len() const { return load_be16(b_, ipv4_field::kTotalLen.off); }
  std::uint16_t ident() const { return load_be16(b_, ipv4_field::kIdent.off); }
  bool dont_frag() const { return (flags_frag() & kFlagDf) != 0; }
  bool more_frags() const { return (flags_frag() & kFlagMf) != 0; }
  // The fragment offset in octets (the field counts 8-octet units).
  std::uint16_t frag_offset() const {
    return static_cast<std::uint16_t>((flags_frag() & 0x1fff) * 8);
  }
  bool reserved_flag() const { return (flags_frag() & 0x8000) != 0; }
  std::uint8_t ttl() const { return load_u8(b_, ipv4_field::kTtl.off); }
  IpProto protocol() const { return IpProto{load_u8(b_, ipv4_field::kProto.off)}; }
  std::uint16_t checksum() const { return load_be16(b_, ipv4_field::kChecksum.off); }
  Ipv4Addr src() const { return {load_be32(b_, ipv4_field::kSrc.off)}; }
  Ipv4Addr dst() const { return {load_be32(b_, ipv4_field::kDst.off)}; }
  S options() const { return b_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen); }
  S header() const { return b_.first(header_len()); }
  S payload() const { return b_.subspan(header_len(), total_len() - header_len()); }
  bool verify_checksum() const { return internet_checksum(header()) == 0; }
  bool is_fragment() const { return more_frags() || frag_offset() != 0; }

  void set_ver_ihl(std::size_t header_len) requires WritableSpan<S> {
    store_u8(b_, 0, static_cast<std::uint8_t>(0x40 | (header_len / 4)));
  }
  void set_tos(std::uint8_t v) requires WritableSpan<S> { store_u8(b_, ipv4_field::kTos.off, v); }
  void set_total_len(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, ipv4_field::kTotalLen.off, v);
  }
  void set_ident(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, ipv4_field::kIdent.off, v);
  }
  void set_flags_frag(bool df, bool mf, std::uint16_t offset_bytes) requires WritableSpan<S> {
    std::uint16_t v = static_cast<std::uint16_t>((df ? kFlagDf : 0) | (mf ? kFlagMf : 0) |
                                                 ((offset_bytes / 8) & 0x1fff));
    store_be16(b_, ipv4_field::kFlagsFrag.off, v);
  }
  void set_ttl(std::uint8_t v) requires WritableSpan<S> { store_u8(b_, ipv4_field::kTtl.off, v); }
  void set_protocol(IpProto p) requires WritableSpan<S> {
    store_u8(b_, ipv4_field::kProto.off, static_cast<std::uint8_t>(p));
  }
  void set_src(Ipv4Addr a) requires WritableSpan<S> {
    store_be32(b_, ipv4_field::kSrc.off, a.value);
  }
  void set_dst(Ipv4Addr a) requires WritableSpan<S> {
    store_be32(b_, ipv4_field::kDst.off, a.value);
  }
  void fill_checksum() requires WritableSpan<S> {
    store_be16(b_, ipv4_field::kChecksum.off, 0);
    store_be16(b_, ipv4_field::kChecksum.off, internet_checksum(header()));
  }

 private:
  explicit Ipv4Packet(S s) : b_(s) {}
  std::uint16_t flags_frag() const { return load_be16(b_, ipv4_field::kFlagsFrag.off); }
  S b_;
};
using Ipv4View = Ipv4Packet<Bytes>;

// RFC 791 §3.1 option kinds that matter to a host.
namespace ipv4_option {
inline constexpr std::uint8_t kEnd = 0;
inline constexpr std::uint8_t kNop = 1;
inline constexpr std::uint8_t kRecordRoute = 7;
inline constexpr std::uint8_t kTimestamp = 68;
inline constexpr std::uint8_t kLooseSourceRoute = 131;
inline constexpr std::uint8_t kStrictSourceRoute = 137;
inline constexpr std::uint8_t kRouterAlert = 148;  // RFC 2113, used by IGMP
}  // namespace ipv4_option

// Checks the option list's structure (RFC 791 §3.1: End and NOP are one octet, every other
// option carries a length >= 2 that stays inside the header).
Result<bool, ParseError> validate_ipv4_options(Bytes options);

struct Ipv4Repr {
  Ipv4Addr src;
  Ipv4Addr dst;
  IpProto protocol = IpProto::Udp;
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;
  std::uint16_t ident = 0;
  bool dont_frag = false;
  bool more_frags = false;
  std::uint16_t frag_offset = 0;  // octets
  std::uint16_t payload_len = 0;
  // Options kept as raw bytes (a multiple of 4 octets, padding included) so that a parsed
  // header re-emits byte for byte.
  std::array<std::byte, 40> options{};
  std::uint8_t options_len = 0;

  // Semantic checks on a checked view: header checksum (unless ignored) and option structure.
  static Result<Ipv4Repr, ParseError> parse(const Ipv4View& p,
                                            ChecksumMode mode = ChecksumMode::Verify);
  std::size_t header_len() const { return Ipv4View::kMinHeaderLen + options_len; }
  std::size_t total_len() const { return header_len() + payload_len; }
  // Writes exactly header_len() octets with a valid checksum into `out` (sized by the caller).
  void emit(MutBytes out) const;
  Bytes option_bytes() const { return Bytes(options.data(), options_len); }
  friend bool operator==(const Ipv4Repr&, const Ipv4Repr&) = default;
};

}  // namespace tapir::wire
