#include "app/event_loop.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tapir::app {

EventLoop::EventLoop(Stack& stack, phy::Device& device, const Clock& clock)
    : stack_(stack), device_(device), clock_(clock) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) {
    throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
  }
}

EventLoop::~EventLoop() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

void EventLoop::watch(int fd, std::function<void()> on_readable) {
  watches_.push_back(std::make_shared<Watch>(Watch{fd, std::move(on_readable)}));
}

void EventLoop::unwatch(int fd) {
  std::erase_if(watches_, [fd](const auto& w) { return w->fd == fd; });
}

int EventLoop::run() {
  auto& fds = fds_;
  int busy_rounds = 0;
  RxPacing pacing;
  while (!stopping_) {
    Instant now = clock_.now();
    const std::size_t budget = pacing.budget();
    const std::size_t received = stack_.poll(now, budget);
    pacing.update(budget, received);
    // The tick first: what the services do (a write arms a retransmission timer, a read
    // may owe the peer a window update at once) moves the stack's next deadline, and the
    // wait below must honour it.
    std::optional<Instant> deadline = tick_ ? tick_(clock_.now()) : std::nullopt;
    deadline = earliest(deadline, stack_.next_deadline());
    if (stopping_) break;
    // A frame came in: more are likely (the peer answers what was just sent, a stream keeps
    // coming), so read the device again before asking ppoll(2), which would only return at
    // once: two system calls per request (read, write) instead of four. Every
    // kMaxBusyRounds rounds ppoll runs anyway, for signals and watched fds.
    if (received > 0 && busy_rounds < kMaxBusyRounds) {
      ++busy_rounds;
      continue;
    }
    busy_rounds = 0;

    fds.clear();
    fds.push_back({signal_fd_, POLLIN, 0});
    fds.push_back({device_.wait_fd(), POLLIN, 0});
    for (const auto& w : watches_) fds.push_back({w->fd, POLLIN, 0});

    timespec ts{};
    timespec* timeout = nullptr;
    if (deadline) {
      auto wait_us = std::max<std::int64_t>(0, (*deadline - clock_.now()).count());
      ts.tv_sec = wait_us / 1000000;
      ts.tv_nsec = (wait_us % 1000000) * 1000;
      timeout = &ts;
    }
    int n = ::ppoll(fds.data(), fds.size(), timeout, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("ppoll: ") + std::strerror(errno));
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signal_fd_, &info, sizeof info) == sizeof info) {
        return static_cast<int>(info.ssi_signo);
      }
    }
    // Callbacks may watch and unwatch fds: walk a snapshot of the ready watches, each
    // still called only if it is still watched when its turn comes.
    ready_.clear();
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto it = std::find_if(watches_.begin(), watches_.end(),
                             [fd = fds[i].fd](const auto& w) { return w->fd == fd; });
      if (it != watches_.end()) ready_.push_back(*it);
    }
    for (const auto& w : ready_) {
      if (std::find(watches_.begin(), watches_.end(), w) != watches_.end()) w->cb();
    }
    ready_.clear();
  }
  return 0;
}

}  // namespace tapir::app
