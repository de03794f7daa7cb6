// TCP demultiplexing and LISTEN (RFC 9293 §3.10.7.1-§3.10.7.2; RFC 1122 §4.2.2.13).
#include "tcp/tcp_layer.hpp"

#include <algorithm>

#include "util/checksum.hpp"
#include "util/log.hpp"

namespace tapir::tcp {

TcpLayer::TcpLayer(ip::Ipv4Layer& ip, const TcpConfig& cfg, TcpStats& stats, Rng& rng)
    : ip_(ip), cfg_(cfg), stats_(stats), isn_(rng), log_(log::get("tcp")) {
  limiter_.per_second = cfg.challenge_ack_limit;
  limiter_.tokens = cfg.challenge_ack_limit;
}

void TcpLayer::send(const FourTuple& id, const OutSegment& s, const Connection* c, Instant now) {
  if (s.gso_mss != 0) {
    send_superframe(id, s, c, now);
    return;
  }
  wire::TcpRepr h = s.hdr;
  std::size_t hlen = h.header_len();
  // LINUX: TCP sets DF (RFC 1191 path MTU discovery); the MSS keeps segments in the MTU.
  ip::SendParams p{
      .dst = id.remote_addr, .proto = wire::IpProto::Tcp, .src = id.local_addr, .dont_frag = true};
  Errno err = ip_.send(
      p, hlen + s.payload_len,
      [&](MutBytes out, const wire::Ipv4Repr& ip) {
        if (s.payload_len && c) {
          auto dst = out.subspan(hlen, s.payload_len);
          c->copy_payload(s.payload_offset, dst);
          h.payload = dst;
        }
        h.emit(out, ip.src, ip.dst);
      },
      now);
  if (err == Errno::Ok) ++stats_.tx_segments;
}

void TcpLayer::send_superframe(const FourTuple& id, const OutSegment& s, const Connection* c,
                               Instant now) {
  TAPIR_ASSERT(c && s.payload_len > s.gso_mss, "a superframe carries a connection's data");
  const wire::TcpRepr& h = s.hdr;
  const std::size_t hlen = h.header_len();
  const std::size_t segments = (s.payload_len + s.gso_mss - 1) / s.gso_mss;
  ip::SendParams p{.dst = id.remote_addr,
                   .proto = wire::IpProto::Tcp,
                   .src = id.local_addr,
                   .dont_frag = true,
                   .tso = ip::TsoParams{.segment_size = s.gso_mss,
                                        .header_len = static_cast<std::uint16_t>(hlen),
                                        .csum_offset = wire::tcp_field::kChecksum.off,
                                        .segments = segments}};
  Errno err = ip_.send(
      p, hlen + s.payload_len,
      [&](MutBytes out, const wire::Ipv4Repr& ip) {
        c->copy_payload(s.payload_offset, out.subspan(hlen, s.payload_len));
        h.emit(out.first(hlen), ip.src, ip.dst);  // the header alone: its checksum is replaced
        // Device contract (include/tapir/device.hpp; LINUX __tcp_v4_send_check for a
        // CHECKSUM_PARTIAL skb): the field holds the folded pseudo-header sum over the whole
        // superframe's TCP length; the device completes it for each segment.
        Checksum pseudo;
        pseudo.add_pseudo_header(ip.src, ip.dst, static_cast<std::uint8_t>(wire::IpProto::Tcp),
                                 static_cast<std::uint16_t>(out.size()));
        store_be16(out, wire::tcp_field::kChecksum.off,
                   static_cast<std::uint16_t>(~pseudo.finish()));
      },
      now);
  if (err == Errno::Ok) {
    stats_.tx_segments += segments;
    ++stats_.tso_superframes;
    stats_.tso_segments += segments;
  }
  if (err != Errno::OpNotSupp) return;
  // The device cannot take it now (no ARP entry yet, offload gone): the same segments one
  // by one, as the device would have cut them (LINUX tcp_gso_segment: FIN and PSH only on
  // the last, CWR only on the first).
  ++stats_.tso_fallbacks;
  for (std::size_t off = 0; off < s.payload_len; off += s.gso_mss) {
    OutSegment one = s;
    one.gso_mss = 0;
    one.payload_offset = s.payload_offset + off;
    one.payload_len = std::min<std::size_t>(s.gso_mss, s.payload_len - off);
    one.hdr.seq = h.seq + static_cast<std::uint32_t>(off);
    const bool last = off + one.payload_len == s.payload_len;
    one.hdr.flags.fin = h.flags.fin && last;
    one.hdr.flags.psh = h.flags.psh && last;
    one.hdr.flags.cwr = h.flags.cwr && off == 0;
    send(id, one, c, now);
  }
}

void TcpLayer::on_datagram(const ip::Datagram& d, Instant now) {
  ++stats_.rx_segments;
  auto view = wire::TcpView::checked(d.payload);
  if (!view) {
    // Shorter than the fixed header is truncation; a data offset below 5 words or past the
    // segment's end is a bad offset (RFC 9293 §3.1).
    ++(d.payload.size() < wire::TcpView::kMinHeaderLen ? stats_.rx_drop_truncated
                                                       : stats_.rx_drop_bad_offset);
    TAPIR_LOG_DEBUG(&log_, "drop {} from {}", wire::to_string(view.error()), d.ip.src.to_string());
    return;
  }
  // RFC 9293 §3.1 (MUST-2, MUST-3): the checksum is always checked, here or by the device
  // (an offloading TAP hands over checksum-partial or already verified frames).
  auto seg =
      wire::TcpRepr::parse(*view, d.ip.src, d.ip.dst,
                           d.transport_checksum_verified_by_device ? wire::ChecksumMode::Ignore
                                                                   : wire::ChecksumMode::Verify);
  if (!seg) {
    switch (seg.error()) {
      case wire::ParseError::BadChecksum:
        ++stats_.rx_drop_bad_checksum;
        break;
      case wire::ParseError::BadOption:
        ++stats_.rx_drop_bad_option;
        break;
      case wire::ParseError::BadFlags:
        ++stats_.rx_drop_bad_flags;
        break;
      default:
        ++stats_.rx_drop_bad_offset;
        break;
    }
    TAPIR_LOG_DEBUG(&log_, "drop {} from {}", wire::to_string(seg.error()), d.ip.src.to_string());
    return;
  }
  // RFC 1122 §4.2.3.10: a SYN (or anything) to a broadcast or multicast address is
  // silently discarded: TCP is point to point.
  if (d.to_group() || d.link_multicast) {
    ++stats_.rx_drop_broadcast;
    return;
  }
  FourTuple id{d.ip.dst, seg->dst_port, d.ip.src, seg->src_port};
  if (auto conn = find(id)) {  // a reference of our own keeps it alive through processing
    if (reopen_time_wait(conn, *seg, now)) return;
    auto emit = [&](const OutSegment& s) { send(id, s, conn.get(), now); };
    conn->on_segment(*seg, now, emit);
    conn->dispatch(now, emit);
    after(*conn, now);
    return;
  }
  if (Listener* l = find_listener(id.local_addr, id.local_port)) {
    on_listen_segment(*l, id, *seg, now);
    return;
  }
  // RFC 9293 §3.10.7.1: CLOSED. Everything but a RST gets a RST.
  ++stats_.rx_no_socket;
  reply_reset(id, *seg, now);
}

bool TcpLayer::reopen_time_wait(const std::shared_ptr<Connection>& conn, const wire::TcpRepr& seg,
                                Instant now) {
  // RFC 1122 §4.2.2.13 (RFC 9293 §3.6.1): a new SYN may reopen a connection in TIME-WAIT if
  // its sequence number is above everything the old incarnation used, and the new
  // incarnation's ISS is above the old SND.NXT.
  if (conn->state() != TcpState::TimeWait || !seg.flags.syn || seg.flags.ack || seg.flags.rst ||
      !SeqNum(seg.seq).after(conn->rcv().nxt)) {
    return false;
  }
  Listener* l = find_listener(conn->id().local_addr, conn->id().local_port);
  if (!l) return false;
  ++stats_.time_wait_reopens;
  const FourTuple id = conn->id();
  // LINUX (tcp_timewait_state_process): the new ISS is the old SND.NXT + 65535 + 2 when
  // the clock-driven ISN would not be above it.
  SeqNum floor = conn->snd().max + SeqLen(65535 + 2);
  // The old incarnation leaves TIME-WAIT for CLOSED (RFC 9293 §3.10.5: no RST from there).
  conn->abort(now, [](const OutSegment&) {});
  after(*conn, now);
  on_listen_segment(*l, id, seg, now, floor);
  return true;
}

void TcpLayer::reply_reset(const FourTuple& id, const wire::TcpRepr& seg, Instant now) {
  if (seg.flags.rst) return;  // "An incoming segment containing a RST is discarded."
  OutSegment r;
  r.hdr.src_port = id.local_port;
  r.hdr.dst_port = id.remote_port;
  r.hdr.flags.rst = true;
  if (seg.flags.ack) {
    // "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>"
    r.hdr.seq = seg.ack;
  } else {
    // "If the ACK bit is off, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>"
    std::uint32_t len = static_cast<std::uint32_t>(seg.payload.size()) + (seg.flags.syn ? 1 : 0) +
                        (seg.flags.fin ? 1 : 0);
    r.hdr.seq = 0;
    r.hdr.ack = seg.seq + len;
    r.hdr.flags.ack = true;
  }
  ++stats_.tx_resets;
  send(id, r, nullptr, now);
}

Listener* TcpLayer::find_listener(Ipv4Addr addr, std::uint16_t port) {
  // Most specific first: a listener on this address, then one on the wildcard.
  auto it = listeners_.find({addr.value, port});
  if (it == listeners_.end()) it = listeners_.find({0, port});
  return it == listeners_.end() ? nullptr : it->second.get();
}

std::shared_ptr<Connection> TcpLayer::make_connection(const FourTuple& id, std::size_t sndbuf,
                                                      std::size_t rcvbuf) {
  auto c = std::make_shared<Connection>(cfg_, stats_, id, ip_.mtu(), sndbuf, rcvbuf);
  c->set_tso_limit(ip_.max_tso_datagram());
  c->limiter = &limiter_;
  c->on_transition = &hook_;
  // RFC 7323 §5.4: the timestamp clock offset comes from the same secret as the ISN.
  c->set_ts_offset(isn_.ts_offset(id.local_addr, id.local_port, id.remote_addr, id.remote_port));
  return c;
}

// RFC 9293 §3.10.7.2: LISTEN.
void TcpLayer::on_listen_segment(Listener& l, const FourTuple& id, const wire::TcpRepr& seg,
                                 Instant now, std::optional<SeqNum> min_iss) {
  // First, "An incoming RST should be ignored".
  if (seg.flags.rst) return;
  // Second, "Any acknowledgment is bad if it arrives on a connection still in the LISTEN
  // state. An acceptable reset segment should be formed ... <SEQ=SEG.ACK><CTL=RST>".
  if (seg.flags.ack) {
    reply_reset(id, seg, now);
    return;
  }
  // Third, a SYN starts a handshake; "Fourth, other data or control ... drop the segment".
  if (!seg.flags.syn) {
    ++stats_.rx_drop_no_ack;
    return;
  }
  // LINUX: when the accept queue is full, SYNs are dropped (the peer retries), and the
  // SYN-RECEIVED table is bounded separately.
  if (l.accept_queue.size() >= l.backlog) {
    ++stats_.listen_overflows;
    SPDLOG_LOGGER_WARN(&log_, "listen :{}: accept queue full ({}), SYN dropped", l.port, l.backlog);
    return;
  }
  if (l.syn_received.size() >= cfg_.max_syn_backlog) {
    ++stats_.listen_syn_drops;
    SPDLOG_LOGGER_WARN(&log_, "listen :{}: SYN-RECEIVED table full, SYN dropped", l.port);
    return;
  }
  auto child = make_connection(id, cfg_.send_buffer, cfg_.recv_buffer);
  child->listener = &l;
  // RFC 6528: ISN = M + F(4-tuple, secret).
  SeqNum iss = isn_.isn(id.local_addr, id.local_port, id.remote_addr, id.remote_port, now);
  if (min_iss && iss.before(*min_iss)) iss = *min_iss;
  child->open_passive(seg, iss, now);
  insert(child);
  l.syn_received.push_back(child);
  auto emit = [&](const OutSegment& s) { send(id, s, child.get(), now); };
  // Data on the SYN is not queued before ESTABLISHED (RFC 9293 §3.10.7.2 allows it; the
  // peer retransmits it): only the SYN,ACK goes out.
  child->dispatch(now, emit);
  reschedule(*child);
}

void TcpLayer::after(Connection& c, Instant now) {
  c.release_idle_buffers(now);
  auto* l = static_cast<Listener*>(c.listener);
  if (l && in(c.state(), kSynchronized)) {
    // The handshake completed: move the child to the accept queue.
    auto it = std::find_if(l->syn_received.begin(), l->syn_received.end(),
                           [&](const auto& p) { return p.get() == &c; });
    if (it != l->syn_received.end()) {
      l->accept_queue.push_back(*it);
      l->syn_received.erase(it);
      if (listener_events_) listener_events_(*l);
    }
  }
  if (c.state() == TcpState::TimeWait && events_) events_(c, ConnEvent::TimeWait);
  if (c.gone()) {
    auto keep = find(c.id());  // the table may hold the last reference
    if (l) {
      std::erase_if(l->syn_received, [&](const auto& p) { return p.get() == &c; });
      std::erase_if(l->accept_queue, [&](const auto& p) { return p.get() == &c && c.owner < 0; });
    }
    forget(c);
    if (events_) events_(c, ConnEvent::Gone);
    return;
  }
  reschedule(c);
  if (events_) events_(c, ConnEvent::Changed);
}

std::shared_ptr<Connection> TcpLayer::connect(const FourTuple& id, std::size_t sndbuf,
                                              std::size_t rcvbuf, const ConnOptions& opts,
                                              Instant now) {
  auto c = make_connection(id, sndbuf, rcvbuf);
  c->set_options(opts, now);
  c->open_active(isn_.isn(id.local_addr, id.local_port, id.remote_addr, id.remote_port, now), now);
  insert(c);
  auto emit = [&](const OutSegment& s) { send(id, s, c.get(), now); };
  c->dispatch(now, emit);
  reschedule(*c);
  return c;
}

Listener* TcpLayer::listen(Ipv4Addr addr, std::uint16_t port, std::size_t backlog, int owner) {
  auto l = std::make_unique<Listener>();
  l->addr = addr;
  l->port = port;
  l->backlog = backlog;
  l->owner = owner;
  auto* raw = l.get();
  listeners_[{addr.value, port}] = std::move(l);
  return raw;
}

void TcpLayer::unlisten(Listener* l, Instant now) {
  auto it = listeners_.find({l->addr.value, l->port});
  if (it == listeners_.end() || it->second.get() != l) return;
  std::vector<std::shared_ptr<Connection>> children(l->syn_received.begin(), l->syn_received.end());
  children.insert(children.end(), l->accept_queue.begin(), l->accept_queue.end());
  for (auto& c : children) {
    c->listener = nullptr;
    auto id = c->id();
    auto emit = [&](const OutSegment& s) { send(id, s, c.get(), now); };
    c->abort(now, emit);
    forget(*c);
  }
  listeners_.erase(it);
}

std::shared_ptr<Connection> TcpLayer::accept(Listener& l) {
  while (!l.accept_queue.empty()) {
    auto c = l.accept_queue.front();
    l.accept_queue.pop_front();
    c->listener = nullptr;
    return c;  // even if it has since closed: accept() returns it, as on Linux
  }
  return nullptr;
}

void TcpLayer::kick(Connection& c, Instant now) {
  if (c.gone()) return;
  auto id = c.id();
  auto emit = [&](const OutSegment& s) { send(id, s, &c, now); };
  c.dispatch(now, emit);
  after(c, now);
}

void TcpLayer::close(Connection& c, bool abort, Instant now) {
  auto id = c.id();
  auto emit = [&](const OutSegment& s) { send(id, s, &c, now); };
  if (abort) {
    c.abort(now, emit);
  } else {
    c.close(now, emit);
  }
  after(c, now);
}

void TcpLayer::on_icmp_error(const ip::IcmpError& err, Instant now) {
  if (err.inner_payload.size() < 8) return;
  FourTuple id{err.inner.src, load_be16(err.inner_payload, 0), err.inner.dst,
               load_be16(err.inner_payload, 2)};
  auto c = find(id);
  if (!c) return;
  // RFC 1122 §4.2.3.9: destination unreachable codes 0, 1 and 5 (net, host, source route)
  // are soft errors: report, keep trying. Codes 2 and 3 (protocol, port) are hard; as RFC
  // 5461 §2.1 describes of deployed stacks (Linux), they abort only a connection still in
  // SYN-SENT. RFC 5461's optional abort on soft errors is not done. Fragmentation needed
  // (4) belongs to path MTU discovery, which tapir does not implement.
  if (err.type != wire::icmp_type::kDestUnreachable) return;
  Errno e;
  bool hard = false;
  switch (err.code) {
    case wire::icmp_unreach::kPort:
      e = Errno::ConnRefused;
      hard = true;
      break;
    case wire::icmp_unreach::kProtocol:
      e = Errno::NoProtoOpt;  // LINUX: icmp_err_convert
      hard = true;
      break;
    case wire::icmp_unreach::kNet:
      e = Errno::NetUnreach;
      break;
    case wire::icmp_unreach::kHost:
      e = Errno::HostUnreach;
      // LINUX: when the error is our own (ARP gave up on the next hop, src/ip: on_unresolved),
      // a connect() in progress fails with EHOSTUNREACH instead of retrying SYNs into the void.
      hard = err.reporter == err.inner.src;
      break;
    default:
      return;
  }
  c->on_icmp_error(e, hard, SeqNum(load_be32(err.inner_payload, 4)), now);
  after(*c, now);
}

namespace {
// What the queue holds for a connection: a connection that is gone keeps no timers.
std::optional<Instant> deadline_of(const Connection& c) {
  return c.gone() ? std::nullopt : c.next_deadline();
}
}  // namespace

void TcpLayer::insert(const std::shared_ptr<Connection>& c) {
  if (auto old = find(c->id())) forget(*old);
  const TimerQueue::Handle h = timers_.acquire();
  if (h >= slots_.size()) slots_.resize(h + 1);
  slots_[h] = c;
  index_.emplace(c->id(), h);
}

std::shared_ptr<Connection> TcpLayer::find(const FourTuple& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : slots_[it->second];
}

void TcpLayer::forget(const Connection& c) {
  auto it = index_.find(c.id());
  if (it == index_.end() || slots_[it->second].get() != &c) return;
  timers_.release(it->second);
  slots_[it->second].reset();
  index_.erase(it);
}

void TcpLayer::reschedule(Connection& c) {
  auto it = index_.find(c.id());
  // A connection no longer in the table (gone, its socket not yet closed) has no timers.
  if (it == index_.end() || slots_[it->second].get() != &c) return;
  timers_.schedule(it->second, deadline_of(c));
}

void TcpLayer::poll(Instant now) {
  // Only the connections whose deadline has come, earliest first; each runs once per poll,
  // and after() files its next deadline (one still due waits for the next poll).
  due_.clear();
  timers_.take_due(now, due_);
  firing_.clear();
  for (auto h : due_) firing_.push_back(slots_[h]);
  for (auto& c : firing_) {
    auto id = c->id();
    auto emit = [&](const OutSegment& s) { send(id, s, c.get(), now); };
    c->on_timer(now, emit);
    if (!c->gone()) c->dispatch(now, emit);
    after(*c, now);
  }
  firing_.clear();
}

std::optional<Instant> TcpLayer::next_deadline() const {
#if defined(TAPIR_ENABLE_ASSERTS)
  // A change of a connection's timers that never reached the queue would be a timer that
  // never fires: Debug and sanitizer builds compare the queue with a scan of every
  // connection (O(n), so only there).
  std::optional<Instant> scan;
  for (const auto& c : slots_) {
    if (c) scan = earliest(scan, deadline_of(*c));
  }
  TAPIR_ASSERT(scan == timers_.next(), "a connection's deadline changed without reschedule()");
#endif
  return timers_.next();
}

}  // namespace tapir::tcp
