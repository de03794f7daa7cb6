// SACK scoreboard and RFC 6675 routines (see sack_scoreboard.hpp). Invariant: ranges_ is
// sorted by offset, its ranges neither overlap nor touch, and none lies below the last
// SND.UNA given to advance().
#include "tcp/sack_scoreboard.hpp"

#include <algorithm>

namespace tapir::tcp {

std::uint64_t SackScoreboard::update(std::span<const SackRange> blocks) {
  std::uint64_t fresh = 0;
  for (const SackRange& b : blocks) {
    if (b.begin >= b.end) continue;
    // The ranges that overlap or touch the block merge with it.
    auto first = std::lower_bound(ranges_.begin(), ranges_.end(), b.begin,
                                  [](const SackRange& r, std::uint64_t v) { return r.end < v; });
    auto last = first;
    SackRange merged = b;
    std::uint64_t known = 0;
    while (last != ranges_.end() && last->begin <= b.end) {
      known += std::min(last->end, b.end) - std::max(last->begin, b.begin);
      merged.begin = std::min(merged.begin, last->begin);
      merged.end = std::max(merged.end, last->end);
      ++last;
    }
    if (first == last && ranges_.size() >= max_ranges_) {
      ++dropped_blocks_;
      continue;
    }
    fresh += b.size() - known;
    ranges_.insert(ranges_.erase(first, last), merged);
  }
  return fresh;
}

void SackScoreboard::advance(std::uint64_t una) {
  // RFC 2018 §8: SACKed data is only "forgotten" once cumulatively acknowledged.
  auto keep =
      std::find_if(ranges_.begin(), ranges_.end(), [&](const SackRange& r) { return r.end > una; });
  ranges_.erase(ranges_.begin(), keep);
  if (!ranges_.empty() && ranges_.front().begin < una) ranges_.front().begin = una;
}

bool SackScoreboard::is_sacked(std::uint64_t off) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), off,
                             [](std::uint64_t v, const SackRange& r) { return v < r.end; });
  return it != ranges_.end() && it->begin <= off;
}

std::uint64_t SackScoreboard::sacked_run_end(std::uint64_t off) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), off,
                             [](std::uint64_t v, const SackRange& r) { return v < r.end; });
  return it != ranges_.end() && it->begin <= off ? it->end : off;
}

const SackRange* SackScoreboard::next_range(std::uint64_t off) const {
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), off,
                             [](const SackRange& r, std::uint64_t v) { return r.begin < v; });
  return it == ranges_.end() ? nullptr : &*it;
}

std::uint64_t SackScoreboard::sacked_between(std::uint64_t from, std::uint64_t to) const {
  std::uint64_t n = 0;
  for (const SackRange& r : ranges_) {
    const std::uint64_t lo = std::max(r.begin, from);
    const std::uint64_t hi = std::min(r.end, to);
    if (lo < hi) n += hi - lo;
  }
  return n;
}

bool SackScoreboard::lost_given(std::size_t ranges_above, std::uint64_t sacked_above,
                                std::uint32_t smss) const {
  // RFC 6675 §4 IsLost: "DupThresh discontiguous SACKed sequences have arrived above
  // 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with sequence numbers greater than
  // 'SeqNum' have been SACKed".
  return ranges_above >= kDupThresh ||
         sacked_above > std::uint64_t{kDupThresh - 1} * std::uint64_t{smss};
}

bool SackScoreboard::is_lost(std::uint64_t off, std::uint32_t smss) const {
  std::size_t above = 0;
  for (const SackRange& r : ranges_) {
    if (r.begin > off) ++above;
  }
  return lost_given(above, sacked_between(off + 1, highest_sacked_end()), smss);
}

template <class F>
void SackScoreboard::for_each_hole(std::uint64_t una, std::uint64_t high_data, F&& f) const {
  std::uint64_t above_bytes = 0;
  for (const SackRange& r : ranges_) above_bytes += r.size();
  std::size_t above = ranges_.size();
  std::uint64_t cursor = una;
  for (const SackRange& r : ranges_) {
    const std::uint64_t hole_end = std::min(r.begin, high_data);
    if (cursor < hole_end) f(cursor, hole_end, above, above_bytes);
    cursor = std::max(cursor, r.end);
    --above;
    above_bytes -= r.size();
  }
  if (cursor < high_data) f(cursor, high_data, std::size_t{0}, std::uint64_t{0});
}

std::uint64_t SackScoreboard::pipe(std::uint64_t una, std::uint64_t high_data,
                                   std::uint64_t high_rxt, std::uint32_t smss) const {
  // RFC 6675 §4 SetPipe(), a hole at a time (IsLost is the same for every octet of one).
  std::uint64_t pipe = 0;
  for_each_hole(una, high_data,
                [&](std::uint64_t lo, std::uint64_t hi, std::size_t above, std::uint64_t bytes) {
                  // (a) "If IsLost (S1) returns false: Pipe is incremented by 1 octet."
                  if (!lost_given(above, bytes, smss)) pipe += hi - lo;
                  // (b) "If S1 <= HighRxt: Pipe is incremented by 1 octet."
                  if (lo < high_rxt) pipe += std::min(hi, high_rxt) - lo;
                });
  return pipe;
}

std::optional<NextSegment> SackScoreboard::next_seg(const NextSegInput& in) const {
  const std::uint64_t highest = highest_sacked_end();
  auto seg_at = [&](NextSegment::Rule rule, std::uint64_t from, std::uint64_t hole_end) {
    return NextSegment{rule, from, std::min<std::uint64_t>(hole_end - from, in.max_len)};
  };
  // (1) "the smallest unSACKed sequence number 'S2' that meets: (1.a) S2 is greater than
  // HighRxt. (1.b) S2 is less than the highest octet covered by any received SACK. (1.c)
  // IsLost (S2) returns true." (3): the same without (1.c).
  std::optional<NextSegment> lost;
  std::optional<NextSegment> unsacked;
  for_each_hole(in.una, in.high_data,
                [&](std::uint64_t lo, std::uint64_t hi, std::size_t above, std::uint64_t bytes) {
                  const std::uint64_t s = std::max(lo, in.high_rxt);
                  if (s >= hi || s >= highest) return;
                  if (!unsacked) unsacked = seg_at(NextSegment::Rule::Unsacked, s, hi);
                  if (!lost && lost_given(above, bytes, in.smss)) {
                    lost = seg_at(NextSegment::Rule::Lost, s, hi);
                  }
                });
  if (lost) return lost;
  // (2) "If no sequence number 'S2' per rule (1) exists but there exists available unsent
  // data and the receiver's advertised window allows, return ... new data".
  if (in.new_data) return NextSegment{NextSegment::Rule::NewData, in.high_data, 0};
  if (unsacked) return unsacked;
  // (4) "MAY return the sequence number of one segment of no more than SMSS octets located
  // at the highest outstanding unSACKed sequence number", while HighACK > RescueRxt (or
  // RescueRxt is undefined); the caller then sets RescueRxt to RecoveryPoint.
  if (in.rescue_rxt && in.una <= *in.rescue_rxt) return std::nullopt;
  std::optional<NextSegment> rescue;
  for_each_hole(in.una, in.high_data,
                [&](std::uint64_t lo, std::uint64_t hi, std::size_t, std::uint64_t) {
                  const std::uint64_t from = hi - std::min<std::uint64_t>(hi - lo, in.max_len);
                  rescue = NextSegment{NextSegment::Rule::Rescue, from, hi - from};
                });
  return rescue;
}

}  // namespace tapir::tcp
