#include <catch2/catch.hpp>

#include "tcp/timers.hpp"

using namespace tapir;
using namespace tapir::tcp;
using std::chrono::milliseconds;

namespace {
const Instant t0 = Instant::from_millis(1000);
}  // namespace

TEST_CASE("timers: a deadline is due at and after its instant", "[tcp][timers]") {
  Deadline d;
  CHECK_FALSE(d.armed());
  CHECK_FALSE(d.due(Instant::max()));
  d.arm(t0);
  CHECK(d.armed());
  CHECK(d.at() == t0);
  CHECK_FALSE(d.due(t0 - std::chrono::microseconds(1)));
  CHECK(d.due(t0));
  CHECK(d.due(t0 + milliseconds(5)));
  d.arm(t0 + milliseconds(10));  // re-arming moves it
  CHECK_FALSE(d.due(t0));
  d.disarm();
  CHECK_FALSE(d.armed());
  CHECK_FALSE(d.due(t0 + milliseconds(10)));
}

TEST_CASE("timers: next() is the earliest armed deadline", "[tcp][timers]") {
  Timers t;
  CHECK_FALSE(t.next().has_value());
  t.keepalive.arm(t0 + milliseconds(7200));
  t.retransmit.arm(t0 + milliseconds(200));
  t.delayed_ack.arm(t0 + milliseconds(40));
  CHECK(t.next() == t0 + milliseconds(40));
  t.delayed_ack.disarm();
  CHECK(t.next() == t0 + milliseconds(200));
  t.user_timeout.arm(t0 + milliseconds(1));
  CHECK(t.next() == t0 + milliseconds(1));
}

TEST_CASE("timers: next_due fires in deadline order", "[tcp][timers]") {
  Timers t;
  t.persist.arm(t0 + milliseconds(30));
  t.retransmit.arm(t0 + milliseconds(20));
  t.time_wait.arm(t0 + milliseconds(10));
  CHECK_FALSE(t.next_due(t0).has_value());
  const Instant now = t0 + milliseconds(25);
  REQUIRE(t.next_due(now) == TimerKind::TimeWait);
  t.time_wait.disarm();
  REQUIRE(t.next_due(now) == TimerKind::Retransmit);
  t.retransmit.disarm();
  CHECK_FALSE(t.next_due(now).has_value());  // persist is not due yet
  // Equal deadlines resolve in TimerKind order.
  t.keepalive.arm(t0);
  t.delayed_ack.arm(t0);
  CHECK(t.next_due(now) == TimerKind::DelayedAck);
}

TEST_CASE("timers: indexing by kind reaches the named member", "[tcp][timers]") {
  Timers t;
  t[TimerKind::Retransmit].arm(t0);
  t[TimerKind::Persist].arm(t0 + milliseconds(1));
  t[TimerKind::DelayedAck].arm(t0 + milliseconds(2));
  t[TimerKind::Keepalive].arm(t0 + milliseconds(3));
  t[TimerKind::TimeWait].arm(t0 + milliseconds(4));
  t[TimerKind::UserTimeout].arm(t0 + milliseconds(5));
  t[TimerKind::BufferRelease].arm(t0 + milliseconds(6));
  CHECK(t.retransmit.at() == t0);
  CHECK(t.persist.at() == t0 + milliseconds(1));
  CHECK(t.delayed_ack.at() == t0 + milliseconds(2));
  CHECK(t.keepalive.at() == t0 + milliseconds(3));
  CHECK(t.time_wait.at() == t0 + milliseconds(4));
  CHECK(t.user_timeout.at() == t0 + milliseconds(5));
  CHECK(t.buffer_release.at() == t0 + milliseconds(6));
  const Timers& ct = t;
  CHECK(ct[TimerKind::UserTimeout].at() == t0 + milliseconds(5));
  t.disarm_all();
  CHECK_FALSE(t.next().has_value());
}

TEST_CASE("timers: RFC 9293 §3.10.7.4 entering TIME-WAIT turns off the other timers",
          "[tcp][timers][rfc9293-3.10.7.4]") {
  Timers t;
  t.retransmit.arm(t0);
  t.keepalive.arm(t0);
  t.delayed_ack.arm(t0);
  t.start_time_wait(t0 + kTimeWaitLinux);
  CHECK_FALSE(t.retransmit.armed());
  CHECK_FALSE(t.keepalive.armed());
  CHECK_FALSE(t.delayed_ack.armed());
  CHECK(t.next() == t0 + std::chrono::seconds(60));
}

TEST_CASE("timers: names and RFC bounds", "[tcp][timers]") {
  CHECK(to_string(TimerKind::Retransmit) == "retransmit");
  CHECK(to_string(TimerKind::Persist) == "persist");
  CHECK(to_string(TimerKind::DelayedAck) == "delayed_ack");
  CHECK(to_string(TimerKind::Keepalive) == "keepalive");
  CHECK(to_string(TimerKind::TimeWait) == "time_wait");
  CHECK(to_string(TimerKind::UserTimeout) == "user_timeout");
  CHECK(to_string(TimerKind::BufferRelease) == "buffer_release");
  CHECK(kTimeWaitRfc == std::chrono::minutes(4));
  CHECK(kMaxAckDelay == milliseconds(500));
  CHECK(kMinKeepaliveIdle == std::chrono::seconds(7200));
}
