// NewReno congestion control: RFC 5681 §3.1 (slow start, congestion avoidance, the RTO
// loss window), RFC 5681 §3.2 (fast retransmit on the third duplicate ACK, fast recovery
// with window inflation), and RFC 6582 §3.2 (NewReno: `recover`, partial and full ACKs).
// Limited transmit (RFC 3042) is signalled, not enforced: the connection sends.
//
// Not implemented: SACK-based recovery (RFC 6675), the RFC 6582 §4 heuristics for
// duplicate ACKs after a timeout (the `recover` check of step 1 is used instead), and
// ECN (RFC 3168).
#pragma once

#include <cstdint>

#include "tcp/congestion.hpp"
#include "tcp/fast_recovery.hpp"

namespace tapir::tcp {

struct NewRenoConfig {
  // SMSS: the largest segment the sender may transmit (RFC 5681 §2).
  std::uint32_t smss = 536;
  // 0 means RFC 5681 §3.1 equation (1). LINUX: Linux starts with 10 segments (RFC 6928).
  std::uint32_t initial_window_segments = 0;
  std::uint64_t initial_ssthresh = kMaxAdvertisedWindow;
  // 0 means the initial window. LINUX: switching algorithms (TCP_CONGESTION) keeps cwnd.
  std::uint64_t initial_cwnd = 0;
  // RFC 5681 §3.1: counting acknowledged bytes is the RECOMMENDED congestion-avoidance
  // increase (RFC 3465 §2.1); false uses equation (3), SMSS*SMSS/cwnd per ACK.
  bool byte_counting = true;
  // RFC 6582 §3.2 step 4 restarts the retransmission timer on the first partial ACK only
  // (RFC 6582 calls this the "Impatient" variant); false gives its "Slow-but-Steady"
  // variant, which restarts it on every partial ACK.
  bool impatient = true;
  // RFC 5681 §3.2: fast retransmit on the third duplicate ACK.
  std::uint32_t dup_ack_threshold = 3;
};

class NewReno final : public CongestionControl {
 public:
  explicit NewReno(NewRenoConfig cfg = {});

  std::string_view name() const override { return "newreno"; }
  AckResponse on_ack(std::uint64_t acked_bytes, const Flight& flight, Instant now) override;
  AckResponse on_dup_ack(const Flight& flight, Instant now) override;
  void on_loss_fast_retransmit(const Flight& flight) override;
  void on_rto(const Flight& flight) override;
  void on_idle_restart() override;
  std::uint64_t cwnd() const override { return cwnd_; }
  std::uint64_t ssthresh() const override { return ssthresh_; }
  bool in_recovery() const override { return rec_.active(); }

  std::uint64_t recover() const { return rec_.recover(); }  // FastRecovery::recover()
  std::uint32_t dup_acks() const { return rec_.dup_acks(); }
  std::uint64_t initial_window() const { return iw_; }
  const NewRenoConfig& config() const { return cfg_; }

 private:
  std::uint64_t loss_ssthresh(const Flight& flight) const;
  void grow(std::uint64_t acked_bytes);

  NewRenoConfig cfg_;
  std::uint64_t smss_;
  std::uint64_t iw_;
  std::uint64_t cwnd_;
  std::uint64_t ssthresh_;
  std::uint64_t bytes_acked_ = 0;  // RFC 3465 §2.1 bytes_acked, in congestion avoidance
  FastRecovery rec_;
  // Set by a timeout, cleared by an ACK of new data: a second timeout in a row is the
  // same segment timing out again (RFC 5681 §3.1 then keeps ssthresh).
  bool timed_out_ = false;
};

}  // namespace tapir::tcp
