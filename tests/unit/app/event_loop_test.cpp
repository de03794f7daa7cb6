// The event loop's wait (src/app/event_loop.cpp): ppoll(2) sleeps until the stack's next
// deadline, and that deadline must include what the tick (the services) has just set in
// motion. Real time, a real ppoll: the device is a queue with no fd, so only the timeout
// (or the guard below) can end the wait.
#include "app/event_loop.hpp"

#include <signal.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>

#include "phy/queue_device.hpp"
#include "tapir/socket.hpp"
#include "time/steady_clock.hpp"

using namespace tapir;
using namespace std::chrono_literals;

TEST_CASE("event loop: a deadline the tick sets bounds the next wait", "[app][loop]") {
  // EventLoop blocks SIGINT and SIGTERM for its thread; give the test runner them back.
  sigset_t saved;
  pthread_sigmask(SIG_SETMASK, nullptr, &saved);
  StackConfig cfg;
  cfg.arp.gratuitous_on_start = false;
  cfg.arp.request_interval = 50ms;
  phy::QueueDevice dev;
  Stack stack(dev, cfg);
  SteadyClock clock;
  {
    app::EventLoop loop(stack, dev, clock);
    // The guard: if the loop slept with no timeout, this ends the wait after 5 s.
    const int guard = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    REQUIRE(guard >= 0);
    itimerspec in5s{};
    in5s.it_value.tv_sec = 5;
    REQUIRE(timerfd_settime(guard, 0, &in5s, nullptr) == 0);
    bool guard_fired = false;
    loop.watch(guard, [&] {
      guard_fired = true;
      loop.stop();
    });
    int ticks = 0;
    Instant first{};
    Instant second{};
    loop.on_tick([&](Instant now) -> std::optional<Instant> {
      if (++ticks == 1) {
        // A datagram to a neighbour not yet resolved: the stack sends an ARP request and
        // will repeat it after request_interval, a deadline that exists only from now on.
        first = now;
        auto fd = stack.sockets().socket(AF_INET, SOCK_DGRAM, 0);
        REQUIRE(fd);
        const sockaddr_in to = make_sockaddr(Ipv4Addr::from_octets(10, 0, 0, 9), 9);
        const std::array<std::byte, 4> data{};
        REQUIRE(stack.sockets().sendto(*fd, Bytes(data), 0, &to));
      } else {
        second = now;
        loop.stop();
      }
      return std::nullopt;  // the services themselves have no deadline
    });
    loop.run();
    ::close(guard);
    CHECK_FALSE(guard_fired);
    CHECK(ticks == 2);
    // Woken by the stack's deadline: not before it, and long before the guard.
    CHECK(second - first >= 50ms);
    CHECK(second - first < 4s);
  }
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}
