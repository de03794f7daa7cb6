// Byte spans and big-endian load/store: the single endianness primitive of tapir.
// No packed structs, no reinterpret_cast of wire data (STYLE.md §3): every multi-byte
// field is read with shifts from a span, which compilers lower to one load + bswap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tapir/assert.hpp"

namespace tapir {

using Bytes = std::span<const std::byte>;
using MutBytes = std::span<std::byte>;

constexpr std::uint8_t load_u8(Bytes b, std::size_t off) {
  TAPIR_ASSERT(off + 1 <= b.size(), "load_u8 out of bounds");
  return std::to_integer<std::uint8_t>(b[off]);
}
constexpr std::uint16_t load_be16(Bytes b, std::size_t off) {
  TAPIR_ASSERT(off + 2 <= b.size(), "load_be16 out of bounds");
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(b[off]) << 8) |
                                    std::to_integer<unsigned>(b[off + 1]));
}
constexpr std::uint32_t load_be32(Bytes b, std::size_t off) {
  TAPIR_ASSERT(off + 4 <= b.size(), "load_be32 out of bounds");
  return (std::to_integer<std::uint32_t>(b[off]) << 24) |
         (std::to_integer<std::uint32_t>(b[off + 1]) << 16) |
         (std::to_integer<std::uint32_t>(b[off + 2]) << 8) |
         std::to_integer<std::uint32_t>(b[off + 3]);
}
constexpr void store_u8(MutBytes b, std::size_t off, std::uint8_t v) {
  TAPIR_ASSERT(off + 1 <= b.size(), "store_u8 out of bounds");
  b[off] = std::byte{v};
}
constexpr void store_be16(MutBytes b, std::size_t off, std::uint16_t v) {
  TAPIR_ASSERT(off + 2 <= b.size(), "store_be16 out of bounds");
  b[off] = std::byte(v >> 8);
  b[off + 1] = std::byte(v & 0xff);
}
constexpr void store_be32(MutBytes b, std::size_t off, std::uint32_t v) {
  TAPIR_ASSERT(off + 4 <= b.size(), "store_be32 out of bounds");
  b[off] = std::byte(v >> 24);
  b[off + 1] = std::byte((v >> 16) & 0xff);
  b[off + 2] = std::byte((v >> 8) & 0xff);
  b[off + 3] = std::byte(v & 0xff);
}

// Views of other byte-like buffers (syscalls and string literals deal in char/uint8_t).
inline Bytes as_bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
inline Bytes as_bytes(const std::vector<std::byte>& v) { return {v.data(), v.size()}; }

// Parses "45 00 00 54 ..." or "45000054..." (whitespace ignored). Used by tests and fixtures;
// returns an empty vector on any non-hex character or an odd digit count.
std::vector<std::byte> bytes_from_hex(std::string_view hex);

}  // namespace tapir
