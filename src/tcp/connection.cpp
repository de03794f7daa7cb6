// TCP user calls, timers and state changes (RFC 9293 §3.10.1-§3.10.5, §3.10.8).
#include "tcp/connection.hpp"

#include <algorithm>
#include <cstring>

#include "util/log.hpp"

namespace tapir::tcp {

namespace {
RttConfig rtt_config(const TcpConfig& c) {
  return {.initial_rto = c.initial_rto, .min_rto = c.min_rto, .max_rto = c.max_rto};
}
// RFC 9293 §3.7.1 / RFC 879: the MSS we can receive is the MTU less 40 octets of headers.
std::uint16_t mss_for(std::size_t mtu) {
  return static_cast<std::uint16_t>(std::min<std::size_t>(mtu, 65535) - 40);
}
// A new congestion controller; `from`, when switching algorithms, gives cwnd and ssthresh
// (LINUX: tcp_reinit_congestion_control keeps both).
std::unique_ptr<CongestionControl> make_congestion(CongestionAlgorithm algo, std::uint32_t smss,
                                                   const CongestionControl* from) {
  std::uint64_t cwnd = 0;
  std::uint64_t ssthresh = kMaxAdvertisedWindow;
  if (from) {
    // RFC 5681 §3.2 step 6: a window inflated by fast recovery is deflated to ssthresh
    // when recovery ends, and the new algorithm starts outside recovery.
    cwnd = from->in_recovery() ? std::min(from->cwnd(), from->ssthresh()) : from->cwnd();
    ssthresh = from->ssthresh();
  }
  if (algo == CongestionAlgorithm::Cubic) {
    return std::make_unique<Cubic>(
        CubicConfig{.smss = smss, .initial_ssthresh = ssthresh, .initial_cwnd = cwnd});
  }
  return std::make_unique<NewReno>(
      NewRenoConfig{.smss = smss, .initial_ssthresh = ssthresh, .initial_cwnd = cwnd});
}
}  // namespace

Connection::Connection(const TcpConfig& cfg, TcpStats& stats, const FourTuple& id, std::size_t mtu,
                       std::size_t send_buffer, std::size_t recv_buffer)
    : cfg_(cfg),
      stats_(stats),
      id_(id),
      mtu_(mtu),
      sbuf_(send_buffer),
      rcv_(recv_buffer),
      rtt_(rtt_config(cfg)),
      cc_(make_congestion(cfg.congestion, 536, nullptr)),
      log_(log::get("tcp")) {
  opts_.keepalive_idle = cfg.keepalive_idle;
  opts_.keepalive_interval = cfg.keepalive_interval;
  opts_.keepalive_probes = cfg.keepalive_probes;
  // RFC 7323 §2.3: the shift we offer is the smallest that lets the largest buffer we may
  // be given fit in 16 bits of window.
  if (cfg.window_scaling) {
    while ((cfg.max_buffer >> neg_.rcv_shift) > 65535 && neg_.rcv_shift < 14) ++neg_.rcv_shift;
  }
}

void Connection::set_state(TcpState next) {
  // RFC 9293 §3.3.2 Figure 5 plus the §3.10 event text: every edge taken must be legal.
  TAPIR_ASSERT(is_legal_transition(state_, next), "illegal TCP state transition");
  TAPIR_LOG_DEBUG(&log_, "{}:{} <-> {}:{} {} -> {}", id_.local_addr.to_string(), id_.local_port,
                  id_.remote_addr.to_string(), id_.remote_port, to_string(state_), to_string(next));
  TcpState from = std::exchange(state_, next);
  if (in(next, kSynchronized) && !established_once_) {
    // A simultaneous open closed before its handshake ends goes SYN-RECEIVED -> FIN-WAIT-1
    // without passing ESTABLISHED; it was established all the same.
    established_once_ = true;
    ++stats_.established;
  }
  if (on_transition && *on_transition) (*on_transition)(id_, from, next);
}

void Connection::open_active(SeqNum iss, Instant now) {
  snd_.iss = iss;
  snd_.una = iss;
  snd_.nxt = iss;
  snd_.max = iss;
  last_rx_ = now;
  set_state(TcpState::SynSent);
  ++stats_.active_opens;
}

void Connection::open_passive(const wire::TcpRepr& syn, SeqNum iss, Instant now) {
  // RFC 9293 §3.10.7.2: RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ, ISS chosen, SND.NXT = ISS+1
  // once the SYN,ACK goes out; the listener stays in LISTEN.
  passive_ = true;
  state_ = TcpState::Listen;  // the child starts as a copy of its listener
  if (on_transition && *on_transition) (*on_transition)(id_, TcpState::Closed, state_);
  rcv_seq_.irs = SeqNum(syn.seq);
  rcv_seq_.nxt = rcv_seq_.irs + SeqLen(1);
  rcv_seq_.adv = rcv_seq_.nxt;
  snd_.iss = iss;
  snd_.una = iss;
  snd_.nxt = iss;
  snd_.max = iss;
  take_syn_options(syn, now);
  // RFC 9293 §3.10.7.2: the SYN's window is taken without scaling (RFC 7323 §2.2).
  snd_.wnd = syn.window;
  snd_.max_wnd = snd_.wnd;
  snd_.wl1 = SeqNum(syn.seq);
  snd_.wl2 = iss;
  last_rx_ = now;
  set_state(TcpState::SynReceived);
  ++stats_.passive_opens;
}

void Connection::take_syn_options(const wire::TcpRepr& syn, Instant now) {
  // RFC 7323 §3.2: timestamps are used once both SYNs carried the option (we answer a SYN
  // with one only if it had one, send_syn); "If a TSopt is received on a connection where
  // TSopt was not negotiated ... the TSopt MUST be ignored".
  neg_.timestamps = cfg_.timestamps && syn.timestamps.has_value();
  if (neg_.timestamps) {
    // RFC 7323 Appendix D (LISTEN, SYN-SENT): TS.Recent <- SEG.TSval of the SYN, and
    // Last.ACK.sent <- RCV.NXT, which our SYN,ACK or ACK acknowledges.
    ts_.recent = syn.timestamps->first;
    ts_.recent_at = now;
    ts_.last_ack_sent = rcv_seq_.nxt;
  }
  // RFC 2018 §2: SACK options may be sent once SACK-Permitted came in the peer's SYN and
  // (send_syn) went out in ours.
  neg_.sack = cfg_.sack && syn.sack_permitted;
  // RFC 9293 §3.7.1 (MUST-15): without an MSS option assume 536; never send more than the
  // peer's MSS nor more than our own MTU allows.
  neg_.peer_mss = syn.mss.value_or(536);
  neg_.smss = std::min<std::uint16_t>(neg_.peer_mss, mss_for(mtu_));
  if (neg_.smss < 64) neg_.smss = 64;  // RFC 9293 §3.7.1: guard against absurd MSS values
  // RFC 6691 §2 / RFC 9293 §3.7.1: the MSS counts data only; the 12 octets of timestamps
  // every segment carries come out of the data, so a full segment still fits the path.
  if (neg_.timestamps) neg_.smss = static_cast<std::uint16_t>(neg_.smss - kTimestampsSpace);
  // RFC 7323 §2.2: scaling is on only if both SYNs carry the option; shifts above 14 are
  // treated as 14 (§2.3).
  if (cfg_.window_scaling && syn.window_scale) {
    neg_.window_scaling = true;
    neg_.snd_shift = std::min<std::uint8_t>(*syn.window_scale, 14);
  } else {
    neg_.window_scaling = false;
    neg_.snd_shift = 0;
    neg_.rcv_shift = 0;
  }
  cc_ = make_congestion(opts_.congestion.value_or(cfg_.congestion), neg_.smss, nullptr);
}

Result<std::size_t> Connection::send(Bytes data) {
  if (error_ != Errno::Ok && state_ == TcpState::Closed) return take_error();
  switch (state_) {
    case TcpState::Closed:
    case TcpState::Listen:
      return Errno::NotConn;
    case TcpState::SynSent:
    case TcpState::SynReceived:
    case TcpState::Established:
    case TcpState::CloseWait:
      break;
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::Closing:
    case TcpState::LastAck:
    case TcpState::TimeWait:
      // RFC 9293 §3.10.2: "connection closing" once CLOSE was called: EPIPE as on Linux.
      return Errno::Pipe;
  }
  if (fin_queued_) return Errno::Pipe;
  std::size_t n = sbuf_.write(data);
  if (n == 0 && !data.empty()) return Errno::Again;
  return n;
}

Result<std::size_t> Connection::recv(MutBytes out, bool peek, bool discard) {
  auto& buf = rcv_.output();
  if (buf.empty()) {
    if (error_ != Errno::Ok) return take_error();
    if (fin_received_ || shut_rd_ || state_ == TcpState::Closed) return std::size_t{0};
    if (state_ == TcpState::Listen || (state_ == TcpState::SynSent && !established_once_)) {
      return state_ == TcpState::Listen ? Errno::NotConn : Errno::Again;
    }
    return Errno::Again;
  }
  std::size_t n;
  if (peek) {
    auto s = buf.peek(out.size());
    if (!discard) {
      std::memcpy(out.data(), s.first.data(), s.first.size());
      std::memcpy(out.data() + s.first.size(), s.second.data(), s.second.size());
    }
    n = s.size();
  } else {
    if (discard) {
      n = std::min(out.size(), buf.size());
      buf.consume(n);
    } else {
      n = buf.read(out);
    }
    // A window update the peer may soon need waits for the application's turn, whose reply
    // would carry it; reopening a zero window goes at once (the peer is stalled, probing).
    if (in(state_, kSynchronized) && window_update_urgent()) {
      (advertised_window() > 0 ? ack_soon_ : ack_now_) = true;
    }
  }
  return n;
}

Errno Connection::shutdown_write() {
  switch (state_) {
    case TcpState::Closed:
    case TcpState::Listen:
      return Errno::NotConn;
    case TcpState::SynSent:
      // RFC 9293 §3.10.4: CLOSE in SYN-SENT deletes the TCB.
      become_closed(Errno::Ok);
      return Errno::Ok;
    case TcpState::SynReceived:
    case TcpState::Established:
    case TcpState::CloseWait:
      break;
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::Closing:
    case TcpState::LastAck:
    case TcpState::TimeWait:
      return Errno::Ok;  // RFC 9293 §3.10.4: "connection closing" already
  }
  if (fin_queued_) return Errno::Ok;
  // RFC 9293 §3.10.4: queue the FIN behind the data already queued; the state moves to
  // FIN-WAIT-1 (or LAST-ACK from CLOSE-WAIT) when it is sent. SYN-RECEIVED waits for
  // ESTABLISHED before sending it.
  fin_queued_ = true;
  fin_offset_ = sbuf_.end();
  if (state_ == TcpState::Established)
    set_state(TcpState::FinWait1);
  else if (state_ == TcpState::CloseWait)
    set_state(TcpState::LastAck);
  return Errno::Ok;
}

void Connection::close(Instant now, Emit emit) {
  user_closed_ = true;
  if (!rcv_.output().empty()) {
    // RFC 1122 §4.2.2.13 (SHOULD) / RFC 2525 §2.17: closing with unread received data
    // resets the connection so the peer learns that data was lost (LINUX does the same).
    ++stats_.aborts_unread_data;
    abort(now, emit);
    return;
  }
  (void)shutdown_write();
  if (state_ == TcpState::FinWait2) {
    // LINUX (tcp_fin_timeout): an orphan waiting in FIN-WAIT-2 for a FIN that may never
    // come is dropped after the TIME-WAIT period.
    timers_.user_timeout.arm(now + cfg_.time_wait);
  }
  if (state_ != TcpState::Closed) dispatch(now, emit);
}

void Connection::abort(Instant now, Emit emit) {
  // RFC 9293 §3.10.5: in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-*, CLOSE-WAIT send a reset;
  // in other states just delete the TCB.
  if (in(state_, TcpState::SynReceived | TcpState::Established | TcpState::FinWait1 |
                     TcpState::FinWait2 | TcpState::CloseWait)) {
    send_rst(snd_.max, now, emit);
  }
  become_closed(Errno::Ok);
}

void Connection::become_closed(Errno why) {
  if (why != Errno::Ok) error_ = why;
  if (state_ != TcpState::Closed) set_state(TcpState::Closed);
  timers_.disarm_all();
  probing_ = false;
  ack_now_ = false;
  retransmit_pending_ = false;
  fin_received_ = fin_received_ || why != Errno::Ok;
}

void Connection::return_to_listen() {
  // RFC 9293 §3.10.7.4 second and fourth, SYN-RECEIVED from a passive OPEN: "return this
  // connection to LISTEN"; the listener keeps listening and forgets this child.
  set_state(TcpState::Listen);
  timers_.disarm_all();
  ack_now_ = false;
  back_to_listen_ = true;
}

void Connection::give_up(Errno why, Instant now, Emit emit) {
  // RFC 9293 §3.8.3 / RFC 1122 §4.2.3.5 (R2): close the connection and report the error;
  // a reset tells the peer, if it is still there, that this end is gone.
  // LINUX: a handshake never completed ends silently (SYN-SENT; an expired SYN-RECEIVED
  // request of a listener).
  if (state_ != TcpState::SynSent && !(state_ == TcpState::SynReceived && passive_)) {
    send_rst(snd_.max, now, emit);
  }
  become_closed(soft_error_ != Errno::Ok && why == Errno::TimedOut ? soft_error_ : why);
}

void Connection::enter_time_wait(Instant now) {
  set_state(TcpState::TimeWait);
  // RFC 9293 §3.10.7.4: start the time-wait timer, turn off the other timers.
  timers_.start_time_wait(now + cfg_.time_wait);
}

void Connection::set_options(const ConnOptions& o, Instant now) {
  bool was = opts_.keepalive;
  opts_ = o;
  if (opts_.keepalive_idle == Duration::zero()) opts_.keepalive_idle = cfg_.keepalive_idle;
  if (opts_.keepalive_interval == Duration::zero()) {
    opts_.keepalive_interval = cfg_.keepalive_interval;
  }
  if (opts_.keepalive_probes == 0) opts_.keepalive_probes = cfg_.keepalive_probes;
  const CongestionAlgorithm algo = opts_.congestion.value_or(cfg_.congestion);
  if (congestion_from_name(cc_->name()) != algo) cc_ = make_congestion(algo, neg_.smss, cc_.get());
  if (!opts_.keepalive) {
    timers_.keepalive.disarm();
  } else if (!was || !timers_.keepalive.armed()) {
    keepalive_sent_ = 0;
    arm_keepalive(now);
  }
}

void Connection::arm_keepalive(Instant now) {
  // RFC 1122 §4.2.3.6: probe after an idle interval, only on a connection that can still
  // exchange data (LINUX: ESTABLISHED, CLOSE-WAIT and FIN-WAIT-2 keep the timer).
  if (opts_.keepalive &&
      in(state_, TcpState::Established | TcpState::CloseWait | TcpState::FinWait2)) {
    timers_.keepalive.arm(now + opts_.keepalive_idle);
  }
}

void Connection::on_icmp_error(Errno err, bool hard, SeqNum seq, Instant now) {
  (void)now;
  // RFC 5927 §4.1: an ICMP error is believed only if it quotes a sequence number in flight.
  if (!seq.in_range(snd_.una, snd_.max + SeqLen(1))) return;
  // RFC 1122 §4.2.3.9: soft errors (net or host unreachable, ...) MUST NOT abort the
  // connection; LINUX: port and protocol unreachable during SYN-SENT refuse the connection.
  if (hard && state_ == TcpState::SynSent) {
    become_closed(err);
    return;
  }
  soft_error_ = err;
}

bool Connection::readable() const {
  return !rcv_.output().empty() || fin_received_ || shut_rd_ || error_ != Errno::Ok ||
         (state_ == TcpState::Closed && established_once_);
}

bool Connection::writable() const {
  bool can_send = in(state_, TcpState::Established | TcpState::CloseWait);
  return can_send && !fin_queued_ && sbuf_.free_space() > 0;
}

std::optional<Instant> Connection::next_deadline() const {
  // An ACK owed now (ack_now_) is due at once: the earliest possible Instant. The layer
  // sends it on its next poll and dispatch() clears the flag, so this never spins.
  if ((ack_now_ || ack_soon_) && state_ != TcpState::Closed) return Instant{};
  return timers_.next();
}

std::size_t Connection::memory_bytes() const {
  return sizeof(*this) + sbuf_.allocated_bytes() + rcv_.output().allocated_bytes();
}

void Connection::release_idle_buffers(Instant now) {
  if (!sbuf_.releasable() && !rcv_.releasable()) return;
  // TIME-WAIT and CLOSED never use the buffers again.
  if (buffer_releases_ < kBufferReleasesAtOnce ||
      in(state_, TcpState::TimeWait | TcpState::Closed)) {
    free_idle_buffers();
    return;
  }
  if (!timers_.buffer_release.armed()) {
    buffer_usage_mark_ = buffer_usage();
    timers_.buffer_release.arm(now + cfg_.buffer_release_delay);
  }
}

// Octets ever written to the send buffer and received in order: it changes whenever data
// moves through either buffer, so two equal readings a delay apart mean an idle delay.
std::uint64_t Connection::buffer_usage() const { return sbuf_.end() + rcv_seq_.nxt.raw(); }

void Connection::free_idle_buffers() {
  auto counted = [this] {
    ++stats_.buffers_released;
    if (buffer_releases_ < kBufferReleasesAtOnce) ++buffer_releases_;
  };
  if (sbuf_.releasable()) {
    sbuf_.release();
    counted();
  }
  if (rcv_.releasable()) {
    rcv_.release();
    counted();
  }
}

void Connection::on_timer(Instant now, Emit emit) {
  // TcpLayer::poll runs after the frames and after the application's last turn.
  if (ack_soon_) ack_now_ = true;
  for (auto due = timers_.next_due(now); due; due = timers_.next_due(now)) {
    timers_[*due].disarm();
    switch (*due) {
      case TimerKind::Retransmit:
        on_retransmit_timeout(now, emit);
        break;
      case TimerKind::Persist:
        send_probe(now, emit);
        break;
      case TimerKind::DelayedAck:
        ack_now_ = true;
        delayed_ack_fired_ = true;
        break;
      case TimerKind::Keepalive:
        on_keepalive_timeout(now, emit);
        break;
      case TimerKind::TimeWait:
        // RFC 9293 §3.10.8: time-wait timeout: delete the TCB.
        become_closed(Errno::Ok);
        return;
      case TimerKind::UserTimeout:
        // LINUX (tcp_fin_timeout): the orphan in FIN-WAIT-2 is dropped silently.
        become_closed(Errno::Ok);
        return;
      case TimerKind::BufferRelease:
        // Data moved since the timer was armed (it is not moved on every event, which
        // would cost a timer-queue update per segment): wait another delay.
        if (buffer_usage() != buffer_usage_mark_) {
          buffer_usage_mark_ = buffer_usage();
          timers_.buffer_release.arm(now + cfg_.buffer_release_delay);
        } else {
          free_idle_buffers();
        }
        break;
    }
    if (state_ == TcpState::Closed) return;
  }
}

void Connection::on_keepalive_timeout(Instant now, Emit emit) {
  // LINUX (tcp_keepalive_timer): data in flight or waiting is watched by the retransmission
  // and persist timers; keep-alive probes only an idle connection.
  if (snd_.una != snd_.max || sbuf_.end() > data_off(snd_.nxt)) {
    arm_keepalive(now);
    return;
  }
  // RFC 1122 §4.2.3.6: after `probes` unanswered probes the connection is dead.
  if (keepalive_sent_ >= opts_.keepalive_probes) {
    ++stats_.keepalive_timeouts;
    give_up(Errno::TimedOut, now, emit);
    return;
  }
  ++keepalive_sent_;
  ++stats_.keepalive_probes;
  // RFC 1122 §4.2.3.6: a probe carries SEG.SEQ = SND.NXT-1 and no data, so the peer must
  // answer it with an ACK (nothing is in flight: SND.NXT = SND.UNA).
  emit(OutSegment{header(snd_.una - SeqLen(1), true, now), 0, 0});
  on_ack_sent();
  timers_.keepalive.arm(now + opts_.keepalive_interval);
}

void Connection::on_retransmit_timeout(Instant now, Emit emit) {
  if (state_ == TcpState::Closed) return;
  std::uint32_t limit = in(state_, TcpState::SynSent | TcpState::SynReceived)
                            ? cfg_.max_syn_retransmits
                            : cfg_.max_retransmits;
  if (retransmits_ >= limit) {
    ++stats_.timeouts;
    give_up(Errno::TimedOut, now, emit);  // RFC 1122 §4.2.3.5 (R2): ETIMEDOUT
    return;
  }
  ++retransmits_;
  ++stats_.rto_expired;
  // RFC 6298 (5.5): back off the timer; (5.4) retransmit the earliest unacknowledged
  // segment; Karn (RFC 6298 §3): no RTT sample from it.
  rtt_.on_timeout();
  sampler_.on_retransmit();
  if (in(state_, TcpState::SynSent | TcpState::SynReceived)) {
    send_syn(state_ == TcpState::SynReceived, now, emit);
    return;
  }
  // RFC 5681 §3.1: the loss window; NewReno leaves fast recovery (RFC 6582 §3.2 step 5).
  cc_->on_rto(Flight{data_off(snd_.una), data_off(snd_.max)});
  if (neg_.sack) {
    // RFC 6675 §5.1 / RFC 2018 §8: the receiver may have reneged, so "the TCP sender SHOULD
    // expunge the SACK information", loss recovery ends, RecoveryPoint becomes HighData
    // and no new recovery starts before HighACK reaches it. SACK blocks that arrive from
    // now on still steer the go-back-N below (send_data_segment skips what they cover).
    sack_.clear();
    recovery_ = SackRecovery{.recovery_point = data_off(snd_.max)};
  }
  // Go back N: everything after SND.UNA is sent again as the window allows.
  snd_.nxt = snd_.una;
  limited_transmit_ = 0;
  retransmit_pending_ = false;
  retransmit_first(now, emit);
}

}  // namespace tapir::tcp
