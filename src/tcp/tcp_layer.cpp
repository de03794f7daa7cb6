// TCP demultiplexing and LISTEN (RFC 9293 §3.10.7.1-§3.10.7.2; RFC 1122 §4.2.2.13).
#include "tcp/tcp_layer.hpp"

#include <algorithm>

#include "util/log.hpp"

namespace tapir::tcp {

TcpLayer::TcpLayer(ip::Ipv4Layer& ip, const TcpConfig& cfg, TcpStats& stats, Rng& rng)
    : ip_(ip), cfg_(cfg), stats_(stats), isn_(rng), log_(log::get("tcp")) {
  limiter_.per_second = cfg.challenge_ack_limit;
  limiter_.tokens = cfg.challenge_ack_limit;
}

void TcpLayer::send(const FourTuple& id, const OutSegment& s, const Connection* c, Instant now) {
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

void TcpLayer::on_datagram(const ip::Datagram& d, Instant now) {
  ++stats_.rx_segments;
  auto view = wire::TcpView::checked(d.payload);
  if (!view) {
    ++(view.error() == wire::ParseError::Truncated ? stats_.rx_drop_truncated
                                                   : stats_.rx_drop_bad_offset);
    return;
  }
  auto seg = wire::TcpRepr::parse(*view, d.ip.src, d.ip.dst);
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
    SPDLOG_LOGGER_DEBUG(&log_, "drop {} from {}", wire::to_string(seg.error()),
                        d.ip.src.to_string());
    return;
  }
  // RFC 1122 §4.2.3.10: a SYN (or anything) to a broadcast or multicast address is
  // silently discarded: TCP is point to point.
  if (d.to_group() || d.link_multicast) {
    ++stats_.rx_drop_broadcast;
    return;
  }
  FourTuple id{d.ip.dst, seg->dst_port, d.ip.src, seg->src_port};
  auto it = conns_.find(id);
  if (it != conns_.end()) {
    auto conn = it->second;  // keep it alive through processing
    // RFC 1122 §4.2.2.13: a new SYN may reopen a connection in TIME-WAIT if its sequence
    // number is above everything the old incarnation used.
    if (conn->state() == TcpState::TimeWait && seg->flags.syn && !seg->flags.ack &&
        SeqNum(seg->seq).after(conn->rcv().nxt)) {
      if (Listener* l = find_listener(id.local_addr, id.local_port)) {
        ++stats_.time_wait_reopens;
        conns_.erase(it);
        if (events_) events_(*conn, ConnEvent::Gone);
        on_listen_segment(*l, id, *seg, now);
        return;
      }
    }
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

// RFC 9293 §3.10.7.2: LISTEN.
void TcpLayer::on_listen_segment(Listener& l, const FourTuple& id, const wire::TcpRepr& seg,
                                 Instant now) {
  // First, an incoming RST is ignored.
  if (seg.flags.rst) return;
  // Second, any ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>.
  if (seg.flags.ack) {
    reply_reset(id, seg, now);
    return;
  }
  // Third, a SYN starts a handshake; anything else is dropped.
  if (!seg.flags.syn) return;
  // LINUX: when the accept queue is full, SYNs are dropped (the peer retries), and the
  // SYN-RECEIVED table is bounded separately.
  if (l.accept_queue.size() >= l.backlog) {
    ++stats_.listen_overflows;
    return;
  }
  if (l.syn_received.size() >= cfg_.max_syn_backlog) {
    ++stats_.listen_syn_drops;
    return;
  }
  auto child =
      std::make_shared<Connection>(cfg_, stats_, id, ip_.mtu(), cfg_.send_buffer, cfg_.recv_buffer);
  child->listener = &l;
  child->limiter = &limiter_;
  // RFC 6528: ISN = M + F(4-tuple, secret).
  child->open_passive(
      seg, isn_.isn(id.local_addr, id.local_port, id.remote_addr, id.remote_port, now), now);
  conns_[id] = child;
  l.syn_received.push_back(child);
  auto emit = [&](const OutSegment& s) { send(id, s, child.get(), now); };
  // Data on the SYN is not queued before ESTABLISHED (RFC 9293 allows dropping it; the
  // peer retransmits it): only the SYN,ACK goes out.
  child->dispatch(now, emit);
}

void TcpLayer::after(Connection& c, Instant now) {
  (void)now;
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
    auto id = c.id();
    auto keep = conns_.contains(id) ? conns_[id] : nullptr;
    if (l) {
      std::erase_if(l->syn_received, [&](const auto& p) { return p.get() == &c; });
      std::erase_if(l->accept_queue, [&](const auto& p) { return p.get() == &c && c.owner < 0; });
    }
    conns_.erase(id);
    if (events_) events_(c, ConnEvent::Gone);
    return;
  }
  if (events_) events_(c, ConnEvent::Changed);
}

std::shared_ptr<Connection> TcpLayer::connect(const FourTuple& id, std::size_t sndbuf,
                                              std::size_t rcvbuf, const ConnOptions& opts,
                                              Instant now) {
  auto c = std::make_shared<Connection>(cfg_, stats_, id, ip_.mtu(), sndbuf, rcvbuf);
  c->options() = opts;
  c->limiter = &limiter_;
  c->open_active(isn_.isn(id.local_addr, id.local_port, id.remote_addr, id.remote_port, now), now);
  conns_[id] = c;
  auto emit = [&](const OutSegment& s) { send(id, s, c.get(), now); };
  c->dispatch(now, emit);
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
    conns_.erase(id);
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
  (void)now;
  if (err.inner_payload.size() < 8) return;
  FourTuple id{err.inner.src, load_be16(err.inner_payload, 0), err.inner.dst,
               load_be16(err.inner_payload, 2)};
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  // RFC 1122 §4.2.3.9: destination unreachable codes 0, 1, 5 are soft errors (report,
  // keep trying); 2-4 (protocol, port, fragmentation needed with DF) are hard, but
  // RFC 5461 and Linux treat them as soft for an established connection. tapir records
  // them; a connection in SYN-SENT is refused by a port or protocol unreachable.
  auto& c = *it->second;
  if (err.type == wire::icmp_type::kDestUnreachable && c.state() == TcpState::SynSent &&
      (err.code == wire::icmp_unreach::kPort || err.code == wire::icmp_unreach::kProtocol)) {
    auto emit = [&](const OutSegment&) {};
    c.abort(now, emit);
    after(c, now);
  }
}

void TcpLayer::poll(Instant now) {
  // DEVIATION: a scan of every connection (O(n)); see docs/conformance.md.
  std::vector<std::shared_ptr<Connection>> due;
  for (auto& [_, c] : conns_) {
    auto t = c->next_deadline();
    if (t && *t <= now) due.push_back(c);
  }
  for (auto& c : due) {
    auto id = c->id();
    auto emit = [&](const OutSegment& s) { send(id, s, c.get(), now); };
    c->on_timer(now, emit);
    if (!c->gone()) c->dispatch(now, emit);
    after(*c, now);
  }
}

std::optional<Instant> TcpLayer::next_deadline() const {
  std::optional<Instant> t;
  for (const auto& [_, c] : conns_) t = earliest(t, c->next_deadline());
  return t;
}

}  // namespace tapir::tcp
