// RFC 6298 RTO estimation (see rtt.hpp). Every formula line cites its clause.
#include "tcp/rtt.hpp"

#include <algorithm>

namespace tapir::tcp {

namespace {
// RFC 6298 §2: K = 4; alpha = 1/8 and beta = 1/4 appear as the shifts below.
constexpr int kK = 4;
}  // namespace

RttEstimator::RttEstimator(RttConfig cfg) : cfg_(cfg), rto_(cfg.initial_rto) {}

Duration RttEstimator::clamp(Duration rto) const {
  // RFC 6298 (2.4) floor (min_rto, see RttConfig) and (2.5) ceiling.
  return std::clamp(rto, cfg_.min_rto, cfg_.max_rto);
}

void RttEstimator::on_sample(Duration r) {
  r = std::max(r, Duration::zero());
  if (!srtt_) {
    // RFC 6298 (2.2): SRTT <- R
    srtt_ = r;
    // RFC 6298 (2.2): RTTVAR <- R/2
    rttvar_ = r / 2;
  } else {
    const Duration err = *srtt_ > r ? *srtt_ - r : r - *srtt_;
    // RFC 6298 (2.3): RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4
    rttvar_ = (*rttvar_ * 3 + err) / 4;
    // RFC 6298 (2.3): SRTT <- (1 - alpha) * SRTT + alpha * R', alpha = 1/8
    srtt_ = (*srtt_ * 7 + r) / 8;
  }
  // RFC 6298 (2.2)/(2.3): RTO <- SRTT + max (G, K*RTTVAR), then (2.4)/(2.5) bounds.
  rto_ = clamp(*srtt_ + std::max(cfg_.granularity, *rttvar_ * kK));
  // RFC 6298 §5 note: a new sample "may result in 'collapsing' RTO back down" after (5.5).
  backoffs_ = 0;
}

void RttEstimator::on_timeout() {
  // RFC 6298 (5.5): RTO <- RTO * 2 ("back off the timer"); (2.5) maximum applies.
  rto_ = std::min(rto_ * 2, cfg_.max_rto);
  ++backoffs_;
}

void RttEstimator::on_established_after_syn_timeout() {
  // RFC 6298 (5.7): "If the timer expires awaiting the ACK of a SYN segment and the TCP
  // implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized to
  // 3 seconds when data transmission begins".
  constexpr Duration kThree = std::chrono::seconds(3);
  if (cfg_.initial_rto < kThree) {
    rto_ = std::min(kThree, cfg_.max_rto);
    backoffs_ = 0;
  }
}

void RttSampler::on_send(std::uint64_t end_offset, Instant now) {
  if (!timed_) timed_ = Timed{end_offset, now};
}

// Any cumulative ACK at or past the timed segment's end completes the measurement, even
// one that also covers later segments.
std::optional<Duration> RttSampler::on_ack(std::uint64_t una, Instant now) {
  if (!timed_ || una < timed_->end) return std::nullopt;
  const Duration sample = now - timed_->sent;
  timed_.reset();
  return sample;
}

}  // namespace tapir::tcp
