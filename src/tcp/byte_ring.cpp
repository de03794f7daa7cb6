// ByteRing (see byte_ring.hpp). Positions: the readable bytes are [head_, head_ + size_)
// modulo the allocation; the free space, where write_ahead parks bytes, follows them.
// Every byte that matters (readable or parked) lies within one allocation's length of the
// head, so growing copies the old storage unrolled from the head and starts it at 0.
#include "tcp/byte_ring.hpp"

#include <algorithm>
#include <cstring>

#include "tapir/assert.hpp"

namespace tapir::tcp {

std::byte* ByteRing::storage(std::size_t extent) {
  if (extent <= alloc_) return buf_.get();
  std::size_t size = std::max(alloc_ * 2, kMinAllocation);
  while (size < extent) size *= 2;
  size = std::min(size, cap_);
  // Uninitialised: every byte is written before it can be read.
  auto grown = std::make_unique_for_overwrite<std::byte[]>(size);
  if (alloc_ != 0) {
    std::memcpy(grown.get(), buf_.get() + head_, alloc_ - head_);
    std::memcpy(grown.get() + (alloc_ - head_), buf_.get(), head_);
  }
  buf_ = std::move(grown);
  alloc_ = size;
  head_ = 0;
  return buf_.get();
}

std::size_t ByteRing::push(Bytes data) {
  const std::size_t n = std::min(data.size(), free_space());
  if (n == 0) return 0;
  write_ahead(0, data.first(n));
  commit(n);
  return n;
}

void ByteRing::write_ahead(std::size_t ahead, Bytes data) {
  TAPIR_ASSERT(ahead + data.size() <= free_space(), "ByteRing::write_ahead beyond free space");
  if (data.empty() || ahead + data.size() > free_space()) return;
  std::byte* base = storage(size_ + ahead + data.size());
  // The run may cross the end of the storage: copy up to the end, then from the start.
  const std::size_t pos = wrap(head_ + size_ + ahead);
  const std::size_t first = std::min(data.size(), alloc_ - pos);
  std::memcpy(base + pos, data.data(), first);
  std::memcpy(base, data.data() + first, data.size() - first);
}

void ByteRing::commit(std::size_t n) {
  // Committed bytes were written ahead first, so they lie inside the allocation.
  TAPIR_ASSERT(size_ + n <= alloc_, "ByteRing::commit beyond the bytes written");
  size_ += std::min(n, alloc_ - size_);
}

void ByteRing::pop(std::size_t n) {
  TAPIR_ASSERT(n <= size_, "ByteRing::pop more than held");
  // Release builds compile the assertion away; clamp so a caller bug cannot corrupt state.
  n = std::min(n, size_);
  if (n == 0) return;
  // head_ is not rewound to 0 when the ring empties: bytes parked by write_ahead sit at
  // fixed positions past the tail and would be lost.
  head_ = wrap(head_ + n);
  size_ -= n;
}

ByteSlices ByteRing::slices(std::size_t offset, std::size_t max) const {
  if (offset >= size_ || max == 0) return {};
  const std::size_t n = std::min(max, size_ - offset);
  const std::size_t pos = wrap(head_ + offset);
  const std::size_t first = std::min(n, alloc_ - pos);
  const std::byte* base = buf_.get();
  return {Bytes(base + pos, first), Bytes(base, n - first)};
}

std::size_t ByteRing::copy_out(std::size_t offset, MutBytes out) const {
  const ByteSlices s = slices(offset, out.size());
  if (!s.first.empty()) std::memcpy(out.data(), s.first.data(), s.first.size());
  if (!s.second.empty()) std::memcpy(out.data() + s.first.size(), s.second.data(), s.second.size());
  return s.size();
}

void ByteRing::release() {
  TAPIR_ASSERT(size_ == 0, "ByteRing::release with bytes held");
  if (size_ != 0) return;
  buf_.reset();
  alloc_ = 0;
  // Nothing is parked (precondition), so the next allocation may start at position 0.
  head_ = 0;
}

}  // namespace tapir::tcp
