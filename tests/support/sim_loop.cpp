#include "support/sim_loop.hpp"

#include <catch2/catch.hpp>

namespace tapir::test {

void SimLoop::settle() {
  for (int step = 0; step < 100000; ++step) {
    for (auto* s : stacks_) s->poll(clock_.now());
    if (!in_flight_()) return;
  }
  FAIL("SimLoop::settle: the wire never went quiet after 100000 polls");
}

std::optional<Instant> SimLoop::next_deadline() const {
  std::optional<Instant> t;
  for (auto* s : stacks_) t = earliest(t, s->next_deadline());
  return t;
}

bool SimLoop::run_until(const std::function<bool()>& done, Duration limit) {
  Instant end = clock_.now() + limit;
  for (int step = 0;; ++step) {
    if (step > 1000000) FAIL("SimLoop::run_until: a deadline keeps firing without progress");
    settle();
    if (done()) return true;
    auto t = next_deadline();
    if (!t || *t > end) {
      clock_.set(end);
      settle();
      return done();
    }
    clock_.set(std::max(*t, clock_.now()));
  }
}

void SimLoop::run_for(Duration d) {
  (void)run_until([] { return false; }, d);
}

}  // namespace tapir::test
