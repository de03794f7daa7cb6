// SendBuffer: the bytes the application wrote that the peer has not yet acknowledged,
// indexed by 64-bit absolute stream offset (STYLE.md §6; offset 0 is the first data byte,
// the SYN is not counted). It holds [una(), end()): everything from SND.UNA onward. The
// connection keeps SND.NXT itself; bytes in [una, SND.NXT) are in flight and bytes in
// [SND.NXT, end) are not sent yet, so retransmission is copy_out(una, ...) again.
//
// Capacity bounds what the application may queue (SO_SNDBUF). Storage is allocated on the
// first write, so an idle connection costs only this object.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tapir/bytes.hpp"
#include "tcp/byte_ring.hpp"

namespace tapir::tcp {

class SendBuffer {
 public:
  explicit SendBuffer(std::size_t capacity, std::uint64_t start_offset = 0)
      : ring_(capacity), una_(start_offset) {}

  // Queues as much of `data` as fits; returns the count accepted (0 when full).
  std::size_t write(Bytes data) { return ring_.push(data); }

  // Copies bytes from absolute `offset` (una() <= offset <= end()) into `out`, without
  // allocating; returns how many were copied (at most end() - offset).
  std::size_t copy_out(std::uint64_t offset, MutBytes out) const;
  // Views of up to `max` bytes from absolute `offset`; valid until the next write/ack.
  ByteSlices peek(std::uint64_t offset, std::size_t max) const;

  // SND.UNA advanced to `new_una` (una() <= new_una <= end()): drops the acknowledged
  // bytes. The connection validates ACKs first (RFC 9293 §3.10.7.4, fifth check), so an
  // out-of-range value is a caller bug; it is clamped to [una(), end()].
  void ack(std::uint64_t new_una);

  // Absolute offset of the oldest unacknowledged byte (SND.UNA as an offset).
  std::uint64_t una() const { return una_; }
  // Absolute offset just past the last byte written.
  std::uint64_t end() const { return una_ + ring_.size(); }
  // Bytes held: unacknowledged plus unsent.
  std::size_t size() const { return ring_.size(); }
  std::size_t capacity() const { return ring_.capacity(); }
  std::size_t free_space() const { return ring_.free_space(); }
  bool empty() const { return ring_.empty(); }
  std::size_t allocated_bytes() const { return ring_.allocated_bytes(); }
  // Storage is held and nothing is in it (all data acknowledged, nothing queued).
  bool releasable() const { return ring_.empty() && ring_.allocated_bytes() > 0; }
  // Frees the storage (only when releasable()); the next write allocates it again.
  void release() { ring_.release(); }

 private:
  ByteRing ring_;
  std::uint64_t una_;
};

}  // namespace tapir::tcp
