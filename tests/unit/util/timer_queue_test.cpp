// TimerQueue: ordering, lazy deletion of stale entries, re-arming earlier and later,
// handle reuse, and the compaction bound, checked against a brute-force reference.
#include <catch2/catch.hpp>
#include <map>

#include "tapir/random.hpp"
#include "util/timer_queue.hpp"

using namespace tapir;
using Handle = TimerQueue::Handle;

namespace {

Instant at_ms(std::int64_t ms) { return Instant::from_millis(ms); }

std::vector<Handle> due(TimerQueue& q, std::int64_t now_ms) {
  std::vector<Handle> out;
  q.take_due(at_ms(now_ms), out);
  return out;
}

}  // namespace

TEST_CASE("timer queue: due handles come out earliest first, ties in handle order",
          "[util][timer_queue]") {
  TimerQueue q;
  Handle a = q.acquire(), b = q.acquire(), c = q.acquire(), d = q.acquire();
  q.schedule(a, at_ms(30));
  q.schedule(b, at_ms(10));
  q.schedule(c, at_ms(20));
  q.schedule(d, at_ms(10));
  CHECK(q.next() == at_ms(10));
  CHECK(q.scheduled_count() == 4);
  CHECK(due(q, 9).empty());
  CHECK(due(q, 20) == std::vector<Handle>{b, d, c});
  // Taken handles have no deadline until scheduled again.
  CHECK(!q.scheduled(b));
  CHECK(q.scheduled(a) == at_ms(30));
  CHECK(q.next() == at_ms(30));
  CHECK(due(q, 1000) == std::vector<Handle>{a});
  CHECK(!q.next());
  CHECK(q.heap_size() == 0);
}

TEST_CASE("timer queue: a deadline is due at its own instant", "[util][timer_queue]") {
  TimerQueue q;
  Handle a = q.acquire();
  q.schedule(a, at_ms(5));
  CHECK(due(q, 5) == std::vector<Handle>{a});
}

TEST_CASE("timer queue: re-arming later leaves a stale entry that is skipped",
          "[util][timer_queue]") {
  TimerQueue q;
  Handle a = q.acquire(), b = q.acquire();
  q.schedule(a, at_ms(10));
  q.schedule(b, at_ms(50));
  q.schedule(a, at_ms(100));     // the entry at 10 is now stale
  CHECK(q.next() == at_ms(50));  // the stale top was dropped at once
  CHECK(q.scheduled(a) == at_ms(100));
  CHECK(due(q, 60) == std::vector<Handle>{b});
  CHECK(due(q, 99).empty());
  CHECK(due(q, 100) == std::vector<Handle>{a});
  CHECK(due(q, 1000).empty());  // each handle fires once per deadline
}

TEST_CASE("timer queue: re-arming earlier moves the next deadline forward", "[util][timer_queue]") {
  TimerQueue q;
  Handle a = q.acquire(), b = q.acquire();
  q.schedule(a, at_ms(100));
  q.schedule(b, at_ms(50));
  q.schedule(a, at_ms(10));
  CHECK(q.next() == at_ms(10));
  CHECK(due(q, 10) == std::vector<Handle>{a});
  CHECK(q.next() == at_ms(50));
  CHECK(q.heap_size() == 2);  // b's entry and a's stale one at 100
  CHECK(due(q, 200) == std::vector<Handle>{b});
  CHECK(q.heap_size() == 0);
}

TEST_CASE("timer queue: the same deadline again adds no entry", "[util][timer_queue]") {
  TimerQueue q;
  Handle a = q.acquire();
  for (int i = 0; i < 1000; ++i) q.schedule(a, at_ms(7));
  CHECK(q.heap_size() == 1);
  q.schedule(a, std::nullopt);
  q.schedule(a, std::nullopt);
  CHECK(!q.next());
  CHECK(q.scheduled_count() == 0);
}

TEST_CASE("timer queue: clearing and releasing a handle, and reusing it", "[util][timer_queue]") {
  TimerQueue q;
  Handle a = q.acquire(), b = q.acquire();
  q.schedule(a, at_ms(10));
  q.schedule(b, at_ms(20));
  q.schedule(a, std::nullopt);
  CHECK(q.next() == at_ms(20));
  q.schedule(a, at_ms(5));
  q.release(a);
  CHECK(q.handle_count() == 1);
  CHECK(q.next() == at_ms(20));
  // A new owner gets the handle back with no deadline; the old entries stay stale.
  Handle c = q.acquire();
  CHECK(c == a);
  CHECK(!q.scheduled(c));
  CHECK(due(q, 15).empty());
  q.schedule(c, at_ms(30));
  CHECK(due(q, 30) == std::vector<Handle>{b, c});
}

TEST_CASE("timer queue: compaction keeps stale entries below the live count plus a slack",
          "[util][timer_queue]") {
  TimerQueue q;
  Handle first = q.acquire(), a = q.acquire();
  q.schedule(first, at_ms(0));  // holds the top, so a's stale entries stay below it
  // Re-arming a handle ever later leaves one stale entry per change.
  std::size_t largest = 0;
  for (int i = 1; i <= 10000; ++i) {
    q.schedule(a, at_ms(i));
    largest = std::max(largest, q.heap_size());
  }
  CHECK(largest ==
        std::size_t{2} * 2 + TimerQueue::kCompactSlack);  // rebuilt whenever it got larger
  CHECK(q.heap_size() <= largest);
  CHECK(q.next() == at_ms(0));
  CHECK(due(q, 10000) == std::vector<Handle>{first, a});
  CHECK(q.heap_size() == 0);
}

TEST_CASE("timer queue: random schedules match a brute-force reference", "[util][timer_queue]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  INFO("seed=" << seed);
  SeededRng rng(seed);
  TimerQueue q;
  std::map<Handle, std::int64_t> ref;  // handle -> deadline (ms), armed handles only
  std::vector<Handle> held;
  std::int64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    switch (rng.below(6)) {
      case 0:
        held.push_back(q.acquire());
        break;
      case 1:
        if (!held.empty()) {
          std::size_t i = rng.below(static_cast<std::uint32_t>(held.size()));
          q.release(held[i]);
          ref.erase(held[i]);
          held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
        }
        break;
      case 2:
        now += rng.below(50);
        {
          std::vector<Handle> want;
          std::vector<std::pair<std::int64_t, Handle>> order;
          for (auto [h, t] : ref) {
            if (t <= now) order.emplace_back(t, h);
          }
          std::sort(order.begin(), order.end());
          for (auto [t, h] : order) {
            want.push_back(h);
            ref.erase(h);
          }
          CHECK(due(q, now) == want);
        }
        break;
      default:
        if (!held.empty()) {
          Handle h = held[rng.below(static_cast<std::uint32_t>(held.size()))];
          if (rng.below(8) == 0) {
            q.schedule(h, std::nullopt);
            ref.erase(h);
          } else {
            std::int64_t t = now + rng.below(1000);
            q.schedule(h, at_ms(t));
            ref[h] = t;
          }
        }
        break;
    }
    std::optional<Instant> want_next;
    for (auto [h, t] : ref) want_next = earliest(want_next, std::optional<Instant>(at_ms(t)));
    REQUIRE(q.next() == want_next);
    REQUIRE(q.scheduled_count() == ref.size());
    REQUIRE(q.heap_size() <= 2 * ref.size() + TimerQueue::kCompactSlack);
  }
}
