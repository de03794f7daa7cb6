#include "time/steady_clock.hpp"

#include <chrono>

namespace tapir {

namespace {
std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

// Instants start near zero at construction, which keeps logs and traces readable.
SteadyClock::SteadyClock() : origin_ns_(steady_ns()) {}

Instant SteadyClock::now() const { return Instant::from_micros((steady_ns() - origin_ns_) / 1000); }

}  // namespace tapir
