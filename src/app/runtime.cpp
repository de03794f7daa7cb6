// Runtime: the stack's loop in its own thread, for the blocking facade (bsd.hpp).
#include "app/runtime.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "util/log.hpp"

namespace tapir {

namespace {
std::atomic<Runtime*> g_current{nullptr};
thread_local Runtime* t_current = nullptr;
}  // namespace

Runtime::Impl::Impl(std::unique_ptr<phy::Device> owned_device, phy::Device& dev,
                    const StackConfig& config)
    : owned(std::move(owned_device)), device(dev), stack(dev, config) {
  event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd < 0) {
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno) +
                             " (is the process out of file descriptors?)");
  }
}

Runtime::Impl::~Impl() {
  if (event_fd >= 0) ::close(event_fd);
}

void Runtime::Impl::wake() {
  std::uint64_t one = 1;
  // A full counter (EAGAIN) already means "wake up"; nothing else can fail here.
  [[maybe_unused]] auto n = ::write(event_fd, &one, sizeof one);
}

void Runtime::Impl::stop() {
  stopping = true;
  wake();
  if (loop.joinable()) loop.join();
}

void Runtime::Impl::run() {
  while (!stopping) {
    std::optional<Instant> deadline;
    {
      std::lock_guard lk(mu);
      stack.poll(clock.now());
      deadline = stack.next_deadline();
    }
    cv.notify_all();

    pollfd fds[2] = {{event_fd, POLLIN, 0}, {device.wait_fd(), POLLIN, 0}};
    nfds_t n = fds[1].fd >= 0 ? 2 : 1;
    timespec ts{};
    timespec* timeout = nullptr;
    if (deadline) {
      auto wait_us = std::max<std::int64_t>(0, (*deadline - clock.now()).count());
      ts.tv_sec = wait_us / 1000000;
      ts.tv_nsec = (wait_us % 1000000) * 1000;
      timeout = &ts;
    }
    if (::ppoll(fds, n, timeout, nullptr) < 0 && errno != EINTR) {
      // Only a bad descriptor or no memory fails ppoll; the loop cannot go on.
      log::get("app").error("runtime: ppoll: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents & POLLIN) {
      std::uint64_t count;
      [[maybe_unused]] auto r = ::read(event_fd, &count, sizeof count);
    }
  }
}

Runtime::Runtime(phy::Device& device, const StackConfig& config)
    : impl_(std::make_unique<Impl>(nullptr, device, config)) {
  impl_->loop = std::thread([this] { impl_->run(); });
}

Runtime::Runtime(std::unique_ptr<phy::Device> device, const StackConfig& config) {
  phy::Device& dev = *device;
  impl_ = std::make_unique<Impl>(std::move(device), dev, config);
  impl_->loop = std::thread([this] { impl_->run(); });
}

Runtime::~Runtime() {
  Runtime* self = this;
  g_current.compare_exchange_strong(self, nullptr);
  impl_->stop();
}

void Runtime::wake() { impl_->wake(); }

void Runtime::with_stack(const std::function<void(Stack&)>& f) {
  {
    std::lock_guard lk(impl_->mu);
    f(impl_->stack);
    impl_->stack.flush();
  }
  impl_->cv.notify_all();
  impl_->wake();
}

Stats Runtime::stats() {
  std::lock_guard lk(impl_->mu);
  return impl_->stack.stats();
}

phy::DeviceCaps LockedDevice::caps() const {
  std::lock_guard lk(mutex_);
  return inner_.caps();
}

std::optional<Bytes> LockedDevice::receive(Instant now) {
  std::lock_guard lk(mutex_);
  auto f = inner_.receive(now);
  if (!f) return std::nullopt;
  frame_.assign(f->begin(), f->end());
  return Bytes(frame_);
}

void LockedDevice::wake_on_transmit(Runtime& peer) {
  std::lock_guard lk(mutex_);
  peer_ = &peer;
}

void LockedDevice::stop_waking() {
  std::lock_guard lk(mutex_);
  peer_ = nullptr;
}

Errno LockedDevice::transmit(Bytes frame, Instant now) {
  std::lock_guard lk(mutex_);
  Errno err = inner_.transmit(frame, now);
  // Woken under the lock (an eventfd write, which never blocks), so that stop_waking()
  // cannot return while a wake of a runtime about to be destroyed is under way.
  if (err == Errno::Ok && peer_) peer_->wake();
  return err;
}

void LockedDevice::flush(Instant now) {
  std::lock_guard lk(mutex_);
  inner_.flush(now);
}

std::optional<Instant> LockedDevice::next_deadline() const {
  std::lock_guard lk(mutex_);
  return inner_.next_deadline();
}

namespace bsd {
void use(Runtime& rt) { g_current.store(&rt); }
Runtime* current() { return t_current ? t_current : g_current.load(); }
ScopedUse::ScopedUse(Runtime& rt) : previous_(t_current) { t_current = &rt; }
ScopedUse::~ScopedUse() { t_current = previous_; }
}  // namespace bsd

}  // namespace tapir
