// SACK (RFC 2018) with RFC 6675 loss recovery against NewReno without it, on the same
// lossy path: two stacks over FaultInjector(MemoryWire), a bulk transfer each way at 1%,
// 3%, 5% and 10% loss (both directions, fixed seeds), once with SACK and once without.
// Both runs must arrive byte-exact, and the SACK run must retransmit fewer octets: it
// resends the holes the receiver reports instead of going back N after a timeout or
// finding one hole per round trip. Each pair prints one line with the numbers.
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "phy/fault_injector.hpp"
#include "stack/fixture.hpp"
#include "stack/impl.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

constexpr std::size_t kTransfer = 20u << 20;  // octets each way

const std::vector<std::byte>& pattern() {
  static const std::vector<std::byte> p = [] {
    std::vector<std::byte> v(kTransfer);
    std::uint64_t x = 0x2545f4914f6cdd1dULL;  // xorshift: no period a shift could hide
    for (auto& b : v) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b = static_cast<std::byte>(x);
    }
    return v;
  }();
  return p;
}

StackConfig config(MacAddr mac, Ipv4Addr ip, bool sack) {
  StackConfig c = config_for(mac, ip);
  c.tcp.sack = sack;
  return c;
}

struct Flow {
  int tx = -1;
  int rx = -1;
  std::size_t sent = 0;
  std::size_t received = 0;
  bool mismatch = false;
};

struct Outcome {
  bool exact = false;
  std::uint64_t retransmitted_bytes = 0;
  std::uint64_t retransmitted_segments = 0;
  std::uint64_t rto_expired = 0;
  std::uint64_t sack_recoveries = 0;
  std::uint64_t sack_blocks = 0;
  std::uint64_t dropped = 0;
  Duration elapsed{};
};

// Stack A sits behind the fault injector, so both directions lose frames.
struct Path {
  ManualClock clock;
  phy::MemoryWire wire;
  phy::FaultInjector faults;
  Stack a;
  Stack b;
  SimLoop sim;
  Path(std::uint64_t seed, double loss_pct, bool sack)
      : faults(wire.end_a(),
               phy::FaultInjectorConfig::both(
                   seed, {.drop_pct = loss_pct, .delay = std::chrono::milliseconds(2)})),
        a(faults, config(kMacA, kIpA, sack)),
        b(wire.end_b(), config(kMacB, kIpB, sack)),
        sim(clock, {&a, &b},
            [this] { return wire.end_a().pending() + wire.end_b().pending() > 0; }) {}

  bool pump(Flow& f, Stack& tx, Stack& rx) {
    const auto& p = pattern();
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
};

Outcome transfer(std::uint64_t seed, double loss_pct, bool sack) {
  Path t(seed, loss_pct, sack);
  int lfd = *t.b.sockets().socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(t.b.sockets().bind(lfd, make_sockaddr(Ipv4Addr::any(), 9)) == Errno::Ok);
  REQUIRE(t.b.sockets().listen(lfd, 4) == Errno::Ok);
  int cfd = *t.a.sockets().socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(t.a.sockets().connect(cfd, make_sockaddr(kIpB, 9)) == Errno::InProgress);
  REQUIRE(t.sim.run_until([&] { return (t.b.sockets().readiness(lfd) & POLLIN) != 0; },
                          std::chrono::minutes(10)));
  int sfd = *t.b.sockets().accept(lfd, nullptr);
  REQUIRE(t.sim.run_until([&] { return (t.a.sockets().readiness(cfd) & POLLOUT) != 0; },
                          std::chrono::minutes(10)));
  // Both ends agreed on what the configuration asks for.
  REQUIRE(t.b.impl().tcp.connection_count() == 1);
  t.b.impl().tcp.for_each_connection([&](const tcp::Connection& c) {
    CHECK(c.negotiated().sack == sack);
    CHECK(c.negotiated().timestamps);
  });

  Flow ab{cfd, sfd};
  Flow ba{sfd, cfd};
  const Instant start = t.clock.now();
  const Instant limit = start + std::chrono::hours(6);
  auto done = [&] { return ab.received == kTransfer && ba.received == kTransfer; };
  while (!done() && t.clock.now() < limit) {
    bool moved = t.pump(ab, t.a, t.b);
    moved = t.pump(ba, t.b, t.a) || moved;
    t.sim.settle();
    if (moved) continue;
    auto next = earliest(t.a.next_deadline(), t.b.next_deadline());
    if (!next) break;
    t.clock.set(std::max(*next, t.clock.now()));
  }
  Outcome o;
  o.exact = done() && !ab.mismatch && !ba.mismatch;
  o.elapsed = t.clock.now() - start;
  for (const TcpStats* s : {&t.a.stats().tcp, &t.b.stats().tcp}) {
    o.retransmitted_bytes += s->retransmitted_bytes;
    o.retransmitted_segments += s->retransmitted_segments;
    o.rto_expired += s->rto_expired;
    o.sack_recoveries += s->sack_recoveries;
    o.sack_blocks += s->sack_blocks_sent;
  }
  o.dropped = t.faults.stats().tx.dropped + t.faults.stats().rx.dropped;
  CHECK(t.a.sockets().close(cfd) == Errno::Ok);
  CHECK(t.b.sockets().close(sfd) == Errno::Ok);
  CHECK(t.b.sockets().close(lfd) == Errno::Ok);
  t.sim.run_for(std::chrono::minutes(30));
  CHECK(t.a.impl().tcp.connection_count() == 0);
  CHECK(t.b.impl().tcp.connection_count() == 0);
  return o;
}

void compare(double loss_pct, std::uint64_t seed) {
  INFO("seed=" << seed << " loss=" << loss_pct << "%");
  const Outcome with = transfer(seed, loss_pct, true);
  const Outcome without = transfer(seed, loss_pct, false);
  auto line = [](const char* what, const Outcome& o) {
    std::printf("  %-8s %s, retransmitted %" PRIu64 " octets in %" PRIu64 " segments, %" PRIu64
                " RTO expiries, %" PRIu64 " SACK recoveries, %" PRIu64 " SACK blocks sent, %" PRIu64
                " frames dropped, %.1f s simulated\n",
                what, o.exact ? "byte-exact" : "FAILED", o.retransmitted_bytes,
                o.retransmitted_segments, o.rto_expired, o.sack_recoveries, o.sack_blocks,
                o.dropped, static_cast<double>(o.elapsed.count()) / 1e6);
  };
  std::printf("sack vs no sack, %g%% loss both ways, seed=%" PRIu64 ", %zu MiB each way:\n",
              loss_pct, seed, kTransfer >> 20);
  line("SACK", with);
  line("no SACK", without);
  std::fflush(stdout);
  CHECK(with.exact);
  CHECK(without.exact);
  CHECK(with.sack_recoveries > 0);
  CHECK(with.sack_blocks > 0);
  CHECK(without.sack_recoveries == 0);
  CHECK(without.sack_blocks == 0);
  CHECK(with.retransmitted_bytes < without.retransmitted_bytes);
}

}  // namespace

TEST_CASE("loss: SACK retransmits fewer octets than NewReno alone at 1% loss",
          "[tcp][loss][sack][rfc6675][slow]") {
  compare(1, 701);
}

TEST_CASE("loss: SACK retransmits fewer octets than NewReno alone at 3% loss",
          "[tcp][loss][sack][rfc6675][slow]") {
  compare(3, 703);
}

TEST_CASE("loss: SACK retransmits fewer octets than NewReno alone at 5% loss",
          "[tcp][loss][sack][rfc6675][slow]") {
  compare(5, 705);
}

TEST_CASE("loss: SACK retransmits fewer octets than NewReno alone at 10% loss",
          "[tcp][loss][sack][rfc6675][slow]") {
  compare(10, 710);
}
