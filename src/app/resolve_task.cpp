#include "app/resolve_task.hpp"

namespace tapir::app {

namespace {
// The query IDs' Rng is seeded from the stack's seed, but not with it: a SeededRng with the
// stack's own seed would draw the stack's own numbers, and the first query's ID would equal
// the IP ID of the datagram that carries it.
constexpr std::uint64_t kQueryIdSalt = 0x646e'735f'6964'7300;  // "dns_ids"
}  // namespace

ResolveTask::ResolveTask(Stack& stack, std::string name, dns::ClientConfig config,
                         std::optional<Instant> start)
    : stack_(stack),
      name_(std::move(name)),
      start_(start),
      ids_(stack.config().seed ^ kQueryIdSalt),
      client_(stack.sockets(), ids_, config) {}

std::optional<Instant> ResolveTask::tick(Instant now) {
  if (!started_) {
    if (start_ && now < *start_) return start_;
    started_ = true;
    client_.start(name_, now);
  } else {
    client_.step(now);
  }
  // Out now, as ServiceHost::dispatch does, rather than at the next poll.
  stack_.flush();
  if (client_.done() && !finished_at_) finished_at_ = now;
  return client_.next_deadline();
}

}  // namespace tapir::app
