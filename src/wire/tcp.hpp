// TCP header (RFC 9293 §3.1) and options: End of Option List, No-Operation and Maximum
// Segment Size (RFC 9293 §3.2), Window Scale and Timestamps (RFC 7323 §2.2, §3.2),
// SACK-Permitted and SACK (RFC 2018 §2, §3). Other option kinds are skipped on parse and
// kept only in the raw option bytes. Connection logic lives in src/tcp/, not here.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |          Source Port          |       Destination Port        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                        Sequence Number                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                    Acknowledgment Number                      |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Data |       |C|E|U|A|P|R|S|F|                               |
//  | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//  |       |       |R|E|G|K|H|T|N|N|                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |           Checksum            |         Urgent Pointer        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                           [Options]                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "tapir/address.hpp"
#include "util/checksum.hpp"
#include "wire/common.hpp"

namespace tapir::wire {

namespace tcp_field {
inline constexpr Field kSrcPort{0, 2};
inline constexpr Field kDstPort{2, 2};
inline constexpr Field kSeq{4, 4};
inline constexpr Field kAck{8, 4};
inline constexpr Field kOffset{12, 1};  // data offset (high nibble) and Rsrvd (low nibble)
inline constexpr Field kFlags{13, 1};
inline constexpr Field kWindow{14, 2};
inline constexpr Field kChecksum{16, 2};
inline constexpr Field kUrgent{18, 2};
}  // namespace tcp_field

// Option kinds and their fixed total lengths (kind and length octets included).
namespace tcp_option {
inline constexpr std::uint8_t kEnd = 0;            // RFC 9293 §3.2
inline constexpr std::uint8_t kNop = 1;            // RFC 9293 §3.2
inline constexpr std::uint8_t kMss = 2;            // RFC 9293 §3.2, §3.7.1
inline constexpr std::uint8_t kWindowScale = 3;    // RFC 7323 §2.2
inline constexpr std::uint8_t kSackPermitted = 4;  // RFC 2018 §2
inline constexpr std::uint8_t kSack = 5;           // RFC 2018 §3
inline constexpr std::uint8_t kTimestamps = 8;     // RFC 7323 §3.2
inline constexpr std::uint8_t kMssLen = 4;
inline constexpr std::uint8_t kWindowScaleLen = 3;
inline constexpr std::uint8_t kSackPermittedLen = 2;
inline constexpr std::uint8_t kTimestampsLen = 10;
inline constexpr std::size_t kSackBlockLen = 8;
inline constexpr std::size_t kMaxSackBlocks = 4;  // (40 - 2) / 8: what fits in the header
inline constexpr std::size_t kMaxLen = 40;        // 60-octet header minus the fixed 20
}  // namespace tcp_option

// The eight control bits, in wire order (RFC 9293 §3.1; ECE and CWR from RFC 3168 §6.1).
// Designated initializers must follow this order: TcpFlags{.syn = true, .ack = true}.
struct TcpFlags {
  bool fin = false;
  bool syn = false;
  bool rst = false;
  bool psh = false;
  bool ack = false;
  bool urg = false;
  bool ece = false;
  bool cwr = false;

  static constexpr TcpFlags from_bits(std::uint8_t b) {
    return {(b & 0x01) != 0, (b & 0x02) != 0, (b & 0x04) != 0, (b & 0x08) != 0,
            (b & 0x10) != 0, (b & 0x20) != 0, (b & 0x40) != 0, (b & 0x80) != 0};
  }
  constexpr std::uint8_t bits() const {
    return static_cast<std::uint8_t>(fin | syn << 1 | rst << 2 | psh << 3 | ack << 4 | urg << 5 |
                                     ece << 6 | cwr << 7);
  }
  constexpr bool none() const { return bits() == 0; }
  friend constexpr bool operator==(const TcpFlags&, const TcpFlags&) = default;
};

// RFC 2018 §3: a block of received, non-contiguous data [left, right).
struct SackBlock {
  std::uint32_t left = 0;
  std::uint32_t right = 0;
  friend constexpr bool operator==(const SackBlock&, const SackBlock&) = default;
};

// One option as it sits in the header: `value` is what follows the kind and length
// octets (empty for End and NOP).
struct TcpOptionView {
  std::uint8_t kind = 0;
  Bytes value;
};

// Walks an option list, calling f(TcpOptionView) for each option, End included, and stops
// after End (RFC 9293 §3.2: what follows is padding). Returns BadOption when a length
// octet is missing, below 2, or runs past the header. Does not check per-kind lengths.
template <class F>
Result<bool, ParseError> for_each_tcp_option(Bytes opts, F&& f) {
  std::size_t i = 0;
  while (i < opts.size()) {
    std::uint8_t kind = load_u8(opts, i);
    if (kind == tcp_option::kEnd || kind == tcp_option::kNop) {
      f(TcpOptionView{kind, {}});
      if (kind == tcp_option::kEnd) break;
      ++i;
      continue;
    }
    if (i + 1 >= opts.size()) return ParseError::BadOption;
    std::size_t len = load_u8(opts, i + 1);
    if (len < 2 || i + len > opts.size()) return ParseError::BadOption;
    f(TcpOptionView{kind, opts.subspan(i + 2, len - 2)});
    i += len;
  }
  return true;
}

template <ByteSpan S>
class TcpPacket {
 public:
  static constexpr std::size_t kMinHeaderLen = tcp_field::kUrgent.end();  // 20
  static constexpr std::size_t kMaxHeaderLen = 60;

  // `s` is the whole segment (the IP payload). Checks, in order: the fixed header fits
  // (Truncated), the data offset is at least 5 words (BadHeaderLen), the offset's header
  // fits (Truncated).
  static Result<TcpPacket, ParseError> checked(S s) {
    if (s.size() < kMinHeaderLen) return ParseError::Truncated;
    TcpPacket p(s);
    if (p.header_len() < kMinHeaderLen) return ParseError::BadHeaderLen;
    if (p.header_len() > s.size()) return ParseError::Truncated;
    return p;
  }
  static TcpPacket unchecked(S s) { return TcpPacket(s); }

  std::uint16_t src_port() const { return load_be16(b_, tcp_field::kSrcPort.off); }
  std::uint16_t dst_port() const { return load_be16(b_, tcp_field::kDstPort.off); }
  std::uint32_t seq_number() const { return load_be32(b_, tcp_field::kSeq.off); }
  std::uint32_t ack_number() const { return load_be32(b_, tcp_field::kAck.off); }
  std::size_t header_len() const {
    return static_cast<std::size_t>(load_u8(b_, tcp_field::kOffset.off) >> 4) * 4;
  }
  // The four Rsrvd bits; RFC 9293 §3.1: "A sender MUST set them to zero".
  std::uint8_t reserved() const { return load_u8(b_, tcp_field::kOffset.off) & 0x0f; }
  TcpFlags flags() const { return TcpFlags::from_bits(load_u8(b_, tcp_field::kFlags.off)); }
  std::uint16_t window() const { return load_be16(b_, tcp_field::kWindow.off); }
  std::uint16_t checksum() const { return load_be16(b_, tcp_field::kChecksum.off); }
  std::uint16_t urgent() const { return load_be16(b_, tcp_field::kUrgent.off); }
  S header() const { return b_.first(header_len()); }
  S options() const { return b_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen); }
  S payload() const { return b_.subspan(header_len()); }
  S segment() const { return b_; }
  // RFC 9293 §3.1: the checksum covers the pseudo-header, the header and the data.
  bool verify_checksum(Ipv4Addr src, Ipv4Addr dst) const { return sum(src, dst) == 0; }

  void set_src_port(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, tcp_field::kSrcPort.off, v);
  }
  void set_dst_port(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, tcp_field::kDstPort.off, v);
  }
  void set_seq_number(std::uint32_t v) requires WritableSpan<S> {
    store_be32(b_, tcp_field::kSeq.off, v);
  }
  void set_ack_number(std::uint32_t v) requires WritableSpan<S> {
    store_be32(b_, tcp_field::kAck.off, v);
  }
  // Writes the data offset and the Rsrvd bits (one octet).
  void set_header_len(std::size_t len, std::uint8_t reserved_bits = 0) requires WritableSpan<S> {
    store_u8(b_, tcp_field::kOffset.off,
             static_cast<std::uint8_t>((len / 4) << 4 | (reserved_bits & 0x0f)));
  }
  void set_flags(TcpFlags f) requires WritableSpan<S> {
    store_u8(b_, tcp_field::kFlags.off, f.bits());
  }
  void set_window(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, tcp_field::kWindow.off, v);
  }
  void set_checksum(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, tcp_field::kChecksum.off, v);
  }
  void set_urgent(std::uint16_t v) requires WritableSpan<S> {
    store_be16(b_, tcp_field::kUrgent.off, v);
  }
  // Checksums the whole span as the segment.
  void fill_checksum(Ipv4Addr src, Ipv4Addr dst) requires WritableSpan<S> {
    set_checksum(0);
    set_checksum(sum(src, dst));
  }

 private:
  explicit TcpPacket(S s) : b_(s) {}
  std::uint16_t sum(Ipv4Addr src, Ipv4Addr dst) const {
    Checksum c;
    c.add_pseudo_header(src, dst, static_cast<std::uint8_t>(IpProto::Tcp),
                        static_cast<std::uint16_t>(b_.size()));
    c.add(b_);
    return c.finish();
  }
  S b_;
};
using TcpView = TcpPacket<Bytes>;

struct TcpRepr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  TcpFlags flags;
  std::uint16_t window = 0;  // as on the wire: not scaled
  std::uint16_t urgent = 0;
  std::uint8_t reserved = 0;  // Rsrvd bits, kept so a received header re-emits exactly

  // Options, decoded. The wire layer reports what is there; the connection decides what
  // counts (RFC 7323 §2.2: Window Scale outside a SYN is ignored; §2.3: shifts above 14
  // are used as 14; RFC 9293 §3.7.1: MSS only in SYNs).
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> timestamps;  // (TSval, TSecr)
  std::array<SackBlock, tcp_option::kMaxSackBlocks> sack{};
  std::uint8_t sack_count = 0;

  Bytes payload;  // views the parsed (or caller's) buffer: valid while it is

  // The option octets exactly as received (set by parse()). emit() writes them verbatim
  // while they still decode to the option fields above, so emit(parse(x)) == x even for a
  // peer whose layout differs from ours; once the fields are changed, or for a repr built
  // by code, emit() writes the canonical layout instead (see options_len()).
  std::array<std::byte, tcp_option::kMaxLen> raw_options{};
  std::uint8_t raw_options_len = 0;

  // Checks, in order: the checksum over pseudo-header, header and data (unless ignored),
  // the flag combination (BadFlags), and the options (BadOption).
  static Result<TcpRepr, ParseError> parse(const TcpView& p, Ipv4Addr src, Ipv4Addr dst,
                                           ChecksumMode mode = ChecksumMode::Verify);

  // Octets of options emit() writes: the raw bytes if they still match the fields,
  // otherwise Linux's SYN layout (so our SYNs look like Linux's), 4-aligned by construction:
  //   MSS | SACK-Permitted+Timestamps, or NOP NOP Timestamps |
  //   NOP NOP SACK-Permitted (only without Timestamps) | NOP Window-Scale |
  //   NOP NOP SACK blocks.
  // SACK blocks that do not fit in the 40 octets left are not sent (RFC 2018 §3: with
  // Timestamps at most 3 fit).
  std::size_t options_len() const;
  std::size_t header_len() const { return TcpView::kMinHeaderLen + options_len(); }
  std::size_t buffer_len() const { return header_len() + payload.size(); }
  // `out` holds at least buffer_len() octets. Writes the header and options, copies the
  // payload to just after the header unless it already lives there, and checksums header
  // and payload.
  void emit(MutBytes out, Ipv4Addr src, Ipv4Addr dst) const;

  Bytes raw_option_bytes() const {
    return {raw_options.data(), std::min<std::size_t>(raw_options_len, raw_options.size())};
  }
  // Value equality of everything the connection sees: header fields, decoded options,
  // the first sack_count blocks and the payload's contents. The raw option layout is
  // not compared.
  friend bool operator==(const TcpRepr& a, const TcpRepr& b);
};

}  // namespace tapir::wire
