// A bulk transfer each way between two stacks over FaultInjector(MemoryWire), driven by a
// discrete-event loop (no sleeps): the loss suites (tcp_loss_test.cpp, SACK against no
// SACK in tcp_sack_loss_test.cpp) share it. Stack A sits behind the injector, so its lanes
// cover both directions (tx is A -> B, rx is B -> A).
#pragma once

#include <cstring>
#include <functional>
#include <vector>

#include "phy/fault_injector.hpp"
#include "stack/fixture.hpp"
#include "stack/impl.hpp"
#include "support/pattern.hpp"

namespace tapir::test {

struct LossyTransferResult {
  bool complete = false;  // every octet arrived both ways
  bool exact = false;     // and each matched the pattern
  Duration elapsed{};     // simulated time of the transfer
  TcpStats a;
  TcpStats b;
  phy::FaultStats faults;
};

namespace detail {

struct Flow {
  int tx = -1;
  int rx = -1;
  std::size_t sent = 0;
  std::size_t received = 0;
  bool mismatch = false;
};

// Moves application data: the sender writes what fits, the receiver reads and checks all
// it can. Returns whether any octet moved.
inline bool pump(const std::vector<std::byte>& p, Flow& f, Stack& tx, Stack& rx) {
  bool moved = false;
  while (f.sent < p.size()) {
    auto n = tx.sockets().send(f.tx, Bytes(p).subspan(f.sent), 0);
    if (!n || *n == 0) break;
    f.sent += *n;
    moved = true;
  }
  std::array<std::byte, 65536> buf;
  for (;;) {
    auto n = rx.sockets().recv(f.rx, MutBytes(buf), 0);
    if (!n || *n == 0) break;
    if (f.received + *n > p.size() || std::memcmp(buf.data(), p.data() + f.received, *n) != 0) {
      f.mismatch = true;
    }
    f.received += *n;
    moved = true;
  }
  return moved;
}

}  // namespace detail

// Connects A to B's port 9, sends `pattern` each way at once, checks every octet, closes
// both ends and checks that nothing is left after TIME-WAIT. `on_established` sees both
// stacks once the connection is up (e.g. to check what was negotiated).
inline LossyTransferResult lossy_transfer(
    const phy::FaultInjectorConfig& f, const StackConfig& a_cfg, const StackConfig& b_cfg,
    const std::vector<std::byte>& pattern,
    const std::function<void(Stack& a, Stack& b)>& on_established = nullptr) {
  ManualClock clock;
  phy::MemoryWire wire;
  phy::FaultInjector faults(wire.end_a(), f);
  Stack a(faults, a_cfg);
  Stack b(wire.end_b(), b_cfg);
  SimLoop sim(clock, {&a, &b}, [&] { return wire.end_a().pending() + wire.end_b().pending() > 0; });

  int lfd = *b.sockets().socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(b.sockets().bind(lfd, make_sockaddr(Ipv4Addr::any(), 9)) == Errno::Ok);
  REQUIRE(b.sockets().listen(lfd, 4) == Errno::Ok);
  int cfd = *a.sockets().socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(a.sockets().connect(cfd, make_sockaddr(kIpB, 9)) == Errno::InProgress);
  REQUIRE(sim.run_until([&] { return (b.sockets().readiness(lfd) & POLLIN) != 0; },
                        std::chrono::minutes(10)));
  int sfd = *b.sockets().accept(lfd, nullptr);
  REQUIRE(sim.run_until([&] { return (a.sockets().readiness(cfd) & POLLOUT) != 0; },
                        std::chrono::minutes(10)));
  if (on_established) on_established(a, b);

  detail::Flow ab{cfd, sfd};
  detail::Flow ba{sfd, cfd};
  const Instant start = clock.now();
  const Instant limit = start + std::chrono::hours(6);
  auto done = [&] { return ab.received == pattern.size() && ba.received == pattern.size(); };
  while (!done() && clock.now() < limit) {
    bool moved = detail::pump(pattern, ab, a, b);
    moved = detail::pump(pattern, ba, b, a) || moved;
    sim.settle();
    if (moved) continue;
    // Nothing moved at this instant: jump to the next deadline of either stack (a
    // retransmission, a delayed ACK, a held or delayed frame in the injector).
    auto next = earliest(a.next_deadline(), b.next_deadline());
    if (!next) break;
    clock.set(std::max(*next, clock.now()));
  }
  LossyTransferResult r;
  r.complete = done();
  r.exact = !ab.mismatch && !ba.mismatch;
  r.elapsed = clock.now() - start;
  r.a = a.stats().tcp;
  r.b = b.stats().tcp;
  r.faults = faults.stats();
  // Close both ends; after TIME-WAIT nothing is left.
  CHECK(a.sockets().close(cfd) == Errno::Ok);
  CHECK(b.sockets().close(sfd) == Errno::Ok);
  CHECK(b.sockets().close(lfd) == Errno::Ok);
  sim.run_for(std::chrono::minutes(30));
  CHECK(a.impl().tcp.connection_count() == 0);
  CHECK(b.impl().tcp.connection_count() == 0);
  CHECK(a.impl().sockets.impl().ports.size() == 0);
  CHECK(b.impl().sockets.impl().ports.size() == 0);
  return r;
}

}  // namespace tapir::test
