// The sender's SACK scoreboard and the RFC 6675 §4 routines (Update, IsLost, SetPipe,
// NextSeg), without a connection. Offsets are stream offsets; SMSS is 100 throughout so
// the numbers stay readable.
#include <catch2/catch.hpp>

#include <vector>

#include "tcp/sack_scoreboard.hpp"

using namespace tapir::tcp;
using Rule = NextSegment::Rule;

namespace {
constexpr std::uint32_t kSmss = 100;

std::vector<SackRange> ranges_of(const SackScoreboard& sb) {
  return {sb.ranges().begin(), sb.ranges().end()};
}

// Three SACKed segments with holes below each: [0,300) lost, [400,500) and [600,700) not
// (fewer than DupThresh ranges and at most 2*SMSS above them), [800,1000) unSACKed tail.
SackScoreboard three_ranges() {
  SackScoreboard sb;
  std::vector<SackRange> blocks{{300, 400}, {500, 600}, {700, 800}};
  REQUIRE(sb.update(blocks) == 300);
  return sb;
}

SackScoreboard::NextSegInput input(std::uint64_t high_rxt) {
  return {.una = 0, .high_data = 1000, .high_rxt = high_rxt, .smss = kSmss, .max_len = kSmss};
}
}  // namespace

TEST_CASE("sack scoreboard: RFC 6675 Update merges blocks and counts newly SACKed octets",
          "[tcp][sack][rfc6675-4]") {
  SackScoreboard sb;
  CHECK(sb.update(std::vector<SackRange>{{10, 20}}) == 10);
  CHECK(sb.update(std::vector<SackRange>{{15, 25}}) == 5);  // overlap counted once
  CHECK(sb.update(std::vector<SackRange>{{15, 25}}) == 0);  // nothing new: not a dup ACK
  CHECK(sb.update(std::vector<SackRange>{{40, 50}, {25, 30}}) == 15);
  CHECK(ranges_of(sb) == std::vector<SackRange>{{10, 30}, {40, 50}});  // adjacent merge
  CHECK(sb.update(std::vector<SackRange>{{5, 60}}) == 55 - 30);
  CHECK(ranges_of(sb) == std::vector<SackRange>{{5, 60}});
  CHECK(sb.update(std::vector<SackRange>{{70, 70}, {90, 80}}) == 0);  // empty blocks
  CHECK(sb.highest_sacked_end() == 60);
}

TEST_CASE("sack scoreboard: a cumulative ACK forgets what it covers (RFC 2018 §8)",
          "[tcp][sack][rfc2018-8]") {
  SackScoreboard sb;
  sb.update(std::vector<SackRange>{{10, 20}, {30, 40}});
  sb.advance(15);
  CHECK(ranges_of(sb) == std::vector<SackRange>{{15, 20}, {30, 40}});
  sb.advance(30);
  CHECK(ranges_of(sb) == std::vector<SackRange>{{30, 40}});
  sb.advance(40);
  CHECK(sb.empty());
  sb.update(std::vector<SackRange>{{50, 60}});
  sb.clear();  // RFC 6675 §5.1: a timeout expunges it all
  CHECK(sb.empty());
  CHECK(sb.highest_sacked_end() == 0);
}

TEST_CASE("sack scoreboard: lookups", "[tcp][sack]") {
  SackScoreboard sb = three_ranges();
  CHECK_FALSE(sb.is_sacked(299));
  CHECK(sb.is_sacked(300));
  CHECK(sb.is_sacked(399));
  CHECK_FALSE(sb.is_sacked(400));
  CHECK(sb.sacked_run_end(350) == 400);
  CHECK(sb.sacked_run_end(450) == 450);
  REQUIRE(sb.next_range(301) != nullptr);
  CHECK(sb.next_range(301)->begin == 500);
  CHECK(sb.next_range(300)->begin == 300);
  CHECK(sb.next_range(701) == nullptr);
  CHECK(sb.sacked_between(0, 1000) == 300);
  CHECK(sb.sacked_between(350, 550) == 100);
}

TEST_CASE("sack scoreboard: the range limit drops new disjoint blocks, never merges",
          "[tcp][sack]") {
  SackScoreboard sb(2);
  sb.update(std::vector<SackRange>{{10, 20}, {30, 40}});
  CHECK(sb.update(std::vector<SackRange>{{50, 60}}) == 0);
  CHECK(sb.dropped_blocks() == 1);
  CHECK(sb.update(std::vector<SackRange>{{20, 25}}) == 5);  // grows an existing range
  CHECK(ranges_of(sb) == std::vector<SackRange>{{10, 25}, {30, 40}});
}

TEST_CASE("sack scoreboard: RFC 6675 IsLost by DupThresh ranges or (DupThresh-1)*SMSS octets",
          "[tcp][sack][rfc6675-4]") {
  SackScoreboard sb;
  sb.update(std::vector<SackRange>{{200, 300}});
  CHECK_FALSE(sb.is_lost(100, kSmss));  // one segment above
  sb.update(std::vector<SackRange>{{400, 500}});
  CHECK_FALSE(sb.is_lost(100, kSmss));  // two segments, exactly 2*SMSS octets: not more
  sb.update(std::vector<SackRange>{{600, 601}});
  CHECK(sb.is_lost(100, kSmss));        // three discontiguous ranges
  CHECK_FALSE(sb.is_lost(350, kSmss));  // above 350: two ranges, 101 octets
  SackScoreboard bytes;
  bytes.update(std::vector<SackRange>{{200, 401}});
  CHECK(bytes.is_lost(100, kSmss));  // one range, but 201 > 2*SMSS octets
  CHECK_FALSE(bytes.is_lost(201, kSmss));
}

TEST_CASE("sack scoreboard: RFC 6675 SetPipe counts each octet once in flight, once resent",
          "[tcp][sack][rfc6675-4]") {
  SackScoreboard sb = three_ranges();
  // Holes: [0,300) lost (3 ranges above): 0; [400,500) and [600,700): 100 each;
  // [800,1000): 200.
  CHECK(sb.pipe(0, 1000, 0, kSmss) == 400);
  // Resent octets below HighRxt count too, lost or not: [0,100) +100, and [400,450) +50.
  CHECK(sb.pipe(0, 1000, 100, kSmss) == 500);
  CHECK(sb.pipe(0, 1000, 450, kSmss) == 400 + 300 + 50);
  // SACKed octets never count; an empty scoreboard is the whole flight.
  CHECK(SackScoreboard().pipe(100, 600, 0, kSmss) == 500);
  CHECK(sb.pipe(1000, 1000, 0, kSmss) == 0);
}

TEST_CASE("sack scoreboard: RFC 6675 NextSeg rule 1 resends the first lost hole above HighRxt",
          "[tcp][sack][rfc6675-4]") {
  SackScoreboard sb = three_ranges();
  CHECK(sb.next_seg(input(0)) == NextSegment{Rule::Lost, 0, 100});
  CHECK(sb.next_seg(input(100)) == NextSegment{Rule::Lost, 100, 100});
  // A segment never runs into SACKed octets.
  CHECK(sb.next_seg(input(250)) == NextSegment{Rule::Lost, 250, 50});
  // Rule 1 comes before new data.
  auto in = input(0);
  in.new_data = true;
  CHECK(sb.next_seg(in)->rule == Rule::Lost);
}

TEST_CASE("sack scoreboard: RFC 6675 NextSeg rules 2 and 3: new data, then unSACKed holes",
          "[tcp][sack][rfc6675-4]") {
  SackScoreboard sb = three_ranges();
  auto in = input(300);  // the lost hole is resent; [400,500) is not lost
  in.new_data = true;
  CHECK(sb.next_seg(in) == NextSegment{Rule::NewData, 1000, 0});
  in.new_data = false;
  CHECK(sb.next_seg(in) == NextSegment{Rule::Unsacked, 400, 100});
  CHECK(sb.next_seg(input(500)) == NextSegment{Rule::Unsacked, 600, 100});
}

TEST_CASE("sack scoreboard: RFC 6675 NextSeg rule 4 is one rescue at the highest unSACKed data",
          "[tcp][sack][rfc6675-4]") {
  SackScoreboard sb = three_ranges();
  // Every hole below the highest SACK is resent (HighRxt = 800): only the tail is left,
  // above all SACKed data, where rules 1 and 3 do not look.
  auto in = input(800);
  CHECK(sb.next_seg(in) == NextSegment{Rule::Rescue, 900, 100});
  // "HighACK > RescueRxt": not again in this recovery (RescueRxt = RecoveryPoint).
  in.rescue_rxt = 1000;
  CHECK_FALSE(sb.next_seg(in).has_value());
  in.una = 1000;
  in.high_data = 1000;
  CHECK_FALSE(sb.next_seg(in).has_value());  // nothing outstanding: (5) failure
}
