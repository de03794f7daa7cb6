// A connection's timers as named deadlines (STYLE.md §5: deadlines, not callbacks). Each
// is an optional Instant; the connection arms and disarms them, asks which are due when
// polled with the current time, and reports next() to the stack so the event loop can
// sleep until then (smoltcp's poll_at). Nothing here reads a clock.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "tapir/time.hpp"

namespace tapir::tcp {

class Deadline {
 public:
  // Sets (or moves) the deadline.
  void arm(Instant at) { at_ = at; }
  void disarm() { at_.reset(); }
  bool armed() const { return at_.has_value(); }
  std::optional<Instant> at() const { return at_; }
  // Armed and reached: a deadline is due at its own instant, not only after it.
  bool due(Instant now) const { return at_ && *at_ <= now; }

 private:
  std::optional<Instant> at_;
};

enum class TimerKind : std::uint8_t {
  Retransmit,
  Persist,
  DelayedAck,
  Keepalive,
  TimeWait,
  UserTimeout,
  BufferRelease,
};
inline constexpr std::size_t kTimerKindCount = 7;

constexpr std::string_view to_string(TimerKind k) {
  constexpr std::array<std::string_view, kTimerKindCount> kNames = {
      "retransmit", "persist",      "delayed_ack",   "keepalive",
      "time_wait",  "user_timeout", "buffer_release"};
  return kNames[static_cast<std::size_t>(k)];
}

struct Timers {
  Deadline retransmit;    // RFC 6298 §5: the retransmission timer
  Deadline persist;       // RFC 9293 §3.8.6.1: zero-window probes
  Deadline delayed_ack;   // RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2
  Deadline keepalive;     // RFC 9293 §3.8.4, RFC 1122 §4.2.3.6
  Deadline time_wait;     // RFC 9293 §3.10.8: the time-wait timeout
  Deadline user_timeout;  // RFC 9293 §3.10.8: USER TIMEOUT
  // Not a protocol timer: frees the buffers of a connection idle this long (tapir's
  // memory policy, Connection::release_idle_buffers).
  Deadline buffer_release;

  Deadline& operator[](TimerKind k) { return pick(*this, k); }
  const Deadline& operator[](TimerKind k) const { return pick(*this, k); }

  // The earliest armed deadline, for next_deadline(); nullopt when all are idle.
  std::optional<Instant> next() const {
    std::optional<Instant> best;
    for (std::size_t i = 0; i < kTimerKindCount; ++i) {
      best = earliest(best, (*this)[static_cast<TimerKind>(i)].at());
    }
    return best;
  }
  // The due timer with the earliest deadline (ties in TimerKind order), so a caller that
  // fires one at a time handles them in time order.
  std::optional<TimerKind> next_due(Instant now) const {
    std::optional<TimerKind> best;
    for (std::size_t i = 0; i < kTimerKindCount; ++i) {
      const auto k = static_cast<TimerKind>(i);
      if ((*this)[k].due(now) && (!best || *(*this)[k].at() < *(*this)[*best].at())) best = k;
    }
    return best;
  }
  void disarm_all() {
    for (std::size_t i = 0; i < kTimerKindCount; ++i) (*this)[static_cast<TimerKind>(i)].disarm();
  }
  // RFC 9293 §3.10.7.4 eighth step: on entering TIME-WAIT, "start the time-wait timer,
  // turn off the other timers".
  void start_time_wait(Instant at) {
    disarm_all();
    time_wait.arm(at);
  }

 private:
  template <class Self>
  static std::conditional_t<std::is_const_v<Self>, const Deadline&, Deadline&> pick(Self& self,
                                                                                    TimerKind k) {
    switch (k) {
      case TimerKind::Retransmit:
        return self.retransmit;
      case TimerKind::Persist:
        return self.persist;
      case TimerKind::DelayedAck:
        return self.delayed_ack;
      case TimerKind::Keepalive:
        return self.keepalive;
      case TimerKind::TimeWait:
        return self.time_wait;
      case TimerKind::UserTimeout:
        return self.user_timeout;
      case TimerKind::BufferRelease:
        return self.buffer_release;
    }
    return self.retransmit;  // not reached: every enumerator returns above
  }
};

// Bounds the RFCs put on these timers, for the connection's configuration.
// RFC 9293 §3.4.2: the Maximum Segment Lifetime is 2 minutes, "an engineering choice".
inline constexpr Duration kMsl = std::chrono::minutes(2);
// RFC 9293 §3.3.2 Fig. 5 ("Timeout=2MSL") and §3.10.8: TIME-WAIT lasts 2*MSL.
// LINUX: TCP_TIMEWAIT_LEN is 60 s.
inline constexpr Duration kTimeWaitRfc = 2 * kMsl;
inline constexpr Duration kTimeWaitLinux = std::chrono::seconds(60);
// RFC 1122 §4.2.3.2 (RFC 9293 §3.8.6.3): an ACK may be delayed, but "the delay MUST be
// less than 0.5 seconds".
inline constexpr Duration kMaxAckDelay = std::chrono::milliseconds(500);
// RFC 1122 §4.2.3.6 (RFC 9293 §3.8.4): the keep-alive interval "MUST default to no less
// than two hours".
inline constexpr Duration kMinKeepaliveIdle = std::chrono::hours(2);
// RFC 1122 §4.2.3.5 (RFC 9293 §3.8.3): R2, the give-up threshold, at least 100 seconds for
// data and at least 3 minutes for a SYN.
inline constexpr Duration kMinR2 = std::chrono::seconds(100);
inline constexpr Duration kMinR2Syn = std::chrono::minutes(3);

}  // namespace tapir::tcp
