// Link and network addresses as small value types with parsing and printing.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tapir {

struct MacAddr {
  std::array<std::uint8_t, 6> octets{};

  static constexpr MacAddr broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  constexpr bool is_broadcast() const { return *this == broadcast(); }
  // IEEE 802: the I/G bit (least significant bit of the first octet) marks group addresses.
  constexpr bool is_multicast() const { return (octets[0] & 0x01) != 0; }
  constexpr bool is_unicast() const { return !is_multicast(); }
  constexpr bool is_zero() const { return *this == MacAddr{}; }
  // "02:00:00:aa:bb:cc" (also accepts '-' separators); nullopt on anything else.
  static std::optional<MacAddr> parse(std::string_view s);
  std::string to_string() const;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads the defaulted <=>
  friend constexpr auto operator<=>(const MacAddr&, const MacAddr&) = default;
};

// An IPv4 address held in host byte order (the wire codecs convert at the edge).
struct Ipv4Addr {
  std::uint32_t value = 0;

  static constexpr Ipv4Addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                        std::uint8_t d) {
    return {(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d};
  }
  static constexpr Ipv4Addr any() { return {0}; }
  static constexpr Ipv4Addr broadcast() { return {0xffffffffu}; }
  constexpr bool is_unspecified() const { return value == 0; }
  constexpr bool is_broadcast() const { return value == 0xffffffffu; }
  // RFC 1112 §4: class D, 224.0.0.0/4.
  constexpr bool is_multicast() const { return (value >> 28) == 0xe; }
  constexpr bool is_loopback() const { return (value >> 24) == 127; }
  constexpr std::uint8_t octet(int i) const {
    return static_cast<std::uint8_t>(value >> (24 - 8 * i));
  }
  // Dotted quad only ("10.0.0.1"); nullopt on anything else.
  static std::optional<Ipv4Addr> parse(std::string_view s);
  std::string to_string() const;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend constexpr auto operator<=>(const Ipv4Addr&, const Ipv4Addr&) = default;
};

// An address with its prefix, as an interface holds it (10.0.0.2/24).
struct Ipv4Cidr {
  Ipv4Addr addr;
  std::uint8_t prefix_len = 32;

  constexpr std::uint32_t mask() const {
    return prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
  }
  constexpr Ipv4Addr network() const { return {addr.value & mask()}; }
  // The directed broadcast of the subnet (RFC 919/922); a /31 or /32 has none.
  constexpr std::optional<Ipv4Addr> directed_broadcast() const {
    if (prefix_len >= 31) return std::nullopt;
    return Ipv4Addr{addr.value | ~mask()};
  }
  constexpr bool contains(Ipv4Addr a) const { return (a.value & mask()) == (addr.value & mask()); }
  // "10.0.0.2/24"; nullopt on anything else (prefix must be 0..32).
  static std::optional<Ipv4Cidr> parse(std::string_view s);
  std::string to_string() const;
  friend constexpr bool operator==(const Ipv4Cidr&, const Ipv4Cidr&) = default;
};

// The IPv4 multicast group's Ethernet address, RFC 1112 §6.4: 01-00-5E plus the low 23 bits.
constexpr MacAddr multicast_mac(Ipv4Addr group) {
  return {{0x01, 0x00, 0x5e, static_cast<std::uint8_t>(group.octet(1) & 0x7f), group.octet(2),
           group.octet(3)}};
}

}  // namespace tapir

template <>
struct std::hash<tapir::Ipv4Addr> {
  std::size_t operator()(tapir::Ipv4Addr a) const noexcept {
    return std::hash<std::uint32_t>{}(a.value);
  }
};
