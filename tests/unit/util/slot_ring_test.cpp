#include <catch2/catch.hpp>

#include <deque>
#include <vector>

#include "util/slot_ring.hpp"

using namespace tapir;

TEST_CASE("SlotRing: first in, first out across wrap-around and growth", "[util][slot-ring]") {
  SlotRing<int> q;
  std::deque<int> model;
  int next = 0;
  // Pushes and pops in uneven runs, so the head wraps and the ring grows while wrapped.
  for (int round = 0; round < 200; ++round) {
    const int pushes = 1 + (round * 7) % 13;
    const int pops = (round * 5) % 11;
    for (int i = 0; i < pushes; ++i) {
      q.push_back() = next;
      model.push_back(next++);
    }
    for (int i = 0; i < pops && !model.empty(); ++i) {
      REQUIRE(q.front() == model.front());
      q.pop_front();
      model.pop_front();
    }
    REQUIRE(q.size() == model.size());
    for (std::size_t i = 0; i < model.size(); ++i) REQUIRE(q[i] == model[i]);
  }
}

TEST_CASE("SlotRing: a popped slot keeps its memory for the next push", "[util][slot-ring]") {
  SlotRing<std::vector<int>> q;
  q.push_back().assign(100, 1);
  const int* storage = q.front().data();
  q.pop_front();
  // One slot in use at a time cycles through the first allocation's slots.
  for (std::size_t i = 1; i < q.capacity(); ++i) {
    q.push_back().assign(10, 2);
    q.pop_front();
  }
  auto& again = q.push_back();
  CHECK(again.capacity() >= 100);
  CHECK(again.data() == storage);
  CHECK(q.capacity() == 8);
}

TEST_CASE("SlotRing: growth keeps the queued order and every slot's memory", "[util][slot-ring]") {
  SlotRing<std::vector<int>> q;
  // Wrap the head first, so growth has to unroll the queue.
  for (int i = 0; i < 5; ++i) {
    q.push_back().assign(1, -1);
    q.pop_front();
  }
  for (int i = 0; i < 20; ++i) q.push_back().assign(3, i);
  CHECK(q.capacity() == 32);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(q.front() == std::vector<int>(3, i));
    q.pop_front();
  }
  CHECK(q.empty());
}

TEST_CASE("SlotRing: trim frees the idle slots of an empty queue only", "[util][slot-ring]") {
  SlotRing<int> q;
  for (int i = 0; i < 40; ++i) q.push_back() = i;
  CHECK(q.capacity() == 64);
  q.trim(8);
  CHECK(q.capacity() == 64);  // slots in use: nothing is freed
  while (!q.empty()) q.pop_front();
  q.trim(8);
  CHECK(q.capacity() == 8);
  q.push_back() = 7;
  CHECK(q.front() == 7);
}
