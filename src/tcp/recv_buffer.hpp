// RecvBuffer: received bytes in stream order, waiting for the application to read them
// (a bounded byte stream, like Minnow's ByteStream). Its free space is the receive window
// (RFC 9293 §3.8.6: RCV.WND is what the receiver can still buffer), and the Reassembler
// parks out-of-order bytes inside that free space (write_ahead/commit) until the gap before
// them is filled. Storage is allocated on the first byte received.
#pragma once

#include <cstddef>

#include "tapir/bytes.hpp"
#include "tcp/byte_ring.hpp"

namespace tapir::tcp {

class RecvBuffer {
 public:
  explicit RecvBuffer(std::size_t capacity) : ring_(capacity) {}

  // Appends in-order bytes; returns the count accepted (limited by free_space()).
  std::size_t push(Bytes data) { return ring_.push(data); }
  // Copies up to out.size() bytes to `out` and consumes them; returns the count.
  std::size_t read(MutBytes out) {
    const std::size_t n = ring_.copy_out(0, out);
    ring_.pop(n);
    return n;
  }
  // Views of up to `max` readable bytes without consuming them (valid until the next call
  // that changes the buffer); pair with consume() for zero-copy reads.
  ByteSlices peek(std::size_t max) const { return ring_.slices(0, max); }
  // Drops `n` readable bytes (n <= size()).
  void consume(std::size_t n) { ring_.pop(n); }

  std::size_t size() const { return ring_.size(); }
  std::size_t capacity() const { return ring_.capacity(); }
  std::size_t free_space() const { return ring_.free_space(); }
  bool empty() const { return ring_.empty(); }
  std::size_t allocated_bytes() const { return ring_.allocated_bytes(); }

  // For the Reassembler: store bytes `ahead` past the readable end without exposing them,
  // then expose the first `n` of them once the gap is filled.
  void write_ahead(std::size_t ahead, Bytes data) { ring_.write_ahead(ahead, data); }
  void commit(std::size_t n) { ring_.commit(n); }
  // Frees the storage; only when empty and no out-of-order bytes are parked.
  void release() { ring_.release(); }

 private:
  ByteRing ring_;
};

}  // namespace tapir::tcp
