// Whole-stack ICMP: two stacks ping each other over a MemoryWire on a ManualClock.
#include "stack/fixture.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {
std::vector<std::byte> pattern(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<std::uint8_t>(i * 7 + 3));
  return v;
}
}  // namespace

TEST_CASE("two stacks ping each other over a MemoryWire", "[stack][icmp][rfc792]") {
  TwoStacks t;
  std::vector<PingReply> replies;
  std::vector<std::vector<std::byte>> data;
  t.a.on_ping_reply([&](const PingReply& r, Instant) {
    replies.push_back(r);
    data.emplace_back(r.data.begin(), r.data.end());
  });
  auto payload = pattern(56);
  for (std::uint16_t seq = 1; seq <= 20; ++seq) {
    REQUIRE(t.a.send_ping(kIpB, 0x77, seq, payload, t.clock.now()) == Errno::Ok);
    t.sim.run_for(std::chrono::milliseconds(10));
  }
  REQUIRE(replies.size() == 20);
  for (std::size_t i = 0; i < replies.size(); ++i) {
    CHECK(replies[i].from == kIpB);
    CHECK(replies[i].ident == 0x77);
    CHECK(replies[i].seq == i + 1);
    CHECK(data[i] == payload);
  }
  // One resolution each way is enough: A asked for B; B learnt A from A's request.
  CHECK(t.a.stats().arp.tx_requests == 1);
  CHECK(t.b.stats().arp.tx_replies == 1);
  CHECK(t.b.stats().arp.tx_requests == 0);
  CHECK(t.b.stats().icmp.tx_echo_replies == 20);
}

TEST_CASE("a 4000-byte ping is fragmented both ways and reassembled",
          "[stack][icmp][ipv4][rfc815]") {
  TwoStacks t;
  std::vector<std::byte> got;
  t.a.on_ping_reply([&](const PingReply& r, Instant) { got.assign(r.data.begin(), r.data.end()); });
  auto payload = pattern(4000);
  REQUIRE(t.a.send_ping(kIpB, 1, 1, payload, t.clock.now()) == Errno::Ok);
  REQUIRE(t.sim.run_until([&] { return !got.empty(); }, std::chrono::seconds(1)));
  CHECK(got == payload);
  // 4008 octets of ICMP in 1480-octet pieces: three fragments each way.
  CHECK(t.a.stats().ipv4.tx_fragments == 3);
  CHECK(t.b.stats().ipv4.reassembled == 1);
  CHECK(t.b.stats().ipv4.tx_fragments == 3);
  CHECK(t.a.stats().ipv4.reassembled == 1);
}

TEST_CASE("the largest echo (65507 data octets) round-trips, one octet more is EMSGSIZE",
          "[stack][icmp][ipv4]") {
  TwoStacks t;
  std::size_t got = 0;
  t.a.on_ping_reply([&](const PingReply& r, Instant) { got = r.data_len; });
  // 65535 - 20 (IP) - 8 (ICMP) = 65507 octets of echo data.
  auto payload = pattern(65507);
  REQUIRE(t.a.send_ping(kIpB, 1, 1, payload, t.clock.now()) == Errno::Ok);
  REQUIRE(t.sim.run_until([&] { return got != 0; }, std::chrono::seconds(1)));
  CHECK(got == 65507);
  CHECK(t.a.send_ping(kIpB, 1, 2, pattern(65508), t.clock.now()) == Errno::MsgSize);
}

TEST_CASE("echo reply from a scripted peer's request keeps id, seq and data",
          "[stack][icmp][rfc792]") {
  ScriptedPeer p;
  p.introduce();
  auto data = pattern(32);
  auto msg = icmp_message(wire::icmp_type::kEchoRequest, 0x1234, 9, data);
  auto out =
      p.send(ipv4_frame(kPeerMac, kMacB, ip_header(kPeerIp, kIpB, wire::IpProto::Icmp), msg));
  REQUIRE(out.size() == 1);
  auto d = decode(out[0]);
  CHECK(d.eth.dst == kPeerMac);
  REQUIRE(d.icmp);
  CHECK(d.icmp->type == wire::icmp_type::kEchoReply);
  CHECK(d.icmp->echo_ident() == 0x1234);
  CHECK(d.icmp->echo_seq() == 9);
  CHECK(std::equal(d.icmp->data.begin(), d.icmp->data.end(), data.begin(), data.end()));
  CHECK(d.ip->src == kIpB);
  CHECK(d.ip->dst == kPeerIp);
  CHECK(d.ip->ttl == 64);
}

TEST_CASE("echo requests to a broadcast address are ignored", "[stack][icmp][rfc1122-3.2.2.6]") {
  ScriptedPeer p;
  p.introduce();
  auto msg = icmp_message(wire::icmp_type::kEchoRequest, 1, 1, {});
  auto out = p.send(ipv4_frame(
      kPeerMac, MacAddr::broadcast(),
      ip_header(kPeerIp, Ipv4Addr::from_octets(10, 0, 0, 255), wire::IpProto::Icmp), msg));
  CHECK(out.empty());
  CHECK(p.stack.stats().icmp.rx_drop_broadcast_echo == 1);
}

TEST_CASE("unknown protocol gets ICMP protocol unreachable quoting the datagram",
          "[stack][icmp][rfc1122-3.2.2.1]") {
  ScriptedPeer p;
  p.introduce();
  std::vector<std::byte> body(12, std::byte{0xab});
  auto out =
      p.send(ipv4_frame(kPeerMac, kMacB, ip_header(kPeerIp, kIpB, wire::IpProto{253}), body));
  REQUIRE(out.size() == 1);
  auto d = decode(out[0]);
  REQUIRE(d.icmp);
  CHECK(d.icmp->type == wire::icmp_type::kDestUnreachable);
  CHECK(d.icmp->code == wire::icmp_unreach::kProtocol);
  // The quote is the original header (20) plus the 12 octets of data.
  REQUIRE(d.icmp->data.size() == 32);
  CHECK(load_u8(d.icmp->data, 9) == 253);
  CHECK(p.stack.stats().ipv4.rx_drop_unknown_protocol == 1);
}

TEST_CASE("ICMP errors are rate limited", "[stack][icmp][rfc1122-3.2.2]") {
  ScriptedPeer p;
  p.introduce();
  std::vector<std::byte> body(8);
  std::size_t sent = 0;
  for (int i = 0; i < 50; ++i) {
    sent += p.send(ipv4_frame(kPeerMac, kMacB, ip_header(kPeerIp, kIpB, wire::IpProto{253}), body))
                .size();
  }
  // The bucket holds 10 errors and refills at 100/s: no time passed, so 10 went out.
  CHECK(sent == 10);
  CHECK(p.stack.stats().icmp.tx_rate_limited == 40);
  sent = p.advance(std::chrono::milliseconds(100)).size();
  for (int i = 0; i < 20; ++i) {
    sent += p.send(ipv4_frame(kPeerMac, kMacB, ip_header(kPeerIp, kIpB, wire::IpProto{253}), body))
                .size();
  }
  CHECK(sent == 10);
}

namespace {
// The first 1480-octet fragment of an ICMP message of `type`, whose rest never arrives.
Frame first_fragment_of_icmp(std::uint8_t type) {
  std::vector<std::byte> data(1472, std::byte{0x5a});
  auto msg = icmp_message(type, 1, 1, data);  // 1480 octets
  auto ip = ip_header(kPeerIp, kIpB, wire::IpProto::Icmp);
  ip.ident = 0x4242;
  ip.more_frags = true;
  return ipv4_frame(kPeerMac, kMacB, ip, msg);
}
}  // namespace

TEST_CASE("reassembly timeout sends time exceeded once fragment zero came",
          "[stack][icmp][ipv4][rfc1122-3.3.2]") {
  ScriptedPeer p;
  p.introduce();
  CHECK(p.send(first_fragment_of_icmp(wire::icmp_type::kEchoRequest)).empty());
  CHECK(p.advance(std::chrono::seconds(29)).empty());
  auto out = p.advance(std::chrono::seconds(1));
  REQUIRE(out.size() == 1);
  auto d = decode(out[0]);
  REQUIRE(d.icmp);
  CHECK(d.icmp->type == wire::icmp_type::kTimeExceeded);
  CHECK(d.icmp->code == 1);
  CHECK(p.stack.stats().ipv4.reasm_drop_timeout == 1);
}

TEST_CASE("no ICMP error about an ICMP error", "[stack][icmp][rfc1122-3.2.2]") {
  ScriptedPeer p;
  p.introduce();
  // An ICMP destination-unreachable message whose reassembly times out: the time-exceeded
  // error that would follow is suppressed, because it would be an error about an error.
  CHECK(p.send(first_fragment_of_icmp(wire::icmp_type::kDestUnreachable)).empty());
  CHECK(p.advance(std::chrono::seconds(31)).empty());
  CHECK(p.stack.stats().ipv4.reasm_drop_timeout == 1);
  CHECK(p.stack.stats().icmp.tx_suppressed == 1);
}
