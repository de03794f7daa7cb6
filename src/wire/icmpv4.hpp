// ICMP for IPv4 (RFC 792).
//
//   0                   1                   2                   3
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |     Type      |     Code      |          Checksum             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |   rest of header: identifier+sequence (echo), unused or       |
//  |   next-hop MTU (unreachable, RFC 1191), pointer (param problem)|
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |   data: echo payload, or the offending IP header + 8 octets    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include "wire/common.hpp"

namespace tapir::wire {

namespace icmp_type {
inline constexpr std::uint8_t kEchoReply = 0;
inline constexpr std::uint8_t kDestUnreachable = 3;
inline constexpr std::uint8_t kSourceQuench = 4;
inline constexpr std::uint8_t kRedirect = 5;
inline constexpr std::uint8_t kEchoRequest = 8;
inline constexpr std::uint8_t kTimeExceeded = 11;
inline constexpr std::uint8_t kParamProblem = 12;
inline constexpr std::uint8_t kTimestamp = 13;
inline constexpr std::uint8_t kTimestampReply = 14;
}  // namespace icmp_type

// RFC 792 destination-unreachable codes (and RFC 1191's fragmentation-needed).
namespace icmp_unreach {
inline constexpr std::uint8_t kNet = 0;
inline constexpr std::uint8_t kHost = 1;
inline constexpr std::uint8_t kProtocol = 2;
inline constexpr std::uint8_t kPort = 3;
inline constexpr std::uint8_t kFragNeeded = 4;
}  // namespace icmp_unreach

struct Icmpv4Repr {
  static constexpr std::size_t kHeaderLen = 8;

  std::uint8_t type = icmp_type::kEchoRequest;
  std::uint8_t code = 0;
  std::uint32_t rest = 0;  // the second header word, meaning depends on type
  Bytes data;              // views the parsed buffer: valid while it is

  // Echo identifier and sequence live in the second word (RFC 792, "Echo or Echo Reply").
  std::uint16_t echo_ident() const { return static_cast<std::uint16_t>(rest >> 16); }
  std::uint16_t echo_seq() const { return static_cast<std::uint16_t>(rest & 0xffff); }
  static std::uint32_t echo_rest(std::uint16_t ident, std::uint16_t seq) {
    return std::uint32_t{ident} << 16 | seq;
  }
  bool is_error() const {
    return type == icmp_type::kDestUnreachable || type == icmp_type::kSourceQuench ||
           type == icmp_type::kRedirect || type == icmp_type::kTimeExceeded ||
           type == icmp_type::kParamProblem;
  }

  // Checks the length and, unless ignored, the checksum over the whole message.
  static Result<Icmpv4Repr, ParseError> parse(Bytes msg, ChecksumMode mode = ChecksumMode::Verify);
  std::size_t buffer_len() const { return kHeaderLen + data.size(); }
  // Writes header + data (buffer_len() octets) with the checksum filled in.
  void emit(MutBytes out) const;
  friend bool operator==(const Icmpv4Repr& a, const Icmpv4Repr& b) {
    return a.type == b.type && a.code == b.code && a.rest == b.rest &&
           std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end());
  }
};

}  // namespace tapir::wire
