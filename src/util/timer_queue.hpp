// TimerQueue: one deadline per owner (a TCP connection, an ARP entry) for many owners, in a
// binary min-heap, so that a layer finds what is due in O(log n) per due deadline and its
// next deadline in O(1) however many owners sit idle (STYLE.md §5: deadlines, not
// callbacks; nothing here reads a clock).
//
// Each owner holds a Handle. schedule(h, at) replaces the handle's deadline. The entry of
// the old deadline is not searched for: it stays in the heap, stale, and is skipped when
// it reaches the top (lazy deletion; an entry is live while its stamp is the handle's
// current stamp). The top is always live, so next() is a read. When stale entries
// outnumber live ones (plus kCompactSlack) the heap is rebuilt from the live ones, so it
// holds at most about twice as many entries as there are deadlines.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "tapir/assert.hpp"
#include "tapir/time.hpp"

namespace tapir {

class TimerQueue {
 public:
  using Handle = std::uint32_t;
  // Stale entries tolerated beyond the live count before a rebuild.
  static constexpr std::size_t kCompactSlack = 64;

  // A handle with no deadline; released handles are reused first.
  Handle acquire() {
    Handle h;
    if (!free_.empty()) {
      h = free_.back();
      free_.pop_back();
    } else {
      h = static_cast<Handle>(slots_.size());
      slots_.emplace_back();
    }
    slots_[h].in_use = true;
    return h;
  }

  // Clears the handle's deadline and gives the handle back.
  void release(Handle h) {
    TAPIR_ASSERT(h < slots_.size() && slots_[h].in_use, "TimerQueue::release of a free handle");
    schedule(h, std::nullopt);
    slots_[h].in_use = false;
    free_.push_back(h);
  }

  // Sets the handle's deadline (nullopt: none). O(1) when it is unchanged, else O(log n).
  void schedule(Handle h, std::optional<Instant> at) {
    TAPIR_ASSERT(h < slots_.size() && slots_[h].in_use, "TimerQueue::schedule of a free handle");
    Slot& s = slots_[h];
    if (s.armed == at.has_value() && (!at || s.at == *at)) return;
    if (s.armed) --live_;
    // The stamp (kept across reuse of the handle) makes every earlier entry stale.
    ++s.stamp;
    s.armed = at.has_value();
    if (at) {
      s.at = *at;
      heap_.push_back({*at, h, s.stamp});
      std::push_heap(heap_.begin(), heap_.end(), later);
      ++live_;
    }
    drop_stale_top();
    compact_if_sparse();
  }

  std::optional<Instant> scheduled(Handle h) const {
    const Slot& s = slots_[h];
    return s.armed ? std::optional<Instant>(s.at) : std::nullopt;
  }

  // The earliest deadline of all handles, nullopt when none is set.
  std::optional<Instant> next() const {
    return heap_.empty() ? std::nullopt : std::optional<Instant>(heap_.front().at);
  }

  // Appends to `out` every handle whose deadline is at or before `now`, earliest first
  // (equal deadlines in handle order), and clears their deadlines: the caller handles each
  // and schedules it again.
  void take_due(Instant now, std::vector<Handle>& out) {
    while (!heap_.empty() && heap_.front().at <= now) {
      const Entry e = pop();
      if (!live(e)) continue;
      slots_[e.handle].armed = false;
      --live_;
      out.push_back(e.handle);
    }
    drop_stale_top();
    compact_if_sparse();
  }

  std::size_t scheduled_count() const { return live_; }
  // Live plus stale entries.
  std::size_t heap_size() const { return heap_.size(); }
  std::size_t handle_count() const { return slots_.size() - free_.size(); }

 private:
  struct Entry {
    Instant at;
    Handle handle;
    std::uint32_t stamp;
  };
  struct Slot {
    Instant at;
    std::uint32_t stamp = 0;
    bool armed = false;
    bool in_use = false;
  };

  // The heap's order: std::push_heap keeps the greatest on top, so "greater" is "later".
  static bool later(const Entry& a, const Entry& b) {
    return a.at != b.at ? a.at > b.at : a.handle > b.handle;
  }
  bool live(const Entry& e) const {
    const Slot& s = slots_[e.handle];
    return s.armed && s.stamp == e.stamp;
  }
  Entry pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Entry e = heap_.back();
    heap_.pop_back();
    return e;
  }
  void drop_stale_top() {
    while (!heap_.empty() && !live(heap_.front())) pop();
  }
  void compact_if_sparse() {
    if (heap_.size() <= 2 * live_ + kCompactSlack) return;
    std::erase_if(heap_, [this](const Entry& e) { return !live(e); });
    std::make_heap(heap_.begin(), heap_.end(), later);
  }

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;  // by handle
  std::vector<Handle> free_;
  std::size_t live_ = 0;  // handles with a deadline: the live entries
};

}  // namespace tapir
