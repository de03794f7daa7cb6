// TCP segment arrival, in the order of RFC 9293 §3.10.7 "SEGMENT ARRIVES", one function
// per step. Read first: RFC 9293 §3.10.7, RFC 5961 §3-§5, RFC 5681 §3.2, RFC 6298 §5,
// RFC 7323 §3-§5 and Appendix D (timestamps: PAWS before the sequence check, TS.Recent
// after it, RTT samples from TSecr).
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
// LINUX: sysctl_tcp_invalid_ratelimit, 500 ms.
constexpr Duration kOutOfWindowAckInterval = std::chrono::milliseconds(500);

std::uint32_t seg_len(const wire::TcpRepr& s) {
  // RFC 9293 §3.4: SEG.LEN counts the data octets plus one for SYN and one for FIN.
  return static_cast<std::uint32_t>(s.payload.size()) + (s.flags.syn ? 1 : 0) +
         (s.flags.fin ? 1 : 0);
}
}  // namespace

void Connection::on_segment(const wire::TcpRepr& seg, Instant now, Emit emit) {
  last_rx_ = now;
  if (state_ == TcpState::SynSent) {
    on_segment_syn_sent(seg, now, emit);
    return;
  }
  if (simultaneous_syn_ack(seg)) {
    // LINUX (tcp_validate_incoming): in a simultaneous open (RFC 9293 §3.5 Figure 8, line
    // 6) the peer's SYN,ACK repeats its SYN at IRS and acknowledges ours. The strict
    // acceptability test would drop it, leaving both ends waiting for a retransmission;
    // its SYN is a duplicate, so continue with the rest of it: an ACK at RCV.NXT.
    wire::TcpRepr rest = seg;
    rest.flags.syn = false;
    rest.seq = seg.seq + 1;
    on_segment(rest, now, emit);
    if (state_ != TcpState::Closed) ack_now_ = true;
    return;
  }
  if (check_timestamps(seg, now, emit) == Next::Drop) return;
  if (check_sequence(seg, now, emit) == Next::Drop) return;
  update_ts_recent(seg, now);
  if (check_rst(seg, now, emit) == Next::Drop) return;
  if (check_syn(seg, now, emit) == Next::Drop) return;
  if (process_ack(seg, now, emit) == Next::Drop) return;
  process_text(seg, now, emit);
  if (state_ == TcpState::Closed) return;
  if (seg.flags.fin || rcv_.fin_offset()) process_fin(now);
  if (state_ == TcpState::FinWait1 && our_fin_acked()) {
    // RFC 9293 §3.10.7.4 fifth, FIN-WAIT-1: "if the FIN segment is now acknowledged, then
    // enter FIN-WAIT-2". Taken after the text so that a FIN arriving with the ACK of ours
    // goes straight to TIME-WAIT (eighth step: "our FIN has been ACKed (perhaps in this
    // segment)").
    set_state(TcpState::FinWait2);
    // LINUX (tcp_fin_timeout): an orphan does not wait in FIN-WAIT-2 for ever.
    if (user_closed_) timers_.user_timeout.arm(now + cfg_.time_wait);
  }
  keepalive_sent_ = 0;
  arm_keepalive(now);
}

bool Connection::simultaneous_syn_ack(const wire::TcpRepr& seg) const {
  return state_ == TcpState::SynReceived && !passive_ && seg.flags.syn && seg.flags.ack &&
         !seg.flags.rst && SeqNum(seg.seq) == rcv_seq_.irs &&
         SeqNum(seg.ack) == snd_.iss + SeqLen(1);
}

// RFC 9293 §3.10.7.3: SYN-SENT.
void Connection::on_segment_syn_sent(const wire::TcpRepr& seg, Instant now, Emit emit) {
  SeqNum ack(seg.ack);
  // First, check the ACK bit: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless
  // the RST bit is set, if so drop the segment and return) <SEQ=SEG.ACK><CTL=RST>".
  if (seg.flags.ack && (ack.before_eq(snd_.iss) || ack.after(snd_.nxt))) {
    ++stats_.rx_drop_ack_unsent;
    if (!seg.flags.rst) send_rst(ack, now, emit);
    return;
  }
  bool ack_ok = seg.flags.ack && snd_.una.before_eq(ack) && ack.before_eq(snd_.nxt);
  // Second, the RST bit: with an acceptable ACK the peer refused us (ECONNREFUSED);
  // without an ACK the RST is dropped (RFC 5961 §3: it cannot be trusted).
  if (seg.flags.rst) {
    if (ack_ok) {
      ++stats_.rx_resets;
      become_closed(Errno::ConnRefused);
    } else {
      ++stats_.rx_drop_no_ack;
    }
    return;
  }
  // Fourth, the SYN bit ("If neither of the SYN or RST bits is set, then drop").
  if (!seg.flags.syn) {
    ++stats_.rx_drop_no_ack;
    return;
  }
  rcv_seq_.irs = SeqNum(seg.seq);
  rcv_seq_.nxt = rcv_seq_.irs + SeqLen(1);
  // The window our SYN offered (RFC 7323 §2.2: unscaled) is the right edge until we
  // advertise another.
  rcv_seq_.adv = rcv_seq_.nxt + SeqLen(std::min<std::uint32_t>(rcv_wnd(), 65535));
  take_syn_options(seg, now);
  // The SYN's window is never scaled (RFC 7323 §2.2).
  snd_.wnd = seg.window;
  snd_.max_wnd = snd_.wnd;
  snd_.wl1 = SeqNum(seg.seq);
  snd_.wl2 = ack;
  if (!ack_ok) {
    // Simultaneous open (RFC 9293 §3.5 Figure 8): SYN without ACK -> SYN-RECEIVED, and
    // "<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>": the SYN,ACK repeats our original ISS.
    set_state(TcpState::SynReceived);
    snd_.nxt = snd_.iss;
    sampler_.on_retransmit();  // Karn: the SYN is sent twice
    send_syn(true, now, emit);
    return;
  }
  snd_.una = ack;
  // RFC 6298 (2.2): the SYN's round trip is a first sample unless it was retransmitted.
  if (retransmits_ == 0) {
    if (auto r = sampler_.on_ack(0, now)) rtt_.on_sample(*r);
  } else {
    rtt_.on_established_after_syn_timeout();  // RFC 6298 (5.7)
  }
  retransmits_ = 0;
  timers_.retransmit.disarm();
  set_state(TcpState::Established);
  ack_now_ = true;
  arm_keepalive(now);
  // "If there are other controls or text in the segment, then continue processing at the
  // sixth step": data or a FIN may ride on the SYN,ACK.
  if (!seg.payload.empty() || seg.flags.fin) {
    wire::TcpRepr rest = seg;
    rest.flags.syn = false;
    rest.seq = seg.seq + 1;
    process_text(rest, now, emit);
    if (rest.flags.fin || rcv_.fin_offset()) process_fin(now);
  }
}

// RFC 7323 §3.2 and §5.3 R1 (PAWS), ahead of the acceptability test (R2), as Appendix D
// places them in the first check.
Connection::Next Connection::check_timestamps(const wire::TcpRepr& seg, Instant now, Emit emit) {
  // RFC 7323 §5.3 R1 applies "if the RST bit is not set"; a reset is judged by its
  // sequence number alone (RFC 5961 §3), timestamp or not.
  if (!neg_.timestamps || seg.flags.rst) return Next::Continue;
  if (!seg.timestamps) {
    // RFC 7323 §3.2: "If a non-<RST> segment is received without a TSopt, a TCP SHOULD
    // silently drop the segment" (and MUST NOT abort the connection for it).
    ++stats_.rx_drop_no_timestamp;
    return Next::Drop;
  }
  const std::uint32_t tsval = seg.timestamps->first;
  if (paws_rejects(tsval, ts_, now)) {
    // RFC 7323 §5.3 R1: an old duplicate; "treat the arriving segment as not acceptable:
    // Send an acknowledgment in reply ... and drop the segment".
    ++stats_.paws_rejected;
    reply_to_unacceptable(seg, now, emit);
    return Next::Drop;
  }
  if (ts_before(tsval, ts_.recent)) {
    // RFC 7323 §5.5: TS.Recent is more than 24 days old and no longer valid: the segment is
    // accepted "regardless of the failure of the timestamp check", and its TSval kept.
    ts_.recent = tsval;
    ts_.recent_at = now;
  }
  return Next::Continue;
}

// RFC 7323 §5.3 R3 / §4.3 (2): an acceptable segment's TSval becomes TS.Recent when it is
// not older and the segment starts at or before the point our last ACK acknowledged.
void Connection::update_ts_recent(const wire::TcpRepr& seg, Instant now) {
  if (!neg_.timestamps || !seg.timestamps) return;
  if (ts_recent_takes(seg.timestamps->first, SeqNum(seg.seq), ts_)) {
    ts_.recent = seg.timestamps->first;
    ts_.recent_at = now;
  }
}

// RFC 9293 §3.10.7.4 first: the segment acceptability test, then trimming to the window.
Connection::Next Connection::check_sequence(const wire::TcpRepr& seg, Instant now, Emit emit) {
  SeqNum seq(seg.seq);
  std::uint32_t len = seg_len(seg);
  // RCV.WND as last advertised: the right edge never moves left, so it is never behind
  // RCV.NXT (process_text trims what lies beyond it).
  std::uint32_t wnd = advertised_window();
  // RFC 9293 §3.10.7.4 table: the four cases of SEG.LEN and RCV.WND.
  bool ok;
  if (len == 0) {
    // LINUX (tcp_sequence): an empty segment exactly at the right edge is taken too: a
    // sender that filled our window and lost its first segment sends its ACKs from there.
    ok = wnd == 0 ? seq == rcv_seq_.nxt : seq.in_window(rcv_seq_.nxt, SeqLen(wnd + 1));
  } else if (wnd == 0) {
    // LINUX (tcp_data_queue): a bare FIN at RCV.NXT is taken even into a zero window, so a
    // peer closing while our reader is slow is not held off until the window opens.
    ok = seq == rcv_seq_.nxt && seg.payload.empty() && seg.flags.fin;
  } else {
    SeqNum last = seq + SeqLen(len - 1);
    ok = seq.in_window(rcv_seq_.nxt, SeqLen(wnd)) || last.in_window(rcv_seq_.nxt, SeqLen(wnd));
  }
  if (ok) return Next::Continue;
  ++stats_.rx_drop_unacceptable;
  if (seg.flags.rst) return Next::Drop;  // "(unless the RST bit is set ...)"
  if (wnd == 0 && seq == rcv_seq_.nxt && seg.flags.ack) {
    // RFC 9293 §3.10.7.4 table, RCV.WND = 0: "special allowance should be made to accept
    // valid ACKs": a zero-window probe's ACK (and window) is processed, its data dropped.
    wire::TcpRepr ack_only = seg;
    ack_only.payload = {};
    ack_only.flags.fin = false;
    ack_only.flags.syn = false;
    ack_only.flags.psh = false;
    if (process_ack(ack_only, now, emit) == Next::Drop) return Next::Drop;
  }
  if (state_ == TcpState::SynReceived && passive_ && seg.flags.syn && !seg.flags.ack &&
      seq == rcv_seq_.irs) {
    // LINUX (tcp_check_req): the peer repeated its SYN, so our SYN,ACK was lost: resend it
    // now rather than answer with a bare ACK the peer in SYN-SENT would drop.
    resend_syn_ack(now, emit);
    return Next::Drop;
  }
  if (state_ == TcpState::TimeWait && seg.flags.fin) {
    // RFC 9293 §3.10.7.4 eighth, TIME-WAIT: a retransmitted FIN is acknowledged and
    // restarts the 2 MSL timeout.
    timers_.start_time_wait(now + cfg_.time_wait);
  }
  reply_to_unacceptable(seg, now, emit);
  return Next::Drop;
}

void Connection::reply_to_unacceptable(const wire::TcpRepr& seg, Instant now, Emit emit) {
  // "If an incoming segment is not acceptable, an acknowledgment should be sent in reply
  // (unless the RST bit is set ...) <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>", then drop it.
  // LINUX (tcp_oow_rate_limited): answers to bare ACKs are limited to one per 500 ms, so
  // two ends that each find the other's ACKs unacceptable cannot ping-pong for ever.
  bool bare = seg.payload.empty() && !seg.flags.syn && !seg.flags.fin;
  if (bare && last_oow_ack_ && now - *last_oow_ack_ < kOutOfWindowAckInterval) {
    ++stats_.challenge_acks_limited;
    return;
  }
  if (bare) last_oow_ack_ = now;
  if (state_ != TcpState::Closed) send_ack(now, emit);
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
      // "If this connection was initiated with a passive OPEN, then return this connection
      // to the LISTEN state"; from an active OPEN: "connection refused".
      if (passive_) {
        return_to_listen();
      } else {
        become_closed(Errno::ConnRefused);
      }
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
    // to the LISTEN state and return": the listener forgets the child.
    return_to_listen();
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
    // "if the ACK bit is off, drop the segment and return".
    ++stats_.rx_drop_no_ack;
    return Next::Drop;
  }
  SeqNum ack(seg.ack);
  if (state_ == TcpState::SynReceived) {
    // "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state ... If the segment
    // acknowledgment is not acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST>".
    if (!(snd_.una.before(ack) && ack.before_eq(snd_.max))) {
      ++stats_.rx_drop_ack_unsent;
      send_rst(ack, now, emit);
      return Next::Drop;
    }
    snd_.una = ack;
    if (retransmits_ == 0) {
      if (auto r = sampler_.on_ack(0, now)) rtt_.on_sample(*r);
    } else {
      rtt_.on_established_after_syn_timeout();  // RFC 6298 (5.7)
    }
    retransmits_ = 0;
    timers_.retransmit.disarm();
    // "and continue processing with the variables below set to: SND.WND <- SEG.WND,
    // SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK"; RFC 7323 §2.2: now scaled.
    snd_.wnd = static_cast<std::uint32_t>(seg.window) << neg_.snd_shift;
    snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
    snd_.wl1 = SeqNum(seg.seq);
    snd_.wl2 = ack;
    set_state(fin_queued_ ? TcpState::FinWait1 : TcpState::Established);
  }
  if (!ack_acceptable_rfc5961(ack)) {
    // RFC 5961 §5.2: too old or not yet sent: challenge ACK, drop (RFC 9293 §3.10.7.4:
    // "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK").
    ++(ack.after(snd_.max) ? stats_.rx_drop_ack_unsent : stats_.rx_drop_old_ack);
    challenge_ack(now, emit);
    return Next::Drop;
  }
  probes_unanswered_ = 0;  // the peer is alive (RFC 1122 §4.2.2.17)
  const bool cumulative = snd_.una.before(ack);
  // RFC 6675 §5: "Upon the receipt of any ACK containing SACK information, the scoreboard
  // MUST be updated via the Update () routine" (sack.cpp).
  const std::uint64_t newly_sacked = neg_.sack ? take_sack_blocks(seg, seq_max(snd_.una, ack)) : 0;
  if (cumulative) {
    on_new_ack(seg, now);
  } else if (ack == snd_.una && probing_) {
    // The answer to a zero-window probe that was dropped: the probe octet is not in
    // flight any more, so our next segments start at SND.UNA again.
    snd_.nxt = snd_.una;
    snd_.max = snd_.una;
  } else if (ack == snd_.una) {
    // While probing a zero window the answers to probes are not duplicate ACKs (LINUX:
    // tcp_ack counts none when nothing but the probe is outstanding).
    bool dup =
        is_duplicate_ack({.seg_ack = ack,
                          .snd_una = snd_.una,
                          .snd_max = snd_.max,
                          .seg_len = seg.payload.size(),
                          .syn_or_fin = seg.flags.syn || seg.flags.fin,
                          .seg_wnd = static_cast<std::uint32_t>(seg.window) << neg_.snd_shift,
                          .snd_wnd = snd_.wnd});
    // With SACK, RFC 6675 §2 defines duplicate ACKs instead (on_sack_ack).
    if (dup && !neg_.sack) on_duplicate_ack(now);
  }
  if (neg_.sack) on_sack_ack(cumulative, newly_sacked);
  // "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated"; an older ACK
  // (still acceptable by RFC 5961) must not move it.
  if (snd_.una.before_eq(ack)) update_window(seg);
  return after_ack_in_state(seg, now, emit);
}

// RFC 9293 §3.10.7.4 fifth: the rows for the closing states, after the ESTABLISHED
// processing above. FIN-WAIT-1 -> FIN-WAIT-2 is taken after the text (see on_segment).
Connection::Next Connection::after_ack_in_state(const wire::TcpRepr& seg, Instant now, Emit emit) {
  switch (state_) {
    case TcpState::Closing:
      // "if the ACK acknowledges our FIN, then enter the TIME-WAIT state; otherwise,
      // ignore the segment".
      if (our_fin_acked()) enter_time_wait(now);
      return Next::Drop;
    case TcpState::LastAck:
      // "If our FIN is now acknowledged, delete the TCB, enter the CLOSED state, and return."
      if (our_fin_acked()) become_closed(Errno::Ok);
      return Next::Drop;
    case TcpState::TimeWait:
      // "The only thing that can arrive in this state is a retransmission of the remote
      // FIN. Acknowledge it, and restart the 2 MSL timeout."
      if (seg.flags.fin) {
        send_ack(now, emit);
        timers_.start_time_wait(now + cfg_.time_wait);
      }
      return Next::Drop;
    case TcpState::Closed:
      return Next::Drop;
    case TcpState::Listen:
    case TcpState::SynSent:
    case TcpState::SynReceived:
    case TcpState::Established:
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::CloseWait:
      return Next::Continue;
  }
  return Next::Continue;
}

void Connection::on_new_ack(const wire::TcpRepr& seg, Instant now) {
  const SeqNum ack(seg.ack);
  std::uint64_t acked_to = data_off(ack);
  std::uint64_t before = sbuf_.una();
  snd_.una = ack;
  if (snd_.nxt.before(snd_.una)) snd_.nxt = snd_.una;
  std::uint64_t acked = acked_to > before ? acked_to - before : 0;
  if (acked_to > before) sbuf_.ack(acked_to);
  retransmits_ = 0;
  persist_backoff_ = 0;
  // RFC 6298 (2.3) with Karn's rule: only a segment sent once gives a sample. RFC 7323
  // §4.1: with timestamps every ACK that advances SND.UNA gives one, retransmissions
  // included, from its TSecr. LINUX (tcp_ack_update_rtt): the microsecond sample of a
  // segment sent once is preferred when there is one, the 1 ms TSecr sample otherwise.
  auto sample = sampler_.on_ack(acked_to, now);
  if (!sample && neg_.timestamps && seg.timestamps) {
    sample = ts_rtt(ts_clock(now, ts_.offset), seg.timestamps->second);
  }
  if (sample) rtt_.on_sample(*sample);
  if (auto srtt = rtt_.srtt()) cc_->set_srtt(*srtt);  // RFC 9438 §4.2 (CUBIC's target)
  // The flight passed in starts at the new SND.UNA: NewReno tells a full ACK from a
  // partial one by comparing it with `recover`.
  auto resp = cc_->on_ack(acked, Flight{acked_to, data_off(snd_.max)}, now);
  if (resp.action == LossAction::RetransmitFirstUnacked && !neg_.sack) {
    // RFC 6582 §3.2 step 4: a partial ACK retransmits the first unacknowledged segment.
    // With SACK the scoreboard says what to resend (RFC 6675 §5 (C), sack.cpp).
    retransmit_pending_ = true;
  }
  limited_transmit_ = 0;
  sack_.advance(acked_to);
  const bool sack_recovering = recovery_.active;
  if (recovery_.active && acked_to >= recovery_.recovery_point) {
    // RFC 6675 §5 (A): a cumulative ACK beyond RecoveryPoint ends loss recovery; the
    // scoreboard above the new HighACK is kept.
    recovery_.active = false;
    recovery_.entry_pending = false;
  }
  // RFC 6298 (5.2)/(5.3): stop the timer when all is acknowledged, else restart it
  // (RFC 6582 §3.2 step 4: in NewReno fast recovery only the first partial ACK restarts
  // it; RFC 6675 keeps RFC 6298's rule for every ACK of new data).
  if (snd_.una == snd_.max) {
    timers_.retransmit.disarm();
  } else if (resp.restart_rto || sack_recovering || !timers_.retransmit.armed()) {
    timers_.retransmit.arm(now + rtt_.rto());
  }
}

void Connection::on_duplicate_ack(Instant now) {
  ++stats_.rx_dup_acks;
  auto resp = cc_->on_dup_ack(Flight{data_off(snd_.una), data_off(snd_.max)}, now);
  switch (resp.action) {
    case LossAction::LimitedTransmit:
      // RFC 3042 §2: each of the first two duplicate ACKs lets one new segment out, as
      // long as FlightSize stays within cwnd + 2*SMSS.
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

void Connection::trim_to_window(wire::TcpRepr& seg) const {
  // RFC 9293 §3.10.7.4 first: "segments ... may be trimmed ... so that only what is in
  // the window is kept": data beyond RCV.NXT + RCV.WND as advertised is dropped, and a
  // FIN that follows dropped data goes with it.
  SeqNum seq(seg.seq);
  SeqNum end = seq + SeqLen(static_cast<std::uint32_t>(seg.payload.size()));
  if (!end.after(rcv_seq_.adv)) return;
  std::uint32_t keep = rcv_seq_.adv.after(seq) ? (rcv_seq_.adv - seq).value : 0;
  seg.payload = seg.payload.first(std::min<std::size_t>(keep, seg.payload.size()));
  seg.flags.fin = false;
}

// RFC 9293 §3.10.7.4 seventh: segment text.
void Connection::process_text(const wire::TcpRepr& in_seg, Instant now, Emit emit) {
  if (in_seg.payload.empty() && !in_seg.flags.fin) return;
  // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not occur, since a FIN has been
  // received from the remote side. Ignore the segment text."
  if (!in(state_, TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2)) return;
  wire::TcpRepr seg = in_seg;
  trim_to_window(seg);
  // A sender that overran the window learns the real one at once.
  if (seg.payload.size() < in_seg.payload.size()) ack_now_ = true;
  const std::uint64_t next_before = rcv_.next_expected();
  const std::uint64_t off = unwrap(SeqNum(seg.seq), rcv_seq_.irs + SeqLen(1), next_before);
  const std::uint64_t end = off + seg.payload.size();
  if (user_closed_ && end > next_before) {
    // RFC 1122 §4.2.2.13 / LINUX (tcp_rcv_state_process): new data for a socket the user
    // has closed cannot be delivered to anyone: reset, <SEQ=SEG.ACK><CTL=RST>.
    ++stats_.rx_data_after_close;
    send_rst(SeqNum(seg.ack), now, emit);
    become_closed(Errno::Ok);
    return;
  }
  // Place the payload (and FIN) in the stream by absolute offset; the reassembler trims
  // what is already received and parks what lies beyond a hole.
  auto r = rcv_.insert(off, seg.payload, seg.flags.fin);
  rcv_seq_.nxt =
      rcv_seq_.irs + SeqLen(1) + SeqLen(static_cast<std::uint32_t>(rcv_.next_expected()));
  if (shut_rd_ && r.delivered) rcv_.output().consume(r.delivered);
  // RFC 2018 §4: the first SACK block names the triggering segment's block "unless that
  // segment advanced the Acknowledgment Number field" (add_sack_blocks).
  if (r.delivered > 0 || r.stored_out_of_order > 0) sack_after_advance_ = r.delivered > 0;
  const std::uint64_t fresh = end > next_before ? end - std::max(off, next_before) : 0;
  // The peer's FIN, in order and seen for the first time, is news like fresh data: its ACK
  // may be delayed (process_fin); a repeated one is a duplicate, acknowledged at once.
  const bool new_fin = seg.flags.fin && !fin_received_ && rcv_.fin_reached();
  if (off > next_before) {
    // RFC 5681 §4.2 / RFC 9293 §3.8.6.3: an out-of-order segment is acknowledged at once;
    // the duplicate ACK drives the peer's fast retransmit.
    ++stats_.rx_ooo_segments;
    ack_now_ = true;
  } else if ((fresh == 0 && !new_fin) || r.delivered > fresh || rcv_.pending_bytes() > 0) {
    // A duplicate (RFC 9293 §3.10.7.4: acknowledged), or a segment that fills all or part
    // of a gap (RFC 5681 §4.2: "an immediate ACK SHOULD be generated").
    ack_now_ = true;
  } else {
    // RFC 1122 §4.2.3.2 / RFC 9293 §3.8.6.3: delay the ACK, but by less than 0.5 s
    // (cfg_.delayed_ack) and at least for every second full-sized segment (RFC 5681 §4.2,
    // a SHOULD). That ACK waits until the segments the device has already handed over in
    // this poll are all taken: one ACK per receive batch, as LINUX sends one per GRO
    // superframe of up to 64 KB. Each ACK costs the peer's kernel a packet; a batch of 64
    // segments used to send 32. Once a quarter of the receive buffer is unacknowledged the
    // ACK goes at once, so that the sender's window keeps moving.
    rx_since_ack_ += r.delivered;
    const std::uint64_t two_segments = 2 * std::uint64_t{neg_.smss};
    if (rx_since_ack_ >= std::max<std::uint64_t>(two_segments, rcv_.output().capacity() / 4)) {
      ack_now_ = true;
    } else if (rx_since_ack_ >= two_segments) {
      ack_soon_ = true;
    } else if (!timers_.delayed_ack.armed()) {
      timers_.delayed_ack.arm(now + cfg_.delayed_ack);
    }
  }
}

// RFC 9293 §3.10.7.4 eighth: the FIN bit, once every octet before it has arrived.
void Connection::process_fin(Instant now) {
  if (fin_received_ || !rcv_.fin_reached()) return;
  fin_received_ = true;
  // The FIN occupies one sequence number: RCV.NXT advances over it and it is ACKed.
  rcv_seq_.nxt = rcv_seq_.nxt + SeqLen(1);
  rcv_seq_.adv = seq_max(rcv_seq_.adv, rcv_seq_.nxt);
  switch (state_) {
    case TcpState::Established:
      set_state(TcpState::CloseWait);
      // RFC 1122 §4.2.3.2: the ACK of a FIN may be delayed like any other, and process_text
      // has decided it as for fresh data (a new FIN alone arms the delayed-ACK timer; a gap
      // filled or a second full segment still ACKs at once). An application usually closes
      // as soon as it reads end-of-file, and its FIN then carries this ACK: one segment
      // instead of two (Linux also delays it in CLOSE-WAIT).
      return;
    case TcpState::SynReceived:
      set_state(TcpState::CloseWait);
      break;
    case TcpState::FinWait1:
      // "If our FIN has been ACKed (perhaps in this segment), then enter TIME-WAIT ...
      // otherwise, enter the CLOSING state" (simultaneous close, RFC 9293 §3.6 Figure 13).
      if (our_fin_acked()) {
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
    case TcpState::Closed:
    case TcpState::Listen:
    case TcpState::SynSent:
    case TcpState::CloseWait:
    case TcpState::Closing:
    case TcpState::LastAck:
      break;
  }
  ack_now_ = true;
}

void Connection::challenge_ack(Instant now, Emit emit) {
  if (limiter && !limiter->allow(now)) {
    ++stats_.challenge_acks_limited;
    return;
  }
  ++stats_.tx_challenge_acks;
  send_ack(now, emit);
}

}  // namespace tapir::tcp
