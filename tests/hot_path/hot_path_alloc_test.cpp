// The hot-path allocation audit (docs/hot-path.md): two stacks on a MemoryWire and a
// ManualClock, warmed up, then driven through a steady phase (TCP streams both ways, UDP
// datagrams, pings, malformed frames) while every global operator new is counted. The
// issue's rule is "no heap allocation per frame or per segment": the steady phase must
// allocate nothing, and what it allocates must not grow with the number of segments
// (1 MB and 10 MB each way are compared).
//
// This file replaces the global operator new and delete, which is why it is an
// executable of its own (test_hot_path): the replacement must not reach other suites.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "stack/fixture.hpp"
#include "stack/impl.hpp"

// ---- counting allocator -------------------------------------------------------------------

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// One call per counted allocation. To find where an allocation comes from:
//   gdb -batch -ex 'break tapir_counted_allocation' -ex run -ex bt build/tests/test_hot_path
extern "C" [[gnu::noinline]] void tapir_counted_allocation() {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
}

namespace {

void* counted_malloc(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) tapir_counted_allocation();
  return std::malloc(n == 0 ? 1 : n);
}

void* counted_aligned(std::size_t n, std::align_val_t al) {
  if (g_counting.load(std::memory_order_relaxed)) tapir_counted_allocation();
  const auto a = static_cast<std::size_t>(al);
  return std::aligned_alloc(a, (n + a - 1) / a * a);
}

void* or_throw(void* p) {
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

// Every form is replaced, deletes included, so that allocation and release always pair
// (malloc/free): under ASan a replaced new with the runtime's delete is a mismatch.
void* operator new(std::size_t n) { return or_throw(counted_malloc(n)); }
void* operator new[](std::size_t n) { return or_throw(counted_malloc(n)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new(std::size_t n, std::align_val_t al) { return or_throw(counted_aligned(n, al)); }
void* operator new[](std::size_t n, std::align_val_t al) {
  return or_throw(counted_aligned(n, al));
}
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_aligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_aligned(n, al);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace tapir;
using namespace tapir::test;

namespace {

// Counts the allocations made between start() and stop(). Nothing between the two may be
// a Catch2 macro or test bookkeeping that allocates: only stack work.
class AllocationCount {
 public:
  void start() {
    base_ = g_allocations.load();
    g_counting = true;
  }
  std::uint64_t stop() {
    g_counting = false;
    return g_allocations.load() - base_;
  }

 private:
  std::uint64_t base_ = 0;
};

// ---- the two stacks and their traffic -------------------------------------------------------

constexpr std::size_t kPatternLen = 65521;  // prime: a lost, repeated or shifted run shows
constexpr std::uint16_t kTcpPort = 9;
constexpr std::uint16_t kUdpPortA = 5000;
constexpr std::uint16_t kUdpPortB = 5001;
constexpr std::size_t kMaxUdpPayload = 1472;  // one unfragmented datagram at MTU 1500

// Between each stack and the MemoryWire: a device that lends its own transmit buffer, as
// the TAP lends its tx slots (Device::tx_slot), and counts whether each frame handed to
// transmit() was built there (no copy between the stack and the device) or elsewhere.
class LendingDevice final : public phy::Device {
 public:
  explicit LendingDevice(phy::Device& inner) : inner_(inner) {}
  phy::DeviceCaps caps() const override { return inner_.caps(); }
  std::optional<Bytes> receive(Instant now) override { return inner_.receive(now); }
  MutBytes tx_slot(std::size_t len) override {
    return len <= slot_.size() ? MutBytes(slot_) : MutBytes{};
  }
  Errno transmit(Bytes frame, Instant now) override {
    ++(frame.data() == slot_.data() ? built_in_place : copied);
    return inner_.transmit(frame, now);  // the wire's copy: the TAP's write(2)
  }
  std::uint64_t built_in_place = 0;
  std::uint64_t copied = 0;

 private:
  phy::Device& inner_;
  std::array<std::byte, 1514> slot_{};
};

// One direction of the TCP stream; offsets are absolute, so a stream can be continued.
struct Direction {
  Stack* tx = nullptr;
  int tx_fd = -1;
  Stack* rx = nullptr;
  int rx_fd = -1;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  bool corrupt = false;  // a received byte differed from the pattern
  // Octets the reader leaves in the receive buffer: 0 reads everything, as most apps do;
  // 1 keeps the buffer from ever draining (see the second test case).
  std::size_t keep = 0;
};

struct HotPath {
  ManualClock clock;
  phy::MemoryWire wire;
  LendingDevice dev_a{wire.end_a()};
  LendingDevice dev_b{wire.end_b()};
  Stack a{dev_a, config_for(kMacA, kIpA)};
  Stack b{dev_b, config_for(kMacB, kIpB)};
  std::vector<std::byte> pattern = make_pattern();
  std::array<std::byte, 65536> buf{};
  Direction ab;  // client (A) -> server (B)
  Direction ba;  // server (B) -> client (A)
  int udp_a = -1;
  int udp_b = -1;
  std::uint64_t udp_sent = 0;    // datagrams A sent to B's echo
  std::uint64_t udp_echoed = 0;  // datagrams back at A, intact
  std::uint64_t udp_bad = 0;     // datagrams back at A with the wrong length or bytes
  std::uint64_t ping_replies = 0;

  static std::vector<std::byte> make_pattern() {
    std::vector<std::byte> p(kPatternLen);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::byte(i * 131 + (i >> 8));
    return p;
  }

  bool wire_busy() { return wire.end_a().pending() + wire.end_b().pending() > 0; }

  void poll_both() {
    a.poll(clock.now());
    b.poll(clock.now());
  }

  // Polls until the wire is quiet and time has moved on by `d` (jumping to deadlines).
  void run_for(Duration d) {
    const Instant end = clock.now() + d;
    while (clock.now() < end) {
      poll_both();
      if (wire_busy()) continue;
      auto t = earliest(a.next_deadline(), b.next_deadline());
      clock.set(t && *t > clock.now() && *t < end ? *t : end);
    }
    poll_both();
  }

  void connect_tcp() {
    int listener = *b.sockets().socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(b.sockets().bind(listener, make_sockaddr(Ipv4Addr::any(), kTcpPort)) == Errno::Ok);
    REQUIRE(b.sockets().listen(listener, 4) == Errno::Ok);
    int client = *a.sockets().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(a.sockets().connect(client, make_sockaddr(kIpB, kTcpPort)) == Errno::InProgress);
    run_for(std::chrono::milliseconds(10));
    auto server = b.sockets().accept(listener, nullptr);
    REQUIRE(server);
    ab.tx = ba.rx = &a;
    ab.tx_fd = ba.rx_fd = client;
    ab.rx = ba.tx = &b;
    ab.rx_fd = ba.tx_fd = *server;
  }

  void open_udp() {
    udp_a = *a.sockets().socket(AF_INET, SOCK_DGRAM, 0);
    udp_b = *b.sockets().socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(a.sockets().bind(udp_a, make_sockaddr(Ipv4Addr::any(), kUdpPortA)) == Errno::Ok);
    REQUIRE(b.sockets().bind(udp_b, make_sockaddr(Ipv4Addr::any(), kUdpPortB)) == Errno::Ok);
    a.on_ping_reply([this](const PingReply&, Instant) { ++ping_replies; });
  }

  // Queues as much of the direction's remaining bytes (up to `target`) as TCP takes.
  void push(Direction& d, std::uint64_t target) {
    while (d.sent < target) {
      const std::size_t off = d.sent % kPatternLen;
      const std::size_t len =
          static_cast<std::size_t>(std::min<std::uint64_t>(kPatternLen - off, target - d.sent));
      auto n = d.tx->sockets().send(d.tx_fd, Bytes(pattern).subspan(off, len), 0);
      if (!n || *n == 0) return;
      d.sent += *n;
      if (*n < len) return;
    }
  }

  // Reads what is readable (all but d.keep octets) and checks it against the pattern at
  // its stream offset.
  void pull(Direction& d) {
    for (;;) {
      auto* e = d.rx->impl().sockets.impl().get(d.rx_fd);
      const std::size_t queued = e->conn->recv_queue();
      if (queued <= d.keep) return;
      const std::size_t want = std::min(buf.size(), queued - d.keep);
      auto n = d.rx->sockets().recv(d.rx_fd, MutBytes(buf).first(want), 0);
      if (!n || *n == 0) return;
      std::size_t done = 0;
      while (done < *n) {
        const std::size_t off = (d.received + done) % kPatternLen;
        const std::size_t len = std::min(kPatternLen - off, *n - done);
        if (std::memcmp(buf.data() + done, pattern.data() + off, len) != 0) d.corrupt = true;
        done += len;
      }
      d.received += *n;
    }
  }

  // Streams `each_way` more octets in both directions at once; returns whether all arrived.
  bool stream(std::uint64_t each_way) {
    const std::uint64_t ab_target = ab.sent + each_way;
    const std::uint64_t ba_target = ba.sent + each_way;
    for (int step = 0; step < 1000000; ++step) {
      push(ab, ab_target);
      push(ba, ba_target);
      const std::uint64_t before = ab.received + ba.received;
      poll_both();
      pull(ab);
      pull(ba);
      if (ab.received + ab.keep >= ab_target && ba.received + ba.keep >= ba_target) return true;
      // 20 µs per round trip of polls, so RTT samples are not zero; when nothing moved
      // and the wire is quiet, jump to the next timer (delayed ACK, retransmission).
      clock.advance(std::chrono::microseconds(20));
      if (!wire_busy() && ab.received + ba.received == before) {
        auto t = earliest(a.next_deadline(), b.next_deadline());
        if (t && *t > clock.now()) clock.set(*t);
      }
    }
    return false;
  }

  // `count` datagrams of varying length from A to B, each echoed back by B's socket.
  void udp_echo(std::size_t count) {
    const sockaddr_in to_b = make_sockaddr(kIpB, kUdpPortB);
    for (std::size_t i = 0; i < count;) {
      // A burst of 8, so that several datagrams wait in the receive queue at once.
      for (std::size_t k = 0; k < 8 && i < count; ++k, ++i, ++udp_sent) {
        const std::size_t len = 1 + (udp_sent * 389) % kMaxUdpPayload;
        (void)a.sockets().sendto(udp_a, Bytes(pattern).subspan(udp_sent % 4096, len), 0, &to_b);
      }
      b.poll(clock.now());
      for (;;) {
        sockaddr_in from{};
        auto n = b.sockets().recvfrom(udp_b, MutBytes(buf), 0, &from);
        if (!n) break;
        (void)b.sockets().sendto(udp_b, Bytes(buf).first(*n), 0, &from);
      }
      b.poll(clock.now());
      a.poll(clock.now());
      drain_udp_a();
      clock.advance(std::chrono::microseconds(50));
    }
  }

  void drain_udp_a() {
    for (;;) {
      auto n = a.sockets().recvfrom(udp_a, MutBytes(buf), 0, nullptr);
      if (!n) return;
      // Datagram j was `1 + (j * 389) % 1472` octets from offset j % 4096; the echo order
      // is the send order, so j is the count received so far.
      const std::size_t j = udp_echoed + udp_bad;
      const std::size_t len = 1 + (j * 389) % kMaxUdpPayload;
      const bool ok = *n == len && std::memcmp(buf.data(), pattern.data() + j % 4096, len) == 0;
      ++(ok ? udp_echoed : udp_bad);
    }
  }

  // `count` echo requests of `size` data octets from A to B; above 1472 they travel in
  // fragments both ways (IP fragmentation and reassembly).
  void pings(std::uint16_t count, std::size_t size = 56) {
    for (std::uint16_t seq = 0; seq < count; ++seq) {
      (void)a.send_ping(kIpB, 0x7461, seq, Bytes(pattern).first(size), clock.now());
      b.poll(clock.now());
      a.poll(clock.now());
      clock.advance(std::chrono::microseconds(50));
    }
  }
};

// Warms every path up (ARP resolved, the UDP queues and the devices' slots used, TCP
// buffers grown to full size), so that the steady phase measures only per-frame costs.
// The TCP stream comes last and the measured streams continue it without a pause: an
// idle moment would let src/tcp free the emptied send buffers (see below).
void warm_up(HotPath& h, std::size_t keep) {
  h.connect_tcp();
  h.ab.keep = h.ba.keep = keep;
  h.open_udp();
  h.udp_echo(256);
  h.pings(16);
  h.pings(16, 4000);
  h.run_for(std::chrono::milliseconds(100));
  // A connection frees an emptied buffer at once only the first kBufferReleasesAtOnce
  // times (each stack here has one connection): use those up with streams that end in a
  // pause long enough for their last (delayed) ACKs, so that the buffers empty.
  const auto releases_left = [&h] {
    constexpr std::uint64_t k = tcp::Connection::kBufferReleasesAtOnce;
    return h.a.stats().tcp.buffers_released < k || h.b.stats().tcp.buffers_released < k;
  };
  for (int i = 0; i < 8 && releases_left(); ++i) {
    REQUIRE(h.stream(1024 * 1024));
    h.run_for(std::chrono::milliseconds(100));
  }
  REQUIRE_FALSE(releases_left());
  REQUIRE(h.stream(2 * 1024 * 1024));
}

std::vector<Frame> malformed_frames() {
  std::vector<Frame> out;
  auto ip = ip_header(kIpA, kIpB, wire::IpProto::Udp);
  // UDP with a wrong checksum.
  std::array<std::byte, 12> udp{};
  store_be16(udp, 0, kUdpPortA);
  store_be16(udp, 2, kUdpPortB);
  store_be16(udp, 4, 12);
  store_be16(udp, 6, 0x1234);
  out.push_back(ipv4_frame(kMacA, kMacB, ip, udp));
  // UDP to a port nobody holds, checksum off: an ICMP port unreachable (rate limited).
  store_be16(udp, 2, 4444);
  store_be16(udp, 6, 0);
  out.push_back(ipv4_frame(kMacA, kMacB, ip, udp));
  // An IPv4 header with a wrong checksum.
  Frame bad_ip = ipv4_frame(kMacA, kMacB, ip, udp);
  bad_ip[wire::EthernetView::kHeaderLen + 10] ^= std::byte{0x5a};
  out.push_back(bad_ip);
  // TCP with a wrong checksum.
  std::array<std::byte, 20> tcp{};
  store_be16(tcp, 0, 40000);
  store_be16(tcp, 2, kTcpPort);
  store_u8(tcp, 12, 5 << 4);
  store_u8(tcp, 13, 0x10);
  store_be16(tcp, 16, 0xbeef);
  out.push_back(ipv4_frame(kMacA, kMacB, ip_header(kIpA, kIpB, wire::IpProto::Tcp), tcp));
  // An unknown EtherType.
  Frame other = out.front();
  store_be16(other, 12, 0x88b5);
  out.push_back(other);
  return out;
}

}  // namespace

TEST_CASE("hot path: TCP streaming both ways allocates nothing per segment",
          "[stack][tcp][hot-path]") {
  // Both readers keep one octet unread, so neither receive buffer ever drains (the next
  // test case drains them). The whole path (device, link, IP, TCP segments and ACKs,
  // socket calls) must allocate nothing, for 1 MB as for 10 MB.
  HotPath h;
  warm_up(h, 1);
  AllocationCount count;

  count.start();
  const bool one_ok = h.stream(1024 * 1024);
  const std::uint64_t one_mb = count.stop();
  REQUIRE(one_ok);

  count.start();
  const bool ten_ok = h.stream(10 * 1024 * 1024);
  const std::uint64_t ten_mb = count.stop();
  REQUIRE(ten_ok);

  INFO("allocations while streaming 1 MB each way: " << one_mb);
  INFO("allocations while streaming 10 MB each way: " << ten_mb);
  CHECK_FALSE(h.ab.corrupt);
  CHECK_FALSE(h.ba.corrupt);
  CHECK(h.a.stats().tcp.retransmitted_segments == 0);
  CHECK(h.b.stats().tcp.retransmitted_segments == 0);
  CHECK(one_mb == 0);
  CHECK(ten_mb == 0);
  // Every frame was built where the device sends it from: the only copy of a payload
  // octet between the socket buffers and the device is TCP's, into that buffer.
  CHECK(h.dev_a.copied == 0);
  CHECK(h.dev_b.copied == 0);
  CHECK(h.dev_a.built_in_place > 11 * 1024 * 1024 / 1460);  // A's data segments at least
}

TEST_CASE("hot path: TCP with readers that drain their buffer allocates nothing per segment",
          "[stack][tcp][hot-path]") {
  // Readers that take everything, as most apps do: their receive buffers empty after
  // every read. A connection frees an empty buffer at once only the first two times
  // (Connection::release_idle_buffers); from then on it keeps it until it has stayed empty
  // for TcpConfig::buffer_release_delay, so the warm-up has done all the allocating.
  HotPath h;
  warm_up(h, 0);
  AllocationCount count;

  count.start();
  const bool one_ok = h.stream(1024 * 1024);
  const std::uint64_t one_mb = count.stop();
  REQUIRE(one_ok);

  count.start();
  const bool ten_ok = h.stream(10 * 1024 * 1024);
  const std::uint64_t ten_mb = count.stop();
  REQUIRE(ten_ok);

  INFO("allocations while streaming 1 MB each way: " << one_mb);
  INFO("allocations while streaming 10 MB each way: " << ten_mb);
  CHECK_FALSE(h.ab.corrupt);
  CHECK_FALSE(h.ba.corrupt);
  CHECK(one_mb == 0);
  CHECK(ten_mb == 0);
}

TEST_CASE("hot path: UDP datagrams and pings, whole or fragmented, allocate nothing",
          "[stack][udp][icmp][hot-path]") {
  HotPath h;
  warm_up(h, 0);
  h.run_for(std::chrono::milliseconds(100));  // the stream ends, TCP's timers fire
  AllocationCount count;
  const std::uint64_t echoed_before = h.udp_echoed;
  const std::uint64_t replies_before = h.ping_replies;

  count.start();
  h.udp_echo(4096);
  const std::uint64_t udp = count.stop();

  count.start();
  h.pings(1000);
  const std::uint64_t ping = count.stop();

  const std::uint64_t reassembled_before = h.b.stats().ipv4.reassembled;
  count.start();
  h.pings(200, 4000);
  const std::uint64_t big_ping = count.stop();

  INFO("allocations for 4096 UDP datagrams echoed: " << udp);
  INFO("allocations for 1000 pings: " << ping);
  INFO("allocations for 200 pings of 4000 octets, fragmented both ways: " << big_ping);
  CHECK(h.udp_echoed - echoed_before == 4096);
  CHECK(h.udp_bad == 0);
  CHECK(h.ping_replies - replies_before == 1200);
  CHECK(h.b.stats().ipv4.reassembled - reassembled_before == 200);
  CHECK(udp == 0);
  CHECK(ping == 0);
  CHECK(big_ping == 0);
  CHECK(h.dev_a.copied == 0);
  CHECK(h.dev_b.copied == 0);
}

TEST_CASE("hot path: malformed frames are dropped without allocating",
          "[stack][hot-path][robustness]") {
  HotPath h;
  warm_up(h, 0);
  h.run_for(std::chrono::milliseconds(100));  // the stream ends, TCP's timers fire
  const auto frames = malformed_frames();
  const Stats before = h.b.stats();
  AllocationCount count;

  count.start();
  for (int round = 0; round < 200; ++round) {
    for (const auto& f : frames) (void)h.wire.end_a().transmit(Bytes(f), h.clock.now());
    h.poll_both();
    h.clock.advance(std::chrono::milliseconds(1));
  }
  const std::uint64_t drops = count.stop();

  INFO("allocations for 1000 malformed frames: " << drops);
  const Stats& after = h.b.stats();
  CHECK(after.udp.rx_drop_bad_checksum - before.udp.rx_drop_bad_checksum == 200);
  CHECK(after.udp.rx_drop_no_port - before.udp.rx_drop_no_port == 200);
  CHECK(after.ipv4.rx_drop_bad_checksum - before.ipv4.rx_drop_bad_checksum == 200);
  CHECK(after.tcp.rx_drop_bad_checksum - before.tcp.rx_drop_bad_checksum == 200);
  CHECK(after.eth.rx_drop_unknown_ethertype - before.eth.rx_drop_unknown_ethertype == 200);
  CHECK(drops == 0);
}
