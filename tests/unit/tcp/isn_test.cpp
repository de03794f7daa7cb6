#include <catch2/catch.hpp>

#include <array>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tapir/random.hpp"
#include "tcp/isn.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {

std::vector<std::byte> counting_bytes(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i);
  return v;
}

// The output as the reference code stores it: 8 bytes, least significant first, in hex.
std::string le_hex(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i, v >>= 8) {
    out.push_back(kDigits[(v >> 4) & 0xf]);
    out.push_back(kDigits[v & 0xf]);
  }
  return out;
}

// The key of the SipHash paper's test vectors: 00 01 02 ... 0f.
SipKey paper_key() { return SipKey::from_bytes(as_bytes(counting_bytes(16))); }

const Ipv4Addr kLocal = Ipv4Addr::from_octets(10, 0, 0, 2);
const Ipv4Addr kRemote = Ipv4Addr::from_octets(10, 0, 0, 1);

}  // namespace

TEST_CASE("siphash: key bytes load as little-endian words", "[tcp][isn][siphash]") {
  const SipKey k = paper_key();
  CHECK(k.k0 == 0x0706050403020100ULL);
  CHECK(k.k1 == 0x0f0e0d0c0b0a0908ULL);
}

TEST_CASE("siphash: SipHash-2-4 paper test vector (Appendix A)", "[tcp][isn][siphash]") {
  // Key 00..0f, message 00..0e (15 bytes): output a129ca6149be45e5.
  CHECK(siphash24(paper_key(), as_bytes(counting_bytes(15))) == 0xa129ca6149be45e5ULL);
}

TEST_CASE("siphash: reference implementation vectors", "[tcp][isn][siphash]") {
  // vectors.h of the reference implementation: key 00..0f, message 00 01 .. (n-1), and
  // the 8 output bytes in the order the reference code writes them (little-endian).
  const std::pair<std::size_t, std::string_view> vectors[] = {
      {0, "310e0edd47db6f72"},  {1, "fd67dc93c539f874"},  {7, "37d1018bf50002ab"},
      {8, "6224939a79f5f593"},  {15, "e545be4961ca29a1"}, {16, "db9bc2577fcc2a3f"},
      {63, "724506eb4c328a95"},
  };
  for (auto [n, hex] : vectors) {
    INFO("message length " << n);
    CHECK(le_hex(siphash24(paper_key(), as_bytes(counting_bytes(n)))) == hex);
  }
}

TEST_CASE("siphash: every input byte and key bit matters", "[tcp][isn][siphash]") {
  auto msg = counting_bytes(15);
  const std::uint64_t base = siphash24(paper_key(), as_bytes(msg));
  for (std::size_t i = 0; i < msg.size(); ++i) {
    auto m = msg;
    m[i] ^= std::byte{0x01};
    INFO("byte " << i);
    CHECK(siphash24(paper_key(), as_bytes(m)) != base);
  }
  SipKey k = paper_key();
  k.k1 ^= 1ULL << 63;
  CHECK(siphash24(k, as_bytes(msg)) != base);
  // The length is hashed: a trailing zero byte is not the same message.
  msg.push_back(std::byte{0});
  CHECK(siphash24(paper_key(), as_bytes(msg)) != base);
}

TEST_CASE("isn: RFC 6528 §3 M advances once every 4 microseconds", "[tcp][isn][rfc6528-3]") {
  const IsnGenerator gen(paper_key());
  const Instant t0 = Instant::from_micros(1'000'000);
  const SeqNum a = gen.isn(kLocal, 80, kRemote, 51000, t0);
  CHECK(gen.isn(kLocal, 80, kRemote, 51000, t0 + std::chrono::microseconds(3)) == a);
  CHECK(gen.isn(kLocal, 80, kRemote, 51000, t0 + std::chrono::microseconds(4)) == a + SeqLen(1));
  CHECK(gen.isn(kLocal, 80, kRemote, 51000, t0 + std::chrono::milliseconds(4)) == a + SeqLen(1000));
  // One second is 250000 ticks.
  CHECK(gen.isn(kLocal, 80, kRemote, 51000, t0 + std::chrono::seconds(1)) == a + SeqLen(250000));
  // M wraps with the 32-bit sequence space (2^32 ticks of 4 us, about 4.77 hours).
  const Instant wrap = t0 + std::chrono::microseconds(std::int64_t{4} << 32);
  CHECK(gen.isn(kLocal, 80, kRemote, 51000, wrap) == a);
}

TEST_CASE("isn: RFC 6528 §3 F differs per 4-tuple", "[tcp][isn][rfc6528-3]") {
  const IsnGenerator gen(paper_key());
  const Instant t = Instant::from_millis(42);
  std::set<std::uint32_t> seen;
  seen.insert(gen.isn(kLocal, 80, kRemote, 51000, t).raw());
  seen.insert(gen.isn(kLocal, 81, kRemote, 51000, t).raw());
  seen.insert(gen.isn(kLocal, 80, kRemote, 51001, t).raw());
  seen.insert(gen.isn(Ipv4Addr::from_octets(10, 0, 0, 3), 80, kRemote, 51000, t).raw());
  seen.insert(gen.isn(kLocal, 80, Ipv4Addr::from_octets(10, 0, 0, 9), 51000, t).raw());
  // Swapping the ends is a different connection-id.
  seen.insert(gen.isn(kRemote, 51000, kLocal, 80, t).raw());
  CHECK(seen.size() == 6);
}

TEST_CASE("isn: the same seed gives the same ISNs, another seed others", "[tcp][isn][rfc6528-3]") {
  const std::uint64_t seed = 0x15a;
  INFO("seed=" << seed);
  SeededRng r1(seed), r2(seed), r3(seed + 1);
  const IsnGenerator g1(r1), g2(r2), g3(r3);
  const Instant t = Instant::from_millis(7);
  for (std::uint16_t port = 50000; port < 50010; ++port) {
    INFO("port=" << port);
    CHECK(g1.isn(kLocal, 80, kRemote, port, t) == g2.isn(kLocal, 80, kRemote, port, t));
    CHECK(g1.isn(kLocal, 80, kRemote, port, t) != g3.isn(kLocal, 80, kRemote, port, t));
  }
}

TEST_CASE("isn: the secret is the next 128 bits of the Rng", "[tcp][isn]") {
  SeededRng rng(99);
  SeededRng copy(99);
  const IsnGenerator from_rng(rng);
  const std::uint64_t k0 = copy.next_u64();
  const std::uint64_t k1 = copy.next_u64();
  const IsnGenerator from_key(SipKey{k0, k1});
  const Instant t = Instant::from_millis(1);
  CHECK(from_rng.isn(kLocal, 1, kRemote, 2, t) == from_key.isn(kLocal, 1, kRemote, 2, t));
}

TEST_CASE("isn: equals M + low 32 bits of SipHash over the connection-id",
          "[tcp][isn][rfc6528-3]") {
  const SipKey key = paper_key();
  const IsnGenerator gen(key);
  // localip, localport, remoteip, remoteport in network byte order.
  const std::array<std::byte, 12> id = {
      std::byte{10}, std::byte{0}, std::byte{0}, std::byte{2}, std::byte{0x00}, std::byte{80},
      std::byte{10}, std::byte{0}, std::byte{0}, std::byte{1}, std::byte{0xc7}, std::byte{0x38}};
  const auto f = static_cast<std::uint32_t>(siphash24(key, id));
  const Instant t = Instant::from_micros(400);
  CHECK(gen.isn(kLocal, 80, kRemote, 51000, t) == SeqNum(100) + SeqLen(f));
}
