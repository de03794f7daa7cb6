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
  std::vector<pollfd> fds_;                    // reused on every iteration
  std::vector<std::shared_ptr<Watch>> ready_;  // the watches with a ready fd, this iteration
};

}  // namespace tapir::app
