// SACK (RFC 2018) with RFC 6675 loss recovery against NewReno without it, on the same
// lossy path: two stacks over FaultInjector(MemoryWire), a bulk transfer each way at 1%,
// 3%, 5% and 10% loss (both directions, fixed seeds), once with SACK and once without.
// Both runs must arrive byte-exact, and the SACK run must retransmit fewer octets: it
// resends the holes the receiver reports instead of going back N after a timeout or
// finding one hole per round trip. Each pair prints one line with the numbers.
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "stack/lossy_transfer.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

constexpr std::size_t kTransfer = 20u << 20;  // octets each way

const std::vector<std::byte>& pattern() {
  static const std::vector<std::byte> p = xorshift_pattern(kTransfer, 0x2545f4914f6cdd1dULL);
  return p;
}

StackConfig config(MacAddr mac, Ipv4Addr ip, bool sack) {
  StackConfig c = config_for(mac, ip);
  c.tcp.sack = sack;
  return c;
}

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

Outcome transfer(std::uint64_t seed, double loss_pct, bool sack) {
  const auto faults = phy::FaultInjectorConfig::both(
      seed, {.drop_pct = loss_pct, .delay = std::chrono::milliseconds(2)});
  // Both ends agreed on what the configuration asks for.
  auto check_negotiated = [sack](Stack&, Stack& b) {
    REQUIRE(b.impl().tcp.connection_count() == 1);
    b.impl().tcp.for_each_connection([&](const tcp::Connection& c) {
      CHECK(c.negotiated().sack == sack);
      CHECK(c.negotiated().timestamps);
    });
  };
  const LossyTransferResult r = lossy_transfer(
      faults, config(kMacA, kIpA, sack), config(kMacB, kIpB, sack), pattern(), check_negotiated);
  Outcome o;
  o.exact = r.complete && r.exact;
  o.elapsed = r.elapsed;
  for (const TcpStats* s : {&r.a, &r.b}) {
    o.retransmitted_bytes += s->retransmitted_bytes;
    o.retransmitted_segments += s->retransmitted_segments;
    o.rto_expired += s->rto_expired;
    o.sack_recoveries += s->sack_recoveries;
    o.sack_blocks += s->sack_blocks_sent;
  }
  o.dropped = r.faults.tx.dropped + r.faults.rx.dropped;
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
