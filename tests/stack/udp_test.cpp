// UDP and the socket table over two stacks on a MemoryWire: datagrams, demultiplexing,
// broadcast, multicast, ICMP port unreachable -> ECONNREFUSED, and every misuse's errno.
#include <netinet/ip.h>
#include <sys/time.h>

#include "stack/fixture.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {
sockaddr_in sa(Ipv4Addr a, std::uint16_t port) { return make_sockaddr(a, port); }

int udp_socket(Stack& s) {
  auto fd = s.sockets().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd);
  return *fd;
}

int bound_udp(Stack& s, Ipv4Addr a, std::uint16_t port) {
  int fd = udp_socket(s);
  auto addr = sa(a, port);
  REQUIRE(s.sockets().bind(fd, addr) == Errno::Ok);
  return fd;
}

std::string recv_string(Stack& s, int fd, sockaddr_in* from = nullptr) {
  std::array<std::byte, 70000> buf;
  auto n = s.sockets().recvfrom(fd, MutBytes(buf), 0, from);
  if (!n) return "<" + std::string(to_string(n.error())) + ">";
  return std::string(reinterpret_cast<const char*>(buf.data()), *n);  // NOLINT
}

void set_int(Stack& s, int fd, int level, int name, int v) {
  REQUIRE(s.sockets().setsockopt(fd, level, name, &v, sizeof v) == Errno::Ok);
}
}  // namespace

TEST_CASE("datagrams cross between two stacks with boundaries kept", "[stack][udp][rfc768]") {
  TwoStacks t;
  int server = bound_udp(t.b, Ipv4Addr::any(), 7);
  int client = udp_socket(t.a);
  auto to = sa(kIpB, 7);
  REQUIRE(t.a.sockets().sendto(client, as_bytes(std::string_view("hello")), 0, &to).value() == 5);
  REQUIRE(t.a.sockets().sendto(client, as_bytes(std::string_view("world!")), 0, &to).value() == 6);
  t.sim.run_for(std::chrono::milliseconds(10));
  sockaddr_in from{};
  CHECK(recv_string(t.b, server, &from) == "hello");
  CHECK(sockaddr_addr(from) == kIpA);
  auto client_name = t.a.sockets().getsockname(client);
  REQUIRE(client_name);
  CHECK(sockaddr_port(from) == sockaddr_port(*client_name));
  CHECK(sockaddr_port(*client_name) >= 49152);  // autobound to an ephemeral port
  CHECK(recv_string(t.b, server) == "world!");
  CHECK(recv_string(t.b, server) == "<EAGAIN>");
}

TEST_CASE("large datagrams are fragmented and arrive whole", "[stack][udp][ipv4]") {
  TwoStacks t;
  int server = bound_udp(t.b, Ipv4Addr::any(), 9000);
  int client = udp_socket(t.a);
  auto to = sa(kIpB, 9000);
  for (std::size_t size : {1u, 1472u, 1473u, 8000u, 65507u}) {
    std::string msg(size, 'x');
    for (std::size_t i = 0; i < size; ++i) msg[i] = static_cast<char>('a' + i % 26);
    REQUIRE(t.a.sockets().sendto(client, as_bytes(msg), 0, &to).value() == size);
    t.sim.run_for(std::chrono::milliseconds(10));
    INFO("size=" << size);
    CHECK(recv_string(t.b, server) == msg);
  }
  std::string too_big(65508, 'x');
  CHECK(t.a.sockets().sendto(client, as_bytes(too_big), 0, &to).error() == Errno::MsgSize);
}

TEST_CASE("MSG_PEEK leaves the datagram, MSG_TRUNC reports its real length",
          "[stack][udp][socket]") {
  TwoStacks t;
  int server = bound_udp(t.b, Ipv4Addr::any(), 7);
  int client = udp_socket(t.a);
  auto to = sa(kIpB, 7);
  REQUIRE(t.a.sockets().sendto(client, as_bytes(std::string_view("0123456789")), 0, &to));
  t.sim.run_for(std::chrono::milliseconds(10));
  std::array<std::byte, 4> small;
  CHECK(t.b.sockets().recv(server, MutBytes(small), MSG_PEEK).value() == 4);
  CHECK(t.b.sockets().recv(server, MutBytes(small), MSG_PEEK | MSG_TRUNC).value() == 10);
  // A short buffer takes the head of the datagram; the rest is discarded.
  CHECK(t.b.sockets().recv(server, MutBytes(small), 0).value() == 4);
  CHECK(t.b.sockets().recv(server, MutBytes(small), 0).error() == Errno::Again);
}

TEST_CASE("demux prefers the connected 4-tuple, then a bound address, then the wildcard",
          "[stack][udp][demux]") {
  TwoStacks t;
  int wildcard = udp_socket(t.b);
  set_int(t.b, wildcard, SOL_SOCKET, SO_REUSEADDR, 1);
  auto any = sa(Ipv4Addr::any(), 5000);
  REQUIRE(t.b.sockets().bind(wildcard, any) == Errno::Ok);
  int specific = udp_socket(t.b);
  set_int(t.b, specific, SOL_SOCKET, SO_REUSEADDR, 1);
  auto own = sa(kIpB, 5000);
  REQUIRE(t.b.sockets().bind(specific, own) == Errno::Ok);
  int connected = udp_socket(t.b);
  set_int(t.b, connected, SOL_SOCKET, SO_REUSEADDR, 1);
  REQUIRE(t.b.sockets().bind(connected, any) == Errno::Ok);
  auto peer = sa(kIpA, 6000);
  REQUIRE(t.b.sockets().connect(connected, peer) == Errno::Ok);

  int from6000 = bound_udp(t.a, Ipv4Addr::any(), 6000);
  int from6001 = bound_udp(t.a, Ipv4Addr::any(), 6001);
  auto to = sa(kIpB, 5000);
  REQUIRE(t.a.sockets().sendto(from6000, as_bytes(std::string_view("for connected")), 0, &to));
  REQUIRE(t.a.sockets().sendto(from6001, as_bytes(std::string_view("for specific")), 0, &to));
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK(recv_string(t.b, connected) == "for connected");
  CHECK(recv_string(t.b, specific) == "for specific");
  CHECK(recv_string(t.b, wildcard) == "<EAGAIN>");
}

TEST_CASE("a connected socket ignores other peers", "[stack][udp][socket]") {
  TwoStacks t;
  int server = bound_udp(t.b, Ipv4Addr::any(), 7);
  auto peer = sa(kIpA, 1111);
  REQUIRE(t.b.sockets().connect(server, peer) == Errno::Ok);
  int other = bound_udp(t.a, Ipv4Addr::any(), 2222);
  auto to = sa(kIpB, 7);
  REQUIRE(t.a.sockets().sendto(other, as_bytes(std::string_view("x")), 0, &to));
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK(recv_string(t.b, server) == "<EAGAIN>");
  CHECK(t.b.stats().udp.rx_drop_no_port == 1);
}

TEST_CASE("a closed port answers port unreachable, the connected sender sees ECONNREFUSED",
          "[stack][udp][icmp][rfc1122-4.1.3.1]") {
  TwoStacks t;
  int client = udp_socket(t.a);
  auto to = sa(kIpB, 4444);
  REQUIRE(t.a.sockets().connect(client, to) == Errno::Ok);
  REQUIRE(t.a.sockets().send(client, as_bytes(std::string_view("anyone?")), 0));
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK(t.b.stats().icmp.tx_dest_unreachable == 1);
  CHECK((t.a.sockets().readiness(client) & POLLERR) != 0);
  CHECK(t.a.sockets().send(client, as_bytes(std::string_view("again")), 0).error() ==
        Errno::ConnRefused);
  // Reported once, then cleared.
  CHECK(t.a.sockets().send(client, as_bytes(std::string_view("again")), 0));
}

TEST_CASE("the receive buffer limit drops and counts", "[stack][udp][socket]") {
  TwoStacks t;
  int server = bound_udp(t.b, Ipv4Addr::any(), 7);
  set_int(t.b, server, SOL_SOCKET, SO_RCVBUF, 2000);  // stored doubled: 4000
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(t.b.sockets().getsockopt(server, SOL_SOCKET, SO_RCVBUF, &v, &len) == Errno::Ok);
  CHECK(v == 4000);
  int client = udp_socket(t.a);
  auto to = sa(kIpB, 7);
  std::string kb(1000, 'k');
  for (int i = 0; i < 6; ++i) REQUIRE(t.a.sockets().sendto(client, as_bytes(kb), 0, &to));
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK(t.b.stats().udp.rx_drop_buffer_full == 2);
}

TEST_CASE("broadcast needs SO_BROADCAST and reaches wildcard-bound sockets",
          "[stack][udp][broadcast]") {
  TwoStacks t;
  int server = bound_udp(t.b, Ipv4Addr::any(), 5353);
  int client = udp_socket(t.a);
  for (auto dst : {Ipv4Addr::broadcast(), Ipv4Addr::from_octets(10, 0, 0, 255)}) {
    auto to = sa(dst, 5353);
    CHECK(t.a.sockets().sendto(client, as_bytes(std::string_view("b")), 0, &to).error() ==
          Errno::Acces);
  }
  set_int(t.a, client, SOL_SOCKET, SO_BROADCAST, 1);
  for (auto dst : {Ipv4Addr::broadcast(), Ipv4Addr::from_octets(10, 0, 0, 255)}) {
    auto to = sa(dst, 5353);
    REQUIRE(t.a.sockets().sendto(client, as_bytes(dst.to_string()), 0, &to));
  }
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK(recv_string(t.b, server) == "255.255.255.255");
  CHECK(recv_string(t.b, server) == "10.0.0.255");
  // No port unreachable for a broadcast nobody wanted (RFC 1122 §3.2.2).
  auto to = sa(Ipv4Addr::broadcast(), 9999);
  REQUIRE(t.a.sockets().sendto(client, as_bytes(std::string_view("x")), 0, &to));
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK(t.b.stats().icmp.tx_dest_unreachable == 0);
}

TEST_CASE("multicast: only a member receives, loopback to local members",
          "[stack][udp][multicast][rfc1112]") {
  TwoStacks t;
  const Ipv4Addr group = Ipv4Addr::from_octets(239, 1, 2, 3);
  int member = bound_udp(t.b, Ipv4Addr::any(), 6000);
  int sender = bound_udp(t.a, Ipv4Addr::any(), 6001);
  auto to = sa(group, 6000);
  REQUIRE(t.a.sockets().sendto(sender, as_bytes(std::string_view("before join")), 0, &to));
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK(recv_string(t.b, member) == "<EAGAIN>");  // the interface filtered the group MAC

  ip_mreq m{};
  m.imr_multiaddr.s_addr = htonl(group.value);
  REQUIRE(t.b.sockets().setsockopt(member, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) ==
          Errno::Ok);
  CHECK(t.b.sockets().setsockopt(member, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) ==
        Errno::AddrInUse);
  REQUIRE(t.a.sockets().sendto(sender, as_bytes(std::string_view("after join")), 0, &to));
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK(recv_string(t.b, member) == "after join");

  // A member sending to its own group hears itself (IP_MULTICAST_LOOP defaults to 1).
  REQUIRE(t.b.sockets().sendto(member, as_bytes(std::string_view("loop")), 0, &to));
  CHECK(recv_string(t.b, member) == "loop");
  set_int(t.b, member, IPPROTO_IP, IP_MULTICAST_LOOP, 0);
  REQUIRE(t.b.sockets().sendto(member, as_bytes(std::string_view("no loop")), 0, &to));
  CHECK(recv_string(t.b, member) == "<EAGAIN>");

  REQUIRE(t.b.sockets().setsockopt(member, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m) ==
          Errno::Ok);
  CHECK(t.b.sockets().setsockopt(member, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof m) ==
        Errno::AddrNotAvail);
  REQUIRE(t.a.sockets().sendto(sender, as_bytes(std::string_view("after leave")), 0, &to));
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK(recv_string(t.b, member) == "<EAGAIN>");
}

TEST_CASE("multicast TTL defaults to 1 and is settable", "[stack][udp][multicast][rfc1112-6.1]") {
  ScriptedPeer p;
  auto& so = p.stack.sockets();
  int fd = *so.socket(AF_INET, SOCK_DGRAM, 0);
  auto to = sa(Ipv4Addr::from_octets(239, 9, 9, 9), 1234);
  REQUIRE(so.sendto(fd, as_bytes(std::string_view("x")), 0, &to));
  p.stack.flush();
  auto out = p.dev.take_transmitted();
  REQUIRE(out.size() == 1);
  auto d = decode(out[0]);
  CHECK(d.ip->ttl == 1);
  CHECK(d.eth.dst == multicast_mac(Ipv4Addr::from_octets(239, 9, 9, 9)));
  unsigned char ttl = 5;
  REQUIRE(so.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, 1) == Errno::Ok);
  REQUIRE(so.sendto(fd, as_bytes(std::string_view("x")), 0, &to));
  p.stack.flush();
  out = p.dev.take_transmitted();
  CHECK(decode(out.at(0)).ip->ttl == 5);
}

TEST_CASE("every misuse returns Linux's errno", "[stack][udp][socket][errno]") {
  ScriptedPeer p;
  auto& so = p.stack.sockets();
  auto to = sa(kPeerIp, 7);
  std::array<std::byte, 8> buf;

  SECTION("socket() arguments") {
    CHECK(so.socket(AF_INET6, SOCK_DGRAM, 0).error() == Errno::AfNoSupport);
    CHECK(so.socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP).error() == Errno::ProtoNoSupport);
    CHECK(so.socket(AF_INET, SOCK_RAW, 0).error() == Errno::ProtoNoSupport);
    CHECK(so.socket(AF_INET, 99, 0).error() == Errno::Inval);
  }
  SECTION("bad descriptors and use after close") {
    CHECK(so.bind(42, to) == Errno::BadF);
    CHECK(so.close(-1) == Errno::BadF);
    int fd = *so.socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(so.close(fd) == Errno::Ok);
    CHECK(so.close(fd) == Errno::BadF);
    CHECK(so.sendto(fd, {}, 0, &to).error() == Errno::BadF);
    CHECK(so.recv(fd, MutBytes(buf), 0).error() == Errno::BadF);
    pollfd pfd{fd, POLLIN, 0};
    CHECK(so.poll(&pfd, 1) == 1);
    CHECK(pfd.revents == POLLNVAL);
  }
  SECTION("double bind and address in use") {
    int a = *so.socket(AF_INET, SOCK_DGRAM, 0);
    int b = *so.socket(AF_INET, SOCK_DGRAM, 0);
    auto here = sa(kIpB, 7);
    REQUIRE(so.bind(a, here) == Errno::Ok);
    CHECK(so.bind(a, here) == Errno::Inval);
    CHECK(so.bind(b, here) == Errno::AddrInUse);
    auto elsewhere = sa(Ipv4Addr::from_octets(10, 0, 0, 77), 8);
    CHECK(so.bind(b, elsewhere) == Errno::AddrNotAvail);
    sockaddr_in bad = here;
    bad.sin_family = AF_INET6;
    CHECK(so.bind(b, bad) == Errno::AfNoSupport);
    // The port returns to the pool on close.
    REQUIRE(so.close(a) == Errno::Ok);
    CHECK(so.bind(b, here) == Errno::Ok);
  }
  SECTION("sending without a destination, and oversize") {
    int fd = *so.socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(so.send(fd, as_bytes(std::string_view("x")), 0).error() == Errno::DestAddrReq);
    std::vector<std::byte> big(65508);
    CHECK(so.sendto(fd, Bytes(big), 0, &to).error() == Errno::MsgSize);
    CHECK(so.getpeername(fd).error() == Errno::NotConn);
    CHECK(so.shutdown(fd, SHUT_WR) == Errno::NotConn);
  }
  SECTION("options with bad lengths or values") {
    int fd = *so.socket(AF_INET, SOCK_DGRAM, 0);
    char one = 1;
    CHECK(so.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 1) == Errno::Inval);
    int ttl = 0;
    CHECK(so.setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) == Errno::Inval);
    ttl = 256;
    CHECK(so.setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) == Errno::Inval);
    int v = 1;
    CHECK(so.setsockopt(fd, SOL_SOCKET, 12345, &v, sizeof v) == Errno::NoProtoOpt);
    CHECK(so.setsockopt(fd, 999, 1, &v, sizeof v) == Errno::NoProtoOpt);
    timeval tv{1, 2000000};
    CHECK(so.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == Errno::Inval);
    CHECK(so.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, 4) == Errno::Inval);
    ip_mreq m{};
    m.imr_multiaddr.s_addr = htonl(kPeerIp.value);  // not a group
    CHECK(so.setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) == Errno::Inval);
    CHECK(so.setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, 2) == Errno::Inval);
  }
  SECTION("stream-only calls on a datagram socket") {
    int fd = *so.socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(so.listen(fd, 5) == Errno::OpNotSupp);
    CHECK(so.accept(fd, nullptr).error() == Errno::OpNotSupp);
  }
  SECTION("descriptor exhaustion is EMFILE") {
    StackConfig cfg = config_for(kMacB, kIpB);
    cfg.sockets.max_sockets = 3;
    ScriptedPeer small(cfg);
    for (int i = 0; i < 3; ++i) REQUIRE(small.stack.sockets().socket(AF_INET, SOCK_DGRAM, 0));
    CHECK(small.stack.sockets().socket(AF_INET, SOCK_DGRAM, 0).error() == Errno::MFile);
  }
  SECTION("autobind off: sending unbound is EINVAL") {
    StackConfig cfg = config_for(kMacB, kIpB);
    cfg.sockets.autobind = false;
    ScriptedPeer strict(cfg);
    int fd = *strict.stack.sockets().socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(strict.stack.sockets().sendto(fd, as_bytes(std::string_view("x")), 0, &to).error() ==
          Errno::Inval);
  }
}

TEST_CASE("ephemeral exhaustion is EADDRNOTAVAIL", "[stack][udp][socket][rfc6056]") {
  StackConfig cfg = config_for(kMacB, kIpB);
  cfg.sockets.ephemeral_first = 60000;
  cfg.sockets.ephemeral_last = 60001;
  ScriptedPeer p(cfg);
  auto& so = p.stack.sockets();
  auto to = sa(kPeerIp, 7);
  for (int i = 0; i < 2; ++i) {
    int fd = *so.socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(so.sendto(fd, as_bytes(std::string_view("x")), 0, &to));
  }
  int fd = *so.socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(so.sendto(fd, as_bytes(std::string_view("x")), 0, &to).error() == Errno::AddrNotAvail);
}

TEST_CASE("fcntl O_NONBLOCK and getsockopt round trips", "[stack][socket]") {
  ScriptedPeer p;
  auto& so = p.stack.sockets();
  int fd = *so.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  CHECK((so.fcntl(fd, F_GETFL).value() & O_NONBLOCK) != 0);
  REQUIRE(so.fcntl(fd, F_SETFL, 0));
  CHECK(!so.is_nonblocking(fd));
  timeval tv{2, 500000};
  REQUIRE(so.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == Errno::Ok);
  CHECK(so.recv_timeout(fd) == std::chrono::microseconds(2500000));
  int type = 0;
  socklen_t len = sizeof type;
  REQUIRE(so.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == Errno::Ok);
  CHECK(type == SOCK_DGRAM);
  REQUIRE(so.getsockopt(fd, IPPROTO_IP, IP_TTL, &type, &len) == Errno::Ok);
  CHECK(type == 64);
  auto rows = so.table();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == "UNCONN");
}

TEST_CASE("a datagram whose next hop never answers ARP reports EHOSTUNREACH",
          "[stack][udp][arp][rfc1122-2.3.2.1]") {
  ScriptedPeer p;
  auto& so = p.stack.sockets();
  int fd = *so.socket(AF_INET, SOCK_DGRAM, 0);
  auto to = sa(Ipv4Addr::from_octets(10, 0, 0, 99), 53);
  REQUIRE(so.connect(fd, to) == Errno::Ok);
  REQUIRE(so.send(fd, as_bytes(std::string_view("anyone?")), 0));
  // Three requests (t = 0, 1 s, 3 s) and no answer: given up at 7 s.
  for (int i = 0; i < 70; ++i) (void)p.advance(std::chrono::milliseconds(100));
  CHECK(p.stack.stats().arp.resolve_failed == 1);
  CHECK((so.readiness(fd) & POLLERR) != 0);
  CHECK(so.send(fd, as_bytes(std::string_view("again")), 0).error() == Errno::HostUnreach);
}
