// The event loop's receive pacing (src/app/event_loop.hpp): one frame per round while
// frames come one per wake-up, a whole batch once they keep coming, back to one when a
// batch round finds at most one frame.
#include "app/event_loop.hpp"

#include <catch2/catch.hpp>

using tapir::app::RxPacing;

TEST_CASE("rx pacing: one frame per round until frames have kept coming", "[app][pacing]") {
  RxPacing p;
  CHECK(p.budget() == 1);
  // A request/response peer on one CPU: a frame every round, never more than one.
  for (int i = 0; i < RxPacing::kStreak - 1; ++i) {
    p.update(p.budget(), 1);
    CHECK(p.budget() == 1);
  }
  // An empty round (the loop then sleeps in ppoll) starts the count again.
  p.update(p.budget(), 0);
  for (int i = 0; i < RxPacing::kStreak - 1; ++i) p.update(p.budget(), 1);
  CHECK(p.budget() == 1);
  p.update(p.budget(), 1);
  CHECK(p.budget() == RxPacing::kBatch);
}

TEST_CASE("rx pacing: batches while a stream fills them, single frames again after",
          "[app][pacing]") {
  RxPacing p;
  for (int i = 0; i < RxPacing::kStreak; ++i) p.update(p.budget(), 1);
  REQUIRE(p.batch());
  // A stream: full batches, or partial ones of several frames, keep the batch size.
  p.update(p.budget(), RxPacing::kBatch);
  CHECK(p.budget() == RxPacing::kBatch);
  p.update(p.budget(), 7);
  CHECK(p.budget() == RxPacing::kBatch);
  // A batch round that found one frame (or none): back to answering frame by frame.
  p.update(p.budget(), 1);
  CHECK(p.budget() == 1);
  CHECK_FALSE(p.batch());
  for (int i = 0; i < RxPacing::kStreak; ++i) p.update(p.budget(), 1);
  CHECK(p.batch());
  p.update(p.budget(), 0);
  CHECK(p.budget() == 1);
}
