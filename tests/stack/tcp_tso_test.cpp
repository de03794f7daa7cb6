// TCP segmentation offload on transmit (docs/offload.md): stack A sits behind a
// SegmentingDevice that reports tso_max, records each superframe and cuts it into segments
// the way the kernel does for a TAP; stack B receives the segments over a MemoryWire and
// verifies every checksum itself. The checks: superframes carry whole SMSS segments within
// cwnd and the peer's window, the segments the device makes are valid and contiguous, FIN
// and PSH end up on the last segment only, IP IDs stay unique, a lost middle segment comes
// back alone, and a device without TSO (or one that refuses) gets plain segments.
#include <netinet/tcp.h>

#include <cinttypes>
#include <cstdio>

#include "phy/tracer.hpp"
#include "stack/fixture.hpp"
#include "stack/impl.hpp"
#include "support/pattern.hpp"
#include "support/tso_device.hpp"
#include "util/checksum.hpp"
#include "wire/tcp.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

constexpr std::size_t kTsoMax = 14 + 65535;
constexpr std::size_t kMtu = 1500;  // MemoryWire's, on both ends
constexpr std::size_t kEth = 14;
constexpr std::size_t kTcpAt = kEth + 20;  // no IP options on TCP datagrams

std::vector<std::byte> pattern(std::size_t n) { return xorshift_pattern(n, 2463534242u); }

struct PairOptions {
  std::size_t tso_max = kTsoMax;  // what the segmenting device reports
  bool tracer = false;            // a Tracer between stack A and the device
  bool timestamps = true;         // TcpConfig::timestamps on both stacks
  bool sack = true;               // TcpConfig::sack on both stacks
};

// Stack A (10.0.0.1) behind the segmenting device, connected to a listener on B (10.0.0.2).
struct TsoPair {
  ManualClock clock;
  phy::MemoryWire wire;
  SegmentingDevice dev;
  std::unique_ptr<phy::Device> decorator;
  Stack a;
  Stack b;
  SimLoop sim;
  int listener = -1;
  int a_fd = -1;
  int b_fd = -1;

  explicit TsoPair(PairOptions o = {})
      : dev(wire.end_a(), o.tso_max),
        decorator(o.tracer ? std::make_unique<phy::Tracer>(dev) : nullptr),
        a(decorator ? *decorator : static_cast<phy::Device&>(dev),
          with(config_for(kMacA, kIpA), o)),
        b(wire.end_b(), with(config_for(kMacB, kIpB), o)),
        sim(clock, {&a, &b},
            [this] { return wire.end_a().pending() + wire.end_b().pending() > 0; }) {
    dev.record(true);
    listener = *b.sockets().socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(b.sockets().bind(listener, make_sockaddr(Ipv4Addr::any(), 9)) == Errno::Ok);
    REQUIRE(b.sockets().listen(listener, 4) == Errno::Ok);
    a_fd = *a.sockets().socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(a.sockets().connect(a_fd, make_sockaddr(kIpB, 9)) == Errno::InProgress);
    REQUIRE(sim.run_until([&] { return (a.sockets().readiness(a_fd) & POLLOUT) != 0; },
                          std::chrono::seconds(5)));
    b_fd = *b.sockets().accept(listener, nullptr);
  }

  static StackConfig with(StackConfig c, const PairOptions& o) {
    c.tcp.timestamps = o.timestamps;
    c.tcp.sack = o.sack;
    return c;
  }

  // A's payload per full segment: SMSS, which already leaves room for the timestamps option
  // (RFC 6691 §2); A sends no SACK blocks, as it receives no data.
  std::size_t mss() {
    std::size_t m = 0;
    a.impl().tcp.for_each_connection([&](const tcp::Connection& c) { m = c.negotiated().smss; });
    REQUIRE(m > 0);
    return m;
  }

  void nodelay() {
    int one = 1;
    REQUIRE(a.sockets().setsockopt(a_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == Errno::Ok);
  }

  // A writes `data` (then shuts its sending side when `fin`); B reads until it holds all of
  // it (and the end of the stream with `fin`). Returns what B read.
  std::vector<std::byte> transfer(const std::vector<std::byte>& data, bool fin) {
    std::vector<std::byte> got;
    std::array<std::byte, 65536> buf;
    std::size_t sent = 0;
    bool shut = false;
    bool eof = false;
    const Instant limit = clock.now() + std::chrono::minutes(10);
    while (clock.now() < limit) {
      bool moved = false;
      while (sent < data.size()) {
        auto n = a.sockets().send(a_fd, Bytes(data).subspan(sent), 0);
        if (!n || *n == 0) break;
        sent += *n;
        moved = true;
      }
      if (fin && !shut && sent == data.size()) {
        REQUIRE(a.sockets().shutdown(a_fd, SHUT_WR) == Errno::Ok);
        shut = moved = true;
      }
      while (!eof) {
        auto n = b.sockets().recv(b_fd, MutBytes(buf), 0);
        if (!n) break;
        eof = *n == 0;
        got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
        moved = moved || *n > 0;
      }
      if (got.size() == data.size() && (!fin || eof)) break;
      sim.settle();
      if (moved) continue;
      auto next = earliest(a.next_deadline(), b.next_deadline());
      if (!next) break;
      clock.set(std::max(*next, clock.now()));
    }
    return got;
  }
};

// A frame A sent, parsed with every checksum verified (the IPv4 header's by decode()).
struct Segment {
  wire::Ipv4Repr ip;
  wire::TcpRepr tcp;
};
Segment parse_segment(const Frame& f) {
  Decoded d = decode(f);
  REQUIRE(d.ip);
  auto view = wire::TcpView::checked(d.ip_payload);
  REQUIRE(view);
  auto tcp = wire::TcpRepr::parse(*view, d.ip->src, d.ip->dst, wire::ChecksumMode::Verify);
  REQUIRE(tcp);
  return {*d.ip, *tcp};
}

// Compared here, not by Catch2, which would print a megabyte of octets on failure.
bool exact(const std::vector<std::byte>& got, const std::vector<std::byte>& want) {
  return got == want;
}

wire::TcpFlags superframe_flags(const Frame& f) {
  return wire::TcpFlags::from_bits(load_u8(f, kTcpAt + wire::tcp_field::kFlags.off));
}

std::size_t tcp_header_len(const Frame& f) {
  return std::size_t{load_u8(f, kTcpAt + wire::tcp_field::kOffset.off)} >> 4 << 2;
}

std::size_t superframe_payload(const SegmentingDevice::Superframe& s) {
  return s.frame.size() - s.gso.header_len;
}

}  // namespace

TEST_CASE("tso: bulk data leaves in superframes the device cuts into valid SMSS segments",
          "[stack][tcp][tso]") {
  TsoPair t;
  const std::size_t mss = t.mss();
  const auto data = pattern(1000000);
  REQUIRE(exact(t.transfer(data, false), data));
  const auto& sa = t.a.stats();
  CHECK(sa.tcp.tso_superframes > 0);
  CHECK(sa.tcp.tso_superframes == t.dev.superframe_count());
  CHECK(sa.tcp.tso_fallbacks == 0);
  CHECK(sa.tcp.retransmitted_segments == 0);
  CHECK(t.b.stats().tcp.rx_drop_bad_checksum == 0);
  CHECK(t.b.stats().ipv4.rx_drop_bad_checksum == 0);

  std::uint64_t segments = 0;
  for (const auto& s : t.dev.superframes()) {
    // The GsoInfo of a TCP/IPv4 superframe: the Ethernet, IPv4 and TCP headers (timestamps
    // included) copied into every segment, the checksum at 16 from the TCP header, pieces
    // of SMSS octets that fill the MTU exactly.
    CHECK(s.gso.type == phy::GsoType::TcpV4);
    CHECK(s.gso.segment_size == mss);
    CHECK(s.gso.header_len == kTcpAt + tcp_header_len(s.frame));
    CHECK(tcp_header_len(s.frame) == 20 + 12);
    CHECK(20 + tcp_header_len(s.frame) + s.gso.segment_size == kMtu);
    CHECK(s.gso.csum_start == kTcpAt);
    CHECK(s.gso.csum_offset == wire::tcp_field::kChecksum.off);
    // More than one SMSS, whole segments only (no TCP_NODELAY, no FIN: Nagle holds a tail),
    // inside one IPv4 datagram that is never fragmented.
    const std::size_t payload = superframe_payload(s);
    CHECK(payload > mss);
    CHECK(payload % mss == 0);
    auto ip = wire::Ipv4View::checked(Bytes(s.frame).subspan(kEth));
    REQUIRE(ip);
    CHECK(ip->verify_checksum());
    CHECK(ip->dont_frag());
    CHECK(!ip->is_fragment());
    CHECK(ip->total_len() == s.frame.size() - kEth);
    // The checksum field holds only the pseudo-header sum over the superframe's TCP length.
    Checksum pseudo;
    pseudo.add_pseudo_header(kIpA, kIpB, 6, static_cast<std::uint16_t>(s.frame.size() - kTcpAt));
    CHECK(load_be16(s.frame, kTcpAt + wire::tcp_field::kChecksum.off) ==
          static_cast<std::uint16_t>(~pseudo.finish()));
    segments += s.segments;
  }
  CHECK(sa.tcp.tso_segments == segments);

  // Every frame on the wire fits the MTU and verifies; data segments are contiguous in
  // sequence space; PSH appears only on the last segment of a superframe; the IPv4 IDs of
  // A's datagrams run on by one each, superframe segments included.
  std::optional<std::uint32_t> next_seq;
  std::optional<std::uint16_t> next_id;
  std::size_t from_superframes = 0;
  std::size_t payload_bytes = 0;
  for (const auto& sent : t.dev.sent()) {
    CHECK(sent.frame.size() <= kEth + kMtu);
    if (decode(sent.frame).arp) continue;
    const Segment seg = parse_segment(sent.frame);
    if (next_id) CHECK(seg.ip.ident == *next_id);
    next_id = static_cast<std::uint16_t>(seg.ip.ident + 1);
    if (seg.tcp.payload.empty()) continue;
    payload_bytes += seg.tcp.payload.size();
    if (next_seq) CHECK(seg.tcp.seq == *next_seq);
    next_seq = seg.tcp.seq + static_cast<std::uint32_t>(seg.tcp.payload.size());
    if (!sent.from_superframe) continue;
    ++from_superframes;
    CHECK(seg.tcp.payload.size() == mss);
    if (seg.tcp.flags.psh) CHECK(sent.last_segment);
    CHECK(!seg.tcp.flags.fin);
  }
  CHECK(from_superframes == segments);
  CHECK(payload_bytes == data.size());
  std::printf("tso: %zu octets in %" PRIu64 " superframes (%" PRIu64
              " segments) and %zu plain segments\n",
              data.size(), sa.tcp.tso_superframes, sa.tcp.tso_segments,
              static_cast<std::size_t>(sa.tcp.tx_segments - sa.tcp.tso_segments));
}

TEST_CASE("tso: a device without TSO gets one segment per transmit", "[stack][tcp][tso]") {
  TsoPair t({.tso_max = 0});
  const auto data = pattern(300000);
  REQUIRE(exact(t.transfer(data, true), data));
  CHECK(t.a.stats().tcp.tso_superframes == 0);
  CHECK(t.a.stats().tcp.tso_fallbacks == 0);
  CHECK(t.dev.superframe_count() == 0);
  for (const auto& sent : t.dev.sent()) {
    CHECK(!sent.from_superframe);
    CHECK(sent.frame.size() <= kEth + kMtu);
  }
}

TEST_CASE("tso: a recording decorator hides TSO, so the stack sends plain segments",
          "[stack][tcp][tso]") {
  TsoPair t({.tracer = true});
  const auto data = pattern(300000);
  REQUIRE(exact(t.transfer(data, false), data));
  CHECK(t.a.stats().tcp.tso_superframes == 0);
  CHECK(t.dev.superframe_count() == 0);
}

TEST_CASE("tso: a device that refuses superframes gets the same segments one by one",
          "[stack][tcp][tso]") {
  TsoPair t;
  const std::size_t mss = t.mss();
  t.dev.refuse_superframes(true);
  const auto data = pattern(300000);
  REQUIRE(exact(t.transfer(data, true), data));
  CHECK(t.a.stats().tcp.tso_superframes == 0);
  CHECK(t.a.stats().tcp.tso_fallbacks > 0);
  CHECK(t.a.stats().tcp.retransmitted_segments == 0);
  std::size_t fins = 0;
  for (const auto& sent : t.dev.sent()) {
    CHECK(!sent.from_superframe);
    CHECK(sent.frame.size() <= kEth + kMtu);
    if (decode(sent.frame).arp) continue;
    const Segment seg = parse_segment(sent.frame);
    CHECK(seg.tcp.payload.size() <= mss);
    fins += seg.tcp.flags.fin;
  }
  CHECK(fins == 1);
}

TEST_CASE("tso: FIN and PSH travel on the last segment of the superframe only",
          "[stack][tcp][tso]") {
  TsoPair t;
  const std::size_t mss = t.mss();
  // 68 full segments and a 720-octet tail: once FIN is queued the tail joins the
  // superframe that ends the stream, and FIN with it.
  const auto data = pattern(68 * mss + 720);
  REQUIRE(exact(t.transfer(data, true), data));
  const auto& supers = t.dev.superframes();
  REQUIRE(!supers.empty());
  const auto& last = supers.back();
  CHECK(superframe_flags(last.frame).fin);
  CHECK(superframe_flags(last.frame).psh);
  CHECK(superframe_payload(last) % mss == 720);
  for (std::size_t i = 0; i + 1 < supers.size(); ++i) CHECK(!superframe_flags(supers[i].frame).fin);

  // After the device cut it: FIN and PSH on its last segment, none before.
  std::vector<Segment> cut;
  for (const auto& sent : t.dev.sent()) {
    if (sent.from_superframe) cut.push_back(parse_segment(sent.frame));
  }
  REQUIRE(cut.size() >= last.segments);
  for (std::size_t i = cut.size() - last.segments; i < cut.size(); ++i) {
    const bool is_last = i + 1 == cut.size();
    CHECK(cut[i].tcp.flags.fin == is_last);
    CHECK(cut[i].tcp.flags.psh == is_last);
    CHECK(cut[i].tcp.payload.size() == (is_last ? 720 : mss));
  }
  CHECK(t.a.stats().tcp.tso_fallbacks == 0);
}

TEST_CASE("tso: with TCP_NODELAY the short tail rides in the superframe", "[stack][tcp][tso]") {
  TsoPair t;
  t.nodelay();
  const auto data = pattern(2 * t.mss() + 100);
  REQUIRE(exact(t.transfer(data, false), data));
  // The initial window (RFC 5681 §3.1: 3 * 1460 = 4380 octets) holds all 3020 octets.
  REQUIRE(t.dev.superframes().size() == 1);
  const auto& s = t.dev.superframes().front();
  CHECK(superframe_payload(s) == data.size());
  CHECK(s.segments == 3);
  CHECK(superframe_flags(s.frame).psh);
  CHECK(!superframe_flags(s.frame).fin);
}

TEST_CASE("tso: a lost middle segment of a superframe is retransmitted alone",
          "[stack][tcp][tso]") {
  const bool sack = GENERATE(true, false);
  INFO("sack=" << sack);
  TsoPair t({.sack = sack});
  const std::size_t mss = t.mss();
  // The first superframe (the initial window, 3 segments) loses its middle segment.
  t.dev.drop(
      [](std::size_t superframe, std::size_t segment) { return superframe == 0 && segment == 1; });
  const auto data = pattern(500000);
  REQUIRE(exact(t.transfer(data, false), data));
  REQUIRE(t.dev.dropped() == 1);
  const auto& first = t.dev.superframes().front();
  REQUIRE(first.segments == 3);
  const std::uint32_t lost_seq =
      load_be32(first.frame, kTcpAt + wire::tcp_field::kSeq.off) + static_cast<std::uint32_t>(mss);

  const auto& sa = t.a.stats().tcp;
  CHECK(sa.retransmitted_segments == 1);
  CHECK(sa.retransmitted_bytes == mss);
  CHECK(sa.fast_retransmits == 1);
  CHECK(sa.rto_expired == 0);
  // The one frame carrying the lost octets again is a plain SMSS segment, and no superframe
  // covers them a second time.
  std::size_t carriers = 0;
  for (const auto& sent : t.dev.sent()) {
    if (decode(sent.frame).arp) continue;
    const Segment seg = parse_segment(sent.frame);
    if (seg.tcp.seq != lost_seq || seg.tcp.payload.empty()) continue;
    ++carriers;
    CHECK(!sent.from_superframe);
    CHECK(seg.tcp.payload.size() == mss);
  }
  CHECK(carriers == 1);
  for (std::size_t i = 1; i < t.dev.superframes().size(); ++i) {
    const auto& s = t.dev.superframes()[i];
    const std::uint32_t seq = load_be32(s.frame, kTcpAt + wire::tcp_field::kSeq.off);
    CHECK(lost_seq - seq >= superframe_payload(s));  // modulo 2^32: not inside it
  }
}

TEST_CASE("tso: without timestamps the segments carry SMSS octets under a 20-octet header",
          "[stack][tcp][tso]") {
  TsoPair t({.timestamps = false});
  const std::size_t mss = t.mss();
  CHECK(mss == kMtu - 40);
  const auto data = pattern(200000);
  REQUIRE(exact(t.transfer(data, false), data));
  REQUIRE(!t.dev.superframes().empty());
  for (const auto& s : t.dev.superframes()) {
    CHECK(s.gso.segment_size == mss);
    CHECK(s.gso.header_len == kTcpAt + 20);
  }
  for (const auto& sent : t.dev.sent()) {
    if (!sent.from_superframe) continue;
    const Segment seg = parse_segment(sent.frame);
    CHECK(!seg.tcp.timestamps);
    CHECK(seg.tcp.payload.size() == mss);
  }
}
