// CUBIC congestion control (RFC 9438): after a congestion event the window follows the
// cubic W_cubic(t) = C*(t-K)^3 + W_max of the time since the congestion-avoidance stage
// began (§4.2), concave up to the old maximum W_max and convex beyond it (§4.4, §4.5),
// never slower than Reno's AIMD estimate W_est (§4.3). A loss multiplies the window by
// beta_cubic = 0.7 (§4.6), with fast convergence (§4.7); a timeout collapses it as Reno
// does (§4.8).
//
// Slow start is RFC 5681's (§4.10 allows it); loss recovery is the RFC 5681 §3.2 / RFC
// 6582 NewReno procedure NewReno (newreno.hpp) runs, only with CUBIC's ssthresh. Time is
// only the Instant passed to on_ack(); the RTT only what set_srtt() gives.
//
// Not implemented: HyStart++ (RFC 9406, which §4.10 recommends: without timestamps the
// connection takes one RTT sample per round, fewer than its N_RTT_SAMPLE), undoing
// spurious congestion events (§4.9, optional), ECN (§4.6's reduction on ECE). See
// docs/conformance.md.
#pragma once

#include <cstdint>
#include <optional>

#include "tcp/congestion.hpp"
#include "tcp/fast_recovery.hpp"

namespace tapir::tcp {

struct CubicConfig {
  // SMSS: the largest segment the sender may transmit (RFC 5681 §2).
  std::uint32_t smss = 536;
  // 0 means RFC 5681 §3.1 equation (1). LINUX: Linux starts with 10 segments (RFC 6928).
  std::uint32_t initial_window_segments = 0;
  std::uint64_t initial_ssthresh = kMaxAdvertisedWindow;
  // 0 means the initial window. LINUX: switching algorithms (TCP_CONGESTION) keeps cwnd.
  std::uint64_t initial_cwnd = 0;
  // RFC 9438 §4.7: fast convergence "SHOULD be implemented", and SHOULD be disabled for
  // a flow known to be alone on its path, which a host cannot tell (LINUX: on).
  bool fast_convergence = true;
  // RFC 6582 §3.2 step 4, as NewRenoConfig::impatient.
  bool impatient = true;
  // RFC 5681 §3.2: fast retransmit on the third duplicate ACK.
  std::uint32_t dup_ack_threshold = 3;
};

class Cubic final : public CongestionControl {
 public:
  explicit Cubic(CubicConfig cfg = {});

  std::string_view name() const override { return "cubic"; }
  AckResponse on_ack(std::uint64_t acked_bytes, const Flight& flight, Instant now) override;
  AckResponse on_dup_ack(const Flight& flight, Instant now) override;
  void on_loss_fast_retransmit(const Flight& flight) override;
  void on_rto(const Flight& flight) override;
  void on_idle_restart() override;
  void set_srtt(Duration srtt) override { srtt_ = srtt; }
  std::uint64_t cwnd() const override { return cwnd_; }
  std::uint64_t ssthresh() const override { return ssthresh_; }
  bool in_recovery() const override { return rec_.active(); }

  // RFC 9438 §4.1.2 variables, in segments and seconds as the RFC states them.
  double w_max() const { return w_max_; }
  double k() const { return k_; }
  double w_est() const { return w_est_; }
  double cwnd_prior() const { return cwnd_prior_; }
  double cwnd_epoch() const { return cwnd_epoch_; }
  // t_epoch, shifted forward by application-limited time (§5.8); absent outside a
  // congestion-avoidance stage.
  std::optional<Instant> epoch_start() const { return t_epoch_; }
  // alpha_cubic of §4.3 now: 3*(1-beta)/(1+beta), or 1 once W_est reached cwnd_prior.
  double alpha() const { return alpha_; }
  std::uint64_t recover() const { return rec_.recover(); }
  std::uint32_t dup_acks() const { return rec_.dup_acks(); }
  std::uint64_t initial_window() const { return iw_; }
  const CubicConfig& config() const { return cfg_; }

 private:
  void congestion_avoidance(std::uint64_t acked_bytes, const Flight& flight, Instant now);
  void start_epoch(Instant now);
  void reduce(const Flight& flight);
  std::uint64_t beta_ssthresh(const Flight& flight) const;
  double w_cubic(double t) const;
  void grow_to(double segments);

  CubicConfig cfg_;
  std::uint64_t smss_;
  std::uint64_t iw_;
  std::uint64_t cwnd_;
  std::uint64_t ssthresh_;
  double cwnd_frac_ = 0;  // growth below one byte, carried to the next ACK
  Duration srtt_{0};      // 0 until the connection has a sample

  // RFC 9438 §4.1.2.
  double w_max_ = 0;
  bool w_max_set_ = false;  // by a congestion event; a timeout clears it (§4.8)
  double k_ = 0;
  double cwnd_prior_ = 0;
  double cwnd_epoch_ = 0;
  double w_est_ = 0;
  double alpha_;
  std::optional<Instant> t_epoch_;
  Instant last_ca_ack_;  // the previous ACK in this congestion-avoidance stage

  // Loss recovery, as NewReno (RFC 5681 §3.2, RFC 6582 §3.2).
  FastRecovery rec_;
  bool timed_out_ = false;
};

}  // namespace tapir::tcp
