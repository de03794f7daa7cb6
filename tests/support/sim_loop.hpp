// A discrete-event loop for stack tests: polls every stack until no frame is in flight,
// then jumps the ManualClock straight to the earliest deadline of any participant.
// Nothing sleeps; the step limit bounds a test that would otherwise spin.
#pragma once

#include <functional>
#include <vector>

#include "tapir/stack.hpp"

namespace tapir::test {

class SimLoop {
 public:
  SimLoop(ManualClock& clock, std::vector<Stack*> stacks, std::function<bool()> frames_in_flight)
      : clock_(clock), stacks_(std::move(stacks)), in_flight_(std::move(frames_in_flight)) {}

  // Polls all stacks at the current time until the wire is quiet.
  void settle();
  // Runs (settling, then jumping to the next deadline) until `done()` holds or `limit`
  // of simulated time passes. Returns whether done() held.
  bool run_until(const std::function<bool()>& done, Duration limit);
  // Runs for exactly `d` of simulated time.
  void run_for(Duration d);

 private:
  std::optional<Instant> next_deadline() const;
  ManualClock& clock_;
  std::vector<Stack*> stacks_;
  std::function<bool()> in_flight_;
};

}  // namespace tapir::test
