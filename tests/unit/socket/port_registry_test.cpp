// PortRegistry: the bind rules (Linux SO_REUSEADDR semantics) and RFC 6056 ephemeral
// selection.
#include <catch2/catch.hpp>

#include "socket/port_registry.hpp"

using namespace tapir;
using namespace tapir::socket;

namespace {
const Ipv4Addr kAny = Ipv4Addr::any();
const Ipv4Addr kA = Ipv4Addr::from_octets(10, 0, 0, 2);
const Ipv4Addr kB = Ipv4Addr::from_octets(10, 0, 0, 3);

Reservation res(Proto p, Ipv4Addr a, std::uint16_t port, std::uint64_t owner, bool reuse = false) {
  return Reservation{p, a, port, reuse, false, false, owner};
}
}  // namespace

TEST_CASE("same port and address conflicts, different protocols do not", "[socket][ports]") {
  SeededRng rng(1);
  PortRegistry r(49152, 65535, rng);
  REQUIRE(r.reserve(res(Proto::Udp, kA, 7, 1)).value() == 7);
  CHECK(r.reserve(res(Proto::Udp, kA, 7, 2)).error() == Errno::AddrInUse);
  CHECK(r.reserve(res(Proto::Tcp, kA, 7, 3)).value() == 7);
}

TEST_CASE("the wildcard conflicts with any address on the port, both ways", "[socket][ports]") {
  SeededRng rng(1);
  PortRegistry r(49152, 65535, rng);
  REQUIRE(r.reserve(res(Proto::Udp, kAny, 53, 1)));
  CHECK(r.reserve(res(Proto::Udp, kA, 53, 2)).error() == Errno::AddrInUse);
  PortRegistry q(49152, 65535, rng);
  REQUIRE(q.reserve(res(Proto::Udp, kA, 53, 1)));
  CHECK(q.reserve(res(Proto::Udp, kAny, 53, 2)).error() == Errno::AddrInUse);
  // Two different specific addresses do not overlap.
  CHECK(q.reserve(res(Proto::Udp, kB, 53, 3)));
}

TEST_CASE("UDP: SO_REUSEADDR on both sockets lets them share", "[socket][ports][linux]") {
  SeededRng rng(1);
  PortRegistry r(49152, 65535, rng);
  REQUIRE(r.reserve(res(Proto::Udp, kAny, 5000, 1, true)));
  CHECK(r.reserve(res(Proto::Udp, kAny, 5000, 2, true)));
  // Only one side setting it is not enough.
  CHECK(r.reserve(res(Proto::Udp, kAny, 5000, 3, false)).error() == Errno::AddrInUse);
  PortRegistry q(49152, 65535, rng);
  REQUIRE(q.reserve(res(Proto::Udp, kAny, 5000, 1, false)));
  CHECK(q.reserve(res(Proto::Udp, kAny, 5000, 2, true)).error() == Errno::AddrInUse);
}

TEST_CASE("TCP: SO_REUSEADDR never shares with a listener, always with TIME-WAIT",
          "[socket][ports][linux][rfc9293-3.6.1]") {
  SeededRng rng(1);
  PortRegistry r(49152, 65535, rng);
  auto listener = res(Proto::Tcp, kAny, 80, 1, true);
  listener.listening = true;
  REQUIRE(r.reserve(listener));
  CHECK(r.reserve(res(Proto::Tcp, kAny, 80, 2, true)).error() == Errno::AddrInUse);

  PortRegistry q(49152, 65535, rng);
  REQUIRE(q.reserve(res(Proto::Tcp, kA, 8080, 1, false)));
  q.update(Proto::Tcp, 8080, 1, false, true);  // the connection entered TIME-WAIT
  CHECK(q.reserve(res(Proto::Tcp, kA, 8080, 2, true)));
  CHECK(q.reserve(res(Proto::Tcp, kA, 8080, 3, false)).error() == Errno::AddrInUse);
}

TEST_CASE("released ports return to the pool", "[socket][ports]") {
  SeededRng rng(1);
  PortRegistry r(49152, 65535, rng);
  REQUIRE(r.reserve(res(Proto::Udp, kA, 9, 1)));
  r.release(Proto::Udp, 9, 1);
  CHECK(r.size() == 0);
  CHECK(r.reserve(res(Proto::Udp, kA, 9, 2)));
}

TEST_CASE("ephemeral ports come from the range, seeded, until exhaustion",
          "[socket][ports][rfc6056]") {
  SeededRng rng(42);
  INFO("seed=42");
  PortRegistry r(50000, 50009, rng);
  std::vector<std::uint16_t> got;
  for (std::uint64_t i = 0; i < 10; ++i) {
    auto p = r.reserve(res(Proto::Udp, kAny, 0, i + 1));
    REQUIRE(p);
    CHECK(*p >= 50000);
    CHECK(*p <= 50009);
    got.push_back(*p);
  }
  std::sort(got.begin(), got.end());
  CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());  // all distinct
  CHECK(r.reserve(res(Proto::Udp, kAny, 0, 99)).error() == Errno::AddrNotAvail);
  r.release(Proto::Udp, got[3], 4);
  CHECK(r.reserve(res(Proto::Udp, kAny, 0, 100)).value() == got[3]);
}

TEST_CASE("the same seed picks the same ephemeral sequence", "[socket][ports][rfc6056]") {
  auto pick = [](std::uint64_t seed) {
    SeededRng rng(seed);
    PortRegistry r(49152, 65535, rng);
    std::vector<std::uint16_t> v;
    for (std::uint64_t i = 0; i < 5; ++i)
      v.push_back(r.reserve(res(Proto::Udp, kAny, 0, i + 1)).value());
    return v;
  };
  CHECK(pick(7) == pick(7));
  CHECK(pick(7) != pick(8));
}

TEST_CASE("the usable predicate skips candidates", "[socket][ports][rfc6056]") {
  SeededRng rng(3);
  PortRegistry r(50000, 50003, rng);
  auto p = r.reserve(res(Proto::Tcp, kAny, 0, 1), [](std::uint16_t port) { return port == 50002; });
  CHECK(p.value() == 50002);
  CHECK(r.reserve(res(Proto::Tcp, kAny, 0, 2), [](std::uint16_t) { return false; }).error() ==
        Errno::AddrNotAvail);
}
