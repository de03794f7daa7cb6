// CUBIC (RFC 9438) without a connection: every Instant is chosen by the test, as a
// ManualClock would hand them out. Expected values come from the RFC's formulas written
// out again here (kC, kBeta, w_cubic below), never from the implementation's helpers.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <ostream>
#include <vector>

#include "tcp/cubic.hpp"

namespace tapir::tcp {
static std::ostream& operator<<(std::ostream& os, LossAction a) { return os << to_string(a); }
}  // namespace tapir::tcp

using namespace tapir;
using namespace tapir::tcp;

namespace {

constexpr std::uint64_t kSmss = 1000;  // IW = 4 * SMSS by RFC 5681 equation (1)
// RFC 9438 §4.1.1.
constexpr double kC = 0.4;
constexpr double kBeta = 0.7;
constexpr double kAlpha = 3 * (1 - kBeta) / (1 + kBeta);  // §4.3, about 0.529

// RFC 9438 §4.2 Figure 2 and Figure 1.
double k_of(double w_max, double cwnd_epoch) { return std::cbrt((w_max - cwnd_epoch) / kC); }
double w_cubic(double t, double k, double w_max) { return kC * std::pow(t - k, 3) + w_max; }

double seconds(Duration d) { return static_cast<double>(d.count()) / 1e6; }
double segments(std::uint64_t bytes) { return static_cast<double>(bytes) / kSmss; }
Flight fl(std::uint64_t una, std::uint64_t max) { return Flight{una, max}; }

// A sender that is always cwnd-limited: before each ACK exactly cwnd is in flight.
struct Sender {
  Cubic cc;
  Instant now = Instant::from_millis(1000);
  std::uint64_t una = 0;

  explicit Sender(CubicConfig c) : cc(c) {}

  AckResponse ack(std::uint64_t bytes) {
    const std::uint64_t in_flight = std::max(cc.cwnd(), bytes);
    una += bytes;
    return cc.on_ack(bytes, fl(una, una + in_flight - bytes), now);
  }
  // One round trip: a window of one-SMSS ACKs, evenly spread over `rtt`.
  void round(Duration rtt) {
    const Instant start = now;
    const std::uint64_t n = std::max<std::uint64_t>(1, cc.cwnd() / kSmss);
    for (std::uint64_t i = 1; i <= n; ++i) {
      now = start +
            Duration(rtt.count() * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(n));
      ack(kSmss);
    }
  }
  // Three duplicate ACKs with `flight` bytes outstanding.
  AckResponse three_dups(std::uint64_t flight) {
    cc.on_dup_ack(fl(una, una + flight), now);
    cc.on_dup_ack(fl(una, una + flight), now);
    return cc.on_dup_ack(fl(una, una + flight), now);
  }
};

CubicConfig config(std::uint64_t cwnd_segments = 0, bool fast_convergence = true) {
  return CubicConfig{
      .smss = kSmss, .initial_cwnd = cwnd_segments * kSmss, .fast_convergence = fast_convergence};
}

// A sender with `w` segments in flight loses one (fast retransmit), and the full ACK comes
// back with 0.7 * w in flight again: cwnd = ssthresh = 0.7 * w, outside recovery.
Sender after_loss(std::uint64_t w, Duration srtt, bool fast_convergence = true) {
  Sender s(config(w, fast_convergence));
  s.cc.set_srtt(srtt);
  REQUIRE(s.three_dups(w * kSmss).action == LossAction::FastRetransmit);
  const std::uint64_t ssthresh = s.cc.ssthresh();
  s.una += w * kSmss;
  REQUIRE(s.cc.on_ack(w * kSmss, fl(s.una, s.una + ssthresh), s.now).action == LossAction::None);
  REQUIRE_FALSE(s.cc.in_recovery());
  REQUIRE(s.cc.cwnd() == ssthresh);
  return s;
}

}  // namespace

TEST_CASE("cubic: initial window by RFC 5681 eq. 1, ssthresh arbitrarily high",
          "[tcp][cubic][rfc9438-4.10]") {
  Cubic cc(CubicConfig{.smss = kSmss});
  CHECK(cc.name() == "cubic");
  CHECK(cc.cwnd() == 4 * kSmss);
  CHECK(cc.initial_window() == 4 * kSmss);
  CHECK(cc.ssthresh() == kMaxAdvertisedWindow);
  CHECK_FALSE(cc.in_recovery());
  CHECK_FALSE(cc.epoch_start());
  CHECK(Cubic(CubicConfig{.smss = 1460}).cwnd() == 3 * 1460);
  CHECK(Cubic(CubicConfig{.smss = 1460, .initial_window_segments = 10}).cwnd() == 14600);
}

TEST_CASE("cubic: RFC 9438 §4.10 slow start below ssthresh adds min(N, SMSS) per ACK",
          "[tcp][cubic][rfc9438-4.10][rfc5681-3.1]") {
  Sender s(config());
  CHECK(s.ack(1000).restart_rto);  // RFC 6298 (5.3)
  CHECK(s.cc.cwnd() == 5000);
  s.ack(3000);  // a stretch ACK adds one SMSS only
  CHECK(s.cc.cwnd() == 6000);
  s.ack(500);
  CHECK(s.cc.cwnd() == 6500);
  // A window doubles per round trip, and no congestion-avoidance stage has begun.
  Sender d(config(8));
  for (int r = 0; r < 3; ++r) {
    const std::uint64_t before = d.cc.cwnd();
    d.round(100ms);
    CHECK(d.cc.cwnd() == 2 * before);
  }
  CHECK_FALSE(d.cc.epoch_start());
}

TEST_CASE("cubic: RFC 9438 §4.6 loss: ssthresh = 0.7 * flight, W_max = cwnd, fast recovery",
          "[tcp][cubic][rfc9438-4.6]") {
  Sender s(config(100));
  s.cc.on_dup_ack(fl(0, 100000), s.now);
  CHECK(s.cc.on_dup_ack(fl(0, 100000), s.now).action == LossAction::LimitedTransmit);
  CHECK(s.cc.cwnd() == 100000);
  const AckResponse r = s.cc.on_dup_ack(fl(0, 100000), s.now);
  CHECK(r.action == LossAction::FastRetransmit);
  CHECK_FALSE(r.restart_rto);
  CHECK(s.cc.ssthresh() == 70000);          // 100000 * 0.7, not Reno's 50000
  CHECK(s.cc.cwnd() == 70000 + 3 * kSmss);  // RFC 5681 §3.2 step 3
  CHECK(s.cc.w_max() == 100.0);
  CHECK(s.cc.cwnd_prior() == 100.0);
  CHECK(s.cc.in_recovery());
  CHECK(s.cc.recover() == 100000);  // RFC 6582 §3.2 step 1
  // A small flight: ssthresh is at least 2 SMSS (Figure 5, "max(ssthresh, 2)").
  Sender small(config(2));
  small.three_dups(2000);
  CHECK(small.cc.ssthresh() == 2 * kSmss);
  CHECK(small.cc.cwnd() == 5 * kSmss);
}

TEST_CASE("cubic: loss recovery: inflation, partial ACKs retransmit, full ACK exits",
          "[tcp][cubic][rfc6582-3.2][rfc5681-3.2]") {
  Sender s(config(10));
  s.three_dups(10000);  // ssthresh 7000, cwnd 10000
  CHECK(s.cc.cwnd() == 10000);
  s.cc.on_dup_ack(fl(0, 10000), s.now);
  CHECK(s.cc.cwnd() == 11000);  // RFC 5681 §3.2 step 4
  const AckResponse p1 = s.cc.on_ack(2000, fl(2000, 11000), s.now);
  CHECK(p1.action == LossAction::RetransmitFirstUnacked);
  CHECK(p1.restart_rto);
  CHECK(s.cc.cwnd() == 11000 - 2000 + 1000);
  const AckResponse p2 = s.cc.on_ack(500, fl(2500, 11000), s.now);
  CHECK(p2.action == LossAction::RetransmitFirstUnacked);
  CHECK_FALSE(p2.restart_rto);  // Impatient: only the first partial ACK
  const AckResponse full = s.cc.on_ack(8500, fl(11000, 13000), s.now);
  CHECK(full.action == LossAction::None);
  CHECK_FALSE(s.cc.in_recovery());
  CHECK(s.cc.cwnd() == 3000);  // min(7000, max(2000, SMSS) + SMSS)
  // Duplicate ACKs below `recover` start no second reduction (RFC 6582 §3.2 step 1).
  Sender t(config(10));
  t.cc.on_rto(fl(0, 10000));
  const std::uint64_t ssthresh = t.cc.ssthresh();
  t.una = 3000;
  t.cc.on_ack(3000, fl(3000, 10000), t.now);
  CHECK(t.three_dups(7000).action == LossAction::None);
  CHECK(t.cc.ssthresh() == ssthresh);
}

TEST_CASE("cubic: RFC 9438 §4.2 K is the time back to W_max from cwnd_epoch",
          "[tcp][cubic][rfc9438-4.2]") {
  Sender s = after_loss(100, 100ms);
  CHECK_FALSE(s.cc.epoch_start());  // the stage begins with the first ACK in avoidance
  const Instant t0 = s.now;
  s.ack(kSmss);
  REQUIRE(s.cc.epoch_start());
  CHECK(*s.cc.epoch_start() == t0);
  CHECK(s.cc.cwnd_epoch() == 70.0);
  CHECK(s.cc.w_max() == 100.0);
  CHECK(s.cc.k() == Approx(k_of(100, 70)));  // cbrt(75) = 4.217 s
  CHECK(s.cc.k() == Approx(4.2172).epsilon(1e-4));
  // W_cubic(0) = cwnd_epoch: the curve starts where the window is.
  CHECK(w_cubic(0, s.cc.k(), s.cc.w_max()) == Approx(70.0));
}

TEST_CASE("cubic: RFC 9438 §4.2 each ACK moves cwnd by (target - cwnd)/cwnd, target W_cubic(t+RTT)",
          "[tcp][cubic][rfc9438-4.2][rfc9438-4.4]") {
  const Duration rtt = 100ms;
  Sender s = after_loss(100, rtt);
  const Instant t0 = s.now;
  s.ack(kSmss);  // starts the stage
  const double k = k_of(100, 70);
  for (double t : {1.0, 2.0, 3.5, 5.0}) {
    INFO("t = " << t << " s");
    s.now = t0 + Duration(static_cast<std::int64_t>(t * 1e6));
    const double cwnd = segments(s.cc.cwnd());
    const double target = std::clamp(w_cubic(t + seconds(rtt), k, 100), cwnd, 1.5 * cwnd);
    const double expect = cwnd + (target - cwnd) / cwnd;  // one segment acknowledged
    s.ack(kSmss);
    CHECK(segments(s.cc.cwnd()) == Approx(expect).margin(1.0 / kSmss));
  }
  // Half a segment acknowledged counts half (segments_acked, §4.1.2).
  s.now = t0 + 6s;
  const double cwnd = segments(s.cc.cwnd());
  const double target = std::clamp(w_cubic(6.0 + 0.1, k, 100), cwnd, 1.5 * cwnd);
  s.ack(kSmss / 2);
  CHECK(segments(s.cc.cwnd()) == Approx(cwnd + 0.5 * (target - cwnd) / cwnd).margin(1.0 / kSmss));
}

TEST_CASE("cubic: RFC 9438 §4.2 target is bounded by 1.5 * cwnd", "[tcp][cubic][rfc9438-4.2]") {
  Sender s = after_loss(100, 100ms);
  const Instant t0 = s.now;
  s.ack(kSmss);
  // 20 s into the stage W_cubic(t) is thousands of segments; one ACK may add at most
  // (1.5*cwnd - cwnd)/cwnd = 0.5 segment.
  s.now = t0 + 20s;
  const std::uint64_t before = s.cc.cwnd();
  s.ack(kSmss);
  CHECK(s.cc.cwnd() - before == kSmss / 2);
}

TEST_CASE("cubic: RFC 9438 §4.4 and §4.5 concave up to W_max, then convex",
          "[tcp][cubic][rfc9438-4.4][rfc9438-4.5]") {
  // A large window (W_max = 1000 segments, K = cbrt(300 / 0.4) = 9.1 s), so that Reno's
  // estimate (about 0.53 segment per round trip) stays far below the curve.
  const Duration rtt = 100ms;
  Sender s = after_loss(1000, rtt);
  const Instant t0 = s.now;
  const double k = k_of(1000, 700);
  std::vector<double> t_end;
  std::vector<double> w;
  while (s.now - t0 < 14s) {
    s.round(rtt);
    t_end.push_back(seconds(s.now - t0));
    w.push_back(segments(s.cc.cwnd()));
    REQUIRE(s.cc.w_est() < w.back());  // never in the Reno-friendly region
  }
  // The window follows the curve, at most a round trip ahead: W_cubic(t) <= cwnd <=
  // W_cubic(t + RTT), with a segment of slack for the per-ACK steps.
  for (std::size_t i = 0; i < w.size(); ++i) {
    INFO("t = " << t_end[i] << " s, cwnd = " << w[i] << " segments");
    CHECK(w[i] >= w_cubic(t_end[i], k, 1000) - 1);
    CHECK(w[i] <= w_cubic(t_end[i] + seconds(rtt), k, 1000) + 1);
  }
  // Growth per 0.5 s shrinks while t < K (concave, below W_max), then grows (convex).
  auto at = [&](double t) {
    for (std::size_t i = 0; i < w.size(); ++i)
      if (t_end[i] >= t) return w[i];
    return w.back();
  };
  double prev_gain = 1e9;
  for (double t = 0.5; t + 0.5 <= k - 0.5; t += 0.5) {
    INFO("concave at t = " << t);
    const double gain = at(t + 0.5) - at(t);
    CHECK(gain > 0);
    CHECK(gain < prev_gain);
    CHECK(at(t + 0.5) < 1000);
    prev_gain = gain;
  }
  prev_gain = 0;
  for (double t = k + 0.5; t + 0.5 <= 14; t += 0.5) {
    INFO("convex at t = " << t);
    const double gain = at(t + 0.5) - at(t);
    CHECK(gain > prev_gain);
    CHECK(at(t) > 1000);
    prev_gain = gain;
  }
}

TEST_CASE("cubic: RFC 9438 §4.3 the Reno-friendly region dominates at a small RTT",
          "[tcp][cubic][rfc9438-4.3]") {
  // 1 ms round trips and a small window: Reno's estimate outgrows the cubic curve.
  const Duration rtt = 1ms;
  Sender s = after_loss(20, rtt);
  const Instant t0 = s.now;
  const double k = k_of(20, 14);  // cbrt(15) = 2.47 s
  s.round(rtt);
  // W_est grows by about alpha_cubic = 3 * 0.3 / 1.7 per round trip, from cwnd_epoch.
  CHECK(s.cc.w_est() == Approx(14 + kAlpha).margin(0.05));
  CHECK(s.cc.alpha() == Approx(kAlpha));
  for (int i = 0; i < 4; ++i) s.round(rtt);
  CHECK(s.cc.w_est() == Approx(14 + 5 * kAlpha).margin(0.2));
  // In this region cwnd is W_est, far above W_cubic(t).
  const double t = seconds(s.now - t0);
  CHECK(segments(s.cc.cwnd()) == Approx(s.cc.w_est()).margin(1.0 / kSmss));
  CHECK(segments(s.cc.cwnd()) > w_cubic(t + seconds(rtt), k, 20) + 1);
  // Once W_est reaches cwnd_prior (20), alpha_cubic becomes 1: one segment per round trip.
  while (s.cc.w_est() < 20) s.round(rtt);
  CHECK(s.cc.alpha() == 1.0);
  const double before = s.cc.w_est();
  for (int i = 0; i < 10; ++i) s.round(rtt);
  CHECK(s.cc.w_est() == Approx(before + 10).margin(0.3));
  CHECK(segments(s.cc.cwnd()) > w_cubic(seconds(s.now - t0) + seconds(rtt), k, 20) + 10);
}

TEST_CASE("cubic: RFC 9438 §4.7 fast convergence lowers W_max below the last one",
          "[tcp][cubic][rfc9438-4.7]") {
  for (bool fc : {true, false}) {
    INFO("fast convergence " << (fc ? "on" : "off"));
    Sender s = after_loss(100, 100ms, fc);  // W_max = 100, cwnd = 70
    REQUIRE(s.cc.w_max() == 100.0);
    // Another loss at cwnd = 70 < W_max.
    REQUIRE(s.three_dups(70000).action == LossAction::FastRetransmit);
    if (fc) {
      CHECK(s.cc.w_max() == Approx(70 * (1 + kBeta) / 2));  // 59.5
    } else {
      CHECK(s.cc.w_max() == 70.0);
    }
    CHECK(s.cc.cwnd_prior() == 70.0);
    CHECK(s.cc.ssthresh() == 49000);
  }
  // A loss above the last W_max (the flow found more room) records cwnd as it is.
  Sender up = after_loss(100, 100ms);
  while (up.cc.cwnd() <= 110 * kSmss) up.round(100ms);
  const double cwnd = segments(up.cc.cwnd());
  up.three_dups(up.cc.cwnd());
  CHECK(up.cc.w_max() == cwnd);
}

TEST_CASE("cubic: RFC 9438 §4.8 timeout: 1 SMSS, beta ssthresh, then K = 0 from cwnd_epoch",
          "[tcp][cubic][rfc9438-4.8][rfc5681-3.1]") {
  Sender s(config(100));
  s.cc.set_srtt(100ms);
  s.cc.on_rto(fl(0, 100000));
  CHECK(s.cc.cwnd() == kSmss);
  CHECK(s.cc.ssthresh() == 70000);
  CHECK(s.cc.cwnd_prior() == 100.0);
  s.cc.on_rto(fl(0, 30000));  // the same segment timed out again: ssthresh stays
  CHECK(s.cc.ssthresh() == 70000);
  CHECK(s.cc.cwnd() == kSmss);
  // Slow start back to ssthresh, then a stage with K = 0 and W_max = W_est = cwnd_epoch.
  while (s.cc.cwnd() < s.cc.ssthresh()) s.ack(kSmss);
  CHECK_FALSE(s.cc.epoch_start());
  const double epoch = segments(s.cc.cwnd());
  const Instant t0 = s.now;
  s.ack(kSmss);
  REQUIRE(s.cc.epoch_start());
  CHECK(*s.cc.epoch_start() == t0);
  CHECK(s.cc.k() == 0.0);
  CHECK(s.cc.w_max() == epoch);
  CHECK(s.cc.cwnd_epoch() == epoch);
  // Convex from the start: at t = 2 s, target is W_cubic(2.1) = 0.4 * 2.1^3 + cwnd_epoch.
  s.now = t0 + 2s;
  const double cwnd = segments(s.cc.cwnd());
  const double target = std::clamp(w_cubic(2.1, 0, epoch), cwnd, 1.5 * cwnd);
  s.ack(kSmss);
  CHECK(segments(s.cc.cwnd()) == Approx(cwnd + (target - cwnd) / cwnd).margin(1.0 / kSmss));
  // A timeout during fast recovery leaves it (RFC 6582 §3.2 step 5).
  Sender r(config(10));
  r.three_dups(10000);
  r.cc.on_rto(fl(0, 12000));
  CHECK_FALSE(r.cc.in_recovery());
  CHECK(r.cc.cwnd() == kSmss);
  CHECK(r.cc.recover() == 12000);
}

TEST_CASE("cubic: RFC 5681 §4.1 idle restart: min(IW, cwnd), and the stage starts again",
          "[tcp][cubic][rfc5681-4.1][rfc9438-5.8]") {
  Sender s = after_loss(100, 100ms);
  s.ack(kSmss);
  const Instant first = *s.cc.epoch_start();
  for (int i = 0; i < 10; ++i) s.round(100ms);
  s.cc.on_idle_restart();
  CHECK(s.cc.cwnd() == 4 * kSmss);
  CHECK_FALSE(s.cc.epoch_start());
  CHECK(s.cc.w_max() == 100.0);  // the old maximum is still the plateau
  s.now += 30s;                  // the idle time
  while (s.cc.cwnd() < s.cc.ssthresh()) s.ack(kSmss);
  const Instant restart = s.now;
  s.ack(kSmss);
  REQUIRE(s.cc.epoch_start());
  CHECK(*s.cc.epoch_start() == restart);
  CHECK(*s.cc.epoch_start() > first);
  CHECK(s.cc.k() == Approx(k_of(100, s.cc.cwnd_epoch())));
}

TEST_CASE("cubic: RFC 9438 §5.8 an application-limited flow does not grow",
          "[tcp][cubic][rfc9438-5.8]") {
  Sender s = after_loss(100, 100ms);
  s.ack(kSmss);
  const Instant t0 = *s.cc.epoch_start();
  const std::uint64_t cwnd = s.cc.cwnd();
  const double w_est = s.cc.w_est();
  // 2 s of ACKs for a flow that keeps only 10 segments in flight.
  for (int i = 1; i <= 20; ++i) {
    s.now += 100ms;
    s.una += kSmss;
    s.cc.on_ack(kSmss, fl(s.una, s.una + 9 * kSmss), s.now);
  }
  CHECK(s.cc.cwnd() == cwnd);
  CHECK(s.cc.w_est() == w_est);
  // The epoch moved with it: t does not count the limited time.
  CHECK(*s.cc.epoch_start() == t0 + 2s);
}

TEST_CASE("cubic: a switched-to connection keeps cwnd and ssthresh", "[tcp][cubic][linux]") {
  Cubic cc(CubicConfig{.smss = kSmss, .initial_ssthresh = 30000, .initial_cwnd = 45500});
  CHECK(cc.cwnd() == 45500);
  CHECK(cc.ssthresh() == 30000);
  CHECK(cc.initial_window() == 4 * kSmss);  // idle restart still goes back to IW
  // Above ssthresh: the first ACK starts a stage from there (W_max = cwnd_epoch, K = 0).
  cc.on_ack(kSmss, fl(kSmss, 46000), Instant::from_millis(1));
  REQUIRE(cc.epoch_start());
  CHECK(cc.k() == 0.0);
  CHECK(cc.w_max() == Approx(45.5));
}

TEST_CASE("cubic: usable through the CongestionControl interface", "[tcp][cubic]") {
  std::unique_ptr<CongestionControl> cc = std::make_unique<Cubic>(CubicConfig{.smss = 1460});
  CHECK(cc->name() == "cubic");
  cc->set_srtt(20ms);
  cc->on_loss_fast_retransmit(fl(0, 14600));
  CHECK(cc->in_recovery());
  CHECK(cc->ssthresh() == 10220);
  CHECK(cc->cwnd() == 10220 + 3 * 1460);
}
