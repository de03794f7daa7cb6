#include "phy/step_recorder.hpp"

#include <catch2/catch.hpp>

#include <vector>

#include "phy/queue_device.hpp"

using namespace tapir;
using namespace tapir::phy;

namespace {

struct Collect final : StepSink {
  int begins = 0;
  std::vector<Step> steps;
  void step_begin() override { ++begins; }
  void step_end(Step&& s) override { steps.push_back(std::move(s)); }
};

std::vector<std::byte> frame(std::uint8_t tag) {
  return std::vector<std::byte>(60, std::byte{tag});
}

}  // namespace

TEST_CASE("StepRecorder: receive() and flush() cut the frame stream into steps", "[phy]") {
  QueueDevice inner;
  Collect sink;
  inner.inject(frame(1));
  inner.inject(frame(2));
  {
    StepRecorder rec(inner, sink);
    CHECK(sink.begins == 1);
    const Instant t = Instant::from_millis(5);
    REQUIRE(rec.transmit(frame(10), t) == Errno::Ok);  // before the receive loop
    REQUIRE(rec.receive(t));
    REQUIRE(rec.transmit(frame(11), t) == Errno::Ok);  // answer to frame 1
    REQUIRE(rec.receive(t));                           // frame 2: no answer
    REQUIRE_FALSE(rec.receive(t));                     // end of the receive loop
    REQUIRE(rec.transmit(frame(12), t) == Errno::Ok);  // a timer
    rec.flush(t);
    REQUIRE(rec.transmit(frame(13), Instant::from_millis(6)) == Errno::Ok);  // between polls
  }  // destruction ends the open step

  REQUIRE(sink.steps.size() == 5);
  CHECK(sink.steps[0].kind == StepKind::Idle);
  CHECK(sink.steps[0].tx.size() == 1);
  CHECK(sink.steps[1].kind == StepKind::Received);
  REQUIRE(sink.steps[1].rx);
  CHECK(sink.steps[1].rx->bytes == frame(1));
  REQUIRE(sink.steps[1].tx.size() == 1);
  CHECK(sink.steps[1].tx[0].bytes == frame(11));
  CHECK(sink.steps[2].kind == StepKind::Received);
  CHECK(sink.steps[2].tx.empty());
  CHECK(sink.steps[3].kind == StepKind::Timers);
  REQUIRE(sink.steps[3].tx.size() == 1);
  CHECK(sink.steps[3].tx[0].bytes == frame(12));
  CHECK(sink.steps[4].kind == StepKind::Idle);
  REQUIRE(sink.steps[4].tx.size() == 1);
  CHECK(sink.steps[4].tx[0].time == Instant::from_millis(6));
  CHECK(sink.begins == 6);
  CHECK(inner.take_transmitted().size() == 4);
}

TEST_CASE("StepRecorder: refused frames are not part of a step", "[phy]") {
  QueueDevice inner;
  Collect sink;
  StepRecorder rec(inner, sink);
  inner.fail_transmit(Errno::Again);
  CHECK(rec.transmit(frame(1), Instant{}) == Errno::Again);
  rec.flush(Instant{});
  REQUIRE(sink.steps.size() == 1);
  CHECK(sink.steps[0].tx.empty());
}
