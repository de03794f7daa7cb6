// One DNS lookup run the way `tapir resolve` runs it: a dns::Client
// (include/tapir/dns_client.hpp) in the stack's own thread, started at a given moment (or
// at the first tick), stepped after every poll, its output flushed at once. Replay runs
// the same object on its manual clock for a sidecar's `client = resolve ...` (docs/replay.md),
// so that what a recording of `tapir resolve --seed N` sent is what replay sends: the same
// ephemeral port (the stack's Rng) and the same query IDs (an Rng seeded from the stack's
// seed, here).
#pragma once

#include <optional>
#include <string>

#include "tapir/dns_client.hpp"
#include "tapir/stack.hpp"

namespace tapir::app {

class ResolveTask {
 public:
  // `start`: the Instant to send the first query at; nullopt: at the first tick.
  ResolveTask(Stack& stack, std::string name, dns::ClientConfig config,
              std::optional<Instant> start = std::nullopt);

  // Call after every stack poll, as EventLoop::on_tick and replay do; returns when it must
  // be called again even if nothing arrives.
  std::optional<Instant> tick(Instant now);

  bool done() const { return client_.done(); }
  // Precondition: done().
  const dns::Answer& answer() const { return client_.answer(); }
  // The tick at which the answer came; nullopt until done().
  std::optional<Instant> finished_at() const { return finished_at_; }
  const std::string& name() const { return name_; }

 private:
  Stack& stack_;
  std::string name_;
  std::optional<Instant> start_;
  bool started_ = false;
  SeededRng ids_;
  dns::Client client_;
  std::optional<Instant> finished_at_;
};

}  // namespace tapir::app
