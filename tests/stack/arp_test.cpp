// Whole-stack ARP (RFC 826, RFC 1122 §2.3.2, RFC 5227): replies, the neighbour cache,
// the pending queue, retries and give-up, expiry and refresh, gratuitous ARP.
#include "stack/fixture.hpp"

using namespace tapir;
using namespace tapir::test;
using wire::ArpOp;
using wire::ArpRepr;

namespace {
Frame who_has(Ipv4Addr target, Ipv4Addr sender = kPeerIp, MacAddr sender_mac = kPeerMac) {
  return arp_frame(MacAddr::broadcast(), {ArpOp::Request, sender_mac, sender, MacAddr{}, target});
}
Frame echo_request_frame(std::uint16_t seq) {
  auto msg = icmp_message(wire::icmp_type::kEchoRequest, 1, seq, {});
  return ipv4_frame(kPeerMac, kMacB, ip_header(kPeerIp, kIpB, wire::IpProto::Icmp), msg);
}
}  // namespace

TEST_CASE("the stack announces itself with a gratuitous ARP on start",
          "[stack][arp][rfc5227-2.3]") {
  ManualClock clock;
  phy::QueueDevice dev;
  Stack s(dev, config_for(kMacB, kIpB));
  s.poll(clock.now());
  auto out = dev.take_transmitted();
  REQUIRE(out.size() == 1);
  auto d = decode(out[0]);
  CHECK(d.eth.dst == MacAddr::broadcast());
  REQUIRE(d.arp);
  CHECK(d.arp->op == ArpOp::Request);
  CHECK(d.arp->sender_ip == kIpB);
  CHECK(d.arp->target_ip == kIpB);
  CHECK(d.arp->sender_mac == kMacB);
  CHECK(s.stats().arp.tx_gratuitous == 1);
}

TEST_CASE("ARP request for our address gets a unicast reply", "[stack][arp][rfc826]") {
  ScriptedPeer p;
  auto out = p.send(who_has(kIpB));
  REQUIRE(out.size() == 1);
  auto d = decode(out[0]);
  CHECK(d.eth.dst == kPeerMac);
  CHECK(d.eth.src == kMacB);
  REQUIRE(d.arp);
  CHECK(*d.arp == ArpRepr{ArpOp::Reply, kMacB, kIpB, kPeerMac, kPeerIp});
  // RFC 826: the requester is added to the cache (we are its target).
  auto n = p.stack.neighbors(p.clock.now());
  REQUIRE(n.size() == 1);
  CHECK(n[0].ip == kPeerIp);
  CHECK(n[0].mac == kPeerMac);
}

TEST_CASE("ARP request for another address gets no answer", "[stack][arp][rfc826]") {
  ScriptedPeer p;
  CHECK(p.send(who_has(Ipv4Addr::from_octets(10, 0, 0, 3))).empty());
  CHECK(p.stack.stats().arp.rx_drop_not_for_us == 1);
  CHECK(p.stack.neighbors(p.clock.now()).empty());
}

TEST_CASE("outgoing packets wait for resolution, then all go out",
          "[stack][arp][rfc1122-2.3.2.2]") {
  ScriptedPeer p;
  // Three pings to an unresolved address: one request goes out, three datagrams wait.
  std::size_t requests = 0;
  for (std::uint16_t seq = 1; seq <= 3; ++seq) {
    REQUIRE(p.stack.send_ping(kPeerIp, 1, seq, {}, p.clock.now()) == Errno::Ok);
    for (auto& f : p.dev.take_transmitted()) {
      auto d = decode(f);
      REQUIRE(d.arp);
      CHECK(d.arp->target_ip == kPeerIp);
      ++requests;
    }
  }
  CHECK(requests == 1);
  CHECK(p.stack.stats().arp.pending_queued == 3);
  auto out = p.send(arp_frame(kMacB, {ArpOp::Reply, kPeerMac, kPeerIp, kMacB, kIpB}));
  REQUIRE(out.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    auto d = decode(out[i]);
    CHECK(d.eth.dst == kPeerMac);
    REQUIRE(d.icmp);
    CHECK(d.icmp->echo_seq() == i + 1);  // in order
  }
  CHECK(p.stack.stats().arp.pending_sent == 3);
}

TEST_CASE("the pending queue is bounded and counts what it drops", "[stack][arp]") {
  StackConfig cfg = config_for(kMacB, kIpB);
  cfg.arp.max_pending_per_entry = 4;
  ScriptedPeer p(cfg);
  for (std::uint16_t seq = 1; seq <= 10; ++seq) {
    REQUIRE(p.stack.send_ping(kPeerIp, 1, seq, {}, p.clock.now()) == Errno::Ok);
  }
  CHECK(p.stack.stats().arp.pending_queued == 4);
  CHECK(p.stack.stats().arp.pending_drop_full == 6);
}

TEST_CASE("requests are retried with backoff, then queued packets are dropped",
          "[stack][arp][rfc1122-2.3.2.1]") {
  ScriptedPeer p;
  REQUIRE(p.stack.send_ping(kPeerIp, 1, 1, {}, p.clock.now()) == Errno::Ok);
  CHECK(p.dev.take_transmitted().size() == 1);  // request 1 at t=0
  CHECK(p.advance(std::chrono::milliseconds(999)).empty());
  CHECK(p.advance(std::chrono::milliseconds(1)).size() == 1);  // request 2 at t=1s
  CHECK(p.advance(std::chrono::milliseconds(1999)).empty());
  CHECK(p.advance(std::chrono::milliseconds(1)).size() == 1);  // request 3 at t=3s
  CHECK(p.stack.stats().arp.tx_requests == 3);
  CHECK(p.advance(std::chrono::milliseconds(3999)).empty());
  CHECK(p.stack.stats().arp.resolve_failed == 0);
  CHECK(p.advance(std::chrono::milliseconds(1)).empty());  // t=7s: give up
  CHECK(p.stack.stats().arp.resolve_failed == 1);
  CHECK(p.stack.stats().arp.pending_drop_unresolved == 1);
  CHECK(p.stack.neighbors(p.clock.now()).empty());
}

TEST_CASE("entries expire, and an entry in use is refreshed by unicast",
          "[stack][arp][rfc1122-2.3.2.1]") {
  ScriptedPeer p;
  p.introduce();
  // At 46 s (past refresh_after = 45 s) a reply goes out and a unicast request with it.
  auto out = p.send(echo_request_frame(1));
  CHECK(out.size() == 1);
  out = p.advance(std::chrono::seconds(46));
  out = p.send(echo_request_frame(2));
  REQUIRE(out.size() == 2);
  // The reply goes out intact first: the refresh request is built in the same frame
  // buffer and must not overwrite the datagram waiting there.
  auto reply = decode(out[0]);
  REQUIRE(reply.icmp);
  CHECK(reply.icmp->type == wire::icmp_type::kEchoReply);
  auto refresh = decode(out[1]);
  REQUIRE(refresh.arp);
  CHECK(refresh.eth.dst == kPeerMac);  // unicast poll, not a broadcast
  CHECK(refresh.arp->target_ip == kPeerIp);
  // Without an answer the entry expires at 60 s.
  p.advance(std::chrono::seconds(14));
  CHECK(p.stack.neighbors(p.clock.now()).empty());
  CHECK(p.stack.stats().arp.cache_expired == 1);
}

TEST_CASE("a peer's gratuitous ARP updates its existing entry", "[stack][arp][rfc826][rfc5227]") {
  ScriptedPeer p;
  p.introduce();
  MacAddr moved{{0x52, 0x54, 0, 0xaa, 0xbb, 0xcc}};
  CHECK(
      p.send(arp_frame(MacAddr::broadcast(), {ArpOp::Request, moved, kPeerIp, MacAddr{}, kPeerIp}))
          .empty());
  auto n = p.stack.neighbors(p.clock.now());
  REQUIRE(n.size() == 1);
  CHECK(n[0].mac == moved);
  CHECK(p.stack.stats().arp.rx_gratuitous == 1);
  // A gratuitous ARP from a host we never talked to does not create an entry (RFC 826
  // merge rule: only the target adds).
  Ipv4Addr other = Ipv4Addr::from_octets(10, 0, 0, 9);
  CHECK(p.send(arp_frame(MacAddr::broadcast(), {ArpOp::Request, moved, other, MacAddr{}, other}))
            .empty());
  CHECK(p.stack.neighbors(p.clock.now()).size() == 1);
}

TEST_CASE("ARP claiming our own address is a conflict, never cached", "[stack][arp][rfc5227-2.4]") {
  ScriptedPeer p;
  CHECK(p.send(who_has(kIpB, kIpB)).empty());
  CHECK(p.stack.stats().arp.rx_conflict == 1);
  CHECK(p.stack.neighbors(p.clock.now()).empty());
}

TEST_CASE("Stack::poll reports the frames it received, one receive batch at most", "[stack]") {
  ScriptedPeer p;
  CHECK(p.stack.poll(p.clock.now()) == 0);
  const Frame f = who_has(kIpB);
  for (int i = 0; i < 3; ++i) p.dev.inject(Bytes(f));
  CHECK(p.stack.poll(p.clock.now()) == 3);
  CHECK(p.dev.take_transmitted().size() == 3);  // three ARP replies
  CHECK(p.stack.poll(p.clock.now()) == 0);
  // Beyond one batch, the rest waits for the next poll.
  const std::size_t batch = p.dev.caps().rx_batch;
  for (std::size_t i = 0; i < batch + 5; ++i) p.dev.inject(Bytes(f));
  CHECK(p.stack.poll(p.clock.now()) == batch);
  CHECK(p.stack.poll(p.clock.now()) == 5);
  CHECK(p.stack.poll(p.clock.now()) == 0);
}
