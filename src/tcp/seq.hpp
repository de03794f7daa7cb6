// TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 §3.4), and the
// mapping between them and 64-bit absolute stream offsets used inside the buffers.
//
// SeqNum has no operator< on purpose: modular order is not a strict weak order (a before b
// before c does not make a before c once the span exceeds 2^31), so a SeqNum must never be
// a std::map key or be sorted. Comparisons are named: before, before_eq, after, after_eq,
// in_range [lo, hi) and in_window [start, start+len). SeqLen is a distance in sequence
// space, a different type, so that "seq + seq" does not compile.
//
// Absolute offsets (std::uint64_t) never wrap; wrap() and unwrap() convert at the wire
// edge, unwrap() choosing the candidate nearest a checkpoint (the last known offset).
#pragma once

#include <compare>
#include <cstdint>

namespace tapir::tcp {

// A length or distance in sequence space (at most 2^32 - 1 octets of sequence space).
struct SeqLen {
  std::uint32_t value = 0;

  constexpr SeqLen() = default;
  constexpr explicit SeqLen(std::uint32_t v) : value(v) {}
  friend constexpr SeqLen operator+(SeqLen a, SeqLen b) { return SeqLen(a.value + b.value); }
  friend constexpr SeqLen operator-(SeqLen a, SeqLen b) { return SeqLen(a.value - b.value); }
  // Lengths are plain magnitudes, so ordering them is well defined.
  friend constexpr auto operator<=>(SeqLen, SeqLen) = default;
};

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(std::uint32_t v) : v_(v) {}
  constexpr std::uint32_t raw() const { return v_; }

  // RFC 9293 §3.4: "a < b" in sequence space means b - a, taken modulo 2^32, lies in
  // (0, 2^31). The cast to int32 is the modulo-2^32 signed reading (defined in C++20).
  constexpr bool before(SeqNum o) const { return static_cast<std::int32_t>(v_ - o.v_) < 0; }
  constexpr bool before_eq(SeqNum o) const { return static_cast<std::int32_t>(v_ - o.v_) <= 0; }
  constexpr bool after(SeqNum o) const { return o.before(*this); }
  constexpr bool after_eq(SeqNum o) const { return o.before_eq(*this); }

  // lo <= *this < hi, walking forward from lo; empty when lo == hi. Unsigned distances make
  // this exact for any span below 2^32, unlike two before() tests limited to 2^31.
  constexpr bool in_range(SeqNum lo, SeqNum hi) const {
    return static_cast<std::uint32_t>(v_ - lo.v_) < static_cast<std::uint32_t>(hi.v_ - lo.v_);
  }
  // start <= *this < start + len (a window of len octets); empty when len is 0.
  constexpr bool in_window(SeqNum start, SeqLen len) const {
    return static_cast<std::uint32_t>(v_ - start.v_) < len.value;
  }

  constexpr SeqNum& operator+=(SeqLen n) {
    v_ += n.value;
    return *this;
  }
  constexpr SeqNum& operator-=(SeqLen n) {
    v_ -= n.value;
    return *this;
  }
  friend constexpr SeqNum operator+(SeqNum a, SeqLen n) { return a += n; }
  friend constexpr SeqNum operator-(SeqNum a, SeqLen n) { return a -= n; }
  // The forward distance from b to a, modulo 2^32: meaningful when b.before_eq(a).
  friend constexpr SeqLen operator-(SeqNum a, SeqNum b) { return SeqLen(a.v_ - b.v_); }
  friend constexpr bool operator==(SeqNum, SeqNum) = default;

 private:
  std::uint32_t v_ = 0;
};

// The signed distance from `from` to `to`: positive when `to` is after `from`. Valid while
// the two are within 2^31 of each other (RFC 9293 §3.4 comparisons assume that).
constexpr std::int32_t signed_distance(SeqNum from, SeqNum to) {
  return static_cast<std::int32_t>(to.raw() - from.raw());
}

// The larger/smaller of two sequence numbers in modular order.
constexpr SeqNum seq_max(SeqNum a, SeqNum b) { return a.before(b) ? b : a; }
constexpr SeqNum seq_min(SeqNum a, SeqNum b) { return a.before(b) ? a : b; }

// The wire sequence number of absolute offset `abs`, counted from `isn` (offset 0).
constexpr SeqNum wrap(std::uint64_t abs, SeqNum isn) {
  return isn + SeqLen(static_cast<std::uint32_t>(abs));
}

// The absolute offset that wraps to `n` and lies nearest `checkpoint` (ties and results
// that would be negative go upward). The checkpoint is the last offset known on this
// connection (e.g. RCV.NXT or SND.UNA as an offset), so a valid segment is within 2^31.
constexpr std::uint64_t unwrap(SeqNum n, SeqNum isn, std::uint64_t checkpoint) {
  constexpr std::uint64_t kSpan = std::uint64_t{1} << 32;
  constexpr std::uint64_t kHalf = std::uint64_t{1} << 31;
  const std::uint64_t offset = static_cast<std::uint32_t>(n.raw() - isn.raw());
  std::uint64_t candidate = (checkpoint & ~(kSpan - 1)) | offset;
  if (candidate + kHalf <= checkpoint) {
    candidate += kSpan;
  } else if (candidate > checkpoint + kHalf && candidate >= kSpan) {
    candidate -= kSpan;
  }
  return candidate;
}

}  // namespace tapir::tcp
