// Two Runtimes, A (10.0.0.1) and B (10.0.0.2), each running its stack in its own thread,
// joined by a MemoryWire whose ends are LockedDevices (each transmit wakes the peer).
// Real threads and real time; tests synchronise only through the facade's own blocking.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "phy/memory_wire.hpp"
#include "tapir/bsd.hpp"

namespace tapir::test {

inline const Ipv4Addr kIpA = Ipv4Addr::from_octets(10, 0, 0, 1);
inline const Ipv4Addr kIpB = Ipv4Addr::from_octets(10, 0, 0, 2);

inline StackConfig runtime_config(std::uint8_t host) {
  StackConfig c;
  c.mac = MacAddr{{0x02, 0, 0, 0, 0, host}};
  c.address = {Ipv4Addr::from_octets(10, 0, 0, host), 24};
  c.seed = host;
  return c;
}

struct RuntimePair {
  phy::MemoryWire wire;
  std::mutex wire_mutex;
  LockedDevice dev_a{wire.end_a(), wire_mutex};
  LockedDevice dev_b{wire.end_b(), wire_mutex};
  Runtime a{dev_a, runtime_config(1)};
  Runtime b{dev_b, runtime_config(2)};
  RuntimePair() {
    dev_a.wake_on_transmit(b);
    dev_b.wake_on_transmit(a);
  }
  // b is destroyed first, while a's loop may still transmit and so wake b.
  ~RuntimePair() {
    dev_a.stop_waking();
    dev_b.stop_waking();
  }
  RuntimePair(const RuntimePair&) = delete;
  RuntimePair& operator=(const RuntimePair&) = delete;
};

inline sockaddr_in addr_of(Ipv4Addr a, std::uint16_t port) { return make_sockaddr(a, port); }
inline const sockaddr* sa(const sockaddr_in& s) { return reinterpret_cast<const sockaddr*>(&s); }
inline sockaddr* sa(sockaddr_in& s) { return reinterpret_cast<sockaddr*>(&s); }

// A UDP socket of the calling thread's runtime, bound to `port` on the wildcard.
inline int udp_bound(std::uint16_t port) {
  int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  auto any = addr_of(Ipv4Addr::any(), port);
  REQUIRE(bsd::bind(fd, sa(any), sizeof any) == 0);
  return fd;
}

inline ssize_t send_str(int fd, std::string_view s, Ipv4Addr to, std::uint16_t port) {
  auto dst = addr_of(to, port);
  return bsd::sendto(fd, s.data(), s.size(), 0, sa(dst), sizeof dst);
}

}  // namespace tapir::test
