// Choosing what a TCP connection sends: SYN and SYN,ACK, data (MSS segmentation, Nagle,
// sender SWS avoidance), FIN, ACKs (delayed or at once), zero-window probes, resets and
// retransmissions. Read first: RFC 9293 §3.7.4 (Nagle), §3.8.6 (window management, SWS,
// probes, delayed ACK), RFC 5681 §3 (cwnd), RFC 6298 §5 (the retransmission timer),
// RFC 7323 §3-§4 (the Timestamps option on every segment once negotiated), RFC 2018 §4
// (SACK blocks on ACKs) and RFC 6675 §5.1 (SACK information after a timeout). Sending
// during SACK-based loss recovery is in sack.cpp.
#include <algorithm>

#include "tcp/connection.hpp"

namespace tapir::tcp {

namespace {
// What a superframe's payload leaves of the device's largest datagram: room for the longest
// IPv4 and TCP headers (60 octets each, RFC 791 §3.1, RFC 9293 §3.1).
constexpr std::size_t kTsoHeaderRoom = 60 + 60;
}  // namespace

std::uint64_t Connection::data_off(SeqNum s) const {
  // Data octet k has sequence number ISS+1+k; the SYN (ISS) maps to 0, and a FIN
  // acknowledged maps to the end of the data.
  if (s == snd_.iss) return 0;
  std::uint64_t off = unwrap(s, snd_.iss + SeqLen(1), sbuf_.una());
  std::uint64_t end = fin_queued_ ? fin_offset_ : sbuf_.end();
  return std::min(off, end);
}

std::uint32_t Connection::rcv_wnd() const {
  return static_cast<std::uint32_t>(std::min<std::size_t>(rcv_.window(), 0xffffffffu));
}

std::uint32_t Connection::rcv_edge_gain() const {
  // RFC 7323 §2.2/§2.3: the largest window the 16-bit field can carry with our shift
  // (65535 without scaling) bounds the edge, so we never accept more than we announced.
  std::uint32_t avail =
      static_cast<std::uint32_t>(std::min<std::uint64_t>(rcv_wnd(), max_window()));
  SeqNum edge = rcv_seq_.nxt + SeqLen(avail);
  return edge.after(rcv_seq_.adv) ? (edge - rcv_seq_.adv).value : 0;
}

std::uint32_t Connection::window_update_gain() const {
  // RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): move the right edge only when it can
  // move by at least min(RCV.BUFF/2, Eff.snd.MSS). A zero window reopens by the same
  // rule, so a reader taking a few octets at a time does not invite tiny segments.
  std::uint32_t threshold =
      static_cast<std::uint32_t>(std::min<std::size_t>(rcv_.output().capacity() / 2, neg_.smss));
  const std::uint32_t gain = rcv_edge_gain();
  return gain >= std::max<std::uint32_t>(threshold, 1) ? gain : 0;
}

bool Connection::window_update_urgent() const {
  // RFC 9293 §3.8.6.2.2 says how far the right edge may move (window_update_gain); whether a
  // read should announce it by an ACK of its own is the receiver's choice. As LINUX
  // (tcp_cleanup_rbuf): only when the window the peer knows is at most half the largest
  // one and the update at least doubles it, since the peer may soon be held back (a zero
  // window always qualifies; Connection::recv decides how soon). Otherwise the next ACK
  // carries it: a sender with that much window left keeps sending, and its data draws
  // ACKs. A stream read every round used to send a window update per round besides the
  // ACKs of its data.
  const std::uint32_t gain = window_update_gain();
  if (gain == 0) return false;
  const std::uint32_t known = advertised_window();
  const std::uint64_t largest = std::min<std::uint64_t>(rcv_.output().capacity(), max_window());
  return 2 * std::uint64_t{known} <= largest && gain >= known;
}

std::uint16_t Connection::advertise_window() {
  // RFC 9293 §3.8.6: the window should not shrink, so RCV.ADV never moves left.
  rcv_seq_.adv = rcv_seq_.adv + SeqLen(window_update_gain());
  std::uint32_t wnd = advertised_window();
  // RFC 7323 §2.4: the field carries the window shifted right by Rcv.Wind.Shift, so the
  // peer sees it rounded down and it may appear to retract by less than 2^Rcv.Wind.Shift
  // (RFC 7323 Appendix F). RCV.ADV keeps the edge we promised, so data the peer sent
  // under an earlier, larger rounding is still accepted.
  std::uint32_t field = std::min<std::uint32_t>(wnd >> neg_.rcv_shift, 65535);
  return static_cast<std::uint16_t>(field);
}

wire::TcpRepr Connection::header(SeqNum seq, bool ack, Instant now) {
  wire::TcpRepr h;
  h.src_port = id_.local_port;
  h.dst_port = id_.remote_port;
  h.seq = seq.raw();
  h.flags.ack = ack;
  if (ack) {
    h.ack = rcv_seq_.nxt.raw();
    // RFC 7323 §4.3 (1): Last.ACK.sent holds the ACK field of the last segment sent.
    ts_.last_ack_sent = rcv_seq_.nxt;
  }
  h.window = advertise_window();
  if (neg_.timestamps) {
    // RFC 7323 §3.2: once negotiated, TSopt goes in every non-RST segment; §4.3 (3): TSecr
    // is TS.Recent, and zero when the ACK bit is off.
    h.timestamps = std::pair{ts_clock(now, ts_.offset), ack ? ts_.recent : 0u};
  }
  if (ack) add_sack_blocks(h);
  return h;
}

void Connection::on_ack_sent() {
  ack_now_ = false;
  ack_soon_ = false;
  rx_since_ack_ = 0;
  timers_.delayed_ack.disarm();
  if (delayed_ack_fired_) {
    ++stats_.tx_delayed_acks;
    delayed_ack_fired_ = false;
  }
}

void Connection::arm_retransmit(Instant now) {
  // RFC 6298 (5.1): start the timer when data is sent and it is not running.
  if (!timers_.retransmit.armed()) timers_.retransmit.arm(now + rtt_.rto());
}

void Connection::send_syn(bool with_ack, Instant now, Emit emit) {
  wire::TcpRepr h = header(snd_.iss, with_ack, now);
  h.flags.syn = true;
  // RFC 7323 §2.2: the window field of a SYN is never scaled.
  std::uint32_t avail = rcv_wnd();
  h.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(avail, 65535));
  rcv_seq_.adv = rcv_seq_.nxt + SeqLen(h.window);
  // RFC 9293 §3.7.1: announce the MSS our MTU allows.
  h.mss = static_cast<std::uint16_t>(std::min<std::size_t>(mtu_, 65535) - 40);
  // RFC 7323 §2.2: offer scaling in a SYN; answer it in a SYN,ACK only if it was offered.
  if (cfg_.window_scaling && (!with_ack || neg_.window_scaling)) h.window_scale = neg_.rcv_shift;
  if (!with_ack) {
    // RFC 7323 §3.2: "A TCP MAY send the TSopt in an initial <SYN> segment", TSecr zero as
    // the ACK bit is off; RFC 2018 §2: SACK-Permitted "MUST NOT be sent on non-SYN
    // segments". A SYN,ACK carries each only when the peer's SYN did (header() adds the
    // timestamps once negotiated; take_syn_options).
    if (cfg_.timestamps) h.timestamps = std::pair{ts_clock(now, ts_.offset), 0u};
    h.sack_permitted = cfg_.sack;
  } else {
    h.sack_permitted = neg_.sack;
  }
  if (retransmits_ == 0) sampler_.on_send(0, now);
  emit(OutSegment{h, 0, 0});
  syn_sent_ = true;
  snd_.nxt = snd_.iss + SeqLen(1);
  snd_.max = seq_max(snd_.max, snd_.nxt);
  if (with_ack) on_ack_sent();
  if (retransmits_ > 0) ++stats_.retransmitted_segments;
  arm_retransmit(now);
}

void Connection::resend_syn_ack(Instant now, Emit emit) {
  // Karn (RFC 6298 §3): once the SYN,ACK is sent twice its ACK gives no RTT sample.
  sampler_.on_retransmit();
  ++stats_.retransmitted_segments;
  send_syn(true, now, emit);
}

void Connection::send_ack(Instant now, Emit emit) {
  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with SND.NXT before any go-back-N rewind: the
  // peer has seen sequence numbers up to there, so its acceptability test takes it.
  emit(OutSegment{header(snd_.max, true, now), 0, 0});
  on_ack_sent();
}

void Connection::send_rst(SeqNum seq, Instant now, Emit emit) {
  // RFC 9293 §3.10.7.1 / §3.10.5: <SEQ=...><CTL=RST>, no ACK and no window.
  wire::TcpRepr h;
  h.src_port = id_.local_port;
  h.dst_port = id_.remote_port;
  h.seq = seq.raw();
  h.flags.rst = true;
  // RFC 7323 §3.2: the TSopt "SHOULD be sent in an <RST> segment"; no ACK, so TSecr 0.
  if (neg_.timestamps) h.timestamps = std::pair{ts_clock(now, ts_.offset), 0u};
  ++stats_.tx_resets;
  emit(OutSegment{h, 0, 0});
}

void Connection::retransmit_first(Instant now, Emit emit) {
  // RFC 5681 §3.2 step 3 / RFC 6582 §3.2 step 5 / RFC 6298 (5.4): resend the first
  // unacknowledged segment (with the FIN if it is all that is left of it), without
  // moving SND.NXT backwards.
  std::uint64_t una = data_off(snd_.una);
  std::uint64_t max = data_off(snd_.max);
  std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>(max - una, max_payload()));
  bool fin = fin_sent() && una + len == fin_offset_ && !fin_seq().before(snd_.una);
  if (len == 0 && !fin) return;
  OutSegment s{header(snd_.una, true, now), una, len};
  s.hdr.flags.fin = fin;
  s.hdr.flags.psh = len > 0 && una + len == max;
  emit(s);
  ++stats_.retransmitted_segments;
  stats_.retransmitted_bytes += len;
  on_ack_sent();
  SeqNum after = snd_.una + SeqLen(static_cast<std::uint32_t>(len) + (fin ? 1 : 0));
  snd_.nxt = seq_max(snd_.nxt, after);
  last_tx_ = now;
  timers_.retransmit.arm(now + rtt_.rto());
}

void Connection::hold_for_window(Instant now) {
  // Nothing in flight, so no retransmission timer will wake us: the persist timer does.
  // RFC 9293 §3.8.6.1: a zero window is probed after an RTO; RFC 9293 §3.8.6.2.1: with a
  // small window the SWS override timeout sends what fits.
  if (snd_.nxt != snd_.una || timers_.persist.armed()) return;
  probing_ = snd_.wnd == 0;
  timers_.retransmit.disarm();
  timers_.persist.arm(now + rtt_.rto());
}

bool Connection::send_data_segment(Instant now, Emit emit) {
  if (!in(state_, TcpState::Established | TcpState::CloseWait | TcpState::FinWait1 |
                      TcpState::LastAck | TcpState::Closing)) {
    return false;
  }
  skip_sacked();
  if (fin_queued_ && fin_seq().before(snd_.nxt)) return false;  // everything, FIN too, is out
  const std::uint64_t end = fin_queued_ ? fin_offset_ : sbuf_.end();
  const std::uint64_t nxt = data_off(snd_.nxt);
  // Sending again what a timeout rewound (go-back-N) stops where SACKed data begins.
  const bool resend = snd_.nxt.before(snd_.max);
  const SackRange* sacked = resend ? sack_.next_range(nxt) : nullptr;
  const std::uint64_t avail = (sacked ? std::min(end, sacked->begin) : end) - nxt;
  const std::uint64_t usable = send_window(nxt);
  const std::size_t cap = max_payload();
  std::size_t len = static_cast<std::size_t>(std::min<std::uint64_t>({avail, usable, cap}));
  bool fin = fin_queued_ && nxt + len == fin_offset_;
  if (len < avail && len < cap && !override_sws_) {
    // RFC 9293 §3.8.6.2.1 (sender SWS avoidance): a partial segment goes out only if it
    // is at least Fs = 1/2 of the largest window the peer offered.
    if (len == 0 || len < snd_.max_wnd / 2) {
      hold_for_window(now);
      return false;
    }
  } else if (len > 0 && len < cap && !opts_.nodelay && snd_.nxt != snd_.una && !fin_queued_ &&
             !override_sws_ && !resend) {
    // RFC 9293 §3.7.4 / RFC 1122 §4.2.3.4 (Nagle): while data is unacknowledged, hold a
    // small segment of new data back until an ACK arrives or a full segment can be sent
    // (LINUX: a retransmission is not held).
    return false;
  }
  if (len == 0 && !fin) return false;
  if (len > 0 && snd_.una == snd_.max && last_tx_ && now - *last_tx_ > rtt_.rto()) {
    // RFC 5681 §4.1: after an idle period longer than the RTO, restart from cwnd <= IW.
    cc_->on_idle_restart();
  }
  if (const std::size_t big = superframe_len(nxt, len, end); big > len) {
    len = big;
    fin = fin_queued_ && nxt + len == fin_offset_;
  }
  emit_data(nxt, len, fin, end, now, emit);
  return len > 0 && !fin;
}

std::uint64_t Connection::send_window(std::uint64_t nxt) const {
  const std::uint64_t in_flight = (snd_.nxt - snd_.una).value;
  const std::uint64_t rwnd = snd_.wnd > in_flight ? snd_.wnd - in_flight : 0;
  // RFC 6675 §5 (C): in SACK recovery cwnd is held against pipe by sack_recovery_send();
  // only the receiver's window limits the new data NextSeg () rule (2) sends.
  if (recovery_.active) return rwnd;
  // RFC 5681 §3.1: send no more than min(cwnd, rwnd) beyond SND.UNA, plus the RFC 3042
  // limited-transmit allowance. With SACK, octets the receiver reported are out of the
  // network (RFC 6675 §5 (3) limited transmit by pipe; §5.1 after a timeout).
  const std::uint64_t sacked = neg_.sack ? sack_.sacked_between(data_off(snd_.una), nxt) : 0;
  const std::uint64_t flight = in_flight - std::min(in_flight, sacked);
  const std::uint64_t cwnd = cc_->cwnd() + limited_transmit_;
  return std::min(rwnd, cwnd > flight ? cwnd - flight : 0);
}

void Connection::skip_sacked() {
  // RFC 6675 §5.1: after a timeout "a TCP sender SHOULD use this SACK information when
  // determining what data should be sent": the go-back-N resend hops over what the
  // receiver reported holding since.
  if (!neg_.sack || !snd_.nxt.before(snd_.max)) return;
  const std::uint64_t nxt = data_off(snd_.nxt);
  const std::uint64_t to = sack_.sacked_run_end(nxt);
  if (to > nxt) snd_.nxt = seq_min(seq_of(to), snd_.max);
}

void Connection::emit_data(std::uint64_t nxt, std::size_t len, bool fin, std::uint64_t end,
                           Instant now, Emit emit) {
  bool retransmission = snd_.nxt.before(snd_.max);
  OutSegment s{header(snd_.nxt, true, now), nxt, len};
  s.hdr.flags.fin = fin;
  s.hdr.flags.psh = len > 0 && nxt + len == end;
  // A superframe (superframe_len()): every segment the device cuts carries this header, its
  // options included, and max_payload() octets.
  if (len > max_payload()) s.gso_mss = static_cast<std::uint16_t>(max_payload());
  emit(s);
  if (retransmission) {
    ++stats_.retransmitted_segments;
    stats_.retransmitted_bytes += len;
  } else if (len > 0 && !sampler_.timing()) {
    sampler_.on_send(nxt + len, now);  // RFC 6298 §3: time one segment at a time
  }
  snd_.nxt = snd_.nxt + SeqLen(static_cast<std::uint32_t>(len) + (fin ? 1 : 0));
  snd_.max = seq_max(snd_.max, snd_.nxt);
  if (len > 0) last_tx_ = now;
  on_ack_sent();
  if (!probing_) timers_.persist.disarm();  // data in flight: the RTO timer takes over
  arm_retransmit(now);
}

std::size_t Connection::superframe_len(std::uint64_t nxt, std::size_t len,
                                       std::uint64_t end) const {
  // docs/offload.md (TCP segmentation offload): where the send loop would now send several
  // full segments of new data back to back, one OutSegment carries them all and the device
  // cuts it into max_payload()-sized segments (SMSS less the options each segment carries,
  // RFC 6691 §2). Everything else (retransmissions, probes, a short segment alone) stays
  // one segment per OutSegment, so RTT timing and loss recovery see what they always saw:
  // a lost part of a superframe comes back as one segment.
  const std::size_t mss = max_payload();
  // RFC 6675 §5 (C): in SACK recovery every segment is metered against pipe one by one.
  if (tso_max_datagram_ <= kTsoHeaderRoom || len != mss || snd_.nxt != snd_.max ||
      recovery_.active) {
    return len;
  }
  // send_window(): within min(cwnd, rwnd) of what is in flight (RFC 5681 §3.1), cwnd read
  // again after a possible idle restart; RFC 791: within one IPv4 datagram (the room
  // leaves space for the longest IPv4 and TCP headers).
  const std::uint64_t avail = end - nxt;
  const std::uint64_t total =
      std::min<std::uint64_t>({avail, send_window(nxt), tso_max_datagram_ - kTsoHeaderRoom});
  std::uint64_t out = total / mss * mss;
  // RFC 9293 §3.7.4 (Nagle): the short segment that ends the data rides along only where it
  // would leave right after the full ones anyway: with TCP_NODELAY, or once FIN is queued
  // (the sender SWS rule, §3.8.6.2.1, lets a segment that empties the buffer go).
  if (total == avail && out < total && (opts_.nodelay || fin_queued_)) out = total;
  return out > mss ? static_cast<std::size_t>(out) : len;
}

void Connection::send_probe(Instant now, Emit emit) {
  if (state_ == TcpState::Closed) return;
  if (snd_.wnd > 0) {
    // RFC 9293 §3.8.6.2.1: the SWS override timeout: send what the window allows now.
    probing_ = false;
    override_sws_ = true;
    while (send_data_segment(now, emit)) {
    }
    override_sws_ = false;
    return;
  }
  // RFC 1122 §4.2.2.17: keep probing while the peer answers; a peer that answers none
  // of R2 probes is gone (LINUX: tcp_retries2 bounds unanswered probes).
  if (probes_unanswered_ >= cfg_.max_retransmits) {
    ++stats_.timeouts;
    give_up(Errno::TimedOut, now, emit);
    return;
  }
  ++probes_unanswered_;
  ++stats_.tx_window_probes;
  std::uint64_t end = fin_queued_ ? fin_offset_ : sbuf_.end();
  std::uint64_t una = data_off(snd_.una);
  if (una < end) {
    // RFC 9293 §3.8.6.1: probe a zero window with one octet at SND.UNA; the receiver drops
    // it and answers with its window, or takes it once the window has opened.
    emit(OutSegment{header(snd_.una, true, now), una, 1});
    snd_.nxt = seq_max(snd_.nxt, snd_.una + SeqLen(1));
    snd_.max = seq_max(snd_.max, snd_.nxt);
  } else {
    // Nothing to offer: an ACK below the window makes the peer answer with its state.
    emit(OutSegment{header(snd_.una - SeqLen(1), true, now), 0, 0});
  }
  on_ack_sent();
  probing_ = true;
  // RFC 1122 §4.2.2.17: "increase exponentially the interval between successive probes",
  // capped at the maximum RTO: the first probe came one RTO after the window closed.
  ++persist_backoff_;
  Duration d = rtt_.rto() * (1u << std::min<std::uint32_t>(persist_backoff_, 10));
  if (d > cfg_.max_rto) d = cfg_.max_rto;
  timers_.persist.arm(now + d);
}

void Connection::dispatch(Instant now, Emit emit) {
  switch (state_) {
    case TcpState::Closed:
    case TcpState::Listen:
      return;
    case TcpState::TimeWait:
      if (ack_now_) send_ack(now, emit);
      return;
    case TcpState::SynSent:
      if (!syn_sent_) send_syn(false, now, emit);
      return;
    case TcpState::SynReceived:
      if (!syn_sent_)
        send_syn(true, now, emit);
      else if (ack_now_)
        send_ack(now, emit);
      return;
    case TcpState::Established:
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::CloseWait:
    case TcpState::Closing:
    case TcpState::LastAck:
      break;
  }
  if (retransmit_pending_) {
    retransmit_pending_ = false;
    retransmit_first(now, emit);
  }
  if (recovery_.active) {
    sack_recovery_send(now, emit);  // RFC 6675 §5 (C)
  } else if (!probing_) {
    while (send_data_segment(now, emit)) {
    }
  }
  if (ack_now_) send_ack(now, emit);
}

}  // namespace tapir::tcp
