#include "tcp/cubic.hpp"

#include <algorithm>
#include <cmath>

namespace tapir::tcp {

namespace {
// RFC 9438 §4.1.1 constants.
constexpr double kC = 0.4;          // segments/s^3; §5 explains the value
constexpr double kBetaCubic = 0.7;  // "beta_cubic SHOULD be set to 0.7" (§4.6)
constexpr double kAlphaCubic = 3 * (1 - kBetaCubic) / (1 + kBetaCubic);  // §4.3 Figure 4

double seconds(Duration d) { return static_cast<double>(d.count()) / 1e6; }
}  // namespace

Cubic::Cubic(CubicConfig cfg)
    : cfg_(cfg),
      smss_(cfg.smss),
      // RFC 5681 §3.1 equation (1), unless configured in segments.
      iw_(cfg.initial_window_segments ? std::uint64_t{cfg.initial_window_segments} * cfg.smss
                                      : rfc5681_initial_window(cfg.smss)),
      cwnd_(cfg.initial_cwnd ? cfg.initial_cwnd : iw_),
      // RFC 5681 §3.1: "The initial value of ssthresh SHOULD be set arbitrarily high".
      ssthresh_(cfg.initial_ssthresh),
      alpha_(kAlphaCubic),
      rec_({cfg.smss, cfg.dup_ack_threshold, cfg.impatient}) {}

AckResponse Cubic::on_ack(std::uint64_t acked_bytes, const Flight& flight, Instant now) {
  // An ACK of new data ends any run of duplicates, and shows the timed-out segment arrived.
  rec_.on_new_ack();
  timed_out_ = false;
  // RFC 6582 §3.2 step 4; after a full ACK CUBIC's stage begins from there (RFC 9438 §4.2).
  if (rec_.active()) return rec_.on_ack(cwnd_, ssthresh_, acked_bytes, flight);
  if (cwnd_ < ssthresh_) {
    // RFC 9438 §4.10: "MUST employ a slow-start algorithm" below ssthresh; Reno's is
    // allowed. RFC 5681 §3.1 equation (2): cwnd += min (N, SMSS).
    cwnd_ += std::min(acked_bytes, smss_);
  } else {
    congestion_avoidance(acked_bytes, flight, now);
  }
  return {LossAction::None, true};
}

double Cubic::w_cubic(double t) const {
  // RFC 9438 §4.2 Figure 1: W_cubic(t) = C*(t-K)^3 + W_max
  const double d = t - k_;
  return kC * d * d * d + w_max_;
}

void Cubic::start_epoch(Instant now) {
  const double cwnd = static_cast<double>(cwnd_) / static_cast<double>(smss_);
  // RFC 9438 §4.1.2: t_epoch and cwnd_epoch mark the start of the stage.
  t_epoch_ = now;
  last_ca_ack_ = now;
  cwnd_epoch_ = cwnd;
  // RFC 9438 §4.3: "W_est is set equal to cwnd_epoch at the start of the congestion
  // avoidance stage".
  w_est_ = cwnd;
  if (!w_max_set_) {
    // RFC 9438 §4.8 (the first stage after a timeout) and §4.10 (slow start left without
    // a loss): "K is set to 0, and W_max is set to the congestion window size at the
    // beginning of the current congestion avoidance stage"; §4.10 also sets cwnd_prior.
    if (cwnd_prior_ == 0) cwnd_prior_ = cwnd;
    w_max_ = cwnd;
    w_max_set_ = true;
    k_ = 0;
    return;
  }
  // RFC 9438 §4.2 Figure 2: K = cubic_root((W_max - cwnd_epoch)/C); negative when the
  // stage starts above W_max, which puts it in the convex region at once.
  k_ = std::cbrt((w_max_ - cwnd) / kC);
}

void Cubic::congestion_avoidance(std::uint64_t acked_bytes, const Flight& flight, Instant now) {
  // RFC 9438 §5.8: an application-limited flow (less in flight than cwnd allows, by the
  // application or the peer's window) does not grow cwnd, and t of Figure 1 must not
  // include application-limited periods: the epoch moves forward by that time. Before
  // this ACK, flight.size() + acked_bytes was in flight; a whole SMSS unused is limited.
  const bool app_limited = flight.size() + acked_bytes + smss_ <= cwnd_;
  if (!t_epoch_) {
    start_epoch(now);
  } else if (app_limited) {
    *t_epoch_ += now - last_ca_ack_;
  }
  last_ca_ack_ = now;
  if (app_limited) return;

  const double smss = static_cast<double>(smss_);
  const double cwnd = static_cast<double>(cwnd_) / smss;
  // RFC 9438 §4.1.2 segments_acked: "a decimal value when a new ACK acknowledges an amount
  // of data that is not SMSS-sized".
  const double segments_acked = static_cast<double>(acked_bytes) / smss;
  // RFC 9438 §4.2: t = t_current - t_epoch, in seconds.
  const double t = seconds(now - *t_epoch_);
  // RFC 9438 §4.3 Figure 4: W_est = W_est + alpha_cubic * segments_acked / cwnd
  w_est_ += alpha_ * segments_acked / cwnd;
  // RFC 9438 §4.3: "Once W_est has grown to reach the cwnd at the time of most recently
  // setting ssthresh -- that is, W_est >= cwnd_prior -- the sender SHOULD set alpha_cubic
  // to 1", Reno's AIMD(1, 0.5) rate.
  if (w_est_ >= cwnd_prior_) alpha_ = 1;
  if (w_cubic(t) < w_est_) {
    // RFC 9438 §4.3: "If W_cubic(t) is less than W_est, then CUBIC is in the Reno-friendly
    // region and cwnd SHOULD be set to W_est"; cwnd never shrinks on an ACK.
    grow_to(std::max(cwnd, w_est_));
    return;
  }
  // RFC 9438 §4.2: target = W_cubic(t + RTT) bounded to [cwnd, 1.5*cwnd], RTT the SRTT.
  const double target = std::clamp(w_cubic(t + seconds(srtt_)), cwnd, 1.5 * cwnd);
  // RFC 9438 §4.4 (concave, cwnd < W_max) and §4.5 (convex, cwnd >= W_max): "cwnd MUST be
  // incremented by (target - cwnd)/cwnd for each received new ACK". LINUX: per SMSS
  // acknowledged, so that delayed or stretch ACKs still reach target in one RTT.
  grow_to(cwnd + (target - cwnd) / cwnd * segments_acked);
}

void Cubic::grow_to(double segments) {
  // cwnd stays in whole bytes; the fraction of a byte is carried, not lost.
  const double gain = (segments - static_cast<double>(cwnd_) / static_cast<double>(smss_)) *
                          static_cast<double>(smss_) +
                      cwnd_frac_;
  if (gain <= 0) return;
  const double whole = std::floor(gain);
  cwnd_frac_ = gain - whole;
  cwnd_ += static_cast<std::uint64_t>(whole);
}

std::uint64_t Cubic::beta_ssthresh(const Flight& flight) const {
  // RFC 9438 §4.6 Figure 5: ssthresh = flight_size * beta_cubic, and "ssthresh =
  // max(ssthresh, 2)": at least 2 SMSS, as RFC 5681 equation (4).
  // In integers, beta_cubic = 7/10, so that no rounding of 0.7 can drop a byte.
  return std::max(flight.size() * 7 / 10, 2 * smss_);
}

void Cubic::reduce(const Flight& flight) {
  const double cwnd = static_cast<double>(cwnd_) / static_cast<double>(smss_);
  if (cfg_.fast_convergence && w_max_set_ && cwnd < w_max_) {
    // RFC 9438 §4.7 Figure 6: a flow losing below its previous W_max releases bandwidth
    // for new flows: W_max = cwnd * (1 + beta_cubic) / 2.
    w_max_ = cwnd * (1 + kBetaCubic) / 2;
  } else {
    // RFC 9438 §4.6 / §4.7: W_max is cwnd just before the reduction.
    w_max_ = cwnd;
  }
  w_max_set_ = true;
  // RFC 9438 §4.6 Figure 5: cwnd_prior = cwnd; ssthresh from beta_cubic.
  cwnd_prior_ = cwnd;
  ssthresh_ = beta_ssthresh(flight);
  // A new congestion-avoidance stage starts once the window is back at ssthresh, with
  // alpha_cubic back at its AIMD value (§4.3).
  t_epoch_.reset();
  alpha_ = kAlphaCubic;
  cwnd_frac_ = 0;
}

AckResponse Cubic::on_dup_ack(const Flight& flight, Instant /*now*/) {
  return dup_ack_response(rec_.on_dup_ack(cwnd_, flight), [&] { on_loss_fast_retransmit(flight); });
}

void Cubic::on_loss_fast_retransmit(const Flight& flight) {
  // RFC 9438 §4.6: "the sender MUST reduce cwnd and ssthresh immediately upon entering
  // loss recovery, similar to [RFC5681]".
  reduce(flight);
  // RFC 6582 §3.2 step 1, RFC 5681 §3.2 step 3: cwnd = ssthresh + 3*SMSS for the segments
  // that left the network (at least the 2 SMSS of RFC 9438 Figure 5).
  rec_.enter(cwnd_, ssthresh_, flight);
}

void Cubic::on_rto(const Flight& flight) {
  if (!timed_out_) {
    // RFC 9438 §4.8: "CUBIC follows Reno to reduce cwnd [RFC5681] but sets ssthresh using
    // beta_cubic (same as in Section 4.6)". RFC 5681 §3.1: a repeated timeout of the same
    // segment keeps ssthresh.
    cwnd_prior_ = static_cast<double>(cwnd_) / static_cast<double>(smss_);
    ssthresh_ = beta_ssthresh(flight);
  }
  // RFC 5681 §3.1: cwnd is the loss window, one full-sized segment.
  cwnd_ = smss_;
  rec_.on_rto(flight);  // RFC 6582 §3.2 step 5: record recover and leave fast recovery
  timed_out_ = true;
  // RFC 9438 §4.8: the first congestion-avoidance stage after a timeout starts with K = 0
  // and W_max = W_est = cwnd_epoch.
  w_max_set_ = false;
  t_epoch_.reset();
  alpha_ = kAlphaCubic;
  cwnd_frac_ = 0;
}

void Cubic::on_idle_restart() {
  // RFC 5681 §4.1: cwnd no more than RW = min (IW, cwnd) after an idle RTO.
  cwnd_ = std::min(cwnd_, iw_);
  // RFC 9438 §5.8: idle time is not part of t; the next stage starts afresh (W_max kept).
  t_epoch_.reset();
  cwnd_frac_ = 0;
}

}  // namespace tapir::tcp
