// Human-readable decoders for every protocol of the wire layer, used by logs, the tracer,
// golden traces and `tapir decode`. One line per frame, in tcpdump's spirit:
//
//   ARP who-has 10.0.0.2 tell 10.0.0.1
//   ARP reply 10.0.0.2 is-at 02:00:00:00:00:02
//   ICMP 10.0.0.1 > 10.0.0.2 echo request id=5 seq=1 len=56
//   UDP 10.0.0.1:5353 > 10.0.0.2:7 len=12
//   TCP 10.0.0.2:51000 > 10.0.0.1:80 [S] seq=1000 win=64240 mss=1460 ws=7 sackOK ts=123/0
//   IPv4 frag 10.0.0.1 > 10.0.0.2 proto=1 id=0x1234 off=1480+ len=1480
//   malformed tcp: bad_checksum
//
// Numbers are absolute (no relative sequence numbers) so that a line means the same thing
// wherever it is read. TCP flags print as tcpdump does: F S R P . U E W, in that order
// ('.' is ACK), or "none". A first fragment decodes its transport header without checking
// the checksum (it covers the whole datagram) and ends in "[frag id=0x.. off=0+]".
// The decoders never fail and never read outside the frame, whatever it holds.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmpv4.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace tapir::wire {

// A whole Ethernet frame down to the innermost layer that decodes.
std::string format_frame(Bytes frame, ChecksumMode mode = ChecksumMode::Verify);
// Every header field, one "layer.field: value" per line (for `tapir decode -v`). A frame
// that fails to parse ends with "error: malformed <layer>: <reason>".
std::string format_frame_verbose(Bytes frame, ChecksumMode mode = ChecksumMode::Verify);
// An IPv4 packet (no Ethernet header): the part of format_frame after the link layer.
std::string format_ipv4(Bytes packet, ChecksumMode mode = ChecksumMode::Verify);

// One-line forms of single reprs. The `format_*` variants add the protocol name and the
// IP addresses, exactly as format_frame prints them.
std::string to_string(TcpFlags f);           // "S.", "FP.", "none"
std::string to_string(const TcpRepr& r);     // "51000 > 80 [S] seq=1000 win=64240 mss=1460"
std::string to_string(const UdpRepr& r);     // "5353 > 7 len=12"
std::string to_string(const Icmpv4Repr& r);  // "echo request id=5 seq=1 len=56"
std::string to_string(const ArpRepr& r);     // "ARP who-has 10.0.0.2 tell 10.0.0.1"
std::string to_string(
    const Ipv4Repr& r);  // "IPv4 10.0.0.1 > 10.0.0.2 proto=6 ttl=64 id=0x0001 len=40"
std::string to_string(const EthernetRepr& r);  // "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff type=ARP"
std::string format_tcp(const TcpRepr& r, Ipv4Addr src, Ipv4Addr dst);
std::string format_udp(const UdpRepr& r, Ipv4Addr src, Ipv4Addr dst);
std::string format_icmp(const Icmpv4Repr& r, Ipv4Addr src, Ipv4Addr dst);

}  // namespace tapir::wire

// fmt support, so that `SPDLOG_LOGGER_TRACE(log, "-> {}", repr)` and fmt::format print the
// same one-liners (fmt 9 has no format_as).
namespace tapir::wire::detail {
template <class T>
struct ToStringFormatter : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const T& v, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(to_string(v)), ctx);
  }
};
}  // namespace tapir::wire::detail
template <>
struct fmt::formatter<tapir::wire::TcpFlags>
    : tapir::wire::detail::ToStringFormatter<tapir::wire::TcpFlags> {};
template <>
struct fmt::formatter<tapir::wire::TcpRepr>
    : tapir::wire::detail::ToStringFormatter<tapir::wire::TcpRepr> {};
template <>
struct fmt::formatter<tapir::wire::UdpRepr>
    : tapir::wire::detail::ToStringFormatter<tapir::wire::UdpRepr> {};
template <>
struct fmt::formatter<tapir::wire::Icmpv4Repr>
    : tapir::wire::detail::ToStringFormatter<tapir::wire::Icmpv4Repr> {};
template <>
struct fmt::formatter<tapir::wire::ArpRepr>
    : tapir::wire::detail::ToStringFormatter<tapir::wire::ArpRepr> {};
template <>
struct fmt::formatter<tapir::wire::Ipv4Repr>
    : tapir::wire::detail::ToStringFormatter<tapir::wire::Ipv4Repr> {};
template <>
struct fmt::formatter<tapir::wire::EthernetRepr>
    : tapir::wire::detail::ToStringFormatter<tapir::wire::EthernetRepr> {};
template <>
struct fmt::formatter<tapir::wire::ParseError>
    : tapir::wire::detail::ToStringFormatter<tapir::wire::ParseError> {};
