// Selective acknowledgements on a connection: the receiver's SACK blocks (RFC 2018 §4),
// the sender's scoreboard updates (RFC 2018 §5, RFC 6675 §4 Update) and RFC 6675 §5 loss
// recovery: entering it on DupThresh duplicate ACKs or IsLost(HighACK), and sending by
// pipe and NextSeg() while it lasts. Read first: RFC 2018 §3-§5 and §8, RFC 6675 §2-§5.
// The scoreboard's routines themselves are in sack_scoreboard.cpp; timeouts (RFC 6675
// §5.1) are handled in connection.cpp, the end of recovery (§5 (A)) in input.cpp.
#include <algorithm>
#include <array>

#include "tcp/connection.hpp"

namespace tapir::tcp {

namespace {
// RFC 2018 §3: a SACK option takes 2 octets of kind and length, plus the two NOPs that
// align it, and 8 octets per block.
constexpr std::size_t kSackOptionBase = 4;
constexpr std::size_t kSackBlockSpace = 8;
// RFC 2018 §3: with the Timestamps option (12 octets) at most 3 blocks fit in the 40
// octets of options, 4 without.
constexpr std::size_t kMaxBlocksWithTimestamps = 3;
constexpr std::size_t kMaxBlocks = 4;
// Never let SACK blocks shrink a segment's payload below this many octets.
constexpr std::size_t kMinPayloadWithSack = 64;
}  // namespace

// ---- Receiver: RFC 2018 §4 ----

std::size_t Connection::max_payload() const {
  // RFC 6691 §2: the MSS counts data only, so the option octets of a segment come out of
  // its payload: SMSS already leaves room for timestamps (take_syn_options), and SACK
  // blocks (RFC 2018 §3) take theirs from the segments that carry them.
  const std::size_t n = sack_blocks_to_send();
  return neg_.smss - (n == 0 ? 0 : kSackOptionBase + n * kSackBlockSpace);
}

std::size_t Connection::sack_blocks_to_send() const {
  // RFC 2018 §4: "If the data receiver has not received a SACK-Permitted option for a
  // given connection, it MUST NOT send SACK options on that connection"; with it, SACK
  // goes in every ACK while out-of-order data is held.
  if (!neg_.sack) return 0;
  std::size_t n =
      std::min(rcv_.ranges().size(), neg_.timestamps ? kMaxBlocksWithTimestamps : kMaxBlocks);
  while (n > 0 && kSackOptionBase + n * kSackBlockSpace + kMinPayloadWithSack > neg_.smss) --n;
  return n;
}

void Connection::add_sack_blocks(wire::TcpRepr& h) {
  const std::size_t n = sack_blocks_to_send();
  if (n == 0) return;
  // RFC 2018 §4: "The first SACK block ... MUST specify the contiguous block of data
  // containing the segment which triggered this ACK, unless that segment advanced the
  // Acknowledgment Number field", and the rest repeat the most recently reported blocks:
  // the ranges most recently touched, newest first. When the segment advanced RCV.NXT
  // (a hole filled, often by a retransmission), the free first place goes to the lowest
  // range, the one just past the next hole: the sender learns where that hole ends, which
  // it cannot know after a timeout has cleared its scoreboard (RFC 6675 §5.1).
  std::array<const Range*, kMaxBlocks> pick{};
  std::size_t have = 0;
  const Range* lowest = sack_after_advance_ ? &rcv_.ranges().front() : nullptr;
  if (lowest) pick[have++] = lowest;
  const std::size_t fixed = have;  // places not open to the recency order
  for (const Range& r : rcv_.ranges()) {
    if (&r == lowest) continue;
    std::size_t i;
    if (have < n) {
      i = have++;
    } else if (n > fixed && r.arrival > pick[n - 1]->arrival) {
      i = n - 1;
    } else {
      continue;
    }
    while (i > fixed && pick[i - 1]->arrival < r.arrival) {
      pick[i] = pick[i - 1];
      --i;
    }
    pick[i] = &r;
  }
  const SeqNum base = rcv_seq_.irs + SeqLen(1);
  for (std::size_t i = 0; i < n; ++i) {
    h.sack[i] = {(base + SeqLen(static_cast<std::uint32_t>(pick[i]->begin))).raw(),
                 (base + SeqLen(static_cast<std::uint32_t>(pick[i]->end))).raw()};
  }
  h.sack_count = static_cast<std::uint8_t>(n);
  stats_.sack_blocks_sent += n;
}

// ---- Sender: RFC 2018 §5, RFC 6675 §4 Update() ----

std::uint64_t Connection::take_sack_blocks(const wire::TcpRepr& seg, SeqNum una_after) {
  std::array<SackRange, wire::tcp_option::kMaxSackBlocks> blocks{};
  std::size_t n = 0;
  const std::size_t count = std::min<std::size_t>(seg.sack_count, blocks.size());
  for (std::size_t i = 0; i < count; ++i) {
    ++stats_.sack_blocks_received;
    SeqNum left(seg.sack[i].left);
    const SeqNum right(seg.sack[i].right);
    // A block must hold octets we sent and that are not yet cumulatively acknowledged:
    // empty or inverted blocks, blocks past SND.NXT (RFC 5961's rule for ACKs, applied to
    // SACK) and blocks at or below SND.UNA (stale, or RFC 2883 D-SACK, not implemented)
    // are ignored; one straddling SND.UNA keeps its part above it.
    if (!left.before(right) || right.after(snd_.max) || right.before_eq(una_after)) {
      ++stats_.sack_blocks_ignored;
      continue;
    }
    if (left.before(una_after)) left = una_after;
    blocks[n++] = {data_off(left), data_off(right)};
  }
  return sack_.update(std::span<const SackRange>(blocks.data(), n));
}

void Connection::on_sack_ack(bool cumulative, std::uint64_t newly_sacked) {
  // RFC 6675 §5: "If the incoming ACK is a cumulative acknowledgment, the TCP MUST reset
  // DupAcks to zero"; §2: an ACK that SACKs octets not SACKed before is a duplicate
  // acknowledgment, even one that also moves the cumulative ACK.
  if (cumulative) recovery_.dup_acks = 0;
  if (newly_sacked == 0) return;
  ++recovery_.dup_acks;
  ++stats_.rx_dup_acks;
  // In recovery, §5 (B): the scoreboard is updated; dispatch() sends by pipe (C).
  if (recovery_.active) return;
  const std::uint64_t una = data_off(snd_.una);
  // RFC 6675 §5 (1) DupAcks >= DupThresh, or (2) IsLost (HighACK + 1): loss.
  if (recovery_.dup_acks < SackScoreboard::kDupThresh && !sack_.is_lost(una, neg_.smss)) {
    // (3): limited transmit (RFC 3042); send_data_segment counts the SACKed octets out
    // of the flight, so each SACKed segment lets one new segment out.
    return;
  }
  // "If no previous loss event has occurred on the connection or the cumulative
  // acknowledgment point is beyond the last value of RecoveryPoint" (RFC 6675 §5; §5.1
  // after a timeout).
  if (una < recovery_.recovery_point) return;
  enter_sack_recovery();
}

void Connection::enter_sack_recovery() {
  const std::uint64_t una = data_off(snd_.una);
  const std::uint64_t max = data_off(snd_.max);
  ++stats_.sack_recoveries;
  ++stats_.fast_retransmits;
  // RFC 6675 §5 (4.2): ssthresh = cwnd = FlightSize / 2, by the congestion controller's
  // own rule (RFC 5681 §3.2 equation (4) for NewReno); recovery then sends against
  // ssthresh and pipe (sack_recovery_send).
  cc_->on_loss_fast_retransmit(Flight{una, max});
  // (4.1) RecoveryPoint = HighData; (4.3) is the first send of sack_recovery_send().
  recovery_.active = true;
  recovery_.entry_pending = true;
  recovery_.recovery_point = max;
  recovery_.high_rxt = una;
  recovery_.rescue_rxt.reset();
  limited_transmit_ = 0;
  sampler_.on_retransmit();  // Karn (RFC 6298 §3)
}

// ---- Sender: RFC 6675 §5 (C), sending during recovery ----

bool Connection::new_data_allowed() const {
  // NextSeg () rule (2): "there exists available unsent data and the receiver's
  // advertised window allows".
  const std::uint64_t end = fin_queued_ ? fin_offset_ : sbuf_.end();
  const bool unsent = data_off(snd_.nxt) < end || (fin_queued_ && !fin_sent());
  return unsent && (snd_.nxt - snd_.una).value < snd_.wnd;
}

void Connection::retransmit_range(std::uint64_t begin, std::size_t len, Instant now, Emit emit) {
  const std::uint64_t max = data_off(snd_.max);
  OutSegment s{header(seq_of(begin), true, now), begin, len};
  // The FIN goes again with the data it followed.
  s.hdr.flags.fin = fin_sent() && begin + len == fin_offset_;
  s.hdr.flags.psh = len > 0 && begin + len == max;
  emit(s);
  ++stats_.retransmitted_segments;
  stats_.retransmitted_bytes += len;
  sampler_.on_retransmit();
  on_ack_sent();
  last_tx_ = now;
  arm_retransmit(now);  // RFC 6298 (5.1): only if not running
}

void Connection::sack_recovery_send(Instant now, Emit emit) {
  const std::uint32_t smss = neg_.smss;
  if (recovery_.entry_pending) {
    recovery_.entry_pending = false;
    // RFC 6675 §5 (4.3): "Retransmit the first data segment presumed dropped -- the
    // segment starting with sequence number HighACK + 1", then "set both HighRxt and
    // RescueRxt to the highest sequence number in the retransmitted segment".
    const std::uint64_t una = data_off(snd_.una);
    std::uint64_t end = std::min<std::uint64_t>(data_off(snd_.max), una + max_payload());
    if (const SackRange* r = sack_.next_range(una)) end = std::min(end, r->begin);
    if (end > una) {
      retransmit_range(una, static_cast<std::size_t>(end - una), now, emit);
    } else {
      retransmit_first(now, emit);  // only the FIN is outstanding
    }
    recovery_.high_rxt = end;
    recovery_.rescue_rxt = end;
  }
  // (C): "If cwnd - pipe >= 1 SMSS, the sender SHOULD transmit one or more segments";
  // cwnd is the ssthresh the loss set (4.2). Each pass sends at most one segment, so the
  // loop ends after at most a window of them.
  const std::uint64_t cwnd = cc_->ssthresh();
  for (;;) {
    const std::uint64_t una = data_off(snd_.una);
    const std::uint64_t max = data_off(snd_.max);
    // (C.4) is SetPipe () run again: the octets just sent count as in flight.
    const std::uint64_t pipe = sack_.pipe(una, max, recovery_.high_rxt, smss);
    if (pipe + smss > cwnd) return;
    // (C.1): NextSeg (); (C.5) loops.
    auto next = sack_.next_seg({.una = una,
                                .high_data = max,
                                .high_rxt = recovery_.high_rxt,
                                .rescue_rxt = recovery_.rescue_rxt,
                                .smss = smss,
                                .max_len = max_payload(),
                                .new_data = new_data_allowed()});
    if (!next) return;
    switch (next->rule) {
      case NextSegment::Rule::NewData: {
        // (C.3): HighData grows with previously unsent data.
        const SeqNum before = snd_.max;
        send_data_segment(now, emit);
        if (snd_.max == before) return;  // held back (Nagle, SWS): nothing more to do
        break;
      }
      case NextSegment::Rule::Lost:
      case NextSegment::Rule::Unsacked:
        retransmit_range(next->begin, static_cast<std::size_t>(next->len), now, emit);
        // (C.2): "HighRxt MUST be set to the highest sequence number of the retransmitted
        // segment unless NextSeg () rule (4) was invoked".
        recovery_.high_rxt = std::max(recovery_.high_rxt, next->begin + next->len);
        break;
      case NextSegment::Rule::Rescue:
        retransmit_range(next->begin, static_cast<std::size_t>(next->len), now, emit);
        ++stats_.sack_rescue_retransmits;
        // Rule (4): "RescueRxt set to RecoveryPoint. HighRxt MUST NOT be updated."
        recovery_.rescue_rxt = recovery_.recovery_point;
        break;
    }
  }
}

}  // namespace tapir::tcp
