// SlotRing: a FIFO queue whose slots are reused, for per-frame and per-datagram queues on
// the hot path (docs/hot-path.md). Popping a slot does not destroy its object, so a slot
// that owns memory (a std::vector of frame bytes) keeps it for the next push: once a queue
// has been as deep as it gets, frames move through it without allocating. std::deque, by
// contrast, allocates and frees a block every few elements as a FIFO moves along.
//
// Storage grows (doubling, moving the slots) only when more slots are in use at once than
// ever before; trim() gives the memory of an empty queue back.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "tapir/assert.hpp"

namespace tapir {

template <class T>
class SlotRing {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  // Slots allocated (in use or waiting for reuse).
  std::size_t capacity() const { return slots_.size(); }

  T& front() {
    TAPIR_ASSERT(size_ > 0, "SlotRing::front of an empty queue");
    return slots_[head_];
  }
  const T& front() const {
    TAPIR_ASSERT(size_ > 0, "SlotRing::front of an empty queue");
    return slots_[head_];
  }
  // The i-th queued slot, 0 being the front.
  T& operator[](std::size_t i) {
    TAPIR_ASSERT(i < size_, "SlotRing index out of range");
    return slots_[wrap(head_ + i)];
  }

  // Appends a slot and returns it. It holds whatever its previous use left in it (a
  // value-initialised T the first time): the caller overwrites every field it reads later.
  T& push_back() {
    if (size_ == slots_.size()) grow();
    T& slot = slots_[wrap(head_ + size_)];
    ++size_;
    return slot;
  }
  // Removes the front slot; its object stays, to be reused by a later push_back().
  void pop_front() {
    TAPIR_ASSERT(size_ > 0, "SlotRing::pop_front of an empty queue");
    if (size_ == 0) return;
    head_ = wrap(head_ + 1);
    --size_;
  }
  // Frees the slots beyond the first `keep` while the queue is empty (a burst made it
  // deep; the memory need not stay). Does nothing while slots are in use.
  void trim(std::size_t keep) {
    if (size_ != 0 || slots_.size() <= keep) return;
    slots_.resize(keep);
    slots_.shrink_to_fit();
    head_ = 0;
  }

 private:
  static constexpr std::size_t kFirstSlots = 8;

  std::size_t wrap(std::size_t i) const { return i >= slots_.size() ? i - slots_.size() : i; }

  void grow() {
    std::vector<T> next;
    next.reserve(std::max(kFirstSlots, slots_.size() * 2));
    // Queued slots first, in order, then the idle ones: every slot keeps its memory.
    for (std::size_t i = 0; i < slots_.size(); ++i)
      next.push_back(std::move(slots_[wrap(head_ + i)]));
    next.resize(next.capacity());
    slots_ = std::move(next);
    head_ = 0;
  }

  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace tapir
