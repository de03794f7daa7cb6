// Helpers shared by the wire tests: frames from hex, hex from bytes (so that a failed
// comparison prints readable octets), and the layer offsets of the captured frames.
#pragma once

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tapir/address.hpp"
#include "tapir/bytes.hpp"
#include "wire/common.hpp"

namespace tapir::wire::test {

inline const Ipv4Addr kA = Ipv4Addr::from_octets(10, 0, 0, 1);
inline const Ipv4Addr kB = Ipv4Addr::from_octets(10, 0, 0, 2);
inline const Ipv4Addr kC = Ipv4Addr::from_octets(10, 0, 0, 3);
inline const MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x01}};
inline const MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x02}};

inline std::vector<std::byte> hex(std::string_view h) {
  auto v = bytes_from_hex(h);
  REQUIRE(!v.empty());
  return v;
}

inline std::string to_hex(Bytes b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    auto v = std::to_integer<unsigned>(x);
    s += kDigits[v >> 4];
    s += kDigits[v & 0xf];
  }
  return s;
}

// The captures are Ethernet II frames carrying IPv4.
inline constexpr std::size_t kEthLen = 14;
inline std::size_t ip_header_len(Bytes frame) {
  return static_cast<std::size_t>(load_u8(frame, kEthLen) & 0x0f) * 4;
}
inline std::size_t ip_total_len(Bytes frame) { return load_be16(frame, kEthLen + 2); }
inline Bytes ip_of(Bytes frame) { return frame.subspan(kEthLen, ip_total_len(frame)); }
// The transport part of a frame: the IP payload, cut to the IP total length.
inline Bytes l4_of(Bytes frame) {
  return frame.subspan(kEthLen + ip_header_len(frame), ip_total_len(frame) - ip_header_len(frame));
}
inline std::vector<std::byte> copy(Bytes b) { return {b.begin(), b.end()}; }

// The error of a parse result, or nullopt when it succeeded: CHECK(error_of(x) == Truncated)
// fails readably on success as well as on a different reason.
template <class R>
std::optional<ParseError> error_of(const R& r) {
  if (r) return std::nullopt;
  return r.error();
}

}  // namespace tapir::wire::test

namespace Catch {
template <>
struct StringMaker<tapir::wire::ParseError> {
  static std::string convert(tapir::wire::ParseError e) { return std::string(to_string(e)); }
};
template <>
struct StringMaker<std::optional<tapir::wire::ParseError>> {
  static std::string convert(const std::optional<tapir::wire::ParseError>& e) {
    return e ? std::string(to_string(*e)) : "ok";
  }
};
}  // namespace Catch
