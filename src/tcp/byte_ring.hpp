// ByteRing: the fixed-capacity circular byte store under SendBuffer and RecvBuffer.
//
// The capacity is a bound, not an allocation. Storage is allocated on the first write,
// starting at kMinAllocation bytes and doubling (up to the capacity) when a write needs
// more, and can be released again when empty: an idle connection holds no buffer memory,
// one exchanging small messages holds a few KiB, and only a bulk transfer grows the ring
// to its full capacity. Besides the usual push/pop it can write into its
// free space *ahead* of the tail without making the bytes readable (write_ahead), and later
// make them readable (commit): the reassembler keeps out-of-order data there, so the
// receive window and the out-of-order store are the same memory (as smoltcp's rx ring and
// assembler do).
#pragma once

#include <cstddef>
#include <memory>

#include "tapir/bytes.hpp"

namespace tapir::tcp {

// A logically contiguous run of ring bytes as at most two spans (second is empty unless
// the run wraps around the end of the storage).
struct ByteSlices {
  Bytes first;
  Bytes second;
  std::size_t size() const { return first.size() + second.size(); }
  bool empty() const { return size() == 0; }
};

class ByteRing {
 public:
  // The first allocation: one page, enough for a full-sized segment.
  static constexpr std::size_t kMinAllocation = 4096;

  explicit ByteRing(std::size_t capacity) : cap_(capacity) {}

  std::size_t capacity() const { return cap_; }
  std::size_t size() const { return size_; }
  std::size_t free_space() const { return cap_ - size_; }
  bool empty() const { return size_ == 0; }
  // Bytes of heap memory held: 0 until the first write and after release(); then between
  // min(kMinAllocation, capacity()) and capacity().
  std::size_t allocated_bytes() const { return alloc_; }

  // Appends up to free_space() bytes of `data`; returns how many were taken.
  std::size_t push(Bytes data);
  // Writes `data` into the free space starting `ahead` bytes past the tail, without making
  // it readable. Precondition: ahead + data.size() <= free_space().
  void write_ahead(std::size_t ahead, Bytes data);
  // Makes the first `n` bytes past the tail readable (they were written by write_ahead).
  // Precondition: n <= free_space().
  void commit(std::size_t n);
  // Drops `n` bytes from the head. Precondition: n <= size().
  void pop(std::size_t n);
  // Copies bytes starting `offset` past the head into `out`; returns the count copied
  // (limited by out.size() and by the bytes available after `offset`). No allocation.
  std::size_t copy_out(std::size_t offset, MutBytes out) const;
  // Views of up to `max` bytes starting `offset` past the head.
  ByteSlices slices(std::size_t offset, std::size_t max) const;
  // Frees the storage. Precondition: empty(), and nothing written ahead is still needed.
  void release();

 private:
  // Storage for at least `extent` bytes from the head (readable plus parked ahead).
  std::byte* storage(std::size_t extent);
  std::size_t wrap(std::size_t pos) const { return pos >= alloc_ ? pos - alloc_ : pos; }

  std::unique_ptr<std::byte[]> buf_;
  std::size_t cap_;
  std::size_t alloc_ = 0;  // bytes of buf_; positions wrap at this size
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace tapir::tcp
