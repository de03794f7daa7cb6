// scale: what 100,000 idle TCP connections cost tapir, in one process and deterministically.
//
//   scale [N]     (default 100000)
//
// One tapir stack (10.0.0.2) listens on port 7 and echoes; a scripted peer written here
// (addresses 10.0.1.1, 10.0.1.2, ..., 50,000 ports each) opens N connections with the
// handshake a Linux client uses (MSS, SACK-permitted, timestamps, window scale), sends 16
// bytes on each, checks the echo and acknowledges it, so every connection ends ESTABLISHED
// and idle. The clock is a ManualClock and the device a script, so the run is the same
// every time; only the timings vary.
//
// Reported:
//  * memory: heap bytes held by the stack per connection, counted by the global operator
//    new/delete below (malloc_usable_size of each live block: what the allocator really
//    handed out), and allocations per connection. Measured between "listening, nothing
//    open" and "N connections idle"; the peer preallocates its own state before that.
//  * at 1k, 10k, 100k connections (those <= N): the time of one idle Stack::poll(), of
//    Stack::next_deadline(), and of one bare ACK segment through the stack (demultiplexed
//    to a pseudo-random connection, 64 segments per poll as a TAP batch delivers them).
//  * sizeof of the per-connection structures.
#include <malloc.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "socket/impl.hpp"
#include "stack/impl.hpp"
#include "tapir/stack.hpp"
#include "tcp/newreno.hpp"
#include "util/log.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

// ---- heap accounting: every operator new/delete of the process goes through here ----

namespace {
struct HeapCount {
  std::size_t live_bytes = 0;
  std::size_t live_blocks = 0;
  std::size_t allocations = 0;  // operator new calls ever
};
HeapCount g_heap;

void* counted_alloc(std::size_t n, std::size_t align) {
  void* p = align > alignof(std::max_align_t)
                ? std::aligned_alloc(align, (n + align - 1) / align * align)
                : std::malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  g_heap.live_bytes += malloc_usable_size(p);
  ++g_heap.live_blocks;
  ++g_heap.allocations;
  return p;
}
void counted_free(void* p) noexcept {
  if (!p) return;
  g_heap.live_bytes -= malloc_usable_size(p);
  --g_heap.live_blocks;
  std::free(p);
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, 0);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, 0);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }

namespace {

using namespace tapir;
using Frame = std::vector<std::byte>;
using WallClock = std::chrono::steady_clock;

constexpr MacAddr kStackMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x01}};
constexpr Ipv4Addr kStackIp = Ipv4Addr::from_octets(10, 0, 0, 2);
constexpr std::uint16_t kEchoPort = 7;
constexpr std::uint16_t kFirstPeerPort = 10000;
constexpr std::size_t kPortsPerPeerIp = 50000;
constexpr std::size_t kMessageLen = 16;
constexpr std::size_t kOpenBatch = 256;
constexpr std::size_t kTimedSegments = 8192;
// Enough for a batch of handshakes or the timed segments, reserved before memory is counted.
constexpr std::size_t kInboxFrames = kTimedSegments + 4 * kOpenBatch;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "scale: %s\n", what.c_str());
  std::exit(1);
}

Ipv4Addr peer_ip(std::size_t i) {
  return Ipv4Addr::from_octets(10, 0, 1, static_cast<std::uint8_t>(1 + i / kPortsPerPeerIp));
}
std::uint16_t peer_port(std::size_t i) {
  return static_cast<std::uint16_t>(kFirstPeerPort + i % kPortsPerPeerIp);
}
std::uint32_t peer_iss(std::size_t i) {
  return 0x10000000u + static_cast<std::uint32_t>(i) * 7919u;
}

std::array<std::byte, kMessageLen> message(std::size_t i) {
  std::array<std::byte, kMessageLen> m{};
  // "conn " and the index in 11 decimal digits (N is at most 12,500,000).
  const char prefix[] = "conn ";
  std::memcpy(m.data(), prefix, 5);
  for (std::size_t d = kMessageLen; d-- > 5; i /= 10) m[d] = std::byte('0' + i % 10);
  return m;
}

// The device between the stack and the peer: frames to receive are prebuilt and handed
// out as views (no copy, no allocation on the stack's receive path), and every frame the
// stack transmits goes straight to the peer's handler.
class ScriptDevice final : public phy::Device {
 public:
  // Room for `frames` queued frames, reserved up front.
  explicit ScriptDevice(std::size_t frames) { inbox_.reserve(frames); }
  std::function<void(Bytes)> on_transmit;

  phy::DeviceCaps caps() const override { return {}; }
  std::optional<Bytes> receive(Instant) override {
    if (next_ == inbox_.size()) {
      inbox_.clear();
      next_ = 0;
      return std::nullopt;
    }
    return Bytes(inbox_[next_++]);
  }
  Errno transmit(Bytes frame, Instant) override {
    on_transmit(frame);
    return Errno::Ok;
  }
  void inject(Frame f) { inbox_.push_back(std::move(f)); }

  bool idle() const { return next_ == inbox_.size(); }

 private:
  std::vector<Frame> inbox_;
  std::size_t next_ = 0;
};

Frame tcp_frame(Ipv4Addr src, const wire::TcpRepr& h) {
  wire::Ipv4Repr ip;
  ip.src = src;
  ip.dst = kStackIp;
  ip.protocol = wire::IpProto::Tcp;
  ip.payload_len = static_cast<std::uint16_t>(h.buffer_len());
  Frame f(wire::EthernetView::kHeaderLen + ip.total_len());
  auto eth = wire::EthernetFrame<MutBytes>::unchecked(MutBytes(f));
  wire::EthernetRepr{kStackMac, kPeerMac, wire::EtherType::Ipv4}.emit(eth);
  ip.emit(eth.payload());
  h.emit(eth.payload().subspan(ip.header_len()), src, kStackIp);
  return f;
}

Frame arp_frame(MacAddr eth_dst, const wire::ArpRepr& arp) {
  Frame f(wire::EthernetView::kHeaderLen + wire::ArpRepr::kLen);
  auto eth = wire::EthernetFrame<MutBytes>::unchecked(MutBytes(f));
  wire::EthernetRepr{eth_dst, kPeerMac, wire::EtherType::Arp}.emit(eth);
  arp.emit(eth.payload());
  return f;
}

// The client side of N connections, a few bytes of state each, allocated up front.
class Peer {
 public:
  enum class Phase : std::uint8_t { Idle, SynSent, DataSent, Echoed };
  struct Conn {
    std::uint32_t rcv_nxt = 0;    // the stack's next sequence number
    std::uint32_t ts_recent = 0;  // the stack's latest TSval (RFC 7323 §4.3)
    Phase phase = Phase::Idle;
    bool scaled = false;      // the SYN,ACK carried a window scale
    bool timestamps = false;  // the SYN,ACK carried timestamps
  };

  Peer(ScriptDevice& dev, std::size_t n) : dev_(dev), conns_(n) {}

  void syn(std::size_t i) {
    wire::TcpRepr h = header(i, peer_iss(i), 0);
    h.flags = {.syn = true};
    h.window = 64240;
    h.mss = 1460;
    h.sack_permitted = true;
    h.window_scale = 7;
    h.timestamps = std::pair{tsval_, 0u};
    conns_[i].phase = Phase::SynSent;
    dev_.inject(tcp_frame(peer_ip(i), h));
  }
  // A bare ACK repeating what connection i last acknowledged: no news for the stack.
  Frame bare_ack(std::size_t i) const {
    return tcp_frame(peer_ip(i), header(i, peer_iss(i) + 1 + kMessageLen, conns_[i].rcv_nxt, true));
  }
  void on_frame(Bytes frame);

  std::size_t echoed() const { return echoed_; }
  std::size_t errors() const { return errors_; }
  const Conn& conn(std::size_t i) const { return conns_[i]; }

 private:
  wire::TcpRepr header(std::size_t i, std::uint32_t seq, std::uint32_t ack,
                       bool with_ack = true) const {
    const Conn& c = conns_[i];
    wire::TcpRepr h;
    h.src_port = peer_port(i);
    h.dst_port = kEchoPort;
    h.seq = seq;
    h.ack = ack;
    h.flags.ack = with_ack;
    h.window = c.scaled ? 502 : 64240;  // 64256 octets with a shift of 7
    if (c.timestamps) h.timestamps = std::pair{tsval_, c.ts_recent};
    return h;
  }
  std::optional<std::size_t> index(Ipv4Addr ip, std::uint16_t port) const {
    const std::uint32_t base = Ipv4Addr::from_octets(10, 0, 1, 1).value;
    if (ip.value < base || port < kFirstPeerPort) return std::nullopt;
    const auto slot = static_cast<std::size_t>(port - kFirstPeerPort);
    const std::size_t i = (ip.value - base) * kPortsPerPeerIp + slot;
    if (slot >= kPortsPerPeerIp || i >= conns_.size()) return std::nullopt;
    return i;
  }
  void on_arp(const wire::ArpRepr& arp) {
    if (arp.op != wire::ArpOp::Request || arp.target_ip == kStackIp) return;
    wire::ArpRepr reply{wire::ArpOp::Reply, kPeerMac, arp.target_ip, arp.sender_mac, arp.sender_ip};
    dev_.inject(arp_frame(arp.sender_mac, reply));
  }
  void on_segment(std::size_t i, const wire::TcpRepr& seg);

  ScriptDevice& dev_;
  std::vector<Conn> conns_;
  std::uint32_t tsval_ = 1;
  std::size_t echoed_ = 0;
  std::size_t errors_ = 0;
};

void Peer::on_frame(Bytes frame) {
  auto eth = wire::EthernetView::checked(frame);
  if (!eth) fail("the stack sent a runt frame");
  auto er = wire::EthernetRepr::parse(*eth);
  if (er.ethertype == wire::EtherType::Arp) {
    if (auto arp = wire::ArpRepr::parse(eth->payload())) on_arp(*arp);
    return;
  }
  auto v = wire::Ipv4View::checked(eth->payload());
  if (!v) fail("the stack sent a bad IPv4 datagram");
  auto ip = wire::Ipv4Repr::parse(*v);
  if (!ip || ip->protocol != wire::IpProto::Tcp) return;
  auto tv = wire::TcpView::checked(v->payload());
  if (!tv) fail("the stack sent a bad TCP header");
  auto seg = wire::TcpRepr::parse(*tv, ip->src, ip->dst);
  if (!seg) fail("the stack sent a TCP segment that does not parse");
  auto i = index(ip->dst, seg->dst_port);
  if (!i) fail("the stack sent a segment to an unknown peer");
  on_segment(*i, *seg);
}

void Peer::on_segment(std::size_t i, const wire::TcpRepr& seg) {
  Conn& c = conns_[i];
  if (seg.timestamps) c.ts_recent = seg.timestamps->first;
  if (seg.flags.rst) {
    ++errors_;
    std::fprintf(stderr, "scale: connection %zu was reset\n", i);
    return;
  }
  const std::uint32_t data_seq = peer_iss(i) + 1;
  if (seg.flags.syn && seg.flags.ack && c.phase == Phase::SynSent) {
    if (seg.ack != data_seq) fail("SYN,ACK acknowledges the wrong sequence number");
    c.rcv_nxt = seg.seq + 1;
    c.scaled = seg.window_scale.has_value();
    c.timestamps = seg.timestamps.has_value();
    // The third segment of the handshake, then the request, as a Linux client sends them.
    dev_.inject(tcp_frame(peer_ip(i), header(i, data_seq, c.rcv_nxt)));
    const auto msg = message(i);
    wire::TcpRepr d = header(i, data_seq, c.rcv_nxt);
    d.flags.psh = true;
    d.payload = Bytes(msg);
    dev_.inject(tcp_frame(peer_ip(i), d));
    c.phase = Phase::DataSent;
    ++tsval_;
    return;
  }
  if (seg.payload.empty()) return;  // an ACK of the request
  const auto msg = message(i);
  if (c.phase != Phase::DataSent || seg.seq != c.rcv_nxt ||
      !std::equal(seg.payload.begin(), seg.payload.end(), msg.begin(), msg.end())) {
    ++errors_;
    std::fprintf(stderr, "scale: connection %zu: unexpected data\n", i);
    return;
  }
  c.rcv_nxt += static_cast<std::uint32_t>(seg.payload.size());
  c.phase = Phase::Echoed;
  ++echoed_;
  dev_.inject(tcp_frame(peer_ip(i), header(i, data_seq + kMessageLen, c.rcv_nxt)));
}

// The application: accepts every connection and echoes what it reads. It keeps nothing
// per connection: the descriptors stay open, held by the stack's socket table.
class EchoApp {
 public:
  EchoApp(Stack& stack, std::size_t backlog) : socks_(stack.sockets()) {
    auto fd = socks_.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (!fd) fail("socket()");
    listen_fd_ = *fd;
    if (socks_.bind(listen_fd_, make_sockaddr(Ipv4Addr::any(), kEchoPort)) != Errno::Ok)
      fail("bind()");
    if (socks_.listen(listen_fd_, static_cast<int>(backlog)) != Errno::Ok) fail("listen()");
  }
  void run() {
    for (int fd : socks_.take_changed()) {
      if (fd == listen_fd_) {
        accept_all();
      } else {
        echo(fd);
      }
    }
  }
  std::size_t accepted() const { return accepted_; }

 private:
  void accept_all() {
    for (;;) {
      auto fd = socks_.accept(listen_fd_, nullptr);
      if (!fd) {
        if (fd.error() != Errno::Again) fail("accept(): " + std::string(to_string(fd.error())));
        return;
      }
      ++accepted_;
      echo(*fd);  // data may have come with the handshake's last segment
    }
  }
  void echo(int fd) {
    std::array<std::byte, 64> buf{};
    for (;;) {
      auto n = socks_.recv(fd, MutBytes(buf), 0);
      if (!n || *n == 0) return;
      auto sent = socks_.send(fd, Bytes(buf.data(), *n), 0);
      if (!sent || *sent != *n) fail("send() of an echo");
    }
  }

  Sockets& socks_;
  int listen_fd_ = -1;
  std::size_t accepted_ = 0;
};

// The heap in use when constructed: taken after the peer's allocations, before the stack's.
struct HeapMark {
  HeapCount at = g_heap;
};

struct Bench {
  explicit Bench(std::size_t n_conns)
      : n(n_conns), peer(dev, n_conns), stack(dev, config(n_conns)), app(stack, 4096) {
    dev.on_transmit = [this](Bytes f) { peer.on_frame(f); };
  }
  static StackConfig config(std::size_t n_conns) {
    StackConfig c;
    c.mac = kStackMac;
    c.address = {kStackIp, 16};
    c.sockets.max_sockets = static_cast<int>(n_conns + 16);
    c.tcp.max_syn_backlog = kOpenBatch;
    return c;
  }
  // Polls and runs the app until the stack and the peer have nothing left to say.
  void settle() {
    do {
      stack.poll(clock.now());
      app.run();
    } while (!dev.idle());
  }
  void introduce_peers() {
    for (std::size_t ip = 0; ip * kPortsPerPeerIp < n; ++ip) {
      wire::ArpRepr req{wire::ArpOp::Request, kPeerMac, peer_ip(ip * kPortsPerPeerIp), MacAddr{},
                        kStackIp};
      dev.inject(arp_frame(MacAddr::broadcast(), req));
    }
    settle();
  }
  void open(std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; i += kOpenBatch) {
      const std::size_t end = std::min(to, i + kOpenBatch);
      for (std::size_t j = i; j < end; ++j) peer.syn(j);
      settle();
      clock.advance(std::chrono::milliseconds(1));
    }
    // Delayed ACKs and anything else due shortly, so every connection ends idle.
    clock.advance(std::chrono::seconds(1));
    settle();
  }

  std::size_t n;
  ManualClock clock;
  ScriptDevice dev{kInboxFrames};
  Peer peer;
  HeapMark before_stack;
  Stack stack;
  EchoApp app;
};

struct Timing {
  std::size_t conns = 0;
  double open_us = 0;  // per connection opened since the previous checkpoint
  double poll_ns = 0;
  double next_deadline_ns = 0;
  double segment_ns = 0;      // a bare ACK to any of the connections (cache-cold)
  double segment_hot_ns = 0;  // a bare ACK to one of 1,000 connections (cache-warm)
  double segment_allocs = 0;  // heap allocations per segment
};

// The median over 5 batches of the time per call; a batch is at least 3 calls and 10 ms,
// at most 20,000 calls.
template <class F>
double time_per_call_ns(F&& f) {
  f();  // warm up
  std::array<double, 5> per_call{};
  for (double& t : per_call) {
    std::size_t calls = 0;
    const auto start = WallClock::now();
    auto elapsed = WallClock::duration::zero();
    while (calls < 3 || (elapsed < std::chrono::milliseconds(10) && calls < 20000)) {
      f();
      ++calls;
      elapsed = WallClock::now() - start;
    }
    t = std::chrono::duration<double, std::nano>(elapsed).count() / static_cast<double>(calls);
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[2];
}

struct SegmentCost {
  double ns = 0;
  double allocs = 0;
};

// Bare ACKs to pseudo-random connections among the first `among` (a fixed LCG), built
// before the clock starts, then polled through the stack 64 to a poll.
SegmentCost time_segments(Bench& b, std::size_t among) {
  const Instant now = b.clock.now();
  std::uint64_t x = 12345;
  for (std::size_t s = 0; s < kTimedSegments; ++s) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    b.dev.inject(b.peer.bare_ack(static_cast<std::size_t>((x >> 33) % among)));
  }
  const auto before_rx = b.stack.stats().tcp.rx_segments;
  const auto before_allocs = g_heap.allocations;
  const auto start = WallClock::now();
  while (!b.dev.idle()) b.stack.poll(now);
  const auto elapsed = WallClock::now() - start;
  SegmentCost c;
  c.allocs = static_cast<double>(g_heap.allocations - before_allocs) / kTimedSegments;
  if (b.stack.stats().tcp.rx_segments - before_rx != kTimedSegments) fail("segments went missing");
  c.ns = std::chrono::duration<double, std::nano>(elapsed).count() / kTimedSegments;
  b.app.run();
  return c;
}

Timing measure(Bench& b, std::size_t conns) {
  Timing t;
  t.conns = conns;
  const Instant now = b.clock.now();
  t.poll_ns = time_per_call_ns([&] { b.stack.poll(now); });
  volatile bool sink = false;
  t.next_deadline_ns = time_per_call_ns([&] { sink = b.stack.next_deadline().has_value(); });
  (void)sink;
  const SegmentCost cold = time_segments(b, conns);
  t.segment_ns = cold.ns;
  t.segment_allocs = cold.allocs;
  (void)time_segments(b, 1000);  // warm the hot set
  t.segment_hot_ns = time_segments(b, 1000).ns;
  return t;
}

void print_sizes() {
  using Entry = Sockets::Impl::Entry;
  std::printf("sizeof (bytes):\n");
  std::printf("  tcp::Connection            %6zu\n", sizeof(tcp::Connection));
  std::printf("    TcpConfig (copy)         %6zu\n", sizeof(TcpConfig));
  std::printf("    SendBuffer               %6zu\n", sizeof(tcp::SendBuffer));
  std::printf("    Reassembler              %6zu\n", sizeof(tcp::Reassembler));
  std::printf("    RttEstimator             %6zu\n", sizeof(tcp::RttEstimator));
  std::printf("    Timers                   %6zu\n", sizeof(tcp::Timers));
  std::printf("  tcp::NewReno (own block)   %6zu\n", sizeof(tcp::NewReno));
  std::printf("  socket slot (Entry)        %6zu\n", sizeof(Entry));
  std::printf("  shared_ptr<Connection>     %6zu\n", sizeof(std::shared_ptr<tcp::Connection>));
}

int run(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  if (n == 0 || n > 250 * kPortsPerPeerIp) fail("N must be between 1 and 12,500,000");
  tapir::log::set_level(spdlog::level::err);

  Bench b(n);
  b.introduce_peers();

  std::vector<std::size_t> checkpoints;
  for (std::size_t c = 1000; c <= n; c *= 10) checkpoints.push_back(c);
  if (checkpoints.empty() || checkpoints.back() != n) checkpoints.push_back(n);
  std::vector<Timing> timings;
  timings.reserve(checkpoints.size());

  // The stack listening with no connection: its fixed part.
  const HeapCount empty = g_heap;
  const std::size_t fixed_bytes = empty.live_bytes - b.before_stack.at.live_bytes;
  std::size_t opened = 0;
  double mem_per_conn = 0;
  double mem_total_per_conn = 0;
  double blocks_per_conn = 0;
  for (std::size_t cp : checkpoints) {
    const auto start = WallClock::now();
    b.open(opened, cp);
    const auto took = WallClock::now() - start;
    const std::size_t added = cp - opened;
    opened = cp;
    if (b.peer.errors() != 0 || b.peer.echoed() != opened || b.app.accepted() != opened) {
      fail("after " + std::to_string(opened) + " connections: " + std::to_string(b.peer.echoed()) +
           " echoed, " + std::to_string(b.app.accepted()) + " accepted, " +
           std::to_string(b.peer.errors()) + " errors");
    }
    if (cp == n) {
      // Memory first, before the timing runs add anything.
      const double count = static_cast<double>(n);
      mem_per_conn = static_cast<double>(g_heap.live_bytes - empty.live_bytes) / count;
      mem_total_per_conn =
          static_cast<double>(g_heap.live_bytes - b.before_stack.at.live_bytes) / count;
      blocks_per_conn = static_cast<double>(g_heap.live_blocks - empty.live_blocks) / count;
    }
    Timing t = measure(b, cp);
    t.open_us =
        std::chrono::duration<double, std::micro>(took).count() / static_cast<double>(added);
    timings.push_back(t);
  }

  const auto& tcp = b.stack.stats().tcp;
  std::printf(
      "scale: %zu connections ESTABLISHED and idle, each echoed once (%llu established, "
      "%zu in the TCP layer)\n",
      n, static_cast<unsigned long long>(tcp.established), b.stack.impl().tcp.connection_count());
  std::printf("memory (heap, malloc_usable_size):\n");
  std::printf("  stack listening, no connection   %10zu bytes\n", fixed_bytes);
  std::printf("  added per connection             %10.0f bytes in %.2f blocks\n", mem_per_conn,
              blocks_per_conn);
  std::printf("  whole stack / connections        %10.0f bytes\n", mem_total_per_conn);
  std::printf("\n%8s %12s %10s %14s %12s %12s %14s\n", "conns", "open us/conn", "poll() ns",
              "next_deadline ns", "segment ns", "hot seg. ns", "allocs/segment");
  for (const auto& t : timings) {
    std::printf("%8zu %12.2f %10.0f %14.0f %12.0f %12.0f %14.2f\n", t.conns, t.open_us, t.poll_ns,
                t.next_deadline_ns, t.segment_ns, t.segment_hot_ns, t.segment_allocs);
  }
  std::printf("\n");
  print_sizes();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scale: %s\n", e.what());
    return 1;
  }
}
