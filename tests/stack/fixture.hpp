// Stack test fixtures: two stacks joined by a MemoryWire, or one stack facing a scripted
// peer (QueueDevice), all on a ManualClock.
#pragma once

#include <catch2/catch.hpp>

#include "phy/memory_wire.hpp"
#include "phy/queue_device.hpp"
#include "support/frames.hpp"
#include "support/sim_loop.hpp"
#include "tapir/stack.hpp"

namespace tapir::test {

inline const MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x01}};
inline const MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x02}};
inline const MacAddr kPeerMac{{0x52, 0x54, 0, 0x12, 0x34, 0x56}};
inline const Ipv4Addr kIpA = Ipv4Addr::from_octets(10, 0, 0, 1);
inline const Ipv4Addr kIpB = Ipv4Addr::from_octets(10, 0, 0, 2);
inline const Ipv4Addr kPeerIp = Ipv4Addr::from_octets(10, 0, 0, 1);

inline StackConfig config_for(MacAddr mac, Ipv4Addr ip) {
  StackConfig c;
  c.mac = mac;
  c.address = {ip, 24};
  return c;
}

// Two stacks, A (10.0.0.1) and B (10.0.0.2), on one in-memory wire.
struct TwoStacks {
  ManualClock clock;
  phy::MemoryWire wire;
  Stack a{wire.end_a(), config_for(kMacA, kIpA)};
  Stack b{wire.end_b(), config_for(kMacB, kIpB)};
  SimLoop sim{
      clock, {&a, &b}, [this] { return wire.end_a().pending() + wire.end_b().pending() > 0; }};
};

// One stack (10.0.0.2) and a scripted peer (10.0.0.1) that injects frames and reads the
// stack's output.
struct ScriptedPeer {
  ManualClock clock;
  phy::QueueDevice dev;
  Stack stack;
  explicit ScriptedPeer(StackConfig cfg = config_for(kMacB, kIpB)) : stack(dev, cfg) {
    stack.poll(clock.now());
    (void)dev.take_transmitted();  // the start-up announcement
  }
  std::vector<Frame> send(const Frame& f) {
    dev.inject(Bytes(f));
    stack.poll(clock.now());
    return dev.take_transmitted();
  }
  std::vector<Frame> advance(Duration d) {
    clock.advance(d);
    stack.poll(clock.now());
    return dev.take_transmitted();
  }
  // Teaches the stack the peer's MAC with an ARP request addressed to it.
  void introduce() {
    wire::ArpRepr req{wire::ArpOp::Request, kPeerMac, kPeerIp, MacAddr{}, kIpB};
    auto out = send(arp_frame(MacAddr::broadcast(), req));
    REQUIRE(out.size() == 1);
  }
};

inline wire::Ipv4Repr ip_header(Ipv4Addr src, Ipv4Addr dst, wire::IpProto proto) {
  wire::Ipv4Repr r;
  r.src = src;
  r.dst = dst;
  r.protocol = proto;
  r.ttl = 64;
  return r;
}

}  // namespace tapir::test
