// Test payloads: `n` octets of xorshift output, so that no period could hide a shifted,
// repeated or misplaced segment from a byte-by-byte comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tapir::test {

inline std::vector<std::byte> xorshift_pattern(std::size_t n, std::uint64_t seed) {
  std::vector<std::byte> v(n);
  std::uint64_t x = seed;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::byte>(x);
  }
  return v;
}

}  // namespace tapir::test
