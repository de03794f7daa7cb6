// TCP between two stacks over a MemoryWire: handshake, data both ways, close, TIME-WAIT,
// refusal. The scripted-peer tests per state live in tests/stack/tcp_*_test.cpp.
#include "stack/fixture.hpp"
#include "stack/impl.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {
struct TcpPair : TwoStacks {
  int listener = -1;
  int client = -1;
  int server = -1;

  void listen_on(std::uint16_t port) {
    listener = *b.sockets().socket(AF_INET, SOCK_STREAM, 0);
    auto addr = make_sockaddr(Ipv4Addr::any(), port);
    REQUIRE(b.sockets().bind(listener, addr) == Errno::Ok);
    REQUIRE(b.sockets().listen(listener, 8) == Errno::Ok);
  }
  void connect_to(std::uint16_t port) {
    client = *a.sockets().socket(AF_INET, SOCK_STREAM, 0);
    auto to = make_sockaddr(kIpB, port);
    REQUIRE(a.sockets().connect(client, to) == Errno::InProgress);
    REQUIRE(sim.run_until([&] { return (a.sockets().readiness(client) & POLLOUT) != 0; },
                          std::chrono::seconds(5)));
    auto s = b.sockets().accept(listener, nullptr);
    REQUIRE(s);
    server = *s;
  }
  std::string read_all(Stack& s, int fd) {
    std::string out;
    std::array<std::byte, 65536> buf;
    for (;;) {
      auto n = s.sockets().recv(fd, MutBytes(buf), 0);
      if (!n || *n == 0) break;
      out.append(reinterpret_cast<const char*>(buf.data()), *n);  // NOLINT
    }
    return out;
  }
};

std::string pattern(std::size_t n) {
  std::string s(n, ' ');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('A' + (i * 7 + i / 251) % 26);
  return s;
}
}  // namespace

TEST_CASE("TCP handshake, echo of data both ways, orderly close", "[stack][tcp][rfc9293]") {
  TcpPair t;
  t.listen_on(7);
  t.connect_to(7);
  REQUIRE(t.a.sockets().send(t.client, as_bytes(std::string_view("hello tcp")), 0).value() == 9);
  t.sim.run_for(std::chrono::milliseconds(100));
  CHECK(t.read_all(t.b, t.server) == "hello tcp");
  REQUIRE(t.b.sockets().send(t.server, as_bytes(std::string_view("back")), 0).value() == 4);
  t.sim.run_for(std::chrono::milliseconds(100));
  CHECK(t.read_all(t.a, t.client) == "back");

  REQUIRE(t.a.sockets().close(t.client) == Errno::Ok);
  t.sim.run_for(std::chrono::milliseconds(100));
  std::array<std::byte, 16> buf;
  CHECK(t.b.sockets().recv(t.server, MutBytes(buf), 0).value() == 0);  // EOF
  REQUIRE(t.b.sockets().close(t.server) == Errno::Ok);
  t.sim.run_for(std::chrono::milliseconds(100));
  // A closed first: its connection sits in TIME-WAIT for 60 s, then is gone.
  CHECK(t.b.impl().tcp.connection_count() == 0);
  CHECK(t.a.impl().tcp.connection_count() == 1);
  t.sim.run_for(std::chrono::seconds(61));
  CHECK(t.a.impl().tcp.connection_count() == 0);
  // Every port reservation is released once the connection is really gone.
  REQUIRE(t.b.sockets().close(t.listener) == Errno::Ok);
  CHECK(t.a.impl().sockets.impl().ports.size() == 0);
  CHECK(t.b.impl().sockets.impl().ports.size() == 0);
}

TEST_CASE("a megabyte each way arrives byte-exact", "[stack][tcp]") {
  TcpPair t;
  t.listen_on(9);
  t.connect_to(9);
  const std::string data = pattern(1 << 20);
  std::size_t sent_a = 0, sent_b = 0;
  std::string got_a, got_b;
  std::array<std::byte, 65536> buf;
  for (int step = 0; step < 100000 && (got_a.size() < data.size() || got_b.size() < data.size());
       ++step) {
    if (sent_a < data.size()) {
      auto n = t.a.sockets().send(t.client, as_bytes(std::string_view(data).substr(sent_a)), 0);
      if (n) sent_a += *n;
    }
    if (sent_b < data.size()) {
      auto n = t.b.sockets().send(t.server, as_bytes(std::string_view(data).substr(sent_b)), 0);
      if (n) sent_b += *n;
    }
    t.sim.run_for(std::chrono::milliseconds(1));
    for (auto [s, fd, got] :
         {std::tuple{&t.a, t.client, &got_a}, std::tuple{&t.b, t.server, &got_b}}) {
      for (;;) {
        auto n = s->sockets().recv(fd, MutBytes(buf), 0);
        if (!n || *n == 0) break;
        got->append(reinterpret_cast<const char*>(buf.data()), *n);  // NOLINT
      }
    }
  }
  CHECK(got_a.size() == data.size());
  CHECK(got_b.size() == data.size());
  CHECK(got_a == data);
  CHECK(got_b == data);
  CHECK(t.a.stats().tcp.retransmitted_segments == 0);
}

TEST_CASE("a SYN to a closed port is refused with RST: ECONNREFUSED",
          "[stack][tcp][rfc9293-3.10.7.1]") {
  TwoStacks t;
  int fd = *t.a.sockets().socket(AF_INET, SOCK_STREAM, 0);
  auto to = make_sockaddr(kIpB, 81);
  REQUIRE(t.a.sockets().connect(fd, to) == Errno::InProgress);
  t.sim.run_for(std::chrono::milliseconds(10));
  CHECK((t.a.sockets().readiness(fd) & POLLERR) != 0);
  int err = 0;
  socklen_t len = sizeof err;
  REQUIRE(t.a.sockets().getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == Errno::Ok);
  CHECK(err == ECONNREFUSED);
  CHECK(t.b.stats().tcp.rx_no_socket == 1);
  CHECK(t.b.stats().tcp.tx_resets == 1);
}

TEST_CASE("connect to a neighbour that never answers ARP fails with EHOSTUNREACH",
          "[stack][tcp][arp][linux]") {
  ScriptedPeer p;
  auto& so = p.stack.sockets();
  int fd = *so.socket(AF_INET, SOCK_STREAM, 0);
  auto to = make_sockaddr(Ipv4Addr::from_octets(10, 0, 0, 99), 80);
  REQUIRE(so.connect(fd, to) == Errno::InProgress);
  // ARP asks at 0, 1 and 3 s and gives up at 7 s; the SYN retransmissions queue behind it.
  for (int i = 0; i < 80; ++i) (void)p.advance(std::chrono::milliseconds(100));
  CHECK(p.stack.stats().arp.resolve_failed >= 1);
  CHECK((so.readiness(fd) & POLLERR) != 0);
  int err = 0;
  socklen_t len = sizeof err;
  REQUIRE(so.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == Errno::Ok);
  CHECK(err == EHOSTUNREACH);
  REQUIRE(so.close(fd) == Errno::Ok);
  CHECK(p.stack.impl().sockets.impl().ports.size() == 0);
}
