// ARP for IPv4 over Ethernet (RFC 826).
//
//   0       2       4   5   6       8             14        18            24        28
//  +-------+-------+---+---+-------+-------------+---------+-------------+---------+
//  | htype | ptype |hln|pln| oper  | sender MAC  | sender  | target MAC  | target  |
//  |  = 1  |0x0800 | 6 | 4 |  1/2  |             |   IP    |             |   IP    |
//  +-------+-------+---+---+-------+-------------+---------+-------------+---------+
#pragma once

#include "tapir/address.hpp"
#include "wire/common.hpp"

namespace tapir::wire {

namespace arp_field {
inline constexpr Field kHtype{0, 2};
inline constexpr Field kPtype{2, 2};
inline constexpr Field kHlen{4, 1};
inline constexpr Field kPlen{5, 1};
inline constexpr Field kOper{6, 2};
inline constexpr Field kSha{8, 6};
inline constexpr Field kSpa{14, 4};
inline constexpr Field kTha{18, 6};
inline constexpr Field kTpa{24, 4};
}  // namespace arp_field

enum class ArpOp : std::uint16_t { Request = 1, Reply = 2 };

struct ArpRepr {
  static constexpr std::size_t kLen = arp_field::kTpa.end();  // 28 for Ethernet/IPv4
  static constexpr std::uint16_t kHtypeEthernet = 1;

  ArpOp op = ArpOp::Request;
  MacAddr sender_mac;
  Ipv4Addr sender_ip;
  MacAddr target_mac;
  Ipv4Addr target_ip;

  // Checks the fixed part, that the hardware/protocol pair is Ethernet/IPv4 (anything else
  // is Unsupported), the length, and the opcode (BadFlags for anything but 1 or 2).
  static Result<ArpRepr, ParseError> parse(Bytes b);
  static constexpr std::size_t buffer_len() { return kLen; }
  void emit(MutBytes out) const;
  // RFC 5227 §3: a gratuitous ARP announces sender_ip == target_ip.
  bool is_gratuitous() const { return sender_ip == target_ip; }
  friend bool operator==(const ArpRepr&, const ArpRepr&) = default;
};

}  // namespace tapir::wire
