// Time for the sans-IO core: an Instant is microseconds since an arbitrary epoch, and the
// only way protocol code learns the time is an Instant passed in (STYLE.md §5). The Clock
// interface lets the app supply a steady clock and tests a ManualClock.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>

namespace tapir {

using Duration = std::chrono::microseconds;
using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;
using std::chrono_literals::operator""us;

class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant from_micros(std::int64_t us) { return Instant(us); }
  static constexpr Instant from_millis(std::int64_t ms) { return Instant(ms * 1000); }
  static constexpr Instant max() { return Instant(std::numeric_limits<std::int64_t>::max()); }
  constexpr std::int64_t micros() const { return us_; }
  constexpr std::int64_t millis() const { return us_ / 1000; }

  constexpr Instant operator+(Duration d) const { return Instant(us_ + d.count()); }
  constexpr Instant operator-(Duration d) const { return Instant(us_ - d.count()); }
  constexpr Duration operator-(Instant o) const { return Duration(us_ - o.us_); }
  constexpr Instant& operator+=(Duration d) {
    us_ += d.count();
    return *this;
  }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend constexpr auto operator<=>(Instant, Instant) = default;

 private:
  constexpr explicit Instant(std::int64_t us) : us_(us) {}
  std::int64_t us_ = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

// A clock that moves only when told to: every test and every pcap replay runs on one.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Instant start = Instant{}) : now_(start) {}
  Instant now() const override { return now_; }
  void advance(Duration d) { now_ += d; }
  void set(Instant t) { now_ = t; }

 private:
  Instant now_;
};

// The earlier of two optional deadlines (absent means "never").
template <class Opt>
constexpr Opt earliest(const Opt& a, const Opt& b) {
  if (!a) return b;
  if (!b) return a;
  return *a < *b ? a : b;
}

}  // namespace tapir
