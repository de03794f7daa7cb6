// Reassembler: puts received segment data back in stream order (RFC 9293 §3.10.7.4,
// seventh step, "process the segment text"; out-of-order segments "may be held for later
// processing", §3.10.7.4 first step).
//
// Offsets are 64-bit absolute stream offsets (the connection unwraps SEG.SEQ first). Only
// bytes inside the receive window [next_expected(), next_expected() + window()) are kept:
// earlier bytes are duplicates and later ones are outside the window (both trimmed and
// counted). In-order bytes go straight to the RecvBuffer; out-of-order bytes are parked in
// the buffer's free space and tracked as ranges, at most `max_ranges` of them: a segment
// that would open one more disjoint range is dropped and counted (a hole limit like lwIP's
// ooseq limits), so a peer cannot make the range list grow without bound.
//
// Each range remembers when data last arrived in it, so the connection can choose SACK
// blocks in RFC 2018 §4 order (the block holding the latest segment first). SACK itself is
// not generated here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tapir/bytes.hpp"
#include "tcp/recv_buffer.hpp"

namespace tapir::tcp {

// A received, not yet deliverable run of bytes [begin, end) in absolute offsets.
struct Range {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  // Grows with every insert; the range touched by the latest segment has the largest.
  std::uint64_t arrival = 0;
  std::uint64_t size() const { return end - begin; }
  friend bool operator==(const Range&, const Range&) = default;
};

struct ReassemblerCounters {
  std::uint64_t duplicate_bytes = 0;       // below next_expected(): already delivered
  std::uint64_t beyond_window_bytes = 0;   // past the window end or past the FIN
  std::uint64_t range_limit_segments = 0;  // dropped: would exceed max_ranges
};

struct InsertResult {
  std::size_t delivered = 0;            // bytes that became readable (RCV.NXT moved this far)
  std::size_t stored_out_of_order = 0;  // new bytes parked beyond a hole
  bool dropped_range_limit = false;     // the segment was dropped by the range limit
};

class Reassembler {
 public:
  static constexpr std::size_t kDefaultMaxRanges = 32;

  explicit Reassembler(std::size_t capacity, std::size_t max_ranges = kDefaultMaxRanges,
                       std::uint64_t start_offset = 0);

  // Offers `data` starting at absolute `offset`; `fin` says the stream ends right after it.
  // The FIN is recorded only if every byte before it fits in the window (a segment trimmed
  // at the window's right edge loses its FIN, RFC 9293 §3.10.7.4 first step).
  InsertResult insert(std::uint64_t offset, Bytes data, bool fin);

  // RCV.NXT as an absolute stream offset: the first byte not yet received in order.
  std::uint64_t next_expected() const { return next_; }
  // The receive window: bytes the buffer can still take from next_expected() on.
  std::size_t window() const { return out_.free_space(); }
  // The stream end announced by a FIN, once one was accepted.
  std::optional<std::uint64_t> fin_offset() const { return fin_; }
  // True once every byte before the FIN is delivered (the FIN itself is next in sequence).
  bool fin_reached() const { return fin_ && *fin_ == next_; }
  // Out-of-order bytes held beyond the first hole.
  std::uint64_t pending_bytes() const;
  // The out-of-order ranges, sorted by offset, disjoint and non-adjacent.
  std::span<const Range> ranges() const { return ranges_; }
  // The same ranges, most recently touched first (RFC 2018 §4 SACK block order).
  std::vector<Range> ranges_by_recency() const;
  std::size_t max_ranges() const { return max_ranges_; }
  const ReassemblerCounters& counters() const { return counters_; }

  // The in-order bytes, for the application to read.
  RecvBuffer& output() { return out_; }
  const RecvBuffer& output() const { return out_; }
  // Storage is held while nothing is readable or parked (an idle connection).
  bool releasable() const { return out_.empty() && ranges_.empty() && out_.allocated_bytes() > 0; }
  // Frees the storage (only when releasable()); the next segment allocates it again.
  void release() { out_.release(); }

 private:
  // Merges [begin, end) into ranges_ (absorbing overlapping and adjacent ranges).
  void add_range(std::uint64_t begin, std::uint64_t end);
  bool touches_range(std::uint64_t begin, std::uint64_t end) const;
  std::size_t deliver_front();

  RecvBuffer out_;
  std::size_t max_ranges_;
  std::uint64_t next_;
  std::optional<std::uint64_t> fin_;
  std::vector<Range> ranges_;
  std::uint64_t arrivals_ = 0;
  ReassemblerCounters counters_;
};

}  // namespace tapir::tcp
