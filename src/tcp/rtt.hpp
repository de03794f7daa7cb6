// Retransmission timeout per RFC 6298 (which updates RFC 1122 §4.2.3.1): the SRTT/RTTVAR
// estimator of §2, exponential backoff (§5, rule 5.5), and Karn's rule (§3) through
// RttSampler, which times one segment at a time and forgets it on any retransmission.
//
// Times are microseconds (tapir::Duration); the estimator uses integer arithmetic, so each
// update truncates towards zero by at most 1 us. Timestamps-based sampling (RFC 7323) is
// not implemented: without it, every sample must come from a segment never retransmitted.
#pragma once

#include <cstdint>
#include <optional>

#include "tapir/time.hpp"

namespace tapir::tcp {

struct RttConfig {
  // RFC 6298 (2.1): "set RTO <- 1 second" before any sample.
  Duration initial_rto = std::chrono::seconds(1);
  // LINUX: RFC 6298 (2.4) says RTO SHOULD be rounded up to 1 second when below it; Linux
  // uses TCP_RTO_MIN = 200 ms, and so does tapir by default. Set 1 s for the RFC value.
  Duration min_rto = std::chrono::milliseconds(200);
  // RFC 6298 (2.5): "A maximum value MAY be placed on RTO provided it is at least 60 seconds."
  Duration max_rto = std::chrono::seconds(60);
  // RFC 6298 §2: G, the clock granularity, in max(G, K*RTTVAR).
  Duration granularity = std::chrono::milliseconds(1);
};

class RttEstimator {
 public:
  explicit RttEstimator(RttConfig cfg = {});

  // A new round-trip measurement R (from a segment that was not retransmitted).
  void on_sample(Duration r);
  // The retransmission timer expired: RFC 6298 (5.5) doubles RTO, up to max_rto.
  void on_timeout();
  // RFC 6298 (5.7): call when the handshake completes after the SYN (or SYN,ACK) timed
  // out; RTO restarts at 3 s (when the initial RTO is below that) until a sample arrives.
  void on_established_after_syn_timeout();

  // The current RTO, including backoff.
  Duration rto() const { return rto_; }
  // SRTT and RTTVAR, absent before the first sample.
  std::optional<Duration> srtt() const { return srtt_; }
  std::optional<Duration> rttvar() const { return rttvar_; }
  // Consecutive timeouts since the last sample (0 when not backed off).
  unsigned backoffs() const { return backoffs_; }
  const RttConfig& config() const { return cfg_; }

 private:
  Duration clamp(Duration rto) const;

  RttConfig cfg_;
  std::optional<Duration> srtt_;
  std::optional<Duration> rttvar_;
  Duration rto_;
  unsigned backoffs_ = 0;
};

// Times one segment at a time, the classic way of taking RTT samples without timestamps.
// RFC 6298 §3 (Karn's algorithm): "RTT samples MUST NOT be made using segments that were
// retransmitted", so any retransmission cancels the running measurement.
class RttSampler {
 public:
  // New data [.., end_offset) was sent at `now`. Starts timing it unless a segment is
  // already being timed. Offsets are absolute sequence offsets (as SND.UNA is kept).
  void on_send(std::uint64_t end_offset, Instant now);
  // Something was retransmitted: the running measurement becomes ambiguous and is dropped.
  void on_retransmit() { timed_.reset(); }
  // SND.UNA advanced to `una`: returns the sample when it covers the timed segment.
  std::optional<Duration> on_ack(std::uint64_t una, Instant now);
  bool timing() const { return timed_.has_value(); }

 private:
  struct Timed {
    std::uint64_t end;
    Instant sent;
  };
  std::optional<Timed> timed_;
};

}  // namespace tapir::tcp
