// Frame builders and decoders for stack tests: a scripted peer writes its frames with
// these, and tests read the stack's output back into reprs (values, not bytes).
#pragma once

#include <optional>
#include <vector>

#include "tapir/address.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmpv4.hpp"
#include "wire/ipv4.hpp"

namespace tapir::test {

using Frame = std::vector<std::byte>;

Frame arp_frame(MacAddr eth_dst, const wire::ArpRepr& arp);
// Ethernet + IPv4 header (from `ip`, payload_len set from `payload`) + payload.
Frame ipv4_frame(MacAddr src, MacAddr dst, wire::Ipv4Repr ip, Bytes payload);
// An ICMP echo request/reply body (type, id, seq, data).
std::vector<std::byte> icmp_message(std::uint8_t type, std::uint16_t id, std::uint16_t seq,
                                    Bytes data);

struct Decoded {
  wire::EthernetRepr eth;
  std::optional<wire::ArpRepr> arp;
  std::optional<wire::Ipv4Repr> ip;
  Bytes ip_payload;  // views the frame passed to decode()
  std::optional<wire::Icmpv4Repr> icmp;
};
// Decodes a frame the stack sent; fails the test (REQUIRE) if it does not parse.
Decoded decode(const Frame& f);

}  // namespace tapir::test
