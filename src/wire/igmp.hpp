// IGMP version 2 messages (RFC 2236 §2), as a pure codec.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |      Type     | Max Resp Time |           Checksum            |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Group Address                         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RFC 2236 §2.5: a message may be longer than 8 octets (an IGMPv3 query is); the
// checksum covers the whole message, and a v2 host reads only the first 8 octets.
#pragma once

#include "tapir/address.hpp"
#include "util/checksum.hpp"
#include "wire/common.hpp"

namespace tapir::wire {

namespace igmp_type {
inline constexpr std::uint8_t kQuery = 0x11;     // Membership Query (v1, v2 and v3)
inline constexpr std::uint8_t kV1Report = 0x12;  // RFC 1112 Membership Report
inline constexpr std::uint8_t kV2Report = 0x16;  // RFC 2236 Membership Report
inline constexpr std::uint8_t kLeave = 0x17;     // RFC 2236 Leave Group
inline constexpr std::uint8_t kV3Report = 0x22;  // RFC 3376 (ignored by a v2 host)
}  // namespace igmp_type

namespace igmp_field {
inline constexpr Field kType{0, 1};
inline constexpr Field kMaxResp{1, 1};
inline constexpr Field kChecksum{2, 2};
inline constexpr Field kGroup{4, 4};
}  // namespace igmp_field

struct IgmpRepr {
  static constexpr std::size_t kLen = igmp_field::kGroup.end();  // 8

  std::uint8_t type = igmp_type::kV2Report;
  std::uint8_t max_resp_tenths = 0;  // RFC 2236 §2.2: units of 1/10 second (queries only)
  Ipv4Addr group;

  // Checks the length (Truncated) and the checksum over the whole message (BadChecksum).
  static Result<IgmpRepr, ParseError> parse(Bytes msg) {
    if (msg.size() < kLen) return ParseError::Truncated;
    // RFC 2236 §2.3: the 16-bit one's complement of the one's complement sum of the
    // whole IGMP message.
    if (internet_checksum(msg) != 0) return ParseError::BadChecksum;
    return IgmpRepr{load_u8(msg, igmp_field::kType.off), load_u8(msg, igmp_field::kMaxResp.off),
                    Ipv4Addr{load_be32(msg, igmp_field::kGroup.off)}};
  }
  std::size_t buffer_len() const { return kLen; }
  // Writes exactly kLen octets with the checksum filled in.
  void emit(MutBytes out) const {
    store_u8(out, igmp_field::kType.off, type);
    store_u8(out, igmp_field::kMaxResp.off, max_resp_tenths);
    store_be16(out, igmp_field::kChecksum.off, 0);
    store_be32(out, igmp_field::kGroup.off, group.value);
    store_be16(out, igmp_field::kChecksum.off, internet_checksum(out.first(kLen)));
  }
  friend bool operator==(const IgmpRepr&, const IgmpRepr&) = default;
};

}  // namespace tapir::wire
