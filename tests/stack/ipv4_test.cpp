// Whole-stack IPv4: destinations accepted, reassembly rules (RFC 791 §3.2, RFC 815),
// routing via the gateway, fragmentation on send.
#include "stack/fixture.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {
// Fragments of one ICMP echo request with `data_len` data octets, cut every `piece` octets
// (a multiple of 8) of the ICMP message.
std::vector<Frame> fragments(std::size_t data_len, std::size_t piece, std::uint16_t ident = 0x77) {
  std::vector<std::byte> data(data_len);
  for (std::size_t i = 0; i < data_len; ++i) data[i] = std::byte(static_cast<std::uint8_t>(i));
  auto msg = icmp_message(wire::icmp_type::kEchoRequest, 3, 4, data);
  std::vector<Frame> out;
  for (std::size_t off = 0; off < msg.size(); off += piece) {
    auto ip = ip_header(kPeerIp, kIpB, wire::IpProto::Icmp);
    ip.ident = ident;
    ip.frag_offset = static_cast<std::uint16_t>(off);
    std::size_t len = std::min(piece, msg.size() - off);
    ip.more_frags = off + len < msg.size();
    out.push_back(ipv4_frame(kPeerMac, kMacB, ip, Bytes(msg).subspan(off, len)));
  }
  return out;
}
std::size_t replies(const std::vector<Frame>& out) {
  std::size_t n = 0;
  for (const auto& f : out) {
    auto d = decode(f);
    if (d.ip && d.ip->protocol == wire::IpProto::Icmp && d.ip->frag_offset == 0) ++n;
  }
  return n;
}
}  // namespace

TEST_CASE("fragments in any order reassemble", "[stack][ipv4][rfc815]") {
  ScriptedPeer p;
  p.introduce();
  auto frags = fragments(1000, 256);
  REQUIRE(frags.size() == 4);
  std::vector<Frame> out;
  for (int i : {2, 0, 3, 1}) {
    auto o = p.send(frags[static_cast<std::size_t>(i)]);
    out.insert(out.end(), o.begin(), o.end());
  }
  CHECK(replies(out) == 1);
  CHECK(p.stack.stats().ipv4.reassembled == 1);
  CHECK(p.stack.stats().ipv4.rx_fragments == 4);
}

TEST_CASE("an exact duplicate fragment is ignored", "[stack][ipv4][rfc815]") {
  ScriptedPeer p;
  p.introduce();
  auto frags = fragments(1000, 512);
  CHECK(p.send(frags[0]).empty());
  CHECK(p.send(frags[0]).empty());
  CHECK(replies(p.send(frags[1])) == 1);
  CHECK(p.stack.stats().ipv4.reasm_drop_overlap == 0);
}

TEST_CASE("overlapping fragments with different data drop the datagram", "[stack][ipv4][overlap]") {
  ScriptedPeer p;
  p.introduce();
  auto frags = fragments(1000, 512);
  Frame evil = frags[1];
  // Move the second fragment to offset 504: it overlaps the first by 8 octets.
  auto ip = wire::Ipv4Packet<MutBytes>::unchecked(MutBytes(evil).subspan(14));
  ip.set_flags_frag(false, false, 504);
  ip.fill_checksum();
  CHECK(p.send(frags[0]).empty());
  CHECK(p.send(evil).empty());
  CHECK(p.stack.stats().ipv4.reasm_drop_overlap == 1);
  CHECK(p.stack.stats().ipv4.reassembled == 0);
}

TEST_CASE("a datagram reassembling beyond 65535 octets is dropped", "[stack][ipv4][rfc791]") {
  ScriptedPeer p;
  p.introduce();
  auto ip = ip_header(kPeerIp, kIpB, wire::IpProto::Icmp);
  ip.ident = 9;
  ip.frag_offset = 65528;  // the largest offset the 13-bit field can hold
  std::vector<std::byte> data(16);
  CHECK(p.send(ipv4_frame(kPeerMac, kMacB, ip, data)).empty());
  CHECK(p.stack.stats().ipv4.reasm_drop_too_big == 1);
}

TEST_CASE("a non-final fragment not a multiple of 8 is inconsistent", "[stack][ipv4][rfc791]") {
  ScriptedPeer p;
  p.introduce();
  auto ip = ip_header(kPeerIp, kIpB, wire::IpProto::Icmp);
  ip.more_frags = true;
  std::vector<std::byte> data(13);
  CHECK(p.send(ipv4_frame(kPeerMac, kMacB, ip, data)).empty());
  CHECK(p.stack.stats().ipv4.reasm_drop_inconsistent == 1);
}

TEST_CASE("reassembly memory is bounded", "[stack][ipv4]") {
  StackConfig cfg = config_for(kMacB, kIpB);
  cfg.ipv4.reassembly_max_datagrams = 2;
  ScriptedPeer p(cfg);
  p.introduce();
  for (std::uint16_t id = 1; id <= 3; ++id) CHECK(p.send(fragments(1000, 512, id)[0]).empty());
  CHECK(p.stack.stats().ipv4.reasm_drop_memory == 1);
}

TEST_CASE("datagrams to the directed and limited broadcast are accepted",
          "[stack][ipv4][rfc1122-3.3.6]") {
  ScriptedPeer p;
  p.introduce();
  std::vector<std::byte> body(4);
  for (auto dst : {Ipv4Addr::from_octets(10, 0, 0, 255), Ipv4Addr::broadcast()}) {
    // Protocol 253 to a broadcast: delivered to IP, but no ICMP error about a broadcast.
    CHECK(p.send(ipv4_frame(kPeerMac, MacAddr::broadcast(),
                            ip_header(kPeerIp, dst, wire::IpProto{253}), body))
              .empty());
  }
  CHECK(p.stack.stats().ipv4.rx_drop_unknown_protocol == 2);
  CHECK(p.stack.stats().icmp.tx_suppressed == 2);
}

TEST_CASE("off-link destinations go to the gateway's MAC, no gateway is ENETUNREACH",
          "[stack][ipv4][rfc1122-3.3.1]") {
  StackConfig cfg = config_for(kMacB, kIpB);
  cfg.gateway = kPeerIp;
  ScriptedPeer p(cfg);
  p.introduce();
  REQUIRE(p.stack.send_ping(Ipv4Addr::from_octets(192, 0, 2, 1), 1, 1, {}, p.clock.now()) ==
          Errno::Ok);
  auto out = p.dev.take_transmitted();
  REQUIRE(out.size() == 1);
  auto d = decode(out[0]);
  CHECK(d.eth.dst == kPeerMac);
  CHECK(d.ip->dst == Ipv4Addr::from_octets(192, 0, 2, 1));

  ScriptedPeer q;  // no gateway
  CHECK(q.stack.send_ping(Ipv4Addr::from_octets(192, 0, 2, 1), 1, 1, {}, q.clock.now()) ==
        Errno::NetUnreach);
  CHECK(q.stack.stats().ipv4.tx_drop_no_route == 1);
}

TEST_CASE("outgoing fragments carry 8-octet-aligned offsets and the right flags",
          "[stack][ipv4][rfc791]") {
  ScriptedPeer p;
  p.introduce();
  std::vector<std::byte> data(3000);
  REQUIRE(p.stack.send_ping(kPeerIp, 1, 1, data, p.clock.now()) == Errno::Ok);
  auto out = p.dev.take_transmitted();
  REQUIRE(out.size() == 3);
  std::size_t expect_off = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto d = decode(out[i]);
    CHECK(d.ip->frag_offset == expect_off);
    CHECK(d.ip->frag_offset % 8 == 0);
    CHECK(d.ip->more_frags == (i + 1 < out.size()));
    CHECK(d.ip->total_len() <= 1500);
    CHECK(d.ip->ident == decode(out[0]).ip->ident);
    expect_off += d.ip->payload_len;
  }
  CHECK(expect_off == 3008);
}
