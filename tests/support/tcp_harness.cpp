#include "support/tcp_harness.hpp"

#include <cstring>
#include <exception>
#include <sstream>

#include "support/frames.hpp"
#include "wire/format.hpp"

namespace tapir::test {

namespace {

std::string ms(Duration d) {
  std::ostringstream o;
  if (d.count() % 1000 == 0) {
    o << d.count() / 1000 << "ms";
  } else {
    o << static_cast<double>(d.count()) / 1000.0 << "ms";
  }
  return o.str();
}

std::string flag_text(wire::TcpFlags f) { return "[" + wire::to_string(f) + "]"; }

// The longest any test may run the clock in one advance() before the harness suspects a
// deadline that never clears (a busy loop).
constexpr int kMaxPollsPerInstant = 1000;

}  // namespace

Frame seg(const SegSpec& s) {
  wire::TcpRepr r;
  r.src_port = s.src_port;
  r.dst_port = s.dst_port;
  r.seq = s.seq;
  r.ack = s.ack;
  r.flags = s.flags;
  r.window = s.window;
  r.mss = s.mss;
  r.window_scale = s.window_scale;
  r.timestamps = s.ts;
  r.sack_permitted = s.sack_permitted;
  for (const auto& b : s.sack) {
    if (r.sack_count < r.sack.size()) r.sack[r.sack_count++] = b;
  }
  r.payload = as_bytes(std::string_view(s.payload));
  std::vector<std::byte> tcp;
  if (s.raw_options.empty()) {
    tcp.resize(r.buffer_len());
    r.emit(MutBytes(tcp), s.src, s.dst);
  } else {
    // Build the header without options, then splice the raw option bytes in.
    wire::TcpRepr bare = r;
    bare.mss.reset();
    bare.window_scale.reset();
    bare.timestamps.reset();
    bare.sack_permitted = false;
    bare.sack_count = 0;
    std::size_t opt_len = (s.raw_options.size() + 3) / 4 * 4;
    std::vector<std::byte> plain(bare.buffer_len());
    bare.emit(MutBytes(plain), s.src, s.dst);
    tcp.assign(plain.begin(), plain.begin() + 20);
    for (std::size_t i = 0; i < opt_len; ++i) {
      tcp.push_back(std::byte{i < s.raw_options.size() ? s.raw_options[i] : std::uint8_t{0}});
    }
    tcp.insert(tcp.end(), plain.begin() + 20, plain.end());
    auto p = wire::TcpPacket<MutBytes>::unchecked(MutBytes(tcp));
    p.set_header_len(20 + opt_len);
    p.fill_checksum(s.src, s.dst);
  }
  auto p = wire::TcpPacket<MutBytes>::unchecked(MutBytes(tcp));
  if (s.data_offset_words) {
    p.set_header_len(std::size_t{*s.data_offset_words} * 4);
    p.fill_checksum(s.src, s.dst);
  }
  if (s.bad_checksum) p.set_checksum(static_cast<std::uint16_t>(p.checksum() ^ 0x5a5a));
  wire::Ipv4Repr ip;
  ip.src = s.src;
  ip.dst = s.dst;
  ip.protocol = wire::IpProto::Tcp;
  ip.ttl = 64;
  return ipv4_frame(kRemoteMac, kStackMac, ip, Bytes(tcp));
}

Frame icmp_error(std::uint8_t type, std::uint8_t code, const Seen& about) {
  wire::Ipv4Repr inner = about.ip;
  inner.payload_len = static_cast<std::uint16_t>(about.tcp.header_len() + about.payload.size());
  std::vector<std::byte> quote(inner.header_len() + 8);
  inner.emit(MutBytes(quote).first(inner.header_len()));
  auto tcp = MutBytes(quote).subspan(inner.header_len());
  store_be16(tcp, 0, about.tcp.src_port);
  store_be16(tcp, 2, about.tcp.dst_port);
  store_be32(tcp, 4, about.tcp.seq);
  wire::Icmpv4Repr msg{type, code, 0, Bytes(quote)};
  std::vector<std::byte> body(msg.buffer_len());
  msg.emit(MutBytes(body));
  wire::Ipv4Repr ip;
  ip.src = kRemoteIp;
  ip.dst = kStackIp;
  ip.protocol = wire::IpProto::Icmp;
  return ipv4_frame(kRemoteMac, kStackMac, ip, Bytes(body));
}

StackConfig TcpHarness::default_config() {
  StackConfig c;
  c.mac = kStackMac;
  c.address = {kStackIp, 24};
  c.arp.gratuitous_on_start = false;
  return c;
}

TcpHarness::TcpHarness(StackConfig cfg) : stack_(dev_, cfg) {
  stack_.impl().tcp.set_transition_hook(
      [this](const tcp::FourTuple& id, tcp::TcpState from, tcp::TcpState to) {
        transitions_.emplace_back(from, to);
        log("  state :" + std::to_string(id.local_port) + " " + std::string(tcp::to_string(from)) +
            " -> " + std::string(tcp::to_string(to)));
      });
  stack_.poll(clock_.now());
  (void)dev_.take_transmitted();
  // Teach the stack the peer's MAC: an ARP request from the peer for the stack's address.
  wire::ArpRepr req{wire::ArpOp::Request, kRemoteMac, kRemoteIp, MacAddr{}, kStackIp};
  dev_.inject(Bytes(arp_frame(MacAddr::broadcast(), req)));
  stack_.poll(clock_.now());
  (void)dev_.take_transmitted();  // the ARP reply
  log("setup: stack " + kStackIp.to_string() + ", peer " + kRemoteIp.to_string() +
      " (ARP learned)");
}

TcpHarness::~TcpHarness() {
  // The hook captures `this`; connections may outlive nothing here, but clear it anyway.
  stack_.impl().tcp.set_transition_hook({});
}

void TcpHarness::log(std::string line) {
  steps_.push_back("t=" + ms(elapsed()) + "  " + std::move(line));
}

std::string TcpHarness::describe(const Seen& s) {
  wire::TcpRepr r = s.tcp;
  r.payload = as_bytes(std::string_view(s.payload));
  return wire::format_tcp(r, s.ip.src, s.ip.dst) + " (t=" + ms(s.at) + ")";
}

std::string TcpHarness::diagnostic() const {
  std::ostringstream o;
  o << "---- harness steps ----\n";
  for (const auto& s : steps_) o << s << "\n";
  o << "---- segments sent by the stack, not yet expected ----\n";
  if (out_.empty()) o << "(none)\n";
  for (const auto& s : out_) o << describe(s) << "\n";
  return o.str();
}

void TcpHarness::fail(const std::string& why) {
  log("FAILED: " + why);
  FAIL(why << "\n" << diagnostic());
  std::terminate();  // not reached: FAIL throws
}

bool TcpHarness::took(tcp::TcpState from, tcp::TcpState to) const {
  for (const auto& [f, t] : transitions_) {
    if (f == from && t == to) return true;
  }
  return false;
}

void TcpHarness::collect() {
  for (;;) {
    auto frames = dev_.take_transmitted();
    if (frames.empty()) return;
    bool answered = false;
    for (auto& f : frames) {
      auto eth = wire::EthernetView::checked(Bytes(f));
      if (!eth) fail("the stack sent a malformed frame: " + wire::format_frame(Bytes(f)));
      auto eth_repr = wire::EthernetRepr::parse(*eth);
      if (eth_repr.ethertype == wire::EtherType::Arp) {
        // The stack asks (or re-validates) the peer's MAC: answer at once.
        auto arp = wire::ArpRepr::parse(eth->payload());
        log("<- " + wire::format_frame(Bytes(f)) + "  (answered)");
        if (arp && arp->op == wire::ArpOp::Request && arp->target_ip == kRemoteIp) {
          wire::ArpRepr rep{wire::ArpOp::Reply, kRemoteMac, kRemoteIp, kStackMac, kStackIp};
          dev_.inject(Bytes(arp_frame(kStackMac, rep)));
          answered = true;
        }
        continue;
      }
      auto ipv = wire::Ipv4View::checked(eth->payload());
      if (!ipv) {
        std::string hex;
        for (std::size_t i = 0; i < std::min<std::size_t>(f.size(), 64); ++i) {
          char b[4];
          std::snprintf(b, sizeof b, "%02x ", std::to_integer<unsigned>(f[i]));
          hex += b;
        }
        fail("the stack sent a malformed IPv4 packet: " + wire::format_frame(Bytes(f)) + " [" +
             hex + "] len " + std::to_string(f.size()));
      }
      auto ip = wire::Ipv4Repr::parse(*ipv);
      if (!ip) fail("the stack sent a malformed IPv4 packet: " + wire::format_frame(Bytes(f)));
      if (ip->protocol != wire::IpProto::Tcp) {
        log("<- " + wire::format_frame(Bytes(f)) + "  (not TCP, ignored)");
        continue;
      }
      auto v = wire::TcpView::checked(ipv->payload());
      if (!v) fail("the stack sent a malformed TCP segment: " + wire::format_frame(Bytes(f)));
      auto r = wire::TcpRepr::parse(*v, ip->src, ip->dst);
      if (!r) {
        fail("the stack sent a TCP segment that does not parse (" +
             std::string(wire::to_string(r.error())) +
             "): " + wire::format_frame(Bytes(f), wire::ChecksumMode::Ignore));
      }
      Seen s;
      s.ip = *ip;
      s.tcp = *r;
      s.payload.assign(reinterpret_cast<const char*>(r->payload.data()),  // NOLINT
                       r->payload.size());
      s.tcp.payload = {};
      s.at = elapsed();
      log("<- " + wire::format_frame(Bytes(f)));
      out_.push_back(std::move(s));
    }
    if (!answered) return;
    stack_.poll(clock_.now());
  }
}

void TcpHarness::poll() {
  stack_.poll(clock_.now());
  collect();
  // Whatever was due has been done: a deadline still in the past would make an event
  // loop spin (the ack_now_ case of Connection::next_deadline, for one).
  if (auto t = stack_.next_deadline(); t && *t <= clock_.now()) {
    fail("busy loop: a deadline at t=" + ms(*t - Instant{}) + " is still due after a poll");
  }
}

void TcpHarness::send(const Frame& f) { send_frames(std::span(&f, 1)); }

void TcpHarness::send_batch(const std::vector<Frame>& frames) { send_frames(frames); }

void TcpHarness::send_frames(std::span<const Frame> frames) {
  collect();
  for (const auto& f : frames) {
    log("-> " + wire::format_frame(Bytes(f), wire::ChecksumMode::Verify) +
        (frames.size() > 1 ? " (batch)" : ""));
    dev_.inject(Bytes(f));
  }
  poll();
}

void TcpHarness::send(const Frame& f, phy::RxInfo info) {
  collect();
  log("-> " + wire::format_frame(Bytes(f), wire::ChecksumMode::Ignore) +
      " (device: " + (info.checksum_unverified ? "checksum offloaded" : "") +
      (info.superframe ? " superframe" : "") + ")");
  dev_.inject(Bytes(f), info);
  poll();
}

void TcpHarness::send_raw_ip(Bytes ip_packet) {
  collect();
  Frame f(wire::EthernetView::kHeaderLen + ip_packet.size());
  auto eth = wire::EthernetFrame<MutBytes>::unchecked(MutBytes(f));
  wire::EthernetRepr{kStackMac, kRemoteMac, wire::EtherType::Ipv4}.emit(eth);
  std::memcpy(f.data() + wire::EthernetView::kHeaderLen, ip_packet.data(), ip_packet.size());
  log("-> " + wire::format_frame(Bytes(f)));
  dev_.inject(Bytes(f));
  poll();
}

void TcpHarness::advance(Duration d) {
  collect();
  log("advance " + ms(d));
  const Instant end = clock_.now() + d;
  Instant last = clock_.now();
  int at_same_instant = 0;
  for (;;) {
    auto t = stack_.next_deadline();
    if (!t || *t > end) break;
    Instant step = std::max(*t, clock_.now());
    at_same_instant = step == last ? at_same_instant + 1 : 0;
    if (at_same_instant > kMaxPollsPerInstant) {
      fail("advance: a deadline at t=" + ms(step - Instant{}) +
           " is still due after 1000 polls (busy loop)");
    }
    last = step;
    clock_.set(step);
    poll();
  }
  clock_.set(end);
  poll();
}

Seen TcpHarness::next() {
  collect();
  if (out_.empty()) fail("expected a segment from the stack, but it sent nothing");
  Seen s = std::move(out_.front());
  out_.pop_front();
  return s;
}

std::string TcpHarness::describe(const SegMatch& m) {
  std::ostringstream want;
  want << flag_text(m.flags);
  if (m.seq) want << " seq=" << *m.seq;
  if (m.ack) want << " ack=" << *m.ack;
  if (m.window) want << " win=" << *m.window;
  if (m.payload) want << " payload=\"" << m.payload->substr(0, 40) << "\"";
  if (m.payload_len) want << " len=" << *m.payload_len;
  if (m.mss) want << " mss=" << *m.mss;
  if (m.window_scale) want << " ws=" << int{*m.window_scale};
  if (m.no_options) want << " no-options";
  if (m.has_ts) want << (*m.has_ts ? " ts" : " no-ts");
  if (m.tsecr) want << " tsecr=" << *m.tsecr;
  if (m.sack_permitted) want << (*m.sack_permitted ? " sackOK" : " no-sackOK");
  if (m.sack) {
    want << " sack=";
    if (m.sack->empty()) want << "none";
    for (std::size_t i = 0; i < m.sack->size(); ++i) {
      want << (i ? "," : "") << (*m.sack)[i].left << ":" << (*m.sack)[i].right;
    }
  }
  if (m.at) want << " at=" << ms(*m.at);
  return want.str();
}

std::vector<std::string> TcpHarness::mismatches(const SegMatch& m, const Seen& s) {
  std::vector<std::string> bad;
  auto num = [&](auto got, auto want, const char* what) {
    if (got != want) {
      bad.push_back(std::string(what) + " " + std::to_string(got) + ", want " +
                    std::to_string(want));
    }
  };
  if (s.tcp.flags != m.flags) {
    bad.push_back("flags " + flag_text(s.tcp.flags) + ", want " + flag_text(m.flags));
  }
  num(s.tcp.dst_port, m.dst_port, "dst port");
  if (m.seq) num(s.tcp.seq, *m.seq, "seq");
  if (m.ack) num(s.tcp.ack, *m.ack, "ack");
  if (m.window) num(s.tcp.window, *m.window, "win");
  if (m.payload && s.payload != *m.payload) bad.push_back("payload differs");
  if (m.payload_len) num(s.payload.size(), *m.payload_len, "payload length");
  if (m.mss && s.tcp.mss != m.mss) bad.push_back("MSS option differs");
  if (m.window_scale && s.tcp.window_scale != m.window_scale) {
    bad.push_back("window scale option differs");
  }
  if (m.no_options && (s.tcp.mss || s.tcp.window_scale)) bad.push_back("options present");
  if (m.has_ts && s.tcp.timestamps.has_value() != *m.has_ts) {
    bad.emplace_back(*m.has_ts ? "no Timestamps option" : "a Timestamps option");
  }
  if (m.tsecr) {
    if (!s.tcp.timestamps) {
      bad.emplace_back("no Timestamps option, want TSecr " + std::to_string(*m.tsecr));
    } else {
      num(s.tcp.timestamps->second, *m.tsecr, "TSecr");
    }
  }
  if (m.sack_permitted && s.tcp.sack_permitted != *m.sack_permitted) {
    bad.emplace_back(*m.sack_permitted ? "no SACK-Permitted" : "SACK-Permitted present");
  }
  if (m.sack) {
    std::vector<wire::SackBlock> got(
        s.tcp.sack.begin(),
        s.tcp.sack.begin() + std::min<std::size_t>(s.tcp.sack_count, s.tcp.sack.size()));
    if (got != *m.sack) bad.emplace_back("SACK blocks differ");
  }
  if (m.at && s.at != *m.at) bad.push_back("sent at " + ms(s.at) + ", want " + ms(*m.at));
  return bad;
}

Seen TcpHarness::expect(const SegMatch& m) {
  collect();
  std::string want = describe(m);
  log("expect " + want);
  if (out_.empty()) fail("expected " + want + ", but the stack sent nothing");
  Seen s = std::move(out_.front());
  out_.pop_front();
  auto bad = mismatches(m, s);
  if (!bad.empty()) {
    std::string why = "segment " + describe(s) + " does not match " + want + ":";
    for (const auto& b : bad) why += "\n  " + b;
    fail(why);
  }
  return s;
}

void TcpHarness::expect_nothing() {
  collect();
  log("expect nothing");
  if (!out_.empty()) fail("expected no segment, but the stack sent " + describe(out_.front()));
}

int TcpHarness::listen(std::uint16_t port, int backlog) {
  auto s = sockets().socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s);
  int one = 1;
  REQUIRE(sockets().setsockopt(*s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == Errno::Ok);
  REQUIRE(sockets().bind(*s, make_sockaddr(Ipv4Addr::any(), port)) == Errno::Ok);
  REQUIRE(sockets().listen(*s, backlog) == Errno::Ok);
  log("listen :" + std::to_string(port) + " backlog " + std::to_string(backlog) + " -> fd " +
      std::to_string(*s));
  fds_.push_back(*s);
  listener = *s;
  return *s;
}

int TcpHarness::connect(std::uint16_t local_port, std::uint16_t remote_port) {
  auto s = sockets().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(s);
  if (local_port != 0) {
    REQUIRE(sockets().bind(*s, make_sockaddr(Ipv4Addr::any(), local_port)) == Errno::Ok);
  }
  fds_.push_back(*s);
  Errno e = sockets().connect(*s, make_sockaddr(kRemoteIp, remote_port));
  log("connect fd " + std::to_string(*s) + " to :" + std::to_string(remote_port) + " -> " +
      std::string(to_string(e)));
  REQUIRE(e == Errno::InProgress);
  collect();
  return *s;
}

int TcpHarness::accept(int l, sockaddr_in* peer) {
  auto s = sockets().accept(l, peer);
  log("accept fd " + std::to_string(l) + " -> " +
      (s ? "fd " + std::to_string(*s) : std::string(to_string(s.error()))));
  if (!s) fail("accept failed: " + std::string(to_string(s.error())));
  fds_.push_back(*s);
  return *s;
}

Result<std::size_t> TcpHarness::write(int f, std::string_view data) {
  auto r = sockets().send(f, as_bytes(data), 0);
  log("send fd " + std::to_string(f) + " " + std::to_string(data.size()) + " octets -> " +
      (r ? std::to_string(*r) : std::string(to_string(r.error()))));
  collect();
  return r;
}

std::string TcpHarness::read(int f, std::size_t max) {
  std::string out(max, '\0');
  auto r = sockets().recv(f, MutBytes(reinterpret_cast<std::byte*>(out.data()), max), 0);  // NOLINT
  log("recv fd " + std::to_string(f) + " -> " +
      (r ? std::to_string(*r) + " octets" : std::string(to_string(r.error()))));
  collect();
  out.resize(r ? *r : 0);
  return out;
}

Errno TcpHarness::shutdown(int f, int how) {
  Errno e = sockets().shutdown(f, how);
  log("shutdown fd " + std::to_string(f) + " how " + std::to_string(how) + " -> " +
      std::string(to_string(e)));
  collect();
  return e;
}

Errno TcpHarness::close(int f) {
  Errno e = sockets().close(f);
  log("close fd " + std::to_string(f) + " -> " + std::string(to_string(e)));
  std::erase(fds_, f);
  collect();
  return e;
}

void TcpHarness::set_int(int f, int level, int name, int value) {
  Errno e = sockets().setsockopt(f, level, name, &value, sizeof value);
  log("setsockopt fd " + std::to_string(f) + " " + std::to_string(level) + "/" +
      std::to_string(name) + " = " + std::to_string(value) + " -> " + std::string(to_string(e)));
  REQUIRE(e == Errno::Ok);
  collect();
}

Errno TcpHarness::so_error(int f) {
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(sockets().getsockopt(f, SOL_SOCKET, SO_ERROR, &v, &len) == Errno::Ok);
  return static_cast<Errno>(v);
}

tcp::Connection& TcpHarness::conn(int f) {
  auto* e = stack_.impl().sockets.impl().get(f);
  if (!e || !e->conn) fail("fd " + std::to_string(f) + " has no TCP connection");
  return *e->conn;
}

tcp::TcpState TcpHarness::state_of_only_connection() {
  if (live_connections() != 1) {
    fail("expected exactly one live connection, found " + std::to_string(live_connections()));
  }
  tcp::TcpState st = tcp::TcpState::Closed;
  stack_.impl().tcp.for_each_connection([&](const tcp::Connection& c) { st = c.state(); });
  return st;
}

// ---- canonical states ----

int TcpHarness::syn_received() {
  listener = listen();
  send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = kPeerMss}));
  auto sa = expect({.flags = {.syn = true, .ack = true}, .ack = kPeerIss + 1, .mss = 1460});
  iss = sa.tcp.seq;
  return -1;
}

int TcpHarness::established_passive() {
  syn_received();
  send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = iss + 1}));
  expect_nothing();
  fd = accept(listener);
  return fd;
}

int TcpHarness::syn_sent() {
  fd = connect(kStackPort);
  auto syn = expect({.flags = {.syn = true}, .mss = 1460});
  iss = syn.tcp.seq;
  return fd;
}

int TcpHarness::established_active() {
  syn_sent();
  send(
      seg({.flags = {.syn = true, .ack = true}, .seq = kPeerIss, .ack = iss + 1, .mss = kPeerMss}));
  expect({.flags = {.ack = true}, .seq = iss + 1, .ack = kPeerIss + 1});
  return fd;
}

int TcpHarness::fin_wait_1() {
  established_passive();
  REQUIRE(shutdown(fd, SHUT_WR) == Errno::Ok);
  expect({.flags = {.fin = true, .ack = true}, .seq = iss + 1, .ack = kPeerIss + 1});
  return fd;
}

int TcpHarness::fin_wait_2() {
  fin_wait_1();
  send(seg({.flags = {.ack = true}, .seq = kPeerIss + 1, .ack = iss + 2}));
  expect_nothing();
  return fd;
}

int TcpHarness::close_wait() {
  established_passive();
  send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1, .ack = iss + 1}));
  // RFC 1122 §4.2.3.2: the ACK of the FIN is delayed, for the application's own FIN to
  // carry it; the application here does not close, so it goes when the timer runs out.
  expect_nothing();
  advance(stack_.config().tcp.delayed_ack);
  expect({.flags = {.ack = true}, .seq = iss + 1, .ack = kPeerIss + 2});
  return fd;
}

int TcpHarness::closing() {
  fin_wait_1();
  send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1, .ack = iss + 1}));
  expect({.flags = {.ack = true}, .seq = iss + 2, .ack = kPeerIss + 2});
  return fd;
}

int TcpHarness::last_ack() {
  close_wait();
  REQUIRE(shutdown(fd, SHUT_WR) == Errno::Ok);
  expect({.flags = {.fin = true, .ack = true}, .seq = iss + 1, .ack = kPeerIss + 2});
  return fd;
}

int TcpHarness::time_wait() {
  fin_wait_2();
  send(seg({.flags = {.fin = true, .ack = true}, .seq = kPeerIss + 1, .ack = iss + 2}));
  expect({.flags = {.ack = true}, .seq = iss + 2, .ack = kPeerIss + 2});
  return fd;
}

void TcpHarness::finish() {
  log("finish: close everything, let every timer run out");
  for (int f : std::vector<int>(fds_)) (void)close(f);
  fds_.clear();
  // Long enough for a full retransmission give-up (R2) and for TIME-WAIT.
  advance(std::chrono::minutes(40));
  out_.clear();
  finished_ = true;
  if (live_connections() != 0 || port_reservations() != 0) {
    fail("resources left after finish(): " + std::to_string(live_connections()) + " connections, " +
         std::to_string(port_reservations()) + " port reservations");
  }
}

}  // namespace tapir::test
