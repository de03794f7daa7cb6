// In-process services (src/app/services.hpp) on stack B, driven like `tapir serve` drives
// them: poll, then ServiceHost::dispatch(). Client sockets on stack A.
#include "app/services.hpp"
#include "app/args.hpp"
#include "stack/fixture.hpp"
#include "support/temp_dir.hpp"

using namespace tapir;
using namespace tapir::test;
using tapir::app::ServiceHost;

namespace {

// Polls both stacks until the wire is quiet, letting B's services react after each round.
void run(TwoStacks& t, ServiceHost& host) {
  for (int i = 0; i < 8; ++i) {
    t.sim.settle();
    host.dispatch(t.clock.now());
  }
  t.sim.settle();
}

std::string recv_string(Stack& s, int fd, sockaddr_in* from = nullptr) {
  std::vector<std::byte> buf(70000);
  auto n = s.sockets().recvfrom(fd, MutBytes(buf), 0, from);
  if (!n) return "<" + std::string(to_string(n.error())) + ">";
  return std::string(reinterpret_cast<const char*>(buf.data()), *n);  // NOLINT
}

// A service that owns two descriptors and records which one it was told about.
class TwoPorts final : public app::Service {
 public:
  std::string_view name() const override { return "two"; }
  Result<std::vector<std::string>> start(ServiceHost& host) override {
    for (std::uint16_t port : {5001, 5002}) {
      int fd = *host.sockets().socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      REQUIRE(host.sockets().bind(fd, make_sockaddr(Ipv4Addr::any(), port)) == Errno::Ok);
      host.own(fd, *this);
      fds.push_back(fd);
    }
    return std::vector<std::string>{"udp *:5001", "udp *:5002"};
  }
  void on_ready(ServiceHost& host, int fd, short revents, Instant) override {
    if (!(revents & POLLIN)) return;
    std::array<std::byte, 64> buf;
    while (host.sockets().recv(fd, MutBytes(buf), 0)) ready.push_back(fd);
    if (fd == fds[1]) REQUIRE(host.close(fd) == Errno::Ok);  // a service may close its fds
  }
  std::vector<int> fds;
  std::vector<int> ready;
};

}  // namespace

TEST_CASE("services: UDP echo returns every datagram to its sender, byte for byte",
          "[stack][services][rfc862]") {
  TwoStacks t;
  ServiceHost host(t.b);
  auto lines = app::start_services(host, {"echo"});
  REQUIRE(lines == std::vector<std::string>{"tapir: echo listening on udp 10.0.0.2:7",
                                            "tapir: echo listening on tcp 10.0.0.2:7"});
  int client = *t.a.sockets().socket(AF_INET, SOCK_DGRAM, 0);
  auto to = make_sockaddr(kIpB, 7);
  for (std::size_t size : {1u, 1472u, 1473u, 8000u}) {
    std::string msg(size, 'x');
    for (std::size_t i = 0; i < size; ++i) msg[i] = static_cast<char>(i * 7 + size);
    REQUIRE(t.a.sockets().sendto(client, as_bytes(msg), 0, &to).value() == size);
    run(t, host);
    INFO("size=" << size);
    sockaddr_in from{};
    CHECK(recv_string(t.a, client, &from) == msg);
    CHECK(sockaddr_addr(from) == kIpB);
    CHECK(sockaddr_port(from) == 7);
  }
  CHECK(t.b.stats().udp.rx_delivered == 4);
  CHECK(t.b.stats().udp.tx_datagrams == 4);
}

TEST_CASE("services: the host routes each descriptor to its owner and closes them at the end",
          "[stack][services]") {
  TwoStacks t;
  auto* two = new TwoPorts;
  {
    ServiceHost host(t.b);
    CHECK(host.add(std::unique_ptr<app::Service>(two)).size() == 2);
    CHECK(host.owned() == 2);
    int client = *t.a.sockets().socket(AF_INET, SOCK_DGRAM, 0);
    for (std::uint16_t port : {5002, 5001, 5001}) {
      auto to = make_sockaddr(kIpB, port);
      REQUIRE(t.a.sockets().sendto(client, as_bytes(std::string_view("x")), 0, &to));
    }
    run(t, host);
    std::sort(two->ready.begin(), two->ready.end());
    CHECK(two->ready == std::vector<int>{two->fds[0], two->fds[0], two->fds[1]});
    CHECK(host.owned() == 1);  // the service closed its second descriptor
    CHECK(t.b.sockets().table().size() == 1);
  }
  CHECK(t.b.sockets().table().empty());  // ~ServiceHost closed the rest
}

TEST_CASE("services: --services names are checked with a clear message", "[app][services]") {
  CHECK(app::parse_services_flag("echo") == std::vector<std::string>{"echo"});
  CHECK(app::parse_services_flag("echo,echo") == std::vector<std::string>{"echo"});
  CHECK(app::parse_services_flag("").empty());
  try {
    (void)app::parse_services_flag("echo,gopher");
    FAIL("an unknown service was accepted");
  } catch (const app::UsageError& e) {
    CHECK(std::string(e.what()) ==
          "--services: unknown service 'gopher': expected a comma-separated list of echo, "
          "discard, daytime, chargen, http");
  }
}

TEST_CASE("services: a port already taken makes the service fail to start", "[stack][services]") {
  TwoStacks t;
  int squatter = *t.b.sockets().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(t.b.sockets().bind(squatter, make_sockaddr(Ipv4Addr::any(), 7)) == Errno::Ok);
  ServiceHost host(t.b);
  CHECK_THROWS_WITH(app::start_services(host, {"echo"}),
                    "echo: cannot start: EADDRINUSE (Address already in use)");
  CHECK(t.b.sockets().table().size() == 1);  // the failed service left nothing open
}

TEST_CASE("services: http skips a request body that arrives with its head, then answers the next",
          "[stack][services][http]") {
  // The head and a body long enough to cover the head's own text, then a second request,
  // all in one segment: the body is read past by Content-Length (RFC 9112 §6.2), and each
  // request gets exactly one response.
  TempDir root;
  {
    std::FILE* f = std::fopen(root.file("index.html").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("<p>tapir</p>\n", f);
    std::fclose(f);
  }
  TwoStacks t;
  ServiceHost host(t.b);
  app::ServiceOptions options;
  options.http_root = root.path().string();
  REQUIRE(!app::start_services(host, {"http"}, options).empty());
  int c = *t.a.sockets().socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(t.a.sockets().connect(c, make_sockaddr(kIpB, 80)) == Errno::InProgress);
  run(t, host);
  const std::string body(120, 'b');
  const std::string requests =
      "GET /index.html HTTP/1.1\r\nHost: t\r\nContent-Length: 120\r\n\r\n" + body +
      "GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n";
  REQUIRE(t.a.sockets().send(c, as_bytes(requests), 0).value() == requests.size());
  run(t, host);
  const std::string got = recv_string(t.a, c);
  INFO(got);
  std::size_t responses = 0;
  for (auto at = got.find("HTTP/1.1 "); at != std::string::npos;
       at = got.find("HTTP/1.1 ", at + 1)) {
    CHECK(got.compare(at, 12, "HTTP/1.1 200") == 0);
    ++responses;
  }
  CHECK(responses == 2);
}
