#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "tapir/random.hpp"
#include "tcp/seq.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {
template <class T>
concept LessComparable = requires(T a, T b) {
  a < b;
};
template <class T>
concept SelfAddable = requires(T a, T b) {
  a + b;
};
}  // namespace

// STYLE.md §6: modular order is not a strict weak order, so SeqNum must not offer one.
static_assert(!LessComparable<SeqNum>);
static_assert(!SelfAddable<SeqNum>);
static_assert(LessComparable<SeqLen>);

TEST_CASE("seq: before/after follow RFC 9293 §3.4 modular comparison", "[tcp][seq][rfc9293-3.4]") {
  const SeqNum a(10), b(20);
  CHECK(a.before(b));
  CHECK(a.before_eq(b));
  CHECK_FALSE(a.after(b));
  CHECK(b.after(a));
  CHECK(b.after_eq(a));
  CHECK(a.before_eq(a));
  CHECK(a.after_eq(a));
  CHECK_FALSE(a.before(a));
  CHECK_FALSE(a.after(a));
}

TEST_CASE("seq: comparisons hold across the 2^32 wrap", "[tcp][seq][rfc9293-3.4]") {
  const SeqNum hi(0xfffffff0u), lo(0x10u);
  CHECK(hi.before(lo));
  CHECK(lo.after(hi));
  CHECK_FALSE(lo.before(hi));
  // Exactly 2^31 - 1 ahead is still "after"; 2^31 ahead flips (the half-space limit).
  CHECK(SeqNum(0x7fffffffu).after(SeqNum(0)));
  CHECK(SeqNum(0x80000000u).before(SeqNum(0)));
}

TEST_CASE("seq: in_range(lo, hi) includes lo, excludes hi, and works across the wrap",
          "[tcp][seq]") {
  const SeqNum lo(0xfffffffeu), hi(2);
  CHECK(SeqNum(0xfffffffeu).in_range(lo, hi));
  CHECK(SeqNum(0xffffffffu).in_range(lo, hi));
  CHECK(SeqNum(0).in_range(lo, hi));
  CHECK(SeqNum(1).in_range(lo, hi));
  CHECK_FALSE(SeqNum(2).in_range(lo, hi));
  CHECK_FALSE(SeqNum(0xfffffffdu).in_range(lo, hi));
  CHECK_FALSE(SeqNum(5).in_range(SeqNum(5), SeqNum(5)));
}

TEST_CASE("seq: in_window(start, len) spans len octets from start and is empty for len 0",
          "[tcp][seq]") {
  const SeqNum start(0xffffff00u);
  CHECK(start.in_window(start, SeqLen(1)));
  CHECK_FALSE(start.in_window(start, SeqLen(0)));
  CHECK((start + SeqLen(0x1ff)).in_window(start, SeqLen(0x200)));
  CHECK_FALSE((start + SeqLen(0x200)).in_window(start, SeqLen(0x200)));
  CHECK_FALSE((start - SeqLen(1)).in_window(start, SeqLen(0x200)));
  // A window wider than 2^31 (allowed for in_window, unlike before/after).
  CHECK((start + SeqLen(0xc0000000u)).in_window(start, SeqLen(0xc0000001u)));
}

TEST_CASE("seq: arithmetic with SeqLen wraps modulo 2^32", "[tcp][seq]") {
  CHECK((SeqNum(0xffffffffu) + SeqLen(1)) == SeqNum(0));
  CHECK((SeqNum(0) - SeqLen(1)) == SeqNum(0xffffffffu));
  SeqNum s(100);
  s += SeqLen(50);
  CHECK(s == SeqNum(150));
  s -= SeqLen(150);
  CHECK(s == SeqNum(0));
  CHECK((SeqNum(5) - SeqNum(0xfffffffbu)) == SeqLen(10));
  CHECK((SeqLen(3) + SeqLen(4)) == SeqLen(7));
  CHECK(SeqLen(3) < SeqLen(4));
}

TEST_CASE("seq: signed_distance is negative backwards", "[tcp][seq]") {
  CHECK(signed_distance(SeqNum(0xfffffffbu), SeqNum(5)) == 10);
  CHECK(signed_distance(SeqNum(5), SeqNum(0xfffffffbu)) == -10);
  CHECK(signed_distance(SeqNum(7), SeqNum(7)) == 0);
  CHECK(seq_max(SeqNum(0xfffffffbu), SeqNum(5)) == SeqNum(5));
  CHECK(seq_min(SeqNum(0xfffffffbu), SeqNum(5)) == SeqNum(0xfffffffbu));
}

TEST_CASE("seq: wrap maps absolute offsets onto the ISN", "[tcp][seq]") {
  CHECK(wrap(0, SeqNum(0)) == SeqNum(0));
  CHECK(wrap(3, SeqNum(0xfffffffeu)) == SeqNum(1));
  CHECK(wrap((std::uint64_t{1} << 32) + 17, SeqNum(15)) == SeqNum(32));
  CHECK(wrap(3 * (std::uint64_t{1} << 32), SeqNum(0x12345678u)) == SeqNum(0x12345678u));
}

TEST_CASE("seq: unwrap picks the offset nearest the checkpoint", "[tcp][seq]") {
  constexpr std::uint64_t k32 = std::uint64_t{1} << 32;
  CHECK(unwrap(SeqNum(1), SeqNum(0), 0) == 1);
  // Just past a wrap, with the checkpoint just before it.
  CHECK(unwrap(SeqNum(1), SeqNum(0), k32 - 1) == k32 + 1);
  // Never negative: near 0 the only candidate is upward.
  CHECK(unwrap(SeqNum(0xffffffffu), SeqNum(0), 0) == 0xffffffffu);
  CHECK(unwrap(SeqNum(0xfffffffeu), SeqNum(0), 3 * k32) == 3 * k32 - 2);
  CHECK(unwrap(SeqNum(16), SeqNum(16), 3 * k32) == 3 * k32);
  CHECK(unwrap(SeqNum(15), SeqNum(16), 3 * k32) == 3 * k32 - 1);
  CHECK(unwrap(SeqNum(0), SeqNum(0x7fffffffu), 0) == 0x80000001u);
  // A tie (exactly 2^31 each way) resolves upward.
  CHECK(unwrap(SeqNum(0), SeqNum(0), k32 + (k32 >> 1)) == 2 * k32);
  CHECK(unwrap(SeqNum(0), SeqNum(0), (k32 >> 1)) == k32);
}

TEST_CASE("seq: unwrap(wrap(x)) == x for checkpoints within 2^31", "[tcp][seq]") {
  const std::uint64_t seed = 0x5eb0u;
  INFO("seed=" << seed);
  SeededRng rng(seed);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t abs = rng.next_u64() >> 12;
    const SeqNum isn(rng.next_u32());
    const std::int64_t delta =
        static_cast<std::int64_t>(rng.below(0x7fffffffu)) * ((rng.next_u32() & 1) ? 1 : -1);
    const std::int64_t cp = static_cast<std::int64_t>(abs) + delta;
    const std::uint64_t checkpoint = cp < 0 ? 0 : static_cast<std::uint64_t>(cp);
    INFO("abs=" << abs << " isn=" << isn.raw() << " checkpoint=" << checkpoint);
    REQUIRE(unwrap(wrap(abs, isn), isn, checkpoint) == abs);
  }
}
