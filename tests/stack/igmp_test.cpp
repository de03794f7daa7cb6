// IGMPv2 host behaviour (RFC 2236) against a scripted peer: reports on join, leaves on
// the last leave, queries answered within Max Resp Time, suppression, and the IP header
// every IGMP message carries (TTL 1, Router Alert).
#include <netinet/in.h>

#include <set>

#include "ip/igmp.hpp"
#include "stack/fixture.hpp"
#include "stack/impl.hpp"
#include "wire/igmp.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {
const Ipv4Addr kGroup = Ipv4Addr::from_octets(239, 1, 2, 3);
const Ipv4Addr kGroup2 = Ipv4Addr::from_octets(239, 4, 5, 6);
const Ipv4Addr kAllSystems = Ipv4Addr::from_octets(224, 0, 0, 1);
const Ipv4Addr kAllRouters = Ipv4Addr::from_octets(224, 0, 0, 2);
using ip::Igmp;

struct IgmpSeen {
  wire::Ipv4Repr ip;
  MacAddr eth_dst;
  wire::IgmpRepr msg;
};

// The IGMP messages among `frames`; fails if one does not parse (bad checksum included).
std::vector<IgmpSeen> igmp_in(const std::vector<Frame>& frames) {
  std::vector<IgmpSeen> out;
  for (const auto& f : frames) {
    auto d = decode(f);
    if (!d.ip || d.ip->protocol != wire::IpProto::Igmp) continue;
    CHECK(internet_checksum(d.ip_payload) == 0);
    auto m = wire::IgmpRepr::parse(d.ip_payload);
    REQUIRE(m);
    out.push_back({*d.ip, d.eth.dst, *m});
  }
  return out;
}

int member_of(ScriptedPeer& p, Ipv4Addr group, int fd = -1) {
  auto& so = p.stack.sockets();
  if (fd < 0) fd = *so.socket(AF_INET, SOCK_DGRAM, 0);
  ip_mreq m{};
  m.imr_multiaddr.s_addr = htonl(group.value);
  REQUIRE(so.setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == Errno::Ok);
  return fd;
}

void drop_membership(ScriptedPeer& p, int fd, Ipv4Addr group) {
  ip_mreq m{};
  m.imr_multiaddr.s_addr = htonl(group.value);
  REQUIRE(p.stack.sockets().setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m) ==
          Errno::Ok);
}

std::vector<Frame> sent_now(ScriptedPeer& p) {
  p.stack.flush();
  return p.dev.take_transmitted();
}

// An IGMP message from the peer (10.0.0.1), TTL 1 with Router Alert, as routers send them.
Frame igmp_frame(std::uint8_t type, std::uint8_t max_resp, Ipv4Addr group, Ipv4Addr dst,
                 Ipv4Addr src = kPeerIp, bool corrupt = false) {
  wire::IgmpRepr msg{type, max_resp, group};
  std::vector<std::byte> body(msg.buffer_len());
  msg.emit(MutBytes(body));
  if (corrupt) body[7] ^= std::byte{1};
  auto ip = ip_header(src, dst, wire::IpProto::Igmp);
  ip.ttl = 1;
  ip.options = {std::byte{0x94}, std::byte{0x04}, std::byte{0}, std::byte{0}};
  ip.options_len = 4;
  return ipv4_frame(kPeerMac, multicast_mac(dst), ip, Bytes(body));
}

// Advances in 10 ms steps for at most `limit`; returns the IGMP messages and the time of
// the first one.
std::pair<std::vector<IgmpSeen>, Duration> wait_for_igmp(ScriptedPeer& p, Duration limit) {
  for (Duration t{0}; t <= limit; t += std::chrono::milliseconds(10)) {
    auto got = igmp_in(p.advance(std::chrono::milliseconds(10)));
    if (!got.empty()) return {got, t + std::chrono::milliseconds(10)};
  }
  return {{}, limit};
}

// Joins and lets both unsolicited reports go, leaving the group Idle.
int joined_idle(ScriptedPeer& p, Ipv4Addr group) {
  int fd = member_of(p, group);
  (void)sent_now(p);
  (void)p.advance(Igmp::kUnsolicitedReportInterval);
  REQUIRE(!p.stack.impl().ip.igmp().report_due(group));
  return fd;
}
}  // namespace

TEST_CASE("IGMP: joining sends a report at once and repeats it once", "[stack][igmp][rfc2236-3]") {
  ScriptedPeer p;
  member_of(p, kGroup);
  auto first = igmp_in(sent_now(p));
  REQUIRE(first.size() == 1);
  CHECK(first[0].msg == wire::IgmpRepr{wire::igmp_type::kV2Report, 0, kGroup});
  CHECK(first[0].ip.dst == kGroup);
  CHECK(first[0].ip.src == kIpB);
  CHECK(first[0].eth_dst == multicast_mac(kGroup));
  CHECK(p.stack.stats().igmp.tx_reports == 1);

  // The repeat comes within the Unsolicited Report Interval (10 s), and only once.
  auto due = p.stack.impl().ip.igmp().report_due(kGroup);
  REQUIRE(due);
  CHECK(*due > p.clock.now());
  CHECK(*due <= p.clock.now() + Igmp::kUnsolicitedReportInterval);
  REQUIRE(p.stack.next_deadline());
  CHECK(*p.stack.next_deadline() <= *due);
  auto repeat = igmp_in(p.advance(*due - p.clock.now()));
  REQUIRE(repeat.size() == 1);
  CHECK(repeat[0].msg.group == kGroup);
  CHECK(igmp_in(p.advance(std::chrono::seconds(60))).empty());
  CHECK(p.stack.stats().igmp.tx_reports == 2);
}

TEST_CASE("IGMP: TTL 1 and the Router Alert option on everything sent",
          "[stack][igmp][rfc2236-2][rfc2113]") {
  ScriptedPeer p;
  int fd = member_of(p, kGroup);
  auto msgs = igmp_in(sent_now(p));
  drop_membership(p, fd, kGroup);
  auto leave = igmp_in(sent_now(p));
  msgs.insert(msgs.end(), leave.begin(), leave.end());
  REQUIRE(msgs.size() == 2);
  for (const auto& m : msgs) {
    CHECK(m.ip.ttl == 1);
    REQUIRE(m.ip.options_len == 4);
    CHECK(std::to_integer<int>(m.ip.options[0]) == 148);
    CHECK(std::to_integer<int>(m.ip.options[1]) == 4);
    CHECK(std::to_integer<int>(m.ip.options[2]) == 0);
    CHECK(std::to_integer<int>(m.ip.options[3]) == 0);
  }
}

TEST_CASE("IGMP: only the last member's leave sends Leave Group to 224.0.0.2",
          "[stack][igmp][rfc2236-3]") {
  ScriptedPeer p;
  int a = member_of(p, kGroup);
  CHECK(igmp_in(sent_now(p)).size() == 1);
  int b = member_of(p, kGroup);
  CHECK(igmp_in(sent_now(p)).empty());  // the host is already a member
  drop_membership(p, a, kGroup);
  CHECK(igmp_in(sent_now(p)).empty());
  REQUIRE(p.stack.sockets().close(b) == Errno::Ok);  // close drops its memberships
  auto out = igmp_in(sent_now(p));
  REQUIRE(out.size() == 1);
  CHECK(out[0].msg == wire::IgmpRepr{wire::igmp_type::kLeave, 0, kGroup});
  CHECK(out[0].ip.dst == kAllRouters);
  CHECK(out[0].eth_dst == multicast_mac(kAllRouters));
  CHECK(p.stack.stats().igmp.tx_leaves == 1);
  // The pending repeat went with the membership.
  CHECK(igmp_in(p.advance(std::chrono::seconds(20))).empty());
}

TEST_CASE("IGMP: a General Query is answered within Max Resp Time, never for 224.0.0.1",
          "[stack][igmp][rfc2236-3]") {
  auto seed = GENERATE(1u, 2u, 3u, 42u);
  INFO("seed=" << seed);
  StackConfig cfg = config_for(kMacB, kIpB);
  cfg.seed = seed;
  ScriptedPeer p(cfg);
  joined_idle(p, kGroup);
  joined_idle(p, kGroup2);
  // Max Resp Time 10: one second.
  auto out = igmp_in(p.send(igmp_frame(wire::igmp_type::kQuery, 10, {}, kAllSystems)));
  CHECK(p.stack.stats().igmp.rx_queries == 1);
  std::set<Ipv4Addr> reported;
  for (const auto& m : out) reported.insert(m.msg.group);
  Duration waited{0};
  while (reported.size() < 2 && waited <= std::chrono::seconds(1)) {
    auto [got, at] = wait_for_igmp(p, std::chrono::seconds(1) - waited);
    waited += at;
    for (const auto& m : got) {
      CHECK(m.msg.type == wire::igmp_type::kV2Report);
      CHECK(m.ip.dst == m.msg.group);
      reported.insert(m.msg.group);
    }
    if (got.empty()) break;
  }
  CHECK(reported == std::set<Ipv4Addr>{kGroup, kGroup2});
  CHECK(waited <= std::chrono::seconds(1));
  CHECK(igmp_in(p.advance(std::chrono::seconds(30))).empty());
  CHECK(!reported.contains(kAllSystems));
}

TEST_CASE("IGMP: a Group-Specific Query is answered only for a group we belong to",
          "[stack][igmp][rfc2236-3]") {
  ScriptedPeer p;
  joined_idle(p, kGroup);
  // A query for a group we are not in: no timer, no report.
  (void)p.send(igmp_frame(wire::igmp_type::kQuery, 10, kGroup2, kAllSystems));
  CHECK(!p.stack.next_deadline().has_value());
  // A query for our group (sent to the group): report within 1 s.
  (void)p.send(igmp_frame(wire::igmp_type::kQuery, 10, kGroup, kGroup));
  auto [got, at] = wait_for_igmp(p, std::chrono::seconds(1));
  REQUIRE(got.size() == 1);
  CHECK(got[0].msg.group == kGroup);
  CHECK(at <= std::chrono::seconds(1));
}

TEST_CASE("IGMP: a query asking for less time shortens a running timer, never lengthens it",
          "[stack][igmp][rfc2236-3]") {
  ScriptedPeer p;
  joined_idle(p, kGroup);
  (void)p.send(igmp_frame(wire::igmp_type::kQuery, 250, {}, kAllSystems));  // 25 s
  auto& igmp = p.stack.impl().ip.igmp();
  auto first = igmp.report_due(kGroup);
  REQUIRE(first);
  (void)p.send(igmp_frame(wire::igmp_type::kQuery, 255, {}, kAllSystems));  // longer: kept
  CHECK(igmp.report_due(kGroup) == first);
  (void)p.send(igmp_frame(wire::igmp_type::kQuery, 1, {}, kAllSystems));  // 100 ms
  auto second = igmp.report_due(kGroup);
  REQUIRE(second);
  CHECK(*second <= p.clock.now() + std::chrono::milliseconds(100));
}

TEST_CASE("IGMP: another member's report suppresses ours, and then we send no leave",
          "[stack][igmp][rfc2236-3][rfc2236-6]") {
  ScriptedPeer p;
  int fd = joined_idle(p, kGroup);
  (void)p.send(igmp_frame(wire::igmp_type::kQuery, 100, {}, kAllSystems));  // 10 s
  REQUIRE(p.stack.impl().ip.igmp().report_due(kGroup));
  // Another member reports first (sent to the group, from our subnet).
  CHECK(igmp_in(p.send(igmp_frame(wire::igmp_type::kV2Report, 0, kGroup, kGroup))).empty());
  CHECK(p.stack.stats().igmp.rx_reports == 1);
  CHECK(p.stack.stats().igmp.reports_suppressed == 1);
  CHECK(!p.stack.impl().ip.igmp().report_due(kGroup));
  CHECK(igmp_in(p.advance(std::chrono::seconds(11))).empty());
  // RFC 2236 §6: the flag is clear, so leaving is silent.
  drop_membership(p, fd, kGroup);
  CHECK(igmp_in(sent_now(p)).empty());
  CHECK(p.stack.stats().igmp.tx_leaves == 0);
}

TEST_CASE("IGMP: malformed and spoofed messages are dropped and counted",
          "[stack][igmp][rfc2236-9]") {
  ScriptedPeer p;
  joined_idle(p, kGroup);
  const auto& st = p.stack.stats().igmp;
  SECTION("bad checksum") {
    (void)p.send(igmp_frame(wire::igmp_type::kQuery, 10, {}, kAllSystems, kPeerIp, true));
    CHECK(st.rx_drop_bad_checksum == 1);
    CHECK(st.rx_queries == 0);
  }
  SECTION("truncated") {
    auto ip = ip_header(kPeerIp, kAllSystems, wire::IpProto::Igmp);
    std::array<std::byte, 4> part{std::byte{0x11}};
    (void)p.send(ipv4_frame(kPeerMac, multicast_mac(kAllSystems), ip, Bytes(part)));
    CHECK(st.rx_drop_truncated == 1);
  }
  SECTION("a report from off our subnet does not suppress") {
    (void)p.send(igmp_frame(wire::igmp_type::kQuery, 100, {}, kAllSystems));
    (void)p.send(igmp_frame(wire::igmp_type::kV2Report, 0, kGroup, kGroup,
                            Ipv4Addr::from_octets(192, 168, 9, 9)));
    CHECK(st.rx_drop_bad_report == 1);
    CHECK(p.stack.impl().ip.igmp().report_due(kGroup));
  }
  SECTION("a group-specific query for a unicast address") {
    (void)p.send(igmp_frame(wire::igmp_type::kQuery, 10, kIpB, kAllSystems));
    CHECK(st.rx_drop_bad_query == 1);
    CHECK(!p.stack.next_deadline());
  }
  SECTION("leaves and IGMPv3 reports are ignored") {
    (void)p.send(igmp_frame(wire::igmp_type::kLeave, 0, kGroup, kAllSystems));
    CHECK(st.rx_other == 1);
  }
}

TEST_CASE("IGMP: two stacks on a wire: each member's report cancels the other's repeat",
          "[stack][igmp][rfc2236-3]") {
  TwoStacks t;
  const Ipv4Addr group = kGroup;
  for (Stack* s : {&t.a, &t.b}) {
    int fd = *s->sockets().socket(AF_INET, SOCK_DGRAM, 0);
    ip_mreq m{};
    m.imr_multiaddr.s_addr = htonl(group.value);
    REQUIRE(s->sockets().setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == Errno::Ok);
  }
  t.sim.run_for(std::chrono::seconds(20));
  // Each sent its unsolicited report at once; each heard the other's while its repeat
  // timer ran (Delaying Member), so neither repeat went out.
  CHECK(t.a.stats().igmp.tx_reports == 1);
  CHECK(t.b.stats().igmp.tx_reports == 1);
  CHECK(t.a.stats().igmp.reports_suppressed == 1);
  CHECK(t.b.stats().igmp.reports_suppressed == 1);
}
