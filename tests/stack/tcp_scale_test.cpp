// Many connections at once (issue 7): 5,000 connections between two stacks on a ManualClock.
// Their timers live in one deadline queue in TcpLayer, so the test checks that every
// connection's delayed ACK (RFC 1122 §4.2.3.2) and keep-alive probes (RFC 1122 §4.2.3.6)
// still fire at their own instant, that next_deadline() is the earliest of all of them at
// every step, and that idle connections hold no buffer memory.
#include <netinet/tcp.h>

#include <algorithm>

#include "stack/fixture.hpp"
#include "stack/impl.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

constexpr int kConnections = 5000;

StackConfig scale_config(MacAddr mac, Ipv4Addr ip) {
  StackConfig c = config_for(mac, ip);
  c.sockets.max_sockets = kConnections + 8;
  c.tcp.max_syn_backlog = kConnections;
  c.tcp.max_backlog = kConnections;
  // The neighbours stay known for the whole test: only TCP timers are in play.
  c.arp.entry_lifetime = std::chrono::hours(24);
  c.arp.refresh_after = std::chrono::hours(23);
  return c;
}

struct ManyConnections {
  ManualClock clock;
  // Room on the wire for a frame from every connection at once.
  phy::MemoryWire wire{phy::MemoryWireConfig{.queue_frames = std::size_t{4} * kConnections}};
  Stack a{wire.end_a(), scale_config(kMacA, kIpA)};
  Stack b{wire.end_b(), scale_config(kMacB, kIpB)};
  SimLoop sim{
      clock, {&a, &b}, [this] { return wire.end_a().pending() + wire.end_b().pending() > 0; }};
  std::vector<int> clients;  // on A
  std::vector<int> servers;  // on B, in accept order
  int listener = -1;

  tcp::TcpLayer& tcp_b() { return b.impl().tcp; }
  tcp::TcpLayer& tcp_a() { return a.impl().tcp; }

  void open_all() {
    listener = *b.sockets().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(b.sockets().bind(listener, make_sockaddr(Ipv4Addr::any(), 7)) == Errno::Ok);
    REQUIRE(b.sockets().listen(listener, kConnections) == Errno::Ok);
    // In batches, so that the SYNs waiting for the first ARP answer stay few.
    for (int i = 0; i < kConnections; ++i) {
      int fd = *a.sockets().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      REQUIRE(a.sockets().connect(fd, make_sockaddr(kIpB, 7)) == Errno::InProgress);
      clients.push_back(fd);
      if (i == 0 || i % 500 == 499) sim.settle();
    }
    sim.settle();
    for (;;) {
      auto fd = b.sockets().accept(listener, nullptr);
      if (!fd) break;
      servers.push_back(*fd);
    }
    REQUIRE(servers.size() == kConnections);
    REQUIRE(a.stats().tcp.established == kConnections);
    REQUIRE(a.stats().tcp.rto_expired == 0);  // no SYN was lost on the way
  }
  void set_int(Stack& s, int fd, int level, int name, int v) {
    REQUIRE(s.sockets().setsockopt(fd, level, name, &v, sizeof v) == Errno::Ok);
  }
};

}  // namespace

TEST_CASE("scale: 5000 connections, each delayed ACK and keep-alive fires on time",
          "[stack][tcp][scale][rfc1122-4.2.3.2][rfc1122-4.2.3.6]") {
  ManyConnections t;
  t.open_all();
  CHECK(t.tcp_b().connection_count() == kConnections);
  CHECK(!t.tcp_b().next_deadline());  // established and idle: no timer anywhere
  CHECK(!t.tcp_a().next_deadline());

  // ---- One byte on every connection at once: 5000 delayed ACKs, all due 40 ms later. ----
  const Instant t1 = t.clock.now();
  for (int fd : t.clients) REQUIRE(t.a.sockets().send(fd, as_bytes(std::string_view("x")), 0));
  t.sim.settle();
  CHECK(t.tcp_b().timer_queue().scheduled_count() == kConnections);
  CHECK(t.tcp_b().next_deadline() == t1 + t.b.config().tcp.delayed_ack);
  t.clock.set(t1 + t.b.config().tcp.delayed_ack - 1us);
  t.sim.settle();
  CHECK(t.b.stats().tcp.tx_delayed_acks == 0);
  t.clock.set(t1 + t.b.config().tcp.delayed_ack);
  t.sim.settle();
  CHECK(t.b.stats().tcp.tx_delayed_acks == kConnections);
  CHECK(!t.tcp_b().next_deadline());
  // Every byte was acknowledged, so no retransmission timer is left on A either.
  CHECK(!t.tcp_a().next_deadline());
  CHECK(t.a.stats().tcp.rto_expired == 0);

  // Reading the byte empties each receive buffer; the sender's buffers emptied with the
  // ACKs: idle connections keep no buffer memory on either side.
  std::array<std::byte, 8> buf{};
  for (int fd : t.servers) REQUIRE(t.b.sockets().recv(fd, MutBytes(buf), 0).value() == 1);
  std::size_t holding = 0;
  auto count_holding = [&](const tcp::Connection& c) {
    if (c.memory_bytes() != sizeof(tcp::Connection)) ++holding;
  };
  t.tcp_a().for_each_connection(count_holding);
  t.tcp_b().for_each_connection(count_holding);
  CHECK(holding == 0);

  // ---- Keep-alive with a different idle time per connection: 60 s + (i mod 97) s. ----
  const Instant t0 = t.clock.now();
  std::vector<Duration> idle(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    idle[i] = std::chrono::seconds(60 + i % 97);
    t.set_int(t.b, t.servers[i], IPPROTO_TCP, TCP_KEEPIDLE,
              static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(idle[i]).count()));
    t.set_int(t.b, t.servers[i], SOL_SOCKET, SO_KEEPALIVE, 1);
  }
  // The model: A answers each probe at once, so connection i probes at t0 + k * idle[i].
  std::vector<Instant> due(kConnections);
  for (int i = 0; i < kConnections; ++i) due[i] = t0 + idle[i];
  std::uint64_t probes = 0;
  int steps = 0;
  for (;;) {
    const Instant want = *std::min_element(due.begin(), due.end());
    REQUIRE(t.tcp_b().next_deadline() == want);
    if (want > t0 + std::chrono::seconds(200)) break;
    t.clock.set(want);
    t.sim.settle();
    for (int i = 0; i < kConnections; ++i) {
      if (due[i] == want) {
        due[i] += idle[i];
        ++probes;
      }
    }
    REQUIRE(t.b.stats().tcp.keepalive_probes == probes);
    ++steps;
  }
  // 97 idle times, each probing at its first and (up to 156 s) second multiple.
  CHECK(steps > 97);
  CHECK(probes > kConnections);
  CHECK(t.b.stats().tcp.keepalive_timeouts == 0);
  CHECK(t.tcp_b().connection_count() == kConnections);
  // Stale queue entries (each re-armed keep-alive leaves one) stay bounded.
  CHECK(t.tcp_b().timer_queue().heap_size() <=
        2 * t.tcp_b().timer_queue().scheduled_count() + TimerQueue::kCompactSlack);

  // ---- Everything closes and times out: no connection or deadline is left behind. ----
  for (int fd : t.clients) REQUIRE(t.a.sockets().close(fd) == Errno::Ok);
  for (int fd : t.servers) REQUIRE(t.b.sockets().close(fd) == Errno::Ok);
  REQUIRE(t.b.sockets().close(t.listener) == Errno::Ok);
  t.sim.run_for(std::chrono::minutes(2));
  CHECK(t.tcp_a().connection_count() == 0);
  CHECK(t.tcp_b().connection_count() == 0);
  CHECK(t.tcp_a().timer_queue().scheduled_count() == 0);
  CHECK(t.tcp_b().timer_queue().handle_count() == 0);
  CHECK(!t.tcp_a().next_deadline());
  CHECK(!t.tcp_b().next_deadline());
  CHECK(t.a.impl().sockets.impl().ports.size() == 0);
}
