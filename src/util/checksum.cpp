#include "util/checksum.hpp"

#include <bit>
#include <cstring>

namespace tapir {

namespace {
std::uint16_t fold(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// One's-complement addition of 64-bit words (RFC 1071 §2(C), parallel summation: four
// 16-bit words at once). 2^64 = (2^16)^4 is 1 modulo 2^16 - 1, so the carry out of bit 63
// re-enters at bit 0, the end-around carry at 64 bits, and the folded sum is unchanged.
std::uint64_t add_carry(std::uint64_t a, std::uint64_t b) {
  std::uint64_t s;
  return __builtin_add_overflow(a, b, &s) ? s + 1 : s;
}

std::uint64_t load_native64(const std::byte* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);  // any alignment: the compiler emits one plain load
  return w;
}

// The folded one's-complement sum of `b` read as big-endian 16-bit words, a trailing odd
// octet padded with zero (RFC 1071 §4.1). The words are loaded 8 octets at a time in the
// machine's own byte order: by RFC 1071 §2(B) the sum of byte-swapped words is the
// byte-swapped sum, so one swap of the folded result corrects for a little-endian load.
// Four accumulators let the additions of a 32-octet block run in parallel.
std::uint16_t sum_words(Bytes b) {
  const std::byte* p = b.data();
  std::size_t n = b.size();
  std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (; n >= 32; p += 32, n -= 32) {
    s0 = add_carry(s0, load_native64(p));
    s1 = add_carry(s1, load_native64(p + 8));
    s2 = add_carry(s2, load_native64(p + 16));
    s3 = add_carry(s3, load_native64(p + 24));
  }
  std::uint64_t s = add_carry(add_carry(s0, s1), add_carry(s2, s3));
  for (; n >= 8; p += 8, n -= 8) s = add_carry(s, load_native64(p));
  // The last 0 to 7 octets, in fixed-size loads (a variable-length memcpy is a call).
  // Each piece starts at an even offset, and 2^16 is 1 modulo 2^16 - 1, so a piece may be
  // added at bit 0 whatever its place in the word.
  if (n & 4) {
    std::uint32_t w;
    std::memcpy(&w, p, sizeof w);
    s = add_carry(s, w);
    p += 4;
  }
  if (n & 2) {
    std::uint16_t w;
    std::memcpy(&w, p, sizeof w);
    s = add_carry(s, w);
    p += 2;
  }
  if (n & 1) {
    // The odd octet is the high half of a word padded with zero (RFC 1071 §4.1), which a
    // little-endian load would have put in the low half.
    const std::uint64_t last = std::to_integer<std::uint8_t>(*p);
    s = add_carry(s, std::endian::native == std::endian::little ? last : last << 8);
  }
  const std::uint16_t folded = fold((s & 0xffffffff) + (s >> 32));
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<std::uint16_t>((folded << 8) | (folded >> 8));
  }
  return folded;
}
}  // namespace

void Checksum::add(Bytes b) {
  if (b.empty()) return;
  if (odd_) {
    // Continue the 16-bit word the previous span left half-filled (its low byte).
    sum_ += std::to_integer<std::uint8_t>(b[0]);
    b = b.subspan(1);
    odd_ = false;
  }
  // A partial sum folded to 16 bits adds up to the same folded total as its words would:
  // folding keeps the value modulo 2^16 - 1, and keeps a non-zero sum non-zero.
  sum_ += sum_words(b);
  odd_ = b.size() % 2 != 0;
}

std::uint16_t Checksum::finish() const { return static_cast<std::uint16_t>(~fold(sum_)); }

std::uint16_t internet_checksum(Bytes b) {
  Checksum c;
  c.add(b);
  return c.finish();
}

std::uint16_t checksum_update16(std::uint16_t checksum, std::uint16_t old_field,
                                std::uint16_t new_field) {
  std::uint64_t sum = static_cast<std::uint16_t>(~checksum);
  sum += static_cast<std::uint16_t>(~old_field);
  sum += new_field;
  return static_cast<std::uint16_t>(~fold(sum));
}

}  // namespace tapir
