#include "tcp/newreno.hpp"

#include <algorithm>

namespace tapir::tcp {

NewReno::NewReno(NewRenoConfig cfg)
    : cfg_(cfg),
      smss_(cfg.smss),
      // RFC 5681 §3.1 equation (1), unless configured in segments.
      iw_(cfg.initial_window_segments ? std::uint64_t{cfg.initial_window_segments} * cfg.smss
                                      : rfc5681_initial_window(cfg.smss)),
      cwnd_(cfg.initial_cwnd ? cfg.initial_cwnd : iw_),
      // RFC 5681 §3.1: "The initial value of ssthresh SHOULD be set arbitrarily high".
      ssthresh_(cfg.initial_ssthresh) {}

std::uint64_t NewReno::loss_ssthresh(const Flight& flight) const {
  // RFC 5681 §3.1 equation (4): ssthresh = max (FlightSize / 2, 2*SMSS)
  return std::max(flight.size() / 2, 2 * smss_);
}

AckResponse NewReno::on_ack(std::uint64_t acked_bytes, const Flight& flight, Instant /*now*/) {
  // An ACK of new data ends any run of duplicates, and shows the timed-out segment arrived.
  dup_acks_ = 0;
  timed_out_ = false;
  if (in_recovery_) return on_recovery_ack(acked_bytes, flight);
  grow(acked_bytes);
  return {LossAction::None, true};
}

void NewReno::grow(std::uint64_t acked_bytes) {
  if (cwnd_ < ssthresh_) {
    // RFC 5681 §3.1 equation (2), slow start: cwnd += min (N, SMSS)
    cwnd_ += std::min(acked_bytes, smss_);
    return;
  }
  if (cfg_.byte_counting) {
    // RFC 5681 §3.1 / RFC 3465 §2.1: once a full cwnd of bytes is acknowledged, cwnd +=
    // SMSS ("cwnd MUST NOT be increased by more than SMSS bytes per RTT").
    bytes_acked_ += acked_bytes;
    if (bytes_acked_ >= cwnd_) {
      bytes_acked_ -= cwnd_;
      cwnd_ += smss_;
    }
    return;
  }
  // RFC 5681 §3.1 equation (3): cwnd += SMSS*SMSS/cwnd, at least 1 byte ("if this
  // formula yields 0, the result SHOULD be rounded up to 1 byte").
  cwnd_ += std::max<std::uint64_t>(1, smss_ * smss_ / cwnd_);
}

AckResponse NewReno::on_recovery_ack(std::uint64_t acked_bytes, const Flight& flight) {
  if (flight.una >= recover_) {
    // RFC 6582 §3.2 step 4, full acknowledgment: set cwnd to option (1),
    // min (ssthresh, max(FlightSize, SMSS) + SMSS), which avoids a burst, then exit.
    cwnd_ = std::min(ssthresh_, std::max(flight.size(), smss_) + smss_);
    in_recovery_ = false;
    bytes_acked_ = 0;
    return {LossAction::None, true};
  }
  // RFC 6582 §3.2 step 4, partial acknowledgment: "Deflate the congestion window by the
  // amount of new data acknowledged", then "add back SMSS bytes" if at least one SMSS was
  // acknowledged. cwnd stays at one segment or more, so the retransmission always fits.
  cwnd_ = cwnd_ > acked_bytes ? cwnd_ - acked_bytes : 0;
  if (acked_bytes >= smss_) cwnd_ += smss_;
  cwnd_ = std::max(cwnd_, smss_);
  ++partial_acks_;
  // RFC 6582 §3.2 step 4: "For the first partial ACK ... also reset the retransmit timer";
  // the Impatient variant resets only then, Slow-but-Steady on each one.
  const bool restart = !cfg_.impatient || partial_acks_ == 1;
  return {LossAction::RetransmitFirstUnacked, restart};
}

AckResponse NewReno::on_dup_ack(const Flight& flight, Instant /*now*/) {
  if (in_recovery_) {
    // RFC 5681 §3.2 step 4 / RFC 6582 §3.2 step 3: "For each additional duplicate ACK
    // received (after the third), cwnd MUST be incremented by SMSS."
    cwnd_ += smss_;
    return {};
  }
  ++dup_acks_;
  if (dup_acks_ < cfg_.dup_ack_threshold) return {LossAction::LimitedTransmit, false};
  if (dup_acks_ > cfg_.dup_ack_threshold) return {};
  // RFC 6582 §3.2 step 1: enter fast retransmit only "if the Cumulative Acknowledgment
  // field covers more than recover"; otherwise do not, and do not reset ssthresh. This
  // keeps duplicate ACKs after a timeout or a finished recovery from starting another.
  if (flight.una < recover_) return {};
  on_loss_fast_retransmit(flight);
  return {LossAction::FastRetransmit, false};
}

void NewReno::on_loss_fast_retransmit(const Flight& flight) {
  // RFC 5681 §3.2 step 2: ssthresh no more than equation (4).
  ssthresh_ = loss_ssthresh(flight);
  // RFC 6582 §3.2 step 1: "recover is incremented to the value of the highest sequence
  // number transmitted by the TCP so far".
  recover_ = flight.max;
  // RFC 5681 §3.2 step 3: cwnd = ssthresh + 3*SMSS, one SMSS per duplicate ACK seen.
  cwnd_ = ssthresh_ + std::uint64_t{cfg_.dup_ack_threshold} * smss_;
  in_recovery_ = true;
  partial_acks_ = 0;
  bytes_acked_ = 0;
}

void NewReno::on_rto(const Flight& flight) {
  // RFC 5681 §3.1: equation (4) applies when "the given segment has not yet been resent
  // by way of the retransmission timer"; a repeated timeout keeps ssthresh.
  if (!timed_out_) ssthresh_ = loss_ssthresh(flight);
  // RFC 5681 §3.1: "cwnd MUST be set to no more than the loss window, LW, which equals
  // 1 full-sized segment".
  cwnd_ = smss_;
  // RFC 6582 §3.2 step 5: "record the highest sequence number transmitted in the variable
  // recover, and exit the fast recovery procedure if applicable".
  recover_ = std::max(recover_, flight.max);
  in_recovery_ = false;
  dup_acks_ = 0;
  // RFC 3465 §2.1: bytes_acked restarts after a retransmission timeout.
  bytes_acked_ = 0;
  timed_out_ = true;
}

void NewReno::on_idle_restart() {
  // RFC 5681 §4.1: cwnd no more than RW = min (IW, cwnd) after an idle RTO.
  cwnd_ = std::min(cwnd_, iw_);
}

}  // namespace tapir::tcp
