#include "util/checksum.hpp"

namespace tapir {

namespace {
std::uint16_t fold(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}
}  // namespace

void Checksum::add(Bytes b) {
  std::size_t i = 0;
  if (odd_ && !b.empty()) {
    // Continue the 16-bit word the previous span left half-filled (its low byte).
    sum_ += std::to_integer<std::uint8_t>(b[0]);
    i = 1;
    odd_ = false;
  }
  // Sum 32-bit big-endian words into a 64-bit accumulator: folding at the end is
  // equivalent (RFC 1071 §2(A): the sum is independent of byte order and grouping).
  for (; i + 4 <= b.size(); i += 4) sum_ += load_be32(b, i);
  for (; i + 2 <= b.size(); i += 2) sum_ += load_be16(b, i);
  if (i < b.size()) {
    sum_ += std::uint64_t{std::to_integer<std::uint8_t>(b[i])} << 8;
    odd_ = true;
  }
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
