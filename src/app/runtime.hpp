// The inside of a Runtime (include/tapir/bsd.hpp): the stack, its loop thread, the one
// mutex every facade call takes, and the condition variable blocked calls wait on.
// Threads live only here, in src/app (STYLE.md §1).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "tapir/bsd.hpp"
#include "time/steady_clock.hpp"

namespace tapir {

struct Runtime::Impl {
  Impl(std::unique_ptr<phy::Device> owned_device, phy::Device& dev, const StackConfig& config);
  ~Impl();

  void run();   // the loop thread's body
  void wake();  // makes the loop poll now (writes the eventfd)
  void stop();

  // How many times `fd` was closed through the facade: a waiter that sees it change
  // was woken by a close from another thread (EBADF), even if the number was reused.
  std::uint64_t closes(int fd) const {
    auto it = close_count.find(fd);
    return it == close_count.end() ? 0 : it->second;
  }

  std::unique_ptr<phy::Device> owned;
  phy::Device& device;
  SteadyClock clock;
  std::mutex mu;  // guards stack, close_count and waiters
  std::condition_variable cv;
  Stack stack;
  std::unordered_map<int, std::uint64_t> close_count;
  // How many application threads are blocked in a facade call right now (inside
  // cv.wait, the mutex released). Lets a test know a call has really blocked.
  std::size_t waiters = 0;
  int event_fd = -1;
  std::atomic<bool> stopping{false};
  std::thread loop;
};

}  // namespace tapir
