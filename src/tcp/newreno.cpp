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
      ssthresh_(cfg.initial_ssthresh),
      rec_({cfg.smss, cfg.dup_ack_threshold, cfg.impatient}) {}

std::uint64_t NewReno::loss_ssthresh(const Flight& flight) const {
  // RFC 5681 §3.1 equation (4): ssthresh = max (FlightSize / 2, 2*SMSS)
  return std::max(flight.size() / 2, 2 * smss_);
}

AckResponse NewReno::on_ack(std::uint64_t acked_bytes, const Flight& flight, Instant /*now*/) {
  // An ACK of new data ends any run of duplicates, and shows the timed-out segment arrived.
  rec_.on_new_ack();
  timed_out_ = false;
  if (rec_.active()) {
    const AckResponse r = rec_.on_ack(cwnd_, ssthresh_, acked_bytes, flight);
    if (!rec_.active()) bytes_acked_ = 0;
    return r;
  }
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

AckResponse NewReno::on_dup_ack(const Flight& flight, Instant /*now*/) {
  return dup_ack_response(rec_.on_dup_ack(cwnd_, flight), [&] { on_loss_fast_retransmit(flight); });
}

void NewReno::on_loss_fast_retransmit(const Flight& flight) {
  // RFC 5681 §3.2 step 2: ssthresh no more than equation (4).
  ssthresh_ = loss_ssthresh(flight);
  // RFC 6582 §3.2 step 1, RFC 5681 §3.2 step 3.
  rec_.enter(cwnd_, ssthresh_, flight);
  bytes_acked_ = 0;
}

void NewReno::on_rto(const Flight& flight) {
  // RFC 5681 §3.1: equation (4) applies when "the given segment has not yet been resent
  // by way of the retransmission timer"; a repeated timeout keeps ssthresh.
  if (!timed_out_) ssthresh_ = loss_ssthresh(flight);
  // RFC 5681 §3.1: "cwnd MUST be set to no more than the loss window, LW, which equals
  // 1 full-sized segment".
  cwnd_ = smss_;
  rec_.on_rto(flight);  // RFC 6582 §3.2 step 5
  // RFC 3465 §2.1: bytes_acked restarts after a retransmission timeout.
  bytes_acked_ = 0;
  timed_out_ = true;
}

void NewReno::on_idle_restart() {
  // RFC 5681 §4.1: cwnd no more than RW = min (IW, cwnd) after an idle RTO.
  cwnd_ = std::min(cwnd_, iw_);
}

}  // namespace tapir::tcp
