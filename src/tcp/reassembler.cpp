// Reassembler (see reassembler.hpp). Invariants: ranges_ is sorted, its ranges neither
// overlap nor touch, each begins after next_ and ends by next_ + window(), and its bytes
// are already in the RecvBuffer's free space, (begin - next_) past the readable end.
#include "tcp/reassembler.hpp"

#include <algorithm>

namespace tapir::tcp {

Reassembler::Reassembler(std::size_t capacity, std::size_t max_ranges, std::uint64_t start_offset)
    : out_(capacity), max_ranges_(max_ranges), next_(start_offset) {}

InsertResult Reassembler::insert(std::uint64_t offset, Bytes data, bool fin) {
  InsertResult res;
  const std::uint64_t seg_end = offset + data.size();
  // next_ + free space stays fixed while data arrives (commit moves both), so this is the
  // right edge of the window we could have advertised: RCV.NXT + RCV.WND.
  const std::uint64_t right_edge = next_ + out_.free_space();
  std::uint64_t limit = right_edge;
  if (fin_) limit = std::min(limit, *fin_);  // nothing exists past the stream's end

  // RFC 9293 §3.10.7.4 first step: a FIN counts only if the segment fits the window
  // untrimmed. A second FIN at another offset, or one behind data already received, is
  // inconsistent and ignored: the first accepted FIN stays.
  const bool accept_fin = fin && !fin_ && seg_end >= next_ && seg_end <= right_edge &&
                          (ranges_.empty() || ranges_.back().end <= seg_end);

  // RFC 9293 §3.10.7.4 first step: trim to the window, dropping what was already
  // received (retransmissions) and what lies beyond RCV.NXT + RCV.WND.
  const std::uint64_t begin = std::max(offset, next_);
  const std::uint64_t end = std::min(seg_end, limit);
  if (offset < next_) counters_.duplicate_bytes += std::min(seg_end, next_) - offset;
  if (seg_end > limit) counters_.beyond_window_bytes += seg_end - std::max(offset, limit);

  if (begin < end) {
    // The hole limit applies only to data that would open a new disjoint range.
    if (begin != next_ && ranges_.size() >= max_ranges_ && !touches_range(begin, end)) {
      ++counters_.range_limit_segments;
      res.dropped_range_limit = true;
      return res;
    }
    const std::uint64_t pending_before = pending_bytes();
    // Overlapping bytes are written again: TCP data at a given offset never changes, so
    // rewriting is cheaper than splitting the segment around existing ranges.
    out_.write_ahead(static_cast<std::size_t>(begin - next_),
                     data.subspan(static_cast<std::size_t>(begin - offset),
                                  static_cast<std::size_t>(end - begin)));
    add_range(begin, end);
    res.delivered = deliver_front();
    // A segment starting at RCV.NXT is delivered whole; otherwise its new bytes are parked.
    if (res.delivered == 0) res.stored_out_of_order = pending_bytes() - pending_before;
  }
  if (accept_fin) fin_ = seg_end;
  return res;
}

std::uint64_t Reassembler::pending_bytes() const {
  std::uint64_t n = 0;
  for (const Range& r : ranges_) n += r.size();
  return n;
}

std::vector<Range> Reassembler::ranges_by_recency() const {
  std::vector<Range> v(ranges_.begin(), ranges_.end());
  std::sort(v.begin(), v.end(),
            [](const Range& a, const Range& b) { return a.arrival > b.arrival; });
  return v;
}

// Overlapping or adjacent: such a segment grows an existing range instead of adding one.
bool Reassembler::touches_range(std::uint64_t begin, std::uint64_t end) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const Range& r) { return r.begin <= end && r.end >= begin; });
}

void Reassembler::add_range(std::uint64_t begin, std::uint64_t end) {
  // RFC 2018 §4: the block holding the latest segment is reported first, so the merged
  // range takes the newest arrival stamp, even when the segment was a duplicate.
  Range merged{begin, end, ++arrivals_};
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), begin,
                                [](const Range& r, std::uint64_t b) { return r.end < b; });
  auto last = first;
  while (last != ranges_.end() && last->begin <= end) {
    merged.begin = std::min(merged.begin, last->begin);
    merged.end = std::max(merged.end, last->end);
    ++last;
  }
  ranges_.insert(ranges_.erase(first, last), merged);
}

// Ranges never touch, so at most the first one can start at RCV.NXT.
std::size_t Reassembler::deliver_front() {
  if (ranges_.empty() || ranges_.front().begin != next_) return 0;
  const auto n = static_cast<std::size_t>(ranges_.front().size());
  out_.commit(n);
  next_ += n;
  ranges_.erase(ranges_.begin());
  return n;
}

}  // namespace tapir::tcp
