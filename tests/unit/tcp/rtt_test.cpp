#include <catch2/catch.hpp>

#include "tcp/rtt.hpp"

using namespace tapir;
using namespace tapir::tcp;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
RttConfig rfc_config() {
  RttConfig c;
  c.min_rto = seconds(1);  // RFC 6298 (2.4) as written
  return c;
}
}  // namespace

TEST_CASE("rtt: RFC 6298 (2.1) RTO is 1 s before any sample", "[tcp][rtt][rfc6298-2.1]") {
  RttEstimator e;
  CHECK(e.rto() == seconds(1));
  CHECK_FALSE(e.srtt().has_value());
  CHECK_FALSE(e.rttvar().has_value());
}

TEST_CASE("rtt: RFC 6298 (2.2) first sample sets SRTT=R, RTTVAR=R/2", "[tcp][rtt][rfc6298-2.2]") {
  RttEstimator e;
  e.on_sample(milliseconds(100));
  CHECK(e.srtt() == milliseconds(100));
  CHECK(e.rttvar() == milliseconds(50));
  // RTO = 100 + max(1 ms, 4 * 50) = 300 ms.
  CHECK(e.rto() == milliseconds(300));
}

TEST_CASE("rtt: RFC 6298 (2.3) later samples use alpha 1/8, beta 1/4", "[tcp][rtt][rfc6298-2.3]") {
  RttEstimator e;
  e.on_sample(milliseconds(100));
  e.on_sample(milliseconds(200));
  // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms (RTTVAR first, with the old SRTT).
  CHECK(e.rttvar() == microseconds(62500));
  // SRTT = 7/8 * 100 + 1/8 * 200 = 112.5 ms.
  CHECK(e.srtt() == microseconds(112500));
  // RTO = 112.5 + 4 * 62.5 = 362.5 ms.
  CHECK(e.rto() == microseconds(362500));
  e.on_sample(milliseconds(50));
  // RTTVAR = 3/4 * 62.5 + 1/4 * |112.5 - 50| = 62.5 ms.
  CHECK(e.rttvar() == microseconds(62500));
  // SRTT = 7/8 * 112.5 + 1/8 * 50 = 104.6875 ms, truncated to whole microseconds.
  CHECK(e.srtt() == microseconds(104687));
  CHECK(e.rto() == microseconds(104687 + 250000));
}

TEST_CASE("rtt: RFC 6298 (2.4) floor of 1 s when configured as the RFC says",
          "[tcp][rtt][rfc6298-2.4]") {
  RttEstimator e(rfc_config());
  e.on_sample(milliseconds(100));
  CHECK(e.rto() == seconds(1));
  e.on_sample(seconds(2));
  CHECK(e.rto() > seconds(1));
}

TEST_CASE("rtt: LINUX default floor is 200 ms", "[tcp][rtt][linux]") {
  RttEstimator e;
  e.on_sample(milliseconds(10));  // 10 + 4 * 5 = 30 ms, raised to the floor
  CHECK(e.rto() == milliseconds(200));
}

TEST_CASE("rtt: clock granularity G bounds the variance term", "[tcp][rtt][rfc6298-2]") {
  RttConfig c;
  c.min_rto = Duration::zero();
  {
    RttEstimator e(c);
    e.on_sample(microseconds(400));  // K*RTTVAR = 800 us < G = 1 ms
    CHECK(e.rto() == microseconds(400 + 1000));
  }
  c.granularity = milliseconds(10);
  {
    RttEstimator e(c);
    e.on_sample(microseconds(400));
    CHECK(e.rto() == microseconds(400 + 10000));
  }
}

TEST_CASE("rtt: RFC 6298 (2.5) RTO is capped at 60 s", "[tcp][rtt][rfc6298-2.5]") {
  RttEstimator e;
  e.on_sample(seconds(40));  // 40 + 4 * 20 = 120 s
  CHECK(e.rto() == seconds(60));
}

TEST_CASE("rtt: RFC 6298 (5.5) each timeout doubles RTO up to the maximum",
          "[tcp][rtt][rfc6298-5.5]") {
  RttEstimator e;
  e.on_timeout();
  CHECK(e.rto() == seconds(2));
  e.on_timeout();
  CHECK(e.rto() == seconds(4));
  CHECK(e.backoffs() == 2);
  for (int i = 0; i < 10; ++i) e.on_timeout();
  CHECK(e.rto() == seconds(60));
  CHECK(e.backoffs() == 12);
}

TEST_CASE("rtt: a new sample collapses a backed-off RTO", "[tcp][rtt][rfc6298-5]") {
  RttEstimator e;
  e.on_sample(milliseconds(100));
  e.on_timeout();
  e.on_timeout();
  CHECK(e.rto() == milliseconds(1200));
  e.on_sample(milliseconds(100));
  // RTTVAR = 3/4 * 50 + 0 = 37.5 ms; SRTT = 100 ms; RTO = 100 + 150 = 250 ms.
  CHECK(e.rto() == milliseconds(250));
  CHECK(e.backoffs() == 0);
}

TEST_CASE("rtt: RFC 6298 (5.7) RTO restarts at 3 s after a SYN timeout",
          "[tcp][rtt][rfc6298-5.7]") {
  RttEstimator e;
  e.on_timeout();
  e.on_timeout();  // SYN sent three times: 1 s, 2 s, now 4 s
  e.on_established_after_syn_timeout();
  CHECK(e.rto() == seconds(3));
  CHECK(e.backoffs() == 0);
  RttConfig c;
  c.initial_rto = seconds(3);  // not "less than 3 seconds": the rule does not apply
  RttEstimator e3(c);
  e3.on_timeout();
  e3.on_established_after_syn_timeout();
  CHECK(e3.rto() == seconds(6));
}

TEST_CASE("rtt: a negative sample counts as zero", "[tcp][rtt]") {
  RttEstimator e;
  e.on_sample(microseconds(-5));
  CHECK(e.srtt() == Duration::zero());
  CHECK(e.rto() == milliseconds(200));
}

TEST_CASE("rtt sampler: times one segment until it is acknowledged", "[tcp][rtt][sampler]") {
  const Instant t0 = Instant::from_millis(1000);
  RttSampler s;
  CHECK_FALSE(s.timing());
  s.on_send(100, t0);
  CHECK(s.timing());
  s.on_send(200, t0 + milliseconds(1));  // already timing one: ignored
  CHECK_FALSE(s.on_ack(50, t0 + milliseconds(20)).has_value());
  CHECK(s.timing());
  CHECK(s.on_ack(100, t0 + milliseconds(30)) == milliseconds(30));
  CHECK_FALSE(s.timing());
  CHECK_FALSE(s.on_ack(200, t0 + milliseconds(31)).has_value());
  // A cumulative ACK past the timed segment still ends the measurement.
  s.on_send(300, t0 + milliseconds(40));
  CHECK(s.on_ack(400, t0 + milliseconds(45)) == milliseconds(5));
}

TEST_CASE("rtt sampler: Karn's rule drops the sample after a retransmission",
          "[tcp][rtt][sampler][rfc6298-3]") {
  const Instant t0 = Instant::from_millis(0);
  RttSampler s;
  s.on_send(100, t0);
  s.on_retransmit();
  CHECK_FALSE(s.timing());
  CHECK_FALSE(s.on_ack(100, t0 + seconds(1)).has_value());
  // The next new segment is timed normally.
  s.on_send(200, t0 + seconds(1));
  CHECK(s.on_ack(200, t0 + milliseconds(1080)) == milliseconds(80));
}

TEST_CASE("rtt: Karn's rule keeps the backed-off RTO until a clean sample",
          "[tcp][rtt][rfc6298-5.5][rfc6298-3]") {
  // A segment times out; its retransmission is acknowledged. Karn: no sample, so the
  // doubled RTO stays for the next segment, which is then timed cleanly.
  const Instant t0 = Instant::from_millis(0);
  RttEstimator e;
  RttSampler s;
  e.on_sample(milliseconds(100));
  s.on_send(1000, t0);
  e.on_timeout();
  s.on_retransmit();
  const auto none = s.on_ack(1000, t0 + milliseconds(700));
  CHECK_FALSE(none.has_value());
  CHECK(e.rto() == milliseconds(600));
  s.on_send(2000, t0 + milliseconds(700));
  const auto sample = s.on_ack(2000, t0 + milliseconds(800));
  REQUIRE(sample.has_value());
  e.on_sample(*sample);
  CHECK(e.rto() == milliseconds(250));
}
