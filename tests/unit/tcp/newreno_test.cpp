#include <catch2/catch.hpp>

#include <memory>
#include <ostream>

#include "tcp/newreno.hpp"

namespace tapir::tcp {
// Readable failures: "fast-retransmit" rather than an integer.
static std::ostream& operator<<(std::ostream& os, LossAction a) { return os << to_string(a); }
}  // namespace tapir::tcp

using namespace tapir;
using namespace tapir::tcp;

namespace {

constexpr std::uint64_t kSmss = 1000;  // IW = 4 * SMSS by RFC 5681 equation (1)
const Instant kNow = Instant::from_millis(5);

NewReno make(std::uint64_t initial_ssthresh = kMaxAdvertisedWindow) {
  NewRenoConfig c;
  c.smss = kSmss;
  c.initial_ssthresh = initial_ssthresh;
  return NewReno(c);
}

Flight fl(std::uint64_t una, std::uint64_t max) { return Flight{una, max}; }

// Drives three duplicate ACKs at SND.UNA = una with `max` sent; returns the third response.
AckResponse three_dups(NewReno& cc, std::uint64_t una, std::uint64_t max) {
  cc.on_dup_ack(fl(una, max), kNow);
  cc.on_dup_ack(fl(una, max), kNow);
  return cc.on_dup_ack(fl(una, max), kNow);
}

}  // namespace

TEST_CASE("newreno: RFC 5681 §3.1 eq. 1 initial window from SMSS", "[tcp][newreno][rfc5681-3.1]") {
  CHECK(rfc5681_initial_window(536) == 4 * 536);
  CHECK(rfc5681_initial_window(1095) == 4 * 1095);
  CHECK(rfc5681_initial_window(1096) == 3 * 1096);
  CHECK(rfc5681_initial_window(1460) == 3 * 1460);
  CHECK(rfc5681_initial_window(2190) == 3 * 2190);
  CHECK(rfc5681_initial_window(2191) == 2 * 2191);
  CHECK(rfc5681_initial_window(8960) == 2 * 8960);
  NewReno cc = make();
  CHECK(cc.cwnd() == 4000);
  CHECK(cc.initial_window() == 4000);
}

TEST_CASE("newreno: LINUX initial window of 10 segments by configuration",
          "[tcp][newreno][linux]") {
  NewRenoConfig c;
  c.smss = 1460;
  c.initial_window_segments = 10;
  CHECK(NewReno(c).cwnd() == 14600);
}

TEST_CASE("newreno: RFC 5681 §3.1 initial ssthresh is arbitrarily high",
          "[tcp][newreno][rfc5681-3.1]") {
  NewReno cc = make();
  CHECK(cc.ssthresh() == kMaxAdvertisedWindow);
  CHECK_FALSE(cc.in_recovery());
  CHECK(cc.name() == "newreno");
}

TEST_CASE("newreno: RFC 5681 §3.1 eq. 2 slow start adds min(N, SMSS) per ACK",
          "[tcp][newreno][rfc5681-3.1]") {
  NewReno cc = make();
  const AckResponse r = cc.on_ack(1000, fl(1000, 4000), kNow);
  CHECK(r.action == LossAction::None);
  CHECK(r.restart_rto);  // RFC 6298 (5.3)
  CHECK(cc.cwnd() == 5000);
  cc.on_ack(3000, fl(4000, 5000), kNow);  // a stretch ACK still adds only one SMSS
  CHECK(cc.cwnd() == 6000);
  cc.on_ack(500, fl(4500, 5000), kNow);
  CHECK(cc.cwnd() == 6500);
}

TEST_CASE("newreno: slow start doubles cwnd per round trip", "[tcp][newreno][rfc5681-3.1]") {
  NewReno cc = make();
  std::uint64_t una = 0;
  for (int rtt = 0; rtt < 4; ++rtt) {
    const std::uint64_t window = cc.cwnd();
    for (std::uint64_t i = 0; i < window / kSmss; ++i) {
      una += kSmss;
      cc.on_ack(kSmss, fl(una, una + window), kNow);
    }
    INFO("round " << rtt);
    CHECK(cc.cwnd() == 2 * window);
  }
}

TEST_CASE("newreno: RFC 5681 §3.1 congestion avoidance adds one SMSS per cwnd acked",
          "[tcp][newreno][rfc5681-3.1][rfc3465-2.1]") {
  NewReno cc = make(4000);  // cwnd == ssthresh: congestion avoidance from the start
  cc.on_ack(1000, fl(1000, 4000), kNow);
  cc.on_ack(1000, fl(2000, 4000), kNow);
  cc.on_ack(1000, fl(3000, 4000), kNow);
  CHECK(cc.cwnd() == 4000);
  cc.on_ack(1000, fl(4000, 4000), kNow);
  CHECK(cc.cwnd() == 5000);
  // A stretch ACK of 6000 bytes crosses one cwnd (5000): +1 SMSS, 1000 carried over.
  cc.on_ack(6000, fl(10000, 10000), kNow);
  CHECK(cc.cwnd() == 6000);
  cc.on_ack(4999, fl(14999, 14999), kNow);
  CHECK(cc.cwnd() == 6000);
  cc.on_ack(1, fl(15000, 15000), kNow);
  CHECK(cc.cwnd() == 7000);
}

TEST_CASE("newreno: RFC 5681 §3.1 eq. 3 per-ACK congestion avoidance",
          "[tcp][newreno][rfc5681-3.1]") {
  NewRenoConfig c;
  c.smss = kSmss;
  c.initial_ssthresh = 4000;
  c.byte_counting = false;
  NewReno cc(c);
  cc.on_ack(1000, fl(1000, 4000), kNow);
  CHECK(cc.cwnd() == 4250);  // 4000 + 1000*1000/4000
  cc.on_ack(1000, fl(2000, 4000), kNow);
  CHECK(cc.cwnd() == 4250 + 1000000 / 4250);
}

TEST_CASE("newreno: RFC 5681 §3.2 step 1 first two duplicate ACKs allow limited transmit",
          "[tcp][newreno][rfc5681-3.2][rfc3042]") {
  NewReno cc = make();
  CHECK(cc.on_dup_ack(fl(0, 4000), kNow).action == LossAction::LimitedTransmit);
  CHECK(cc.on_dup_ack(fl(0, 4000), kNow).action == LossAction::LimitedTransmit);
  CHECK(cc.dup_acks() == 2);
  CHECK(cc.cwnd() == 4000);  // unchanged
  CHECK_FALSE(cc.in_recovery());
}

TEST_CASE(
    "newreno: RFC 5681 §3.2 third duplicate ACK: fast retransmit, eq. 4, cwnd = ssthresh+3*SMSS",
    "[tcp][newreno][rfc5681-3.2]") {
  NewReno cc = make();
  const AckResponse r = three_dups(cc, 0, 10000);
  CHECK(r.action == LossAction::FastRetransmit);
  CHECK_FALSE(r.restart_rto);
  CHECK(cc.ssthresh() == 5000);  // FlightSize 10000 / 2
  CHECK(cc.cwnd() == 8000);      // 5000 + 3 * 1000
  CHECK(cc.in_recovery());
  CHECK(cc.recover() == 10000);  // RFC 6582 §3.2 step 1
}

TEST_CASE("newreno: RFC 5681 eq. 4 ssthresh is at least 2*SMSS", "[tcp][newreno][rfc5681-3.2]") {
  NewReno cc = make();
  three_dups(cc, 0, 3000);
  CHECK(cc.ssthresh() == 2000);  // max(1500, 2000)
  CHECK(cc.cwnd() == 5000);
}

TEST_CASE("newreno: RFC 5681 §3.2 step 4 each further duplicate ACK inflates cwnd by SMSS",
          "[tcp][newreno][rfc5681-3.2]") {
  NewReno cc = make();
  three_dups(cc, 0, 10000);
  CHECK(cc.on_dup_ack(fl(0, 10000), kNow).action == LossAction::None);
  CHECK(cc.cwnd() == 9000);
  cc.on_dup_ack(fl(0, 10000), kNow);
  CHECK(cc.cwnd() == 10000);
  CHECK(cc.ssthresh() == 5000);
}

TEST_CASE("newreno: an ACK of new data resets the duplicate count", "[tcp][newreno][rfc5681-3.2]") {
  NewReno cc = make();
  cc.on_dup_ack(fl(0, 8000), kNow);
  cc.on_dup_ack(fl(0, 8000), kNow);
  cc.on_ack(1000, fl(1000, 8000), kNow);
  CHECK(cc.dup_acks() == 0);
  cc.on_dup_ack(fl(1000, 8000), kNow);
  CHECK(cc.on_dup_ack(fl(1000, 8000), kNow).action == LossAction::LimitedTransmit);
  CHECK(cc.on_dup_ack(fl(1000, 8000), kNow).action == LossAction::FastRetransmit);
}

TEST_CASE("newreno: RFC 6582 §3.2 step 4 partial ACK deflates, adds back SMSS, retransmits",
          "[tcp][newreno][rfc6582-3.2]") {
  NewReno cc = make();
  three_dups(cc, 0, 10000);  // cwnd 8000
  cc.on_dup_ack(fl(0, 10000), kNow);
  cc.on_dup_ack(fl(0, 10000), kNow);  // cwnd 10000
  const AckResponse first = cc.on_ack(2000, fl(2000, 10000), kNow);
  CHECK(first.action == LossAction::RetransmitFirstUnacked);
  CHECK(first.restart_rto);  // the first partial ACK resets the timer
  CHECK(cc.cwnd() == 10000 - 2000 + 1000);
  CHECK(cc.in_recovery());
  // Less than one SMSS acknowledged: deflate only.
  const AckResponse second = cc.on_ack(500, fl(2500, 10000), kNow);
  CHECK(second.action == LossAction::RetransmitFirstUnacked);
  CHECK_FALSE(second.restart_rto);  // RFC 6582 Impatient variant
  CHECK(cc.cwnd() == 8500);
  // Duplicate ACKs during recovery still inflate (step 3).
  cc.on_dup_ack(fl(2500, 10000), kNow);
  CHECK(cc.cwnd() == 9500);
  CHECK(cc.ssthresh() == 5000);
}

TEST_CASE("newreno: RFC 6582 Slow-but-Steady variant restarts the timer on every partial ACK",
          "[tcp][newreno][rfc6582-3.2]") {
  NewRenoConfig c;
  c.smss = kSmss;
  c.impatient = false;
  NewReno cc(c);
  three_dups(cc, 0, 10000);
  CHECK(cc.on_ack(1000, fl(1000, 10000), kNow).restart_rto);
  CHECK(cc.on_ack(1000, fl(2000, 10000), kNow).restart_rto);
}

TEST_CASE(
    "newreno: RFC 6582 §3.2 step 4 full ACK exits with min(ssthresh, max(FlightSize, SMSS)+SMSS)",
    "[tcp][newreno][rfc6582-3.2]") {
  SECTION("new data was sent during recovery") {
    NewReno cc = make();
    three_dups(cc, 0, 10000);
    const AckResponse r = cc.on_ack(10000, fl(10000, 12000), kNow);
    CHECK(r.action == LossAction::None);
    CHECK(r.restart_rto);
    CHECK_FALSE(cc.in_recovery());
    CHECK(cc.cwnd() == 3000);  // min(5000, 2000 + 1000)
  }
  SECTION("nothing left in flight") {
    NewReno cc = make();
    three_dups(cc, 0, 10000);
    cc.on_ack(10000, fl(10000, 10000), kNow);
    CHECK(cc.cwnd() == 2000);  // min(5000, max(0, 1000) + 1000)
  }
  SECTION("a large flight is capped at ssthresh") {
    NewReno cc = make();
    three_dups(cc, 0, 10000);
    cc.on_ack(10000, fl(10000, 19000), kNow);
    CHECK(cc.cwnd() == 5000);
  }
  SECTION("after partial ACKs") {
    NewReno cc = make();
    three_dups(cc, 0, 10000);
    cc.on_ack(3000, fl(3000, 11000), kNow);
    cc.on_ack(8000, fl(11000, 11000), kNow);
    CHECK_FALSE(cc.in_recovery());
    CHECK(cc.cwnd() == 2000);
    // Back to congestion avoidance (cwnd < ssthresh: slow start up to 5000 first).
    cc.on_ack(1000, fl(12000, 13000), kNow);
    CHECK(cc.cwnd() == 3000);
  }
}

TEST_CASE("newreno: RFC 6582 §3.2 step 1 duplicate ACKs below recover do not re-enter",
          "[tcp][newreno][rfc6582-3.2]") {
  NewReno cc = make();
  cc.on_rto(fl(0, 10000));  // recover = 10000
  CHECK(cc.recover() == 10000);
  const std::uint64_t ssthresh = cc.ssthresh();
  cc.on_ack(3000, fl(3000, 10000), kNow);
  const AckResponse r = three_dups(cc, 3000, 10000);
  CHECK(r.action == LossAction::None);
  CHECK_FALSE(cc.in_recovery());
  CHECK(cc.ssthresh() == ssthresh);      // "does not reset ssthresh"
  cc.on_dup_ack(fl(3000, 10000), kNow);  // more duplicates change nothing either
  CHECK_FALSE(cc.in_recovery());
  // Once the ACK covers recover, three duplicates start fast retransmit again.
  cc.on_ack(7000, fl(10000, 14000), kNow);
  CHECK(three_dups(cc, 10000, 14000).action == LossAction::FastRetransmit);
}

TEST_CASE("newreno: RFC 5681 §3.1 RTO collapses cwnd to 1 SMSS and sets ssthresh by eq. 4",
          "[tcp][newreno][rfc5681-3.1]") {
  NewReno cc = make();
  cc.on_ack(1000, fl(1000, 5000), kNow);
  cc.on_ack(1000, fl(2000, 6000), kNow);
  CHECK(cc.cwnd() == 6000);
  cc.on_rto(fl(2000, 10000));
  CHECK(cc.cwnd() == 1000);
  CHECK(cc.ssthresh() == 4000);  // FlightSize 8000 / 2
  // Slow start again from one segment.
  cc.on_ack(1000, fl(3000, 10000), kNow);
  CHECK(cc.cwnd() == 2000);
}

TEST_CASE("newreno: RFC 5681 §3.1 a repeated timeout of the same segment keeps ssthresh",
          "[tcp][newreno][rfc5681-3.1]") {
  NewReno cc = make();
  cc.on_rto(fl(0, 8000));
  CHECK(cc.ssthresh() == 4000);
  cc.on_rto(fl(0, 2000));  // the retransmission timed out too
  CHECK(cc.ssthresh() == 4000);
  CHECK(cc.cwnd() == 1000);
  // After an ACK of new data, the next timeout is a new loss.
  cc.on_ack(1000, fl(1000, 9000), kNow);
  cc.on_rto(fl(1000, 9000));
  CHECK(cc.ssthresh() == 4000);
  cc.on_ack(1000, fl(2000, 2000), kNow);
  cc.on_rto(fl(2000, 5000));
  CHECK(cc.ssthresh() == 2000);  // max(1500, 2*SMSS)
}

TEST_CASE("newreno: RFC 6582 §3.2 step 5 a timeout during fast recovery exits it",
          "[tcp][newreno][rfc6582-3.2]") {
  NewReno cc = make();
  three_dups(cc, 0, 10000);
  cc.on_rto(fl(0, 12000));
  CHECK_FALSE(cc.in_recovery());
  CHECK(cc.cwnd() == 1000);
  CHECK(cc.recover() == 12000);
  // The next ACK is ordinary slow start, not a partial ACK.
  const AckResponse r = cc.on_ack(1000, fl(1000, 12000), kNow);
  CHECK(r.action == LossAction::None);
  CHECK(cc.cwnd() == 2000);
}

TEST_CASE("newreno: RFC 5681 §4.1 restart after idle uses min(IW, cwnd)",
          "[tcp][newreno][rfc5681-4.1]") {
  NewReno cc = make();
  for (int i = 0; i < 6; ++i) cc.on_ack(1000, fl(1000 * (i + 1), 20000), kNow);
  CHECK(cc.cwnd() == 10000);
  cc.on_idle_restart();
  CHECK(cc.cwnd() == 4000);
  cc.on_rto(fl(0, 4000));
  cc.on_idle_restart();
  CHECK(cc.cwnd() == 1000);  // already below IW
}

TEST_CASE("newreno: usable through the CongestionControl interface", "[tcp][newreno]") {
  std::unique_ptr<CongestionControl> cc = std::make_unique<NewReno>(NewRenoConfig{.smss = 1460});
  CHECK(cc->name() == "newreno");
  CHECK(cc->cwnd() == 3 * 1460);
  cc->on_loss_fast_retransmit(fl(0, 14600));
  CHECK(cc->in_recovery());
  CHECK(cc->ssthresh() == 7300);
  CHECK(cc->cwnd() == 7300 + 3 * 1460);
}

TEST_CASE("congestion: RFC 5681 §2 duplicate ACK definition", "[tcp][congestion][rfc5681-2]") {
  const DupAckCheck dup{.seg_ack = SeqNum(100),
                        .snd_una = SeqNum(100),
                        .snd_max = SeqNum(600),
                        .seg_len = 0,
                        .syn_or_fin = false,
                        .seg_wnd = 65535,
                        .snd_wnd = 65535};
  CHECK(is_duplicate_ack(dup));
  auto with = [&](auto f) {
    DupAckCheck c = dup;
    f(c);
    return is_duplicate_ack(c);
  };
  CHECK_FALSE(with([](DupAckCheck& c) { c.snd_max = c.snd_una; }));    // (a) nothing outstanding
  CHECK_FALSE(with([](DupAckCheck& c) { c.seg_len = 1; }));            // (b) carries data
  CHECK_FALSE(with([](DupAckCheck& c) { c.syn_or_fin = true; }));      // (c) SYN or FIN
  CHECK_FALSE(with([](DupAckCheck& c) { c.seg_ack = SeqNum(200); }));  // (d) acks new data
  CHECK_FALSE(with([](DupAckCheck& c) { c.seg_ack = SeqNum(50); }));   // (d) an old ACK
  CHECK_FALSE(with([](DupAckCheck& c) { c.seg_wnd = 1000; }));         // (e) window update
}

TEST_CASE("congestion: LossAction names", "[tcp][congestion]") {
  CHECK(to_string(LossAction::None) == "none");
  CHECK(to_string(LossAction::FastRetransmit) == "fast-retransmit");
  CHECK(to_string(LossAction::RetransmitFirstUnacked) == "retransmit-first-unacked");
  CHECK(to_string(LossAction::LimitedTransmit) == "limited-transmit");
}
