// TCP segment arrival, in the order of RFC 9293 §3.10.7 "SEGMENT ARRIVES", one function
// per step. Read first: RFC 9293 §3.10.7, RFC 5961 §3-§5, RFC 5681 §3.2, RFC 6298 §5.
//
// CLOSED (§3.10.7.1) and LISTEN (§3.10.7.2) have no connection and live in tcp_layer.cpp
// and listener.cpp. This file starts at SYN-SENT (§3.10.7.3), then runs the synchronized
// states' checks: sequence (first), RST (second), SYN (fourth), ACK (fifth), text
// (seventh), FIN (eighth). The third (security) and sixth (URG) checks are not
// implemented: see docs/conformance.md.
#include <algorithm>

#include "tcp/connection.hpp"
#include "util/log.hpp"

namespace tapir::tcp {

namespace {
std::uint32_t seg_len(const wire::TcpRepr& s) {
  // RFC 9293 §3.4: SEG.LEN counts the data octets plus one for SYN and one for FIN.
  return static_cast<std::uint32_t>(s.payload.size()) + (s.flags.syn ? 1 : 0) +
         (s.flags.fin ? 1 : 0);
}
}  // namespace

void Connection::on_segment(const wire::TcpRepr& seg, Instant now, Emit emit) {
  last_rx_ = now;
  keepalive_sent_ = 0;
  if (opts_.keepalive && state_ != TcpState::SynSent)
    timers_.keepalive.arm(now + opts_.keepalive_idle);
  if (state_ == TcpState::SynSent) {
    on_segment_syn_sent(seg, now, emit);
    return;
  }
  if (check_sequence(seg, now, emit) == Next::Drop) return;
  if (check_rst(seg, now, emit) == Next::Drop) return;
  if (check_syn(seg, now, emit) == Next::Drop) return;
  if (process_ack(seg, now, emit) == Next::Drop) return;
  process_text(seg, now, emit);
  if (state_ == TcpState::Closed) return;
  if (seg.flags.fin || rcv_.fin_offset()) process_fin(now);
}

// RFC 9293 §3.10.7.3: SYN-SENT.
void Connection::on_segment_syn_sent(const wire::TcpRepr& seg, Instant now, Emit emit) {
  SeqNum ack(seg.ack);
  // First, check the ACK bit: an ACK for something we never sent gets a reset.
  if (seg.flags.ack && (ack.before_eq(snd_.iss) || ack.after(snd_.nxt))) {
    if (!seg.flags.rst) {
      send_rst(ack, emit);
    }
    return;
  }
  bool ack_ok = seg.flags.ack && snd_.una.before_eq(ack) && ack.before_eq(snd_.nxt);
  // Second, the RST bit: with an acceptable ACK the peer refused us (ECONNREFUSED);
  // without an ACK the RST is dropped (RFC 5961 §3: it cannot be trusted).
  if (seg.flags.rst) {
    if (ack_ok) {
      ++stats_.rx_resets;
      become_closed(Errno::ConnRefused);
    }
    return;
  }
  // Fourth, the SYN bit.
  if (!seg.flags.syn) return;
  rcv_seq_.irs = SeqNum(seg.seq);
  rcv_seq_.nxt = rcv_seq_.irs + SeqLen(1);
  rcv_seq_.adv = rcv_seq_.nxt;
  take_syn_options(seg);
  if (ack_ok) {
    snd_.una = ack;
    // RFC 6298 (2.2): the SYN's round trip is a first sample unless it was retransmitted.
    if (retransmits_ == 0) {
      if (auto r = sampler_.on_ack(0, now)) rtt_.on_sample(*r);
    } else {
      rtt_.on_established_after_syn_timeout();  // RFC 6298 (5.7)
    }
    retransmits_ = 0;
    timers_.retransmit.disarm();
    // The SYN,ACK's window is not scaled (RFC 7323 §2.2).
    snd_.wnd = seg.window;
    snd_.max_wnd = snd_.wnd;
    snd_.wl1 = SeqNum(seg.seq);
    snd_.wl2 = ack;
    set_state(TcpState::Established);
    ack_now_ = true;
    // Data or a FIN may ride on the SYN,ACK: continue at the sixth step.
    if (!seg.payload.empty() || seg.flags.fin) {
      wire::TcpRepr rest = seg;
      rest.flags.syn = false;
      rest.seq = seg.seq + 1;
      process_text(rest, now, emit);
      if (rest.flags.fin || rcv_.fin_offset()) process_fin(now);
    }
    return;
  }
  // Simultaneous open (RFC 9293 §3.5 Figure 8): SYN without ACK -> SYN-RECEIVED, and
  // send SYN,ACK with our original ISS.
  snd_.wnd = seg.window;
  snd_.max_wnd = snd_.wnd;
  snd_.wl1 = SeqNum(seg.seq);
  set_state(TcpState::SynReceived);
  snd_.nxt = snd_.iss;
  send_syn(true, now, emit);
}

// RFC 9293 §3.10.7.4 first: the segment acceptability test, then trimming to the window.
Connection::Next Connection::check_sequence(const wire::TcpRepr& seg, Instant now, Emit emit) {
  (void)now;
  SeqNum seq(seg.seq);
  std::uint32_t len = seg_len(seg);
  std::uint32_t wnd = static_cast<std::uint32_t>((rcv_seq_.adv - rcv_seq_.nxt).value);
  // LINUX: a window of zero still accepts a segment at exactly RCV.NXT so its ACK and
  // window update are processed (RFC 9293's table, case "0 / >0": not acceptable but
  // "special allowance should be made to accept valid ACKs, URGs, and RSTs").
  bool ok;
  if (len == 0) {
    ok = wnd == 0 ? seq == rcv_seq_.nxt : seq.in_window(rcv_seq_.nxt, SeqLen(wnd));
  } else if (wnd == 0) {
    ok = false;
  } else {
    SeqNum last = seq + SeqLen(len - 1);
    ok = seq.in_window(rcv_seq_.nxt, SeqLen(wnd)) || last.in_window(rcv_seq_.nxt, SeqLen(wnd));
  }
  if (state_ == TcpState::SynReceived && seq == rcv_seq_.nxt) ok = true;
  if (ok) return Next::Continue;
  if (wnd == 0 && len > 0 && seq == rcv_seq_.nxt && seg.flags.ack) {
    // RFC 9293 §3.8.6.1: a zero-window probe: process its ACK, drop its data, answer.
    ++stats_.rx_drop_unacceptable;
    wire::TcpRepr ack_only = seg;
    ack_only.payload = {};
    ack_only.flags.fin = false;
    ack_only.flags.syn = false;
    if (!seg.flags.rst && process_ack(ack_only, now, emit) == Next::Continue) send_ack(emit);
    return Next::Drop;
  }
  // RFC 9293 §3.10.7.4: an unacceptable segment is answered with an ACK (unless it is a
  // RST) and dropped.
  ++stats_.rx_drop_unacceptable;
  if (!seg.flags.rst) {
    if (state_ == TcpState::TimeWait && seg.flags.fin) {
      // RFC 9293 §3.10.7.4 eighth: a retransmitted FIN in TIME-WAIT restarts the timer.
      timers_.start_time_wait(now + cfg_.time_wait);
    }
    send_ack(emit);
  }
  return Next::Drop;
}

// RFC 9293 §3.10.7.4 second, with RFC 5961 §3.2.
Connection::Next Connection::check_rst(const wire::TcpRepr& seg, Instant now, Emit emit) {
  if (!seg.flags.rst) return Next::Continue;
  // RFC 5961 §3.2: reset only if SEG.SEQ is exactly RCV.NXT; otherwise (it is in the
  // window, or the first check would have dropped it) send a challenge ACK.
  if (SeqNum(seg.seq) != rcv_seq_.nxt) {
    challenge_ack(now, emit);
    return Next::Drop;
  }
  ++stats_.rx_resets;
  switch (state_) {
    case TcpState::SynReceived:
      // Passive open: back to LISTEN (the listener drops the child); active: refused.
      become_closed(passive_ ? Errno::Ok : Errno::ConnRefused);
      break;
    case TcpState::Established:
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::CloseWait:
      // "any outstanding RECEIVEs and SEND should receive reset responses": ECONNRESET.
      become_closed(Errno::ConnReset);
      break;
    case TcpState::Closing:
    case TcpState::LastAck:
    case TcpState::TimeWait:
      become_closed(Errno::Ok);
      break;
    case TcpState::Closed:
    case TcpState::Listen:
    case TcpState::SynSent:
      break;
  }
  return Next::Drop;
}

// RFC 9293 §3.10.7.4 fourth, with RFC 5961 §4.
Connection::Next Connection::check_syn(const wire::TcpRepr& seg, Instant now, Emit emit) {
  if (!seg.flags.syn) return Next::Continue;
  if (state_ == TcpState::SynReceived && passive_) {
    // "If the connection was initiated with a passive OPEN, then return this connection
    // to the LISTEN state": the listener forgets the child.
    become_closed(Errno::Ok);
    return Next::Drop;
  }
  // RFC 5961 §4.2: a SYN in a synchronized state, whatever its sequence number, gets a
  // challenge ACK and is dropped.
  challenge_ack(now, emit);
  return Next::Drop;
}

bool Connection::ack_acceptable_rfc5961(SeqNum ack) const {
  // RFC 5961 §5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT.
  SeqNum lo = snd_.una - SeqLen(std::max<std::uint32_t>(snd_.max_wnd, 1));
  return lo.before_eq(ack) && ack.before_eq(snd_.max);
}

// RFC 9293 §3.10.7.4 fifth: the ACK field.
Connection::Next Connection::process_ack(const wire::TcpRepr& seg, Instant now, Emit emit) {
  if (!seg.flags.ack) {
    ++stats_.rx_drop_no_ack;
    return Next::Drop;
  }
  SeqNum ack(seg.ack);
  if (state_ == TcpState::SynReceived) {
    // SND.UNA < SEG.ACK =< SND.NXT completes the handshake; otherwise reset.
    if (!(snd_.una.before(ack) && ack.before_eq(snd_.max))) {
      send_rst(ack, emit);
      return Next::Drop;
    }
    snd_.una = ack;
    if (retransmits_ == 0) {
      if (auto r = sampler_.on_ack(0, now)) rtt_.on_sample(*r);
    } else {
      rtt_.on_established_after_syn_timeout();
    }
    retransmits_ = 0;
    timers_.retransmit.disarm();
    // RFC 7323 §2.2: windows in segments after the SYNs are scaled.
    snd_.wnd = static_cast<std::uint32_t>(seg.window) << neg_.snd_shift;
    snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
    snd_.wl1 = SeqNum(seg.seq);
    snd_.wl2 = ack;
    set_state(fin_queued_ ? TcpState::FinWait1 : TcpState::Established);
  }
  if (!ack_acceptable_rfc5961(ack)) {
    // RFC 5961 §5.2: too old or not yet sent: challenge ACK, drop.
    ++(ack.after(snd_.max) ? stats_.rx_drop_ack_unsent : stats_.rx_drop_old_ack);
    challenge_ack(now, emit);
    return Next::Drop;
  }
  if (snd_.una.before(ack)) {
    on_new_ack(ack, now);
  } else if (ack == snd_.una) {
    bool dup =
        is_duplicate_ack({.seg_ack = ack,
                          .snd_una = snd_.una,
                          .snd_max = snd_.max,
                          .seg_len = seg.payload.size(),
                          .syn_or_fin = seg.flags.syn || seg.flags.fin,
                          .seg_wnd = static_cast<std::uint32_t>(seg.window) << neg_.snd_shift,
                          .snd_wnd = snd_.wnd});
    if (dup) on_duplicate_ack(now);
  }
  update_window(seg);
  if (state_ == TcpState::Closed) return Next::Drop;

  // Per-state work once the ACK is in (the FIN-WAIT-1/CLOSING/LAST-ACK rows of §3.10.7.4).
  bool our_fin_acked = fin_sent() && fin_seq().before(snd_.una);
  switch (state_) {
    case TcpState::FinWait1:
      if (our_fin_acked) set_state(TcpState::FinWait2);
      break;
    case TcpState::Closing:
      if (our_fin_acked) enter_time_wait(now);
      return Next::Drop;
    case TcpState::LastAck:
      if (our_fin_acked) become_closed(Errno::Ok);
      return Next::Drop;
    case TcpState::TimeWait:
      // Only a retransmitted FIN can arrive here; acknowledge it and restart the timer.
      if (seg.flags.fin) {
        send_ack(emit);
        timers_.start_time_wait(now + cfg_.time_wait);
      }
      return Next::Drop;
    default:
      break;
  }
  return Next::Continue;
}

void Connection::on_new_ack(SeqNum ack, Instant now) {
  std::uint64_t acked_to = data_off(ack);
  std::uint64_t before = sbuf_.una();
  snd_.una = ack;
  if (snd_.nxt.before(snd_.una)) snd_.nxt = snd_.una;
  std::uint64_t acked = acked_to > before ? acked_to - before : 0;
  if (acked_to > before) sbuf_.ack(acked_to);
  retransmits_ = 0;
  persist_backoff_ = 0;
  // RFC 6298 (2.3) with Karn's rule: only a segment sent once gives a sample.
  if (auto r = sampler_.on_ack(acked_to, now)) rtt_.on_sample(*r);
  // The flight passed in starts at the new SND.UNA: NewReno tells a full ACK from a
  // partial one by comparing it with `recover`.
  auto resp = cc_->on_ack(acked, Flight{acked_to, data_off(snd_.max)}, now);
  if (resp.action == LossAction::RetransmitFirstUnacked) {
    // RFC 6582 §3.2 step 4: a partial ACK retransmits the first unacknowledged segment.
    retransmit_pending_ = true;
  }
  limited_transmit_ = 0;
  // RFC 6298 (5.2)/(5.3): stop the timer when all is acknowledged, else restart it.
  if (snd_.una == snd_.max) {
    timers_.retransmit.disarm();
  } else {
    timers_.retransmit.arm(now + rtt_.rto());
  }
  if (sbuf_.empty()) sbuf_.release_if_empty();
}

void Connection::on_duplicate_ack(Instant now) {
  ++stats_.rx_dup_acks;
  auto resp = cc_->on_dup_ack(Flight{data_off(snd_.una), data_off(snd_.max)}, now);
  switch (resp.action) {
    case LossAction::LimitedTransmit:
      // RFC 3042: each of the first two duplicate ACKs lets one new segment out.
      limited_transmit_ += neg_.smss;
      break;
    case LossAction::FastRetransmit:
      // RFC 5681 §3.2 step 2-3: retransmit the lost segment now.
      ++stats_.fast_retransmits;
      sampler_.on_retransmit();
      retransmit_pending_ = true;
      break;
    case LossAction::RetransmitFirstUnacked:
      retransmit_pending_ = true;
      break;
    case LossAction::None:
      break;
  }
}

void Connection::update_window(const wire::TcpRepr& seg) {
  SeqNum seq(seg.seq);
  SeqNum ack(seg.ack);
  // RFC 9293 §3.10.7.4 fifth: update the send window only from a newer segment
  // (SND.WL1 < SEG.SEQ, or equal with SND.WL2 =< SEG.ACK), so old segments cannot shrink it.
  if (snd_.wl1.before(seq) || (snd_.wl1 == seq && snd_.wl2.before_eq(ack))) {
    std::uint32_t was = snd_.wnd;
    snd_.wnd = static_cast<std::uint32_t>(seg.window) << neg_.snd_shift;
    snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
    snd_.wl1 = seq;
    snd_.wl2 = ack;
    if (was == 0 && snd_.wnd > 0 && probing_) {
      // The window opened: stop probing, and send again from SND.UNA whatever the probes
      // pushed past it that was not acknowledged.
      timers_.persist.disarm();
      persist_backoff_ = 0;
      probing_ = false;
      snd_.nxt = snd_.una;
    }
  }
}

// RFC 9293 §3.10.7.4 seventh: segment text.
void Connection::process_text(const wire::TcpRepr& seg, Instant now, Emit emit) {
  if (seg.payload.empty() && !seg.flags.fin) return;
  if (!in(state_, TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2)) {
    // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer already sent its FIN; ignore.
    return;
  }
  if (user_closed_ && !seg.payload.empty()) {
    // LINUX (tcp_rcv_state_process): data for a socket the user has closed cannot be
    // delivered to anyone: reset the connection so the peer knows.
    ++stats_.rx_data_after_close;
    send_rst(snd_.nxt, emit);
    become_closed(Errno::Ok);
    return;
  }
  // Place the payload (and FIN) in the stream by absolute offset; the reassembler trims
  // what is already received or beyond the window.
  std::uint64_t off = unwrap(SeqNum(seg.seq), rcv_seq_.irs + SeqLen(1), rcv_.next_expected());
  bool in_order = off == rcv_.next_expected();
  auto r = rcv_.insert(off, seg.payload, seg.flags.fin);
  rcv_seq_.nxt =
      rcv_seq_.irs + SeqLen(1) + SeqLen(static_cast<std::uint32_t>(rcv_.next_expected()));
  if (shut_rd_ && r.delivered) rcv_.output().consume(r.delivered);
  if (!in_order || r.stored_out_of_order > 0) {
    // RFC 5681 §4.2: out-of-order data is acknowledged at once (the duplicate ACK drives
    // the peer's fast retransmit); so is data that fills a hole.
    ++stats_.rx_ooo_segments;
    ack_now_ = true;
  } else if (rcv_.pending_bytes() == 0 && r.delivered > 0) {
    // RFC 9293 §3.8.6.3 / RFC 1122 §4.2.3.2: ACK at least every second full-sized
    // segment; otherwise delay, at most cfg_.delayed_ack.
    segs_since_ack_ += static_cast<std::uint32_t>((r.delivered + neg_.smss - 1) / neg_.smss);
    if (segs_since_ack_ >= 2) {
      ack_now_ = true;
    } else if (!timers_.delayed_ack.armed()) {
      timers_.delayed_ack.arm(now + cfg_.delayed_ack);
    }
  } else {
    ack_now_ = true;  // a duplicate, or data that closed a hole
  }
}

// RFC 9293 §3.10.7.4 eighth: the FIN bit, once every octet before it has arrived.
void Connection::process_fin(Instant now) {
  if (fin_received_ || !rcv_.fin_reached()) return;
  fin_received_ = true;
  // The FIN occupies one sequence number: RCV.NXT advances over it and it is ACKed.
  rcv_seq_.nxt = rcv_seq_.nxt + SeqLen(1);
  rcv_seq_.adv = seq_max(rcv_seq_.adv, rcv_seq_.nxt);
  ack_now_ = true;
  switch (state_) {
    case TcpState::SynReceived:
    case TcpState::Established:
      set_state(TcpState::CloseWait);
      break;
    case TcpState::FinWait1:
      // Our FIN acked too (FIN+ACK together): straight to TIME-WAIT; else CLOSING
      // (simultaneous close, RFC 9293 §3.6 Figure 13).
      if (fin_sent() && fin_seq().before(snd_.una)) {
        enter_time_wait(now);
      } else {
        set_state(TcpState::Closing);
      }
      break;
    case TcpState::FinWait2:
      enter_time_wait(now);
      break;
    case TcpState::TimeWait:
      timers_.start_time_wait(now + cfg_.time_wait);
      break;
    default:
      break;
  }
}

void Connection::challenge_ack(Instant now, Emit emit) {
  if (limiter && !limiter->allow(now)) {
    ++stats_.challenge_acks_limited;
    return;
  }
  ++stats_.tx_challenge_acks;
  send_ack(emit);
}

}  // namespace tapir::tcp
