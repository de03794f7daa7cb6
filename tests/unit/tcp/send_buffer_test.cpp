#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <string_view>

#include "tapir/random.hpp"
#include "tcp/byte_ring.hpp"
#include "tcp/send_buffer.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {

std::string to_str(Bytes b) {
  std::string s;
  for (std::byte x : b) s.push_back(static_cast<char>(x));
  return s;
}

std::string to_str(const ByteSlices& s) { return to_str(s.first) + to_str(s.second); }

std::string copy_str(const SendBuffer& sb, std::uint64_t offset, std::size_t max) {
  std::string out(max, '\0');
  const std::size_t n = sb.copy_out(offset, std::as_writable_bytes(std::span(out.data(), max)));
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("ring: push, pop and wrap-around keep byte order", "[tcp][ring]") {
  ByteRing r(8);
  CHECK(r.push(as_bytes("abcdef")) == 6);
  r.pop(4);
  CHECK(r.push(as_bytes("ghijklmn")) == 6);  // only 6 free: 'mn' refused
  CHECK(r.size() == 8);
  CHECK(r.free_space() == 0);
  const ByteSlices s = r.slices(0, 100);
  CHECK_FALSE(s.second.empty());  // the run wraps the storage end
  CHECK(to_str(s) == "efghijkl");
  CHECK(to_str(r.slices(3, 2)) == "hi");
  CHECK(r.slices(8, 1).empty());
}

TEST_CASE("ring: write_ahead is invisible until committed", "[tcp][ring]") {
  ByteRing r(10);
  r.push(as_bytes("ab"));
  r.write_ahead(3, as_bytes("fg"));
  CHECK(r.size() == 2);
  CHECK(r.free_space() == 8);
  r.write_ahead(0, as_bytes("cde"));
  r.commit(5);
  CHECK(to_str(r.slices(0, 10)) == "abcdefg");
}

TEST_CASE("ring: capacity 0 accepts nothing and never allocates", "[tcp][ring]") {
  ByteRing r(0);
  CHECK(r.push(as_bytes("x")) == 0);
  CHECK(r.slices(0, 1).empty());
  CHECK(r.allocated_bytes() == 0);
}

TEST_CASE("ring: storage grows from one page to the capacity only as writes need it",
          "[tcp][ring]") {
  ByteRing r(64 * 1024);
  CHECK(r.allocated_bytes() == 0);
  r.push(as_bytes("abc"));
  CHECK(r.allocated_bytes() == ByteRing::kMinAllocation);
  // Fill past one page: the allocation doubles until the bytes fit.
  std::string big(10000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  CHECK(r.push(as_bytes(big)) == big.size());
  CHECK(r.allocated_bytes() == 16 * 1024);
  CHECK(to_str(r.slices(0, 3)) == "abc");
  CHECK(to_str(r.slices(3, big.size())) == big);
  // Never beyond the capacity, even for a write that would round up past it.
  r.pop(r.size());
  std::string most(60 * 1024, 'q');
  CHECK(r.push(as_bytes(most)) == most.size());
  CHECK(r.allocated_bytes() == 64 * 1024);
  CHECK(r.free_space() == 4 * 1024);
}

TEST_CASE("ring: growing keeps wrapped readable bytes and parked bytes in place", "[tcp][ring]") {
  // Capacity 3 pages: the allocation goes from 4096 straight to 12288 (the capacity).
  ByteRing r(3 * 4096);
  std::string first(4090, 'a');
  CHECK(r.push(as_bytes(first)) == 4090);
  r.pop(4080);  // the head sits near the end of the first page
  CHECK(r.push(as_bytes("0123456789ABCDEFGHIJ")) == 20);  // wraps the first page
  CHECK(r.allocated_bytes() == 4096);
  CHECK_FALSE(r.slices(0, 100).second.empty());
  // Park bytes beyond a hole, so far ahead that the ring grows to its capacity.
  r.write_ahead(9000, as_bytes("parked"));
  CHECK(r.allocated_bytes() == 3 * 4096);
  CHECK(to_str(r.slices(0, 100)) == "aaaaaaaaaa0123456789ABCDEFGHIJ");
  // Fill the hole and commit: the parked bytes were carried over.
  std::string hole(9000, '-');
  r.write_ahead(0, as_bytes(hole));
  r.commit(9000 + 6);
  CHECK(to_str(r.slices(30 + 9000, 6)) == "parked");
  CHECK(to_str(r.slices(0, 10)) == "aaaaaaaaaa");
}

TEST_CASE("ring: release frees the storage, the next write starts small again", "[tcp][ring]") {
  ByteRing r(1 << 20);
  std::string big(100000, 'z');
  CHECK(r.push(as_bytes(big)) == big.size());
  CHECK(r.allocated_bytes() == 128 * 1024);
  r.pop(big.size());
  r.release();
  CHECK(r.allocated_bytes() == 0);
  CHECK(r.push(as_bytes("hi")) == 2);
  CHECK(r.allocated_bytes() == ByteRing::kMinAllocation);
  CHECK(to_str(r.slices(0, 10)) == "hi");
}

TEST_CASE("ring: a capacity below one page allocates just the capacity", "[tcp][ring]") {
  ByteRing r(100);
  r.push(as_bytes("x"));
  CHECK(r.allocated_bytes() == 100);
}

TEST_CASE("send buffer: storage is allocated on first write only", "[tcp][send_buffer]") {
  SendBuffer sb(4096);
  CHECK(sb.allocated_bytes() == 0);
  CHECK(sb.write({}) == 0);
  CHECK(sb.allocated_bytes() == 0);
  CHECK(sb.write(as_bytes("x")) == 1);
  CHECK(sb.allocated_bytes() == 4096);
  CHECK_FALSE(sb.releasable());  // the byte is not acknowledged yet
  sb.ack(1);
  REQUIRE(sb.releasable());
  sb.release();
  CHECK(sb.allocated_bytes() == 0);
  CHECK_FALSE(sb.releasable());
  CHECK(sb.write(as_bytes("yz")) == 2);  // allocates again, offsets continue
  CHECK(copy_str(sb, 1, 10) == "yz");
}

TEST_CASE("send buffer: write is bounded by capacity", "[tcp][send_buffer]") {
  SendBuffer sb(5);
  CHECK(sb.write(as_bytes("abc")) == 3);
  CHECK(sb.free_space() == 2);
  CHECK(sb.write(as_bytes("defg")) == 2);
  CHECK(sb.write(as_bytes("h")) == 0);
  CHECK(sb.end() == 5);
  CHECK(sb.size() == 5);
}

TEST_CASE("send buffer: offsets are absolute and survive acks", "[tcp][send_buffer]") {
  SendBuffer sb(8, 1000);
  CHECK(sb.una() == 1000);
  CHECK(sb.end() == 1000);
  sb.write(as_bytes("abcdefgh"));
  CHECK(copy_str(sb, 1000, 3) == "abc");
  CHECK(copy_str(sb, 1005, 10) == "fgh");
  CHECK(copy_str(sb, 1008, 10).empty());
  sb.ack(1003);
  CHECK(sb.una() == 1003);
  CHECK(sb.free_space() == 3);
  CHECK(copy_str(sb, 1003, 2) == "de");
  // Wraps inside the ring; the offsets do not notice.
  CHECK(sb.write(as_bytes("ijk")) == 3);
  CHECK(sb.end() == 1011);
  CHECK(copy_str(sb, 1006, 5) == "ghijk");
  CHECK(to_str(sb.peek(1004, 100)) == "efghijk");
  CHECK(to_str(sb.peek(1010, 100)) == "k");
  CHECK(sb.peek(1011, 100).empty());
}

TEST_CASE("send buffer: retransmission re-reads from una", "[tcp][send_buffer]") {
  // The connection sends [0,4) then [4,8); the first is lost and resent from SND.UNA.
  SendBuffer sb(16);
  sb.write(as_bytes("0123456789"));
  CHECK(copy_str(sb, 0, 4) == "0123");
  CHECK(copy_str(sb, 4, 4) == "4567");
  CHECK(copy_str(sb, sb.una(), 4) == "0123");
  sb.ack(8);
  CHECK(copy_str(sb, sb.una(), 4) == "89");
  sb.ack(10);
  CHECK(sb.empty());
  CHECK(sb.una() == sb.end());
}

TEST_CASE("send buffer: a duplicate ack is a no-op", "[tcp][send_buffer]") {
  SendBuffer sb(16);
  sb.write(as_bytes("hello"));
  sb.ack(2);
  sb.ack(2);
  CHECK(sb.una() == 2);
  CHECK(sb.size() == 3);
}

TEST_CASE("send buffer: copy_out into a short buffer copies what fits", "[tcp][send_buffer]") {
  SendBuffer sb(8);
  sb.write(as_bytes("abcdef"));
  sb.ack(5);
  sb.write(as_bytes("ghijklm"));  // wraps
  std::array<std::byte, 3> out{};
  CHECK(sb.copy_out(6, out) == 3);
  CHECK(to_str(out) == "ghi");
}

TEST_CASE("send buffer: random writes/acks match a reference string", "[tcp][send_buffer]") {
  const std::uint64_t seed = 0x5e4du;
  INFO("seed=" << seed);
  SeededRng rng(seed);
  SendBuffer sb(37);  // an odd size so that wraps land everywhere
  std::string stream;
  std::uint64_t produced = 0;
  for (int step = 0; step < 5000; ++step) {
    std::string chunk(rng.below(20), '\0');
    for (char& c : chunk) c = static_cast<char>('a' + rng.below(26));
    const std::size_t free_before = sb.free_space();
    const std::size_t took = sb.write(as_bytes(chunk));
    REQUIRE(took == std::min(chunk.size(), free_before));
    stream += chunk.substr(0, took);
    produced += took;
    REQUIRE(sb.end() == produced);
    const std::uint64_t off = sb.una() + rng.below(static_cast<std::uint32_t>(sb.size() + 1));
    const std::size_t len = rng.below(40);
    REQUIRE(copy_str(sb, off, len) == stream.substr(static_cast<std::size_t>(off), len));
    sb.ack(sb.una() + rng.below(static_cast<std::uint32_t>(sb.size() + 1)));
  }
}
