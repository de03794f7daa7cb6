// getaddrinfo/getnameinfo over the blocking facade: numeric names, the hosts table, and
// the DNS stub resolver against a scripted nameserver thread on the other runtime.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "pair.hpp"
#include "support/dns_answers.hpp"
#include "support/temp_dir.hpp"
#include "tapir/resolver.hpp"
#include "wire/dns.hpp"

using namespace tapir;
using namespace tapir::test;
using std::chrono::milliseconds;
using wire::DnsMessage;

namespace {

// Answers each query with the datagrams `reply` returns (none: stay silent), until
// `queries` have come in or nothing arrives for 900 ms.
class FakeNameserver {
 public:
  using Reply = std::function<std::vector<DnsMessage>(const DnsMessage& query)>;
  FakeNameserver(Runtime& rt, int queries, Reply reply) : rt_(rt) {
    bsd::ScopedUse use(rt_);
    fd_ = udp_bound(53);
    timeval tv{0, 900000};
    bsd::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this, queries, reply = std::move(reply)] {
      bsd::ScopedUse use_rt(rt_);
      std::vector<std::byte> buf(1500);
      for (int i = 0; i < queries; ++i) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        auto n = bsd::recvfrom(fd_, buf.data(), buf.size(), 0, sa(from), &len);
        if (n < 0) break;
        auto q = DnsMessage::parse(Bytes(buf).first(static_cast<std::size_t>(n)));
        if (!q) continue;
        seen.push_back(*q);
        for (const auto& r : reply(*q)) {
          auto bytes = r.emit();
          bsd::sendto(fd_, bytes.data(), bytes.size(), 0, sa(from), len);
        }
      }
    });
  }
  ~FakeNameserver() {
    done();
    bsd::ScopedUse use(rt_);
    bsd::close(fd_);
  }
  std::vector<DnsMessage> seen;  // read after join (the destructor) or via done()
  void done() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  Runtime& rt_;
  int fd_;
  std::thread thread_;
};

ResolverConfig dns_config(Duration timeout = milliseconds(300), int attempts = 2) {
  ResolverConfig c;
  c.nameserver = kIpB;
  c.timeout = timeout;
  c.attempts = attempts;
  return c;
}

}  // namespace

TEST_CASE("resolver: numeric names, localhost and a hosts file need no DNS", "[bsd][resolver]") {
  TempDir dir("tapir-resolver");  // its own file: parallel runs must not share one
  auto path = dir.file("hosts");
  {
    std::ofstream f(path);
    f << "# comment\n10.0.0.7   printer  lp  # trailing\n::1 ip6-localhost\n\n10.0.0.8 Scanner\n";
  }
  ResolverConfig cfg;
  cfg.hosts_path = path;
  Resolver r(cfg);
  std::filesystem::remove(path);  // read once, at construction
  CHECK(r.resolve("10.1.2.3").value() == std::vector<Ipv4Addr>{Ipv4Addr::from_octets(10, 1, 2, 3)});
  CHECK(r.resolve("localhost").value() ==
        std::vector<Ipv4Addr>{Ipv4Addr::from_octets(127, 0, 0, 1)});
  CHECK(r.resolve("lp").value() == std::vector<Ipv4Addr>{Ipv4Addr::from_octets(10, 0, 0, 7)});
  CHECK(r.resolve("SCANNER.").value() == std::vector<Ipv4Addr>{Ipv4Addr::from_octets(10, 0, 0, 8)});
  CHECK(r.resolve("nowhere.test").error() == EAI_NONAME);  // no nameserver configured

  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  REQUIRE(r.getaddrinfo("printer", "echo", &hints, &res) == 0);
  REQUIRE(res);
  CHECK(res->ai_next == nullptr);
  CHECK(res->ai_family == AF_INET);
  CHECK(res->ai_protocol == IPPROTO_UDP);
  sockaddr_in sin;
  std::memcpy(&sin, res->ai_addr, sizeof sin);
  CHECK(sockaddr_addr(sin) == Ipv4Addr::from_octets(10, 0, 0, 7));
  CHECK(sockaddr_port(sin) == 7);
  char host[64], serv[16];
  CHECK(r.getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, serv, sizeof serv, 0) == 0);
  CHECK(std::string(host) == "printer");
  CHECK(std::string(serv) == "echo");
  CHECK(r.getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, serv, sizeof serv,
                      NI_NUMERICHOST | NI_NUMERICSERV) == 0);
  CHECK(std::string(host) == "10.0.0.7");
  CHECK(std::string(serv) == "7");
  CHECK(r.getnameinfo(res->ai_addr, res->ai_addrlen, host, 4, nullptr, 0, 0) == EAI_OVERFLOW);
  Resolver::freeaddrinfo(res);

  auto unknown = make_sockaddr(Ipv4Addr::from_octets(10, 9, 9, 9), 1);
  CHECK(r.getnameinfo(sa(unknown), sizeof unknown, host, sizeof host, nullptr, 0, NI_NAMEREQD) ==
        EAI_NONAME);
  CHECK(r.getnameinfo(sa(unknown), 4, host, sizeof host, nullptr, 0, 0) == EAI_FAMILY);

  SECTION("hints and services") {
    REQUIRE(r.getaddrinfo(nullptr, "80", nullptr, &res) == 0);
    CHECK(res->ai_socktype == SOCK_STREAM);
    REQUIRE(res->ai_next);
    CHECK(res->ai_next->ai_socktype == SOCK_DGRAM);
    std::memcpy(&sin, res->ai_addr, sizeof sin);
    CHECK(sockaddr_addr(sin) == Ipv4Addr::from_octets(127, 0, 0, 1));
    Resolver::freeaddrinfo(res);
    hints = {};
    hints.ai_flags = AI_PASSIVE;
    REQUIRE(r.getaddrinfo(nullptr, "7", &hints, &res) == 0);
    std::memcpy(&sin, res->ai_addr, sizeof sin);
    CHECK(sockaddr_addr(sin) == Ipv4Addr::any());
    Resolver::freeaddrinfo(res);
    hints = {};
    hints.ai_family = AF_INET6;
    CHECK(r.getaddrinfo("10.0.0.1", nullptr, &hints, &res) == EAI_FAMILY);
    hints = {};
    hints.ai_socktype = SOCK_RAW;
    CHECK(r.getaddrinfo("10.0.0.1", nullptr, &hints, &res) == EAI_SOCKTYPE);
    CHECK(r.getaddrinfo("10.0.0.1", "gopher", nullptr, &res) == EAI_SERVICE);
    hints = {};
    hints.ai_flags = AI_NUMERICSERV;
    CHECK(r.getaddrinfo("10.0.0.1", "echo", &hints, &res) == EAI_NONAME);
    hints = {};
    hints.ai_flags = AI_NUMERICHOST;
    CHECK(r.getaddrinfo("printer", nullptr, &hints, &res) == EAI_NONAME);
    CHECK(r.getaddrinfo(nullptr, nullptr, nullptr, &res) == EAI_NONAME);
  }
  ResolverConfig missing;
  missing.hosts_path = "/nonexistent/tapir/hosts";
  CHECK_THROWS_WITH(Resolver(missing), Catch::Contains("cannot read hosts file"));
}

TEST_CASE("resolver: an A record from the nameserver, asked as RFC 1035 says",
          "[bsd][resolver][rfc1035]") {
  RuntimePair p;
  FakeNameserver ns(p.b, 1, [](const DnsMessage& q) {
    auto r = response_to(q);
    r.answers.push_back(a_record(q.questions.at(0).name, Ipv4Addr::from_octets(10, 0, 0, 99)));
    return std::vector<DnsMessage>{r};
  });
  bsd::ScopedUse use(p.a);
  Resolver r(dns_config());
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_CANONNAME;
  addrinfo* res = nullptr;
  REQUIRE(r.getaddrinfo("Host.Example.Test", "53", &hints, &res) == 0);
  sockaddr_in sin;
  std::memcpy(&sin, res->ai_addr, sizeof sin);
  CHECK(sockaddr_addr(sin) == Ipv4Addr::from_octets(10, 0, 0, 99));
  CHECK(sockaddr_port(sin) == 53);
  CHECK(std::string(res->ai_canonname) == "Host.Example.Test");
  Resolver::freeaddrinfo(res);
  ns.done();
  REQUIRE(ns.seen.size() == 1);
  const auto& q = ns.seen[0];
  CHECK_FALSE(q.response);
  CHECK(q.recursion_desired);
  CHECK(q.opcode == 0);
  REQUIRE(q.questions.size() == 1);
  CHECK(q.questions[0] ==
        wire::DnsQuestion{"Host.Example.Test", wire::dns::kTypeA, wire::dns::kClassIn});
  CHECK(q.answers.empty());
}

TEST_CASE("resolver: a CNAME chain inside the answer is followed", "[bsd][resolver]") {
  RuntimePair p;
  FakeNameserver ns(p.b, 1, [](const DnsMessage& q) {
    auto r = response_to(q);
    r.answers.push_back(
        {"www.test", wire::dns::kTypeCname, wire::dns::kClassIn, 5, std::nullopt, "web.test"});
    r.answers.push_back(
        {"web.test", wire::dns::kTypeCname, wire::dns::kClassIn, 5, std::nullopt, "Server.test"});
    r.answers.push_back(a_record("other.test", Ipv4Addr::from_octets(10, 0, 0, 66)));
    r.answers.push_back(a_record("server.test", Ipv4Addr::from_octets(10, 0, 0, 55)));
    r.answers.push_back(a_record("server.test", Ipv4Addr::from_octets(10, 0, 0, 56)));
    return std::vector<DnsMessage>{r};
  });
  bsd::ScopedUse use(p.a);
  Resolver r(dns_config());
  CHECK(r.resolve("www.test").value() ==
        std::vector<Ipv4Addr>{Ipv4Addr::from_octets(10, 0, 0, 55),
                              Ipv4Addr::from_octets(10, 0, 0, 56)});
}

TEST_CASE("resolver: answers map to EAI_NONAME, EAI_AGAIN and EAI_FAIL", "[bsd][resolver]") {
  using Make = std::function<void(DnsMessage&)>;
  auto [what, make, expected] = GENERATE(
      std::make_tuple(std::string("NXDOMAIN"),
                      Make([](DnsMessage& r) { r.rcode = wire::dns::Rcode::NxDomain; }),
                      EAI_NONAME),
      std::make_tuple(std::string("no A record"), Make([](DnsMessage&) {}), EAI_NONAME),
      std::make_tuple(std::string("SERVFAIL"),
                      Make([](DnsMessage& r) { r.rcode = wire::dns::Rcode::ServFail; }), EAI_AGAIN),
      std::make_tuple(std::string("REFUSED"),
                      Make([](DnsMessage& r) { r.rcode = wire::dns::Rcode::Refused; }), EAI_FAIL),
      std::make_tuple(std::string("truncated"), Make([](DnsMessage& r) {
                        r.truncated = true;
                        r.answers.push_back(a_record("x.test", Ipv4Addr::from_octets(1, 2, 3, 4)));
                      }),
                      EAI_FAIL));
  INFO(what);
  RuntimePair p;
  FakeNameserver ns(p.b, 1, [make = make](const DnsMessage& q) {
    auto r = response_to(q);
    make(r);
    return std::vector<DnsMessage>{r};
  });
  bsd::ScopedUse use(p.a);
  Resolver r(dns_config());
  CHECK(r.resolve("x.test").error() == expected);
}

TEST_CASE("resolver: responses with the wrong ID or question are ignored", "[bsd][resolver]") {
  RuntimePair p;
  FakeNameserver ns(p.b, 1, [](const DnsMessage& q) {
    auto wrong_id = response_to(q);
    wrong_id.id = static_cast<std::uint16_t>(q.id + 1);
    wrong_id.answers.push_back(a_record("x.test", Ipv4Addr::from_octets(6, 6, 6, 6)));
    auto wrong_q = response_to(q);
    wrong_q.questions[0].name = "y.test";
    wrong_q.answers.push_back(a_record("y.test", Ipv4Addr::from_octets(6, 6, 6, 7)));
    auto right = response_to(q);
    right.answers.push_back(a_record("x.test", Ipv4Addr::from_octets(10, 0, 0, 1)));
    return std::vector<DnsMessage>{wrong_id, wrong_q, right};
  });
  bsd::ScopedUse use(p.a);
  Resolver r(dns_config());
  CHECK(r.resolve("x.test").value() == std::vector<Ipv4Addr>{Ipv4Addr::from_octets(10, 0, 0, 1)});
}

TEST_CASE("resolver: a silent nameserver is retried, then EAI_AGAIN", "[bsd][resolver]") {
  RuntimePair p;
  FakeNameserver ns(p.b, 2, [](const DnsMessage&) { return std::vector<DnsMessage>{}; });
  bsd::ScopedUse use(p.a);
  Resolver r(dns_config(milliseconds(100), 2));
  auto start = std::chrono::steady_clock::now();
  CHECK(r.resolve("x.test").error() == EAI_AGAIN);
  CHECK(std::chrono::steady_clock::now() - start >= milliseconds(200));
  ns.done();
  REQUIRE(ns.seen.size() == 2);
  CHECK(ns.seen[0].id != ns.seen[1].id);  // a fresh random ID per attempt
}

TEST_CASE("resolver: a closed nameserver port fails fast with EAI_AGAIN", "[bsd][resolver]") {
  RuntimePair p;
  bsd::ScopedUse use(p.a);
  // A timeout would take 2 x 5 s; the ICMP port unreachable ends it in well under one.
  Resolver r(dns_config(milliseconds(5000), 2));
  auto start = std::chrono::steady_clock::now();
  CHECK(r.resolve("x.test").error() == EAI_AGAIN);
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(5000));  // ICMP, not a timeout
}

TEST_CASE("resolver: a malformed answer is EAI_FAIL", "[bsd][resolver]") {
  RuntimePair p;
  int fd;
  {
    bsd::ScopedUse use(p.b);
    fd = udp_bound(53);
  }
  std::thread server([&] {
    bsd::ScopedUse use(p.b);
    char buf[512];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    auto n = bsd::recvfrom(fd, buf, sizeof buf, 0, sa(from), &len);
    if (n > 4) buf[3] = '\x80';  // keep the ID; flags QR; then cut inside the question
    bsd::sendto(fd, buf, 14, 0, sa(from), len);
    bsd::close(fd);
  });
  bsd::ScopedUse use(p.a);
  Resolver r(dns_config());
  CHECK(r.resolve("x.test").error() == EAI_FAIL);
  server.join();
}
