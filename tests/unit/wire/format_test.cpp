#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "wire/format.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

namespace {

// Rewrites the IPv4 header checksum of a frame after a test changed a header field.
void refresh_ip_checksum(std::vector<std::byte>& frame) {
  auto ip = MutBytes(frame).subspan(kEthLen);
  Ipv4Packet<MutBytes>::unchecked(ip.first(ip_header_len(frame))).fill_checksum();
}

}  // namespace

TEST_CASE("format: one line per captured frame", "[wire][format]") {
  // Each expected line was checked against tcpdump's decoding of the same capture.
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {fixtures::kArpRequest, "ARP who-has 10.0.0.2 tell 10.0.0.1"},
      {fixtures::kArpReply, "ARP reply 10.0.0.2 is-at 02:00:00:00:00:02"},
      {fixtures::kIcmpEchoRequest, "ICMP 10.0.0.1 > 10.0.0.2 echo request id=6350 seq=1 len=56"},
      {fixtures::kIcmpEchoReply, "ICMP 10.0.0.2 > 10.0.0.1 echo reply id=6350 seq=1 len=56"},
      {fixtures::kIcmpFragFirst,
       "ICMP 10.0.0.1 > 10.0.0.2 echo request id=6351 seq=1 len=1472 [frag id=0x3ff0 off=0+]"},
      {fixtures::kIcmpFragMiddle,
       "IPv4 frag 10.0.0.1 > 10.0.0.2 proto=1 id=0x3ff0 off=1480+ len=1480"},
      {fixtures::kIcmpFragLast,
       "IPv4 frag 10.0.0.1 > 10.0.0.2 proto=1 id=0x3ff0 off=2960 len=1048"},
      {fixtures::kIcmpEchoRequestRr,
       "ICMP 10.0.0.1 > 10.0.0.2 echo request id=6352 seq=1 len=56 [ipopts NOP,RR]"},
      {fixtures::kIcmpEchoReplyRr,
       "ICMP 10.0.0.2 > 10.0.0.1 echo reply id=6352 seq=1 len=56 [ipopts RR,EOL]"},
      {fixtures::kUdpDatagram, "UDP 10.0.0.1:5353 > 10.0.0.2:7 len=12"},
      {fixtures::kUdpToClosedPort, "UDP 10.0.0.1:5354 > 10.0.0.2:9 len=12"},
      {fixtures::kIcmpPortUnreachable,
       "ICMP 10.0.0.2 > 10.0.0.1 unreachable port [UDP 10.0.0.1:5354 > 10.0.0.2:9]"},
      {fixtures::kUdpNoChecksum, "UDP 10.0.0.1:5355 > 10.0.0.2:7 len=11"},
      {fixtures::kTcpSyn,
       "TCP 10.0.0.1:51000 > 10.0.0.2:80 [S] seq=3449586823 win=64240 mss=1460 ws=10 sackOK "
       "ts=2834351324/0"},
      {fixtures::kTcpSynAck,
       "TCP 10.0.0.2:80 > 10.0.0.1:51000 [S.] seq=1554343269 ack=3449586824 win=65160 mss=1460 "
       "ws=10 sackOK ts=3057449321/2834351324"},
      {fixtures::kTcpAck,
       "TCP 10.0.0.1:51000 > 10.0.0.2:80 [.] seq=3449586824 ack=1554343270 win=63 "
       "ts=2834351324/3057449321"},
      {fixtures::kTcpServerData,
       "TCP 10.0.0.2:80 > 10.0.0.1:51000 [P.] seq=1554343270 ack=3449586824 win=64 "
       "ts=3057449322/2834351324 len=16"},
      {fixtures::kTcpClientData,
       "TCP 10.0.0.1:51000 > 10.0.0.2:80 [P.] seq=3449586824 ack=1554343286 win=63 "
       "ts=2834351325/3057449322 len=15"},
      {fixtures::kTcpClientFin,
       "TCP 10.0.0.1:51000 > 10.0.0.2:80 [F.] seq=3449586839 ack=1554343286 win=63 "
       "ts=2834351325/3057449322"},
      {fixtures::kTcpServerFin,
       "TCP 10.0.0.2:80 > 10.0.0.1:51000 [F.] seq=1554343286 ack=3449586840 win=64 "
       "ts=3057449322/2834351325"},
      {fixtures::kTcpLastAck,
       "TCP 10.0.0.1:51000 > 10.0.0.2:80 [.] seq=3449586840 ack=1554343287 win=63 "
       "ts=2834351325/3057449322"},
      {fixtures::kTcpRstAck, "TCP 10.0.0.2:81 > 10.0.0.1:51001 [R.] seq=0 ack=1679340419 win=0"},
      {fixtures::kTcpSynNoTs,
       "TCP 10.0.0.1:51002 > 10.0.0.2:81 [S] seq=3266867215 win=64240 mss=1460 ws=10 sackOK"},
      {fixtures::kTcpSynNoTsNoSack,
       "TCP 10.0.0.1:51003 > 10.0.0.2:81 [S] seq=1484893889 win=64240 mss=1460 ws=10"},
      {fixtures::kTcpSynMssSack,
       "TCP 10.0.0.3:40000 > 10.0.0.2:8080 [S] seq=1000 win=64240 mss=1460 sackOK"},
      {fixtures::kTcpSynAckMssSack,
       "TCP 10.0.0.2:8080 > 10.0.0.3:40000 [S.] seq=958342755 ack=1001 win=64240 mss=1460 sackOK"},
      {fixtures::kTcpSack1,
       "TCP 10.0.0.2:8080 > 10.0.0.3:40000 [.] seq=958342756 ack=1011 win=64230 sack=1021:1031"},
      {fixtures::kTcpSack2,
       "TCP 10.0.0.2:8080 > 10.0.0.3:40000 [.] seq=958342756 ack=1011 win=64230 "
       "sack=1041:1051,1021:1031"},
      {fixtures::kTcpSack3,
       "TCP 10.0.0.2:8080 > 10.0.0.3:40000 [.] seq=958342756 ack=1011 win=64230 "
       "sack=1061:1071,1041:1051,1021:1031"},
      {fixtures::kTcpSack4,
       "TCP 10.0.0.2:8080 > 10.0.0.3:40000 [.] seq=958342756 ack=1011 win=64230 "
       "sack=1081:1091,1061:1071,1041:1051,1021:1031"},
      {fixtures::kTcpRst, "TCP 10.0.0.3:40000 > 10.0.0.2:8080 [R] seq=1091 win=64240"},
  };
  for (auto [frame_hex, expected] : cases) {
    CHECK(format_frame(hex(frame_hex)) == expected);
  }
}

TEST_CASE("format: malformed frames name the layer and the reason", "[wire][format]") {
  SECTION("ethernet") {
    CHECK(format_frame(hex("ffffffffffff0200")) == "malformed ethernet: truncated");
  }
  SECTION("arp") {
    auto f = hex(fixtures::kArpRequest);
    store_be16(f, kEthLen, 6);  // hardware type IEEE 802
    CHECK(format_frame(f) == "malformed arp: unsupported");
    CHECK(format_frame(Bytes(f).first(20)) == "malformed arp: truncated");
  }
  SECTION("ipv4") {
    auto f = hex(fixtures::kIcmpEchoRequest);
    CHECK(format_frame(Bytes(f).first(30)) == "malformed ipv4: truncated");
    store_u8(f, kEthLen + 8, 1);  // TTL changed, checksum not
    CHECK(format_frame(f) == "malformed ipv4: bad_checksum");
    CHECK(format_frame(f, ChecksumMode::Ignore) ==
          "ICMP 10.0.0.1 > 10.0.0.2 echo request id=6350 seq=1 len=56");
  }
  SECTION("icmp") {
    auto f = hex(fixtures::kIcmpEchoRequest);
    store_u8(f, f.size() - 1, 0);
    CHECK(format_frame(f) == "malformed icmp: bad_checksum");
  }
  SECTION("udp") {
    auto f = hex(fixtures::kUdpDatagram);
    store_be16(f, kEthLen + 20 + 4, 4);  // UDP length below its header
    CHECK(format_frame(f) == "malformed udp: bad_total_len");
  }
  SECTION("tcp") {
    auto f = hex(fixtures::kTcpSyn);
    store_u8(f, kEthLen + 20 + 13, 0x03);  // SYN+FIN
    CHECK(format_frame(f) == "malformed tcp: bad_checksum");
    CHECK(format_frame(f, ChecksumMode::Ignore) == "malformed tcp: bad_flags");
  }
}

TEST_CASE("format: other EtherTypes and IP protocols", "[wire][format]") {
  SECTION("IPv6 is named, not decoded") {
    auto f = hex("333300000016 020000000001 86dd 6000000000240001");
    CHECK(format_frame(f) == "ether 02:00:00:00:00:01 > 33:33:00:00:00:16 type=IPv6 len=8");
  }
  SECTION("an unknown EtherType prints as hex") {
    auto f = hex("0180c200000e 020000000001 88cc 0000");
    CHECK(format_frame(f) == "ether 02:00:00:00:00:01 > 01:80:c2:00:00:0e type=0x88cc len=2");
  }
  SECTION("an unknown IP protocol prints its number") {
    auto f = hex(fixtures::kUdpDatagram);
    store_u8(f, kEthLen + 9, 47);  // GRE
    refresh_ip_checksum(f);
    CHECK(format_frame(f) == "IPv4 10.0.0.1 > 10.0.0.2 proto=47 len=20");
  }
  SECTION("a first UDP fragment falls back to the fragment line") {
    auto f = hex(fixtures::kUdpDatagram);
    store_be16(f, kEthLen + 6, 0x2000);  // MF: the UDP length now exceeds this fragment
    store_be16(f, kEthLen + 20 + 4, 3000);
    refresh_ip_checksum(f);
    CHECK(format_frame(f) == "IPv4 frag 10.0.0.1 > 10.0.0.2 proto=17 id=0x9b7b off=0+ len=20");
  }
}

TEST_CASE("format: ICMP error messages quote the offending datagram", "[wire][format]") {
  auto data = hex("45000028a9c1400040117d010a0000010a00000214ea00090014ac98");
  Icmpv4Repr r{icmp_type::kTimeExceeded, 0, 0, data};
  CHECK(to_string(r) == "time-exceeded ttl [UDP 10.0.0.1:5354 > 10.0.0.2:9]");
  r = {icmp_type::kDestUnreachable, icmp_unreach::kFragNeeded, 1400, data};
  CHECK(to_string(r) == "unreachable frag-needed mtu=1400 [UDP 10.0.0.1:5354 > 10.0.0.2:9]");
  r = {icmp_type::kParamProblem, 0, 0x0c000000, data};
  CHECK(to_string(r) == "param-problem ptr=12 [UDP 10.0.0.1:5354 > 10.0.0.2:9]");
  r = {icmp_type::kDestUnreachable, 200, 0, Bytes(data).first(10)};  // unknown code, short quote
  CHECK(to_string(r) == "unreachable code=200");
  r = {42, 1, 0, data};
  CHECK(format_icmp(r, kA, kB) == "ICMP 10.0.0.1 > 10.0.0.2 type=42 code=1 len=28");
}

TEST_CASE("format: TCP flags print in tcpdump's order", "[wire][format]") {
  CHECK(to_string(TcpFlags{}) == "none");
  CHECK(to_string(TcpFlags{.syn = true}) == "S");
  CHECK(to_string(TcpFlags{.syn = true, .ack = true}) == "S.");
  CHECK(to_string(TcpFlags{.fin = true, .psh = true, .ack = true}) == "FP.");
  CHECK(to_string(TcpFlags{.rst = true, .ack = true}) == "R.");
  CHECK(to_string(TcpFlags{.syn = true, .ece = true, .cwr = true}) == "SEW");
  CHECK(to_string(TcpFlags{.ack = true, .urg = true}) == ".U");
}

TEST_CASE("format: reprs print through to_string and fmt alike", "[wire][format]") {
  TcpRepr t;
  t.src_port = 51000;
  t.dst_port = 80;
  t.seq = 1000;
  t.flags = {.syn = true};
  t.window = 64240;
  t.mss = 1460;
  t.window_scale = 7;
  t.sack_permitted = true;
  t.timestamps = std::pair{123u, 0u};
  CHECK(format_tcp(t, kB, kA) ==
        "TCP 10.0.0.2:51000 > 10.0.0.1:80 [S] seq=1000 win=64240 mss=1460 ws=7 sackOK ts=123/0");
  CHECK(to_string(t) == "51000 > 80 [S] seq=1000 win=64240 mss=1460 ws=7 sackOK ts=123/0");
  CHECK(fmt::format("{}", t) == to_string(t));
  t.flags = {.ack = true, .urg = true};
  t.urgent = 5;
  t.mss.reset();
  t.window_scale.reset();
  t.sack_permitted = false;
  t.timestamps.reset();
  CHECK(to_string(t) == "51000 > 80 [.U] seq=1000 ack=0 win=64240 urg=5");

  UdpRepr u{5353, 7, 12};
  CHECK(format_udp(u, kA, kB) == "UDP 10.0.0.1:5353 > 10.0.0.2:7 len=12");
  CHECK(fmt::format("{}", u) == "5353 > 7 len=12");

  ArpRepr a{ArpOp::Request, kMacA, kA, MacAddr{}, kB};
  CHECK(fmt::format("{}", a) == "ARP who-has 10.0.0.2 tell 10.0.0.1");

  Ipv4Repr ip;
  ip.src = kA;
  ip.dst = kB;
  ip.protocol = IpProto::Tcp;
  ip.ident = 1;
  ip.payload_len = 20;
  CHECK(fmt::format("{}", ip) == "IPv4 10.0.0.1 > 10.0.0.2 proto=6 ttl=64 id=0x0001 len=40");
  ip.more_frags = true;
  ip.frag_offset = 1480;
  ip.options = {std::byte{1}, std::byte{1}, std::byte{1}, std::byte{0}};
  ip.options_len = 4;
  CHECK(to_string(ip) ==
        "IPv4 10.0.0.1 > 10.0.0.2 proto=6 ttl=64 id=0x0001 len=44 off=1480+ [ipopts "
        "NOP,NOP,NOP,EOL]");

  EthernetRepr e{MacAddr::broadcast(), kMacA, EtherType::Arp};
  CHECK(fmt::format("{}", e) == "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff type=ARP");
  CHECK(fmt::format("{}", ParseError::BadOption) == "bad_option");
}

TEST_CASE("format: verbose output lists every field of a SYN", "[wire][format]") {
  CHECK(format_frame_verbose(hex(fixtures::kTcpSyn)) ==
        "eth.dst: 02:00:00:00:00:02\n"
        "eth.src: 02:00:00:00:00:01\n"
        "eth.type: 0x0800 (IPv4)\n"
        "ipv4.version: 4\n"
        "ipv4.header_len: 20\n"
        "ipv4.tos: 0x00\n"
        "ipv4.total_len: 60\n"
        "ipv4.id: 0xe3a3\n"
        "ipv4.flags: DF\n"
        "ipv4.frag_offset: 0\n"
        "ipv4.ttl: 64\n"
        "ipv4.protocol: 6 (TCP)\n"
        "ipv4.checksum: 0x4316 (ok)\n"
        "ipv4.src: 10.0.0.1\n"
        "ipv4.dst: 10.0.0.2\n"
        "tcp.src_port: 51000\n"
        "tcp.dst_port: 80\n"
        "tcp.seq: 3449586823\n"
        "tcp.ack: 0\n"
        "tcp.header_len: 40\n"
        "tcp.reserved: 0x0\n"
        "tcp.flags: [S] (0x02)\n"
        "tcp.window: 64240\n"
        "tcp.checksum: 0xb18f (ok)\n"
        "tcp.urgent: 0\n"
        "tcp.option: mss 1460\n"
        "tcp.option: sackOK\n"
        "tcp.option: ts 2834351324/0\n"
        "tcp.option: nop\n"
        "tcp.option: ws 10\n"
        "tcp.payload_len: 0\n");
}

TEST_CASE("format: verbose output of ARP, UDP, ICMP and IP options", "[wire][format]") {
  CHECK(format_frame_verbose(hex(fixtures::kArpReply)) ==
        "eth.dst: 02:00:00:00:00:01\n"
        "eth.src: 02:00:00:00:00:02\n"
        "eth.type: 0x0806 (ARP)\n"
        "arp.htype: 1\n"
        "arp.ptype: 0x0800\n"
        "arp.hlen: 6\n"
        "arp.plen: 4\n"
        "arp.op: 2 (reply)\n"
        "arp.sender_mac: 02:00:00:00:00:02\n"
        "arp.sender_ip: 10.0.0.2\n"
        "arp.target_mac: 02:00:00:00:00:01\n"
        "arp.target_ip: 10.0.0.1\n");
  auto udp = format_frame_verbose(hex(fixtures::kUdpNoChecksum));
  CHECK_THAT(udp, Catch::Contains("udp.src_port: 5355\n"
                                  "udp.dst_port: 7\n"
                                  "udp.length: 19\n"
                                  "udp.checksum: 0x0000 (none)\n"
                                  "udp.payload_len: 11\n"));
  auto icmp = format_frame_verbose(hex(fixtures::kIcmpPortUnreachable));
  CHECK_THAT(icmp, Catch::EndsWith("icmp.type: 3 (unreachable)\n"
                                   "icmp.code: 3 (port)\n"
                                   "icmp.checksum: 0x1125 (ok)\n"
                                   "icmp.unused: 0x00000000\n"
                                   "icmp.data_len: 40\n"
                                   "icmp.quoted: [UDP 10.0.0.1:5354 > 10.0.0.2:9]\n"));
  auto rr = format_frame_verbose(hex(fixtures::kIcmpEchoReplyRr));
  CHECK_THAT(rr, Catch::Contains("ipv4.option: RR len=39 ptr=16 10.0.0.1 10.0.0.2 10.0.0.2 "
                                 "0.0.0.0 0.0.0.0 0.0.0.0 0.0.0.0 0.0.0.0 0.0.0.0\n"
                                 "ipv4.option: EOL\n"
                                 "icmp.type: 0 (echo reply)\n"));
  auto frag = format_frame_verbose(hex(fixtures::kIcmpFragLast));
  CHECK_THAT(frag, Catch::EndsWith("ipv4.flags: none\n"
                                   "ipv4.frag_offset: 2960\n"
                                   "ipv4.ttl: 64\n"
                                   "ipv4.protocol: 1 (ICMP)\n"
                                   "ipv4.checksum: 0x216d (ok)\n"
                                   "ipv4.src: 10.0.0.1\n"
                                   "ipv4.dst: 10.0.0.2\n"
                                   "ipv4.fragment_data: 1048 octets\n"));
}

TEST_CASE("format: verbose output ends with the parse error", "[wire][format]") {
  auto f = hex(fixtures::kTcpSack2);
  store_u8(f, f.size() - 1, 0xff);  // last SACK edge changed, checksum not
  auto v = format_frame_verbose(f);
  CHECK_THAT(v, Catch::Contains("tcp.checksum: 0x1b4b (bad)\n"));
  CHECK_THAT(v, Catch::EndsWith("tcp.option: nop\n"
                                "tcp.option: nop\n"
                                "tcp.option: sack 1041:1051 1021:1279\n"
                                "tcp.payload_len: 0\n"
                                "error: malformed tcp: bad_checksum\n"));
  CHECK(format_frame_verbose(hex("0102")) == "error: malformed ethernet: truncated\n");
}
