#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "tapir/random.hpp"
#include "tcp/reassembler.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {

// Reads (and consumes) everything readable.
std::string read_all(Reassembler& r) {
  std::string out(r.output().size(), '\0');
  const std::size_t n = r.output().read(std::as_writable_bytes(std::span(out.data(), out.size())));
  out.resize(n);
  return out;
}

InsertResult ins(Reassembler& r, std::uint64_t off, std::string_view s, bool fin = false) {
  return r.insert(off, as_bytes(s), fin);
}

}  // namespace

// --- in order ---------------------------------------------------------------------------

TEST_CASE("reassembler: in-order data is readable at once", "[tcp][reassembler]") {
  Reassembler r(64);
  CHECK(ins(r, 0, "abcd").delivered == 4);
  CHECK(r.next_expected() == 4);
  CHECK(ins(r, 4, "efgh").delivered == 4);
  CHECK(r.next_expected() == 8);
  CHECK(read_all(r) == "abcdefgh");
  CHECK(r.pending_bytes() == 0);
  CHECK(r.ranges().empty());
}

TEST_CASE("reassembler: a start offset other than 0", "[tcp][reassembler]") {
  Reassembler r(16, Reassembler::kDefaultMaxRanges, 1000);
  CHECK(r.next_expected() == 1000);
  CHECK(ins(r, 1000, "ab").delivered == 2);
  CHECK(ins(r, 998, "xyab").delivered == 0);
  CHECK(r.counters().duplicate_bytes == 4);
  CHECK(read_all(r) == "ab");
}

TEST_CASE("reassembler: buffer memory is allocated on the first byte", "[tcp][reassembler]") {
  Reassembler r(1 << 16);
  CHECK(r.output().allocated_bytes() == 0);
  ins(r, 0, "", true);  // an empty FIN needs no storage
  CHECK(r.output().allocated_bytes() == 0);
  Reassembler r2(1 << 16);
  ins(r2, 5, "x");
  CHECK(r2.output().allocated_bytes() == ByteRing::kMinAllocation);  // grows on demand
  CHECK_FALSE(r2.releasable());  // a byte is parked out of order: keep it
  CHECK(r2.output().allocated_bytes() == ByteRing::kMinAllocation);
  ins(r2, 0, "abcde");
  CHECK(read_all(r2) == "abcdex");
  REQUIRE(r2.releasable());
  r2.release();
  CHECK(r2.output().allocated_bytes() == 0);
  CHECK_FALSE(r2.releasable());  // nothing held: nothing to free
}

// --- holes ------------------------------------------------------------------------------

TEST_CASE("reassembler: one hole filled later", "[tcp][reassembler][holes]") {
  Reassembler r(64);
  const InsertResult a = ins(r, 1, "bcd");
  CHECK(a.delivered == 0);
  CHECK(a.stored_out_of_order == 3);
  CHECK(r.next_expected() == 0);
  CHECK(r.pending_bytes() == 3);
  CHECK(r.output().size() == 0);
  const InsertResult b = ins(r, 0, "a");
  CHECK(b.delivered == 4);
  CHECK(b.stored_out_of_order == 0);
  CHECK(r.pending_bytes() == 0);
  CHECK(read_all(r) == "abcd");
}

TEST_CASE("reassembler: several holes filled in reverse", "[tcp][reassembler][holes]") {
  Reassembler r(64);
  ins(r, 6, "g");
  ins(r, 4, "e");
  ins(r, 2, "c");
  CHECK(r.ranges().size() == 3);
  CHECK(r.pending_bytes() == 3);
  CHECK(ins(r, 5, "f").delivered == 0);  // joins [4,5) and [6,7)
  CHECK(r.ranges().size() == 2);
  CHECK(ins(r, 3, "d").delivered == 0);
  REQUIRE(r.ranges().size() == 1);
  CHECK(r.ranges()[0].begin == 2);
  CHECK(r.ranges()[0].end == 7);
  CHECK(ins(r, 0, "ab").delivered == 7);
  CHECK(read_all(r) == "abcdefg");
}

TEST_CASE("reassembler: reading does not disturb parked data", "[tcp][reassembler][holes]") {
  Reassembler r(8);
  ins(r, 0, "abc");
  ins(r, 5, "fgh");
  CHECK(read_all(r) == "abc");
  CHECK(r.window() == 8);
  ins(r, 3, "de");
  CHECK(read_all(r) == "defgh");
}

// --- overlaps ---------------------------------------------------------------------------

TEST_CASE("reassembler: overlap with delivered data is trimmed", "[tcp][reassembler][overlap]") {
  Reassembler r(64);
  ins(r, 0, "abcd");
  CHECK(ins(r, 2, "cdef").delivered == 2);
  CHECK(r.counters().duplicate_bytes == 2);
  CHECK(read_all(r) == "abcdef");
  CHECK(ins(r, 0, "abcdef").delivered == 0);
  CHECK(r.counters().duplicate_bytes == 8);
}

TEST_CASE("reassembler: overlapping out-of-order ranges merge", "[tcp][reassembler][overlap]") {
  Reassembler r(64);
  ins(r, 10, "klmn");
  ins(r, 12, "mnop");
  REQUIRE(r.ranges().size() == 1);
  CHECK(r.ranges()[0].begin == 10);
  CHECK(r.ranges()[0].end == 16);
  CHECK(r.pending_bytes() == 6);
  ins(r, 5, "fg");
  ins(r, 20, "uv");
  CHECK(r.ranges().size() == 3);
  // One segment spanning two holes and all three ranges.
  const InsertResult s = ins(r, 4, "efghijklmnopqrstuvw");
  CHECK(s.stored_out_of_order == 19 - 2 - 6 - 2);
  REQUIRE(r.ranges().size() == 1);
  CHECK(r.ranges()[0].begin == 4);
  CHECK(r.ranges()[0].end == 23);
  CHECK(ins(r, 0, "abcd").delivered == 23);
  CHECK(read_all(r) == "abcdefghijklmnopqrstuvw");
}

TEST_CASE("reassembler: a segment inside a parked range adds nothing",
          "[tcp][reassembler][overlap]") {
  Reassembler r(64);
  ins(r, 3, "defgh");
  const InsertResult s = ins(r, 4, "ef");
  CHECK(s.stored_out_of_order == 0);
  CHECK(r.pending_bytes() == 5);
  CHECK(r.ranges().size() == 1);
}

// --- capacity (the receive window) --------------------------------------------------------

TEST_CASE("reassembler: bytes beyond the window are dropped", "[tcp][reassembler][capacity]") {
  Reassembler r(4);
  CHECK(ins(r, 0, "abcdef").delivered == 4);
  CHECK(r.counters().beyond_window_bytes == 2);
  CHECK(r.window() == 0);
  CHECK(ins(r, 4, "ef").delivered == 0);  // zero window: nothing fits
  CHECK(r.counters().beyond_window_bytes == 4);
  CHECK(read_all(r) == "abcd");
  CHECK(r.window() == 4);
  CHECK(ins(r, 4, "efgh").delivered == 4);
  CHECK(read_all(r) == "efgh");
}

TEST_CASE("reassembler: the window edge counts from RCV.NXT, not from the buffer start",
          "[tcp][reassembler][capacity]") {
  Reassembler r(8);
  ins(r, 0, "ab");  // unread: the window is now [2, 8)
  CHECK(r.window() == 6);
  ins(r, 6, "ghij");  // [6,8) fits, [8,10) does not
  CHECK(r.pending_bytes() == 2);
  CHECK(r.counters().beyond_window_bytes == 2);
  ins(r, 9, "j");  // entirely beyond
  CHECK(r.pending_bytes() == 2);
  CHECK(ins(r, 2, "cdef").delivered == 6);
  CHECK(read_all(r) == "abcdefgh");
  CHECK(r.next_expected() == 8);
}

TEST_CASE("reassembler: parked bytes occupy the window they arrived in",
          "[tcp][reassembler][capacity]") {
  Reassembler r(6);
  ins(r, 3, "def");
  CHECK(r.window() == 6);  // RCV.WND is measured from RCV.NXT and includes parked bytes
  CHECK(ins(r, 0, "abc").delivered == 6);
  CHECK(r.window() == 0);
  CHECK(read_all(r) == "abcdef");
}

// --- range limit --------------------------------------------------------------------------

TEST_CASE("reassembler: a new range past the limit is dropped and counted",
          "[tcp][reassembler][limit]") {
  Reassembler r(100, 2);
  ins(r, 10, "a");
  ins(r, 20, "b");
  const InsertResult third = ins(r, 30, "c");
  CHECK(third.dropped_range_limit);
  CHECK(r.counters().range_limit_segments == 1);
  CHECK(r.ranges().size() == 2);
  CHECK(r.pending_bytes() == 2);
  // Extending or joining existing ranges is still allowed at the limit.
  CHECK_FALSE(ins(r, 11, "x").dropped_range_limit);
  CHECK_FALSE(ins(r, 12, "yyyyyyyy").dropped_range_limit);
  CHECK(r.ranges().size() == 1);
  // In-order data is never limited.
  ins(r, 40, "z");
  CHECK(r.ranges().size() == 2);
  CHECK_FALSE(ins(r, 0, "0123456789").dropped_range_limit);
  CHECK(r.next_expected() == 21);
  CHECK(r.counters().range_limit_segments == 1);
}

// --- FIN ------------------------------------------------------------------------------

TEST_CASE("reassembler: an empty FIN at RCV.NXT is reached at once", "[tcp][reassembler][fin]") {
  Reassembler r(16);
  ins(r, 0, "", true);
  CHECK(r.fin_offset() == 0u);
  CHECK(r.fin_reached());
}

TEST_CASE("reassembler: FIN with data is reached when the data is", "[tcp][reassembler][fin]") {
  Reassembler r(16);
  ins(r, 0, "ab");
  CHECK_FALSE(r.fin_reached());
  ins(r, 2, "cd", true);
  CHECK(r.fin_offset() == 4u);
  CHECK(r.fin_reached());
  CHECK(read_all(r) == "abcd");
}

TEST_CASE("reassembler: an early FIN waits for the hole", "[tcp][reassembler][fin]") {
  Reassembler r(16);
  ins(r, 3, "def", true);
  CHECK(r.fin_offset() == 6u);
  CHECK_FALSE(r.fin_reached());
  ins(r, 1, "b");
  CHECK_FALSE(r.fin_reached());
  ins(r, 0, "a");
  CHECK_FALSE(r.fin_reached());
  ins(r, 2, "c");
  CHECK(r.fin_reached());
  CHECK(read_all(r) == "abcdef");
}

TEST_CASE("reassembler: a FIN beyond the window is not accepted", "[tcp][reassembler][fin]") {
  // RFC 9293 §3.10.7.4: trimming the segment's tail to the window also removes its FIN.
  Reassembler r(4);
  ins(r, 0, "abcdef", true);
  CHECK_FALSE(r.fin_offset().has_value());
  CHECK(read_all(r) == "abcd");
  ins(r, 4, "ef", true);  // retransmitted after the window opened
  CHECK(r.fin_reached());
  CHECK(read_all(r) == "ef");
}

TEST_CASE("reassembler: a FIN exactly at the window edge is accepted", "[tcp][reassembler][fin]") {
  Reassembler r(4);
  ins(r, 0, "abcd", true);
  CHECK(r.fin_reached());
  CHECK(r.window() == 0);
}

TEST_CASE("reassembler: nothing is kept past the FIN", "[tcp][reassembler][fin]") {
  Reassembler r(16);
  ins(r, 2, "c", true);
  ins(r, 0, "abcYZ");
  CHECK(r.counters().beyond_window_bytes == 2);
  CHECK(read_all(r) == "abc");
  CHECK(r.fin_reached());
  // A conflicting second FIN is ignored; the first stays.
  ins(r, 3, "de", true);
  CHECK(r.fin_offset() == 3u);
}

TEST_CASE("reassembler: a FIN behind already received data is ignored", "[tcp][reassembler][fin]") {
  Reassembler r(16);
  ins(r, 4, "efgh");
  ins(r, 0, "ab", true);  // claims the stream ends at 2, but bytes up to 8 were sent
  CHECK_FALSE(r.fin_offset().has_value());
  ins(r, 4, "", true);  // a FIN at 4 is inside received data as well
  CHECK_FALSE(r.fin_offset().has_value());
  ins(r, 8, "", true);
  CHECK(r.fin_offset() == 8u);
}

// --- SACK support -----------------------------------------------------------------------

TEST_CASE("reassembler: ranges by recency put the latest segment's block first",
          "[tcp][reassembler][rfc2018-4]") {
  Reassembler r(100);
  ins(r, 10, "a");  // block [10,11)
  ins(r, 30, "c");  // block [30,31)
  ins(r, 20, "b");  // block [20,21)
  auto v = r.ranges_by_recency();
  REQUIRE(v.size() == 3);
  CHECK(v[0].begin == 20);
  CHECK(v[1].begin == 30);
  CHECK(v[2].begin == 10);
  // RFC 2018 §4: a segment that lands in an existing block makes that block the newest,
  // and a merge carries the newest stamp.
  ins(r, 10, "a");
  CHECK(r.ranges_by_recency()[0].begin == 10);
  ins(r, 31, "d");
  v = r.ranges_by_recency();
  CHECK(v[0].begin == 30);
  CHECK(v[0].end == 32);
  // The sorted view is by offset.
  CHECK(r.ranges()[0].begin == 10);
  CHECK(r.ranges()[1].begin == 20);
  CHECK(r.ranges()[2].begin == 30);
}

// --- randomized ---------------------------------------------------------------------------

TEST_CASE("reassembler: shuffled overlapping segments rebuild the stream",
          "[tcp][reassembler][random]") {
  const std::uint64_t seed = GENERATE(1u, 2u, 3u, 0xdeadu);
  INFO("seed=" << seed);
  SeededRng rng(seed);
  const std::size_t len = 2000 + rng.below(2000);
  std::string stream(len, '\0');
  for (char& c : stream) c = static_cast<char>('A' + rng.below(58));

  struct Seg {
    std::size_t off, n;
  };
  std::vector<Seg> segs;
  for (std::size_t off = 0; off < len;) {
    const std::size_t n = std::min<std::size_t>(1 + rng.below(60), len - off);
    segs.push_back({off, n});
    // Overlap the next segment with this one sometimes (retransmission with new sizes).
    off += (rng.below(4) == 0 && n > 2) ? n / 2 : n;
  }
  for (std::size_t i = segs.size(); i > 1; --i) {
    std::swap(segs[i - 1], segs[rng.below(static_cast<std::uint32_t>(i))]);
  }

  Reassembler r(len, 10000);
  std::string got;
  for (const Seg& s : segs) {
    const bool fin = s.off + s.n == len;
    r.insert(s.off, as_bytes(std::string_view(stream).substr(s.off, s.n)), fin);
    if (rng.below(3) == 0) got += read_all(r);
  }
  got += read_all(r);
  CHECK(got == stream);
  CHECK(r.fin_reached());
  CHECK(r.pending_bytes() == 0);
}
