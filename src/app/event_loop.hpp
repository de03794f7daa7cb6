// The run loop of the app: one thread, ppoll(2) on the device fd, any extra fds (control
// socket, stdin), and a signalfd for SIGINT/SIGTERM, sleeping until the stack's next
// deadline. This is the only place, with the devices, where tapir touches the OS clock.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <poll.h>

#include "tapir/stack.hpp"

namespace tapir::app {

// How many frames one round of the loop reads before it answers them (services, flush).
// One at a time while frames come one per wake-up (request/response): the answer is then
// on the wire before the next read, and on one CPU the peer runs in between, so that read
// finds the next request: two system calls per request (read, write), as lwIP's loop
// makes. Once frames have kept coming for kStreak rounds, a whole batch per round
// (streams: one ACK decision and one services pass per batch, not per frame), until a
// round finds at most one frame waiting.
class RxPacing {
 public:
  static constexpr std::size_t kBatch = 64;
  static constexpr int kStreak = 16;
  std::size_t budget() const { return batch_ ? kBatch : 1; }
  void update(std::size_t budget, std::size_t received) {
    if (budget > 1) {
      if (received <= 1) {
        batch_ = false;
        streak_ = 0;
      }
      return;
    }
    streak_ = received == 0 ? 0 : streak_ + 1;
    if (streak_ >= kStreak) batch_ = true;
  }
  bool batch() const { return batch_; }

 private:
  bool batch_ = false;
  int streak_ = 0;
};

class EventLoop {
 public:
  // Blocks SIGINT and SIGTERM for the calling thread (call before starting other threads)
  // and receives them through a signalfd instead.
  EventLoop(Stack& stack, phy::Device& device, const Clock& clock);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Calls `on_readable` from the loop whenever `fd` is readable (or hung up).
  void watch(int fd, std::function<void()> on_readable);
  void unwatch(int fd);
  // Called on every iteration after stack.poll(); returns its own next deadline, if any.
  void on_tick(std::function<std::optional<Instant>(Instant now)> tick) { tick_ = std::move(tick); }

  // Runs until stop() or a signal. Returns the signal number, or 0 when stop() ended it.
  int run();
  void stop() { stopping_ = true; }
  const Clock& clock() const { return clock_; }

 private:
  struct Watch {
    int fd;
    std::function<void()> cb;
  };
  Stack& stack_;
  phy::Device& device_;
  const Clock& clock_;
  int signal_fd_ = -1;
  bool stopping_ = false;
  // Shared, so that a callback running while it (or another) is unwatched stays alive
  // for the call without copying the std::function (docs/hot-path.md: nothing allocates
  // per iteration of the loop).
  std::vector<std::shared_ptr<Watch>> watches_;
  std::function<std::optional<Instant>(Instant)> tick_;
  // Rounds in a row that received frames and so skipped ppoll(2) (see run()).
  static constexpr int kMaxBusyRounds = 64;
  std::vector<pollfd> fds_;                    // reused on every iteration
  std::vector<std::shared_ptr<Watch>> ready_;  // the watches with a ready fd, this iteration
};

}  // namespace tapir::app
