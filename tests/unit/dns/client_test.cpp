// dns::Client (include/tapir/dns_client.hpp) on stack A against a scripted nameserver on
// stack B's core sockets, both on one MemoryWire and a ManualClock: every exchange, timeout
// and retransmission happens at an exact simulated instant, and nothing sleeps.
#include <catch2/catch.hpp>

#include <functional>

#include "stack/fixture.hpp"
#include "support/dns_answers.hpp"
#include "tapir/dns_client.hpp"
#include "wire/dns.hpp"

using namespace tapir;
using namespace tapir::test;
using wire::DnsMessage;
using Datagrams = std::vector<std::vector<std::byte>>;

namespace {

const Ipv4Addr kAnswer = Ipv4Addr::from_octets(10, 0, 0, 42);

// UDP port 53 on stack B: records each query (its instant, its source port) and sends back
// whatever `reply` returns for it (raw datagrams, so that malformed ones can be sent).
class Nameserver {
 public:
  using Reply = std::function<Datagrams(const DnsMessage& query, int nth)>;
  struct Seen {
    Instant at;
    std::uint16_t src_port;
    DnsMessage query;
  };

  Nameserver(Stack& stack, Reply reply) : stack_(stack), reply_(std::move(reply)) {
    auto fd = stack_.sockets().socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    REQUIRE(fd);
    fd_ = *fd;
    REQUIRE(stack_.sockets().bind(fd_, make_sockaddr(Ipv4Addr::any(), 53)) == Errno::Ok);
  }

  void serve() {
    std::vector<std::byte> buf(2048);
    sockaddr_in from{};
    for (;;) {
      auto n = stack_.sockets().recvfrom(fd_, MutBytes(buf), 0, &from);
      if (!n) return;
      auto q = DnsMessage::parse(Bytes(buf).first(*n));
      REQUIRE(q);
      seen.push_back({stack_.now(), sockaddr_port(from), *q});
      for (const auto& d : reply_(*q, static_cast<int>(seen.size()))) {
        REQUIRE(stack_.sockets().sendto(fd_, d, 0, &from));
      }
    }
  }

  std::vector<Seen> seen;

 private:
  Stack& stack_;
  Reply reply_;
  int fd_ = -1;
};

// An answer with `a` for the name asked.
Datagrams answer_with(const DnsMessage& q, Ipv4Addr a) {
  auto r = response_to(q);
  r.answers.push_back(a_record(q.questions.at(0).name, a));
  return {r.emit()};
}

Nameserver::Reply answering(Ipv4Addr a) {
  return [a](const DnsMessage& q, int) { return answer_with(q, a); };
}

Nameserver::Reply silent() {
  return [](const DnsMessage&, int) { return Datagrams{}; };
}

constexpr Duration kTimeout = std::chrono::seconds(2);

// The client on stack A, the nameserver on B, and the loop that runs them: after every
// round of polls the nameserver serves and the client steps, as `tapir resolve` steps it
// after every poll; time jumps to the earliest deadline of the stacks and the client.
struct Lookup {
  explicit Lookup(Nameserver::Reply reply, std::uint64_t seed = 1, int attempts = 3)
      : ids(seed),
        ns(t.b, std::move(reply)),
        client(t.a.sockets(), ids,
               {.nameserver = kIpB, .timeout = kTimeout, .attempts = attempts}) {}

  void start(std::string_view name) {
    started = t.clock.now();
    client.start(name, t.clock.now());
  }

  void settle() {
    for (int round = 0; round < 8; ++round) {
      t.sim.settle();
      ns.serve();
      client.step(t.clock.now());
      if (client.done() && !finished) finished = t.clock.now();
    }
    t.sim.settle();
  }

  // Runs until the client is done or `limit` of simulated time has passed.
  bool run(Duration limit = std::chrono::seconds(30)) {
    const Instant end = t.clock.now() + limit;
    for (int guard = 0; guard < 10000; ++guard) {
      settle();
      if (client.done()) return true;
      auto next =
          earliest(client.next_deadline(), earliest(t.a.next_deadline(), t.b.next_deadline()));
      if (!next || *next > end) return false;
      t.clock.set(std::max(*next, t.clock.now()));
    }
    FAIL("the lookup never settled");
    return false;
  }

  Duration elapsed() const { return *finished - started; }

  TwoStacks t;
  SeededRng ids;
  Nameserver ns;
  dns::Client client;
  Instant started;
  std::optional<Instant> finished;
};

std::vector<Ipv4Addr> addresses(const dns::Client& c) {
  REQUIRE(c.done());
  INFO("answer " << dns::to_string(c.answer()));
  REQUIRE(c.answer());
  return *c.answer();
}

int error(const dns::Client& c) {
  REQUIRE(c.done());
  INFO("answer " << dns::to_string(c.answer()));
  REQUIRE_FALSE(c.answer());
  return c.answer().error();
}

}  // namespace

TEST_CASE("dns client: an A record from the nameserver, asked as RFC 1035 4.1.1 says",
          "[dns][rfc1035]") {
  Lookup l(answering(kAnswer), 7);
  l.start("Host.Example.Test");
  CHECK(l.client.running());
  CHECK(l.client.next_deadline() == l.started + kTimeout);
  REQUIRE(l.run());
  CHECK(addresses(l.client) == std::vector<Ipv4Addr>{kAnswer});
  CHECK(l.elapsed() == Duration::zero());  // the wire and the nameserver take no time
  REQUIRE(l.ns.seen.size() == 1);
  const auto& q = l.ns.seen[0].query;
  CHECK_FALSE(q.response);
  CHECK(q.recursion_desired);
  CHECK(q.opcode == 0);
  CHECK(q.questions == std::vector<wire::DnsQuestion>{
                           {"Host.Example.Test", wire::dns::kTypeA, wire::dns::kClassIn}});
  // The ID is the first draw of the Rng passed in.
  SeededRng probe(7);
  CHECK(q.id == static_cast<std::uint16_t>(probe.next_u32()));
  CHECK(l.client.query_id() == q.id);
  CHECK(l.client.queries_sent() == 1);
  CHECK(l.ns.seen[0].src_port >= 49152);  // an ephemeral port (RFC 6056)
  // Done: the socket is closed and its port released; nothing more is due.
  CHECK(l.client.fd() == -1);
  CHECK_FALSE(l.client.next_deadline());
  CHECK(l.t.a.sockets().table().empty());
}

TEST_CASE("dns client: the same seed sends the same queries from the same port",
          "[dns][determinism]") {
  auto run = [](std::uint64_t seed) {
    Lookup l(answering(kAnswer), seed);
    l.start("host.test");
    REQUIRE(l.run());
    REQUIRE(l.ns.seen.size() == 1);
    return std::make_pair(l.ns.seen[0].query.emit(), l.ns.seen[0].src_port);
  };
  CHECK(run(11) == run(11));
  CHECK(run(11).first != run(12).first);  // another ID
}

TEST_CASE("dns client: NXDOMAIN is EAI_NONAME at once, with no retransmission", "[dns]") {
  Lookup l([](const DnsMessage& q, int) {
    auto r = response_to(q);
    r.rcode = wire::dns::Rcode::NxDomain;
    return Datagrams{r.emit()};
  });
  l.start("gone.test");
  REQUIRE(l.run());
  CHECK(error(l.client) == EAI_NONAME);
  l.t.clock.advance(std::chrono::seconds(10));
  l.settle();
  CHECK(l.ns.seen.size() == 1);
  CHECK(l.t.a.sockets().table().empty());
}

TEST_CASE("dns client: a silent nameserver is asked again after each timeout, then EAI_AGAIN",
          "[dns][rfc1035]") {
  const int attempts = GENERATE(1, 3);
  INFO("attempts=" << attempts);
  Lookup l(silent(), 1, attempts);
  l.start("host.test");
  // Not a microsecond early: the last attempt's deadline is exactly attempts * timeout.
  CHECK_FALSE(l.run(attempts * kTimeout - std::chrono::microseconds(1)));
  CHECK(l.client.running());
  REQUIRE(l.run());
  CHECK(error(l.client) == EAI_AGAIN);
  CHECK(l.elapsed() == attempts * kTimeout);
  REQUIRE(l.ns.seen.size() == static_cast<std::size_t>(attempts));
  SeededRng probe(1);
  for (int i = 0; i < attempts; ++i) {
    INFO("query " << i + 1);
    const auto& s = l.ns.seen[static_cast<std::size_t>(i)];
    CHECK(s.at == l.started + i * kTimeout);
    CHECK(s.query.id == static_cast<std::uint16_t>(probe.next_u32()));  // a fresh ID each time
    CHECK(s.src_port == l.ns.seen[0].src_port);                         // from the same socket
    CHECK(s.query.questions == l.ns.seen[0].query.questions);
  }
  CHECK(l.client.queries_sent() == attempts);
  CHECK(l.t.a.sockets().table().empty());
}

TEST_CASE("dns client: an answer to the retransmission ends the lookup", "[dns]") {
  Lookup l([](const DnsMessage& q, int nth) {
    return nth == 1 ? Datagrams{} : answer_with(q, kAnswer);
  });
  l.start("host.test");
  REQUIRE(l.run());
  CHECK(addresses(l.client) == std::vector<Ipv4Addr>{kAnswer});
  CHECK(l.elapsed() == kTimeout);
  CHECK(l.ns.seen.size() == 2);
}

TEST_CASE("dns client: a late answer to the first query is not taken for the second's",
          "[dns][rfc1035]") {
  // The nameserver answers each query with the answer for the previous one (its ID).
  std::uint16_t previous_id = 0;
  Lookup l([&previous_id](const DnsMessage& q, int nth) {
    Datagrams out;
    if (nth > 1) {
      auto stale = response_to(q);
      stale.id = previous_id;
      stale.answers.push_back(a_record(q.questions.at(0).name, Ipv4Addr::from_octets(6, 6, 6, 6)));
      out.push_back(stale.emit());
    }
    previous_id = q.id;
    return out;
  });
  l.start("host.test");
  REQUIRE(l.run());
  CHECK(error(l.client) == EAI_AGAIN);
  CHECK(l.ns.seen.size() == 3);
}

TEST_CASE("dns client: datagrams that do not answer the query are ignored, RFC 1035 7.3",
          "[dns][rfc1035]") {
  Lookup l([](const DnsMessage& q, int) {
    auto wrong_id = response_to(q);
    wrong_id.id = static_cast<std::uint16_t>(q.id + 1);
    wrong_id.answers.push_back(a_record("host.test", Ipv4Addr::from_octets(6, 6, 6, 6)));
    auto not_a_response = q;
    not_a_response.answers.push_back(a_record("host.test", Ipv4Addr::from_octets(6, 6, 6, 7)));
    auto wrong_question = response_to(q);
    wrong_question.questions[0].name = "other.test";
    wrong_question.answers.push_back(a_record("other.test", Ipv4Addr::from_octets(6, 6, 6, 8)));
    auto right = response_to(q);
    right.answers.push_back(a_record("host.test", kAnswer));
    return Datagrams{wrong_id.emit(), not_a_response.emit(), wrong_question.emit(), right.emit()};
  });
  l.start("host.test");
  REQUIRE(l.run());
  CHECK(addresses(l.client) == std::vector<Ipv4Addr>{kAnswer});
  CHECK(l.ns.seen.size() == 1);

  SECTION("and with only those, the lookup times out") {
    Lookup wrong([](const DnsMessage& q, int) {
      auto r = response_to(q);
      r.id = static_cast<std::uint16_t>(q.id ^ 0x8000);
      r.answers.push_back(a_record("host.test", kAnswer));
      return Datagrams{r.emit()};
    });
    wrong.start("host.test");
    REQUIRE(wrong.run());
    CHECK(error(wrong.client) == EAI_AGAIN);
    CHECK(wrong.elapsed() == 3 * kTimeout);
  }
}

TEST_CASE("dns client: a CNAME chain in the answer is followed to its A records",
          "[dns][rfc1034]") {
  Lookup l([](const DnsMessage& q, int) {
    auto r = response_to(q);
    r.answers.push_back(
        {"www.test", wire::dns::kTypeCname, wire::dns::kClassIn, 5, std::nullopt, "web.test"});
    r.answers.push_back(
        {"web.test", wire::dns::kTypeCname, wire::dns::kClassIn, 5, std::nullopt, "Server.test"});
    r.answers.push_back(a_record("other.test", Ipv4Addr::from_octets(10, 0, 0, 66)));
    r.answers.push_back(a_record("server.test", Ipv4Addr::from_octets(10, 0, 0, 55)));
    r.answers.push_back(a_record("server.test", Ipv4Addr::from_octets(10, 0, 0, 56)));
    return Datagrams{r.emit()};
  });
  l.start("www.test");
  REQUIRE(l.run());
  CHECK(addresses(l.client) == std::vector<Ipv4Addr>{Ipv4Addr::from_octets(10, 0, 0, 55),
                                                     Ipv4Addr::from_octets(10, 0, 0, 56)});
}

TEST_CASE("dns client: truncated and malformed answers are EAI_FAIL", "[dns][rfc1035]") {
  using Make = std::function<std::vector<std::byte>(const DnsMessage&)>;
  auto [what, make] = GENERATE(
      std::make_pair(std::string("TC set"), Make([](const DnsMessage& q) {
                       auto r = response_to(q);
                       r.truncated = true;
                       r.answers.push_back(a_record("host.test", kAnswer));
                       return r.emit();
                     })),
      std::make_pair(std::string("cut inside the question"), Make([](const DnsMessage& q) {
                       auto bytes = response_to(q).emit();
                       bytes.resize(14);
                       return bytes;
                     })),
      std::make_pair(std::string("an A record of 5 octets"), Make([](const DnsMessage& q) {
                       auto r = response_to(q);
                       r.answers.push_back({"host.test", wire::dns::kTypeA, wire::dns::kClassIn, 60,
                                            std::nullopt, std::nullopt, std::vector<std::byte>(5)});
                       return r.emit();
                     })),
      std::make_pair(std::string("a compression pointer loop"), Make([](const DnsMessage& q) {
                       auto bytes = response_to(q).emit();
                       // ANCOUNT 1, then a record whose name points at itself.
                       bytes[7] = std::byte{1};
                       const auto self = bytes.size();
                       bytes.push_back(std::byte(0xc0 | (self >> 8)));
                       bytes.push_back(std::byte(self & 0xff));
                       return bytes;
                     })));
  INFO(what);
  Lookup l([make = make](const DnsMessage& q, int) { return Datagrams{make(q)}; });
  l.start("host.test");
  REQUIRE(l.run());
  CHECK(error(l.client) == EAI_FAIL);
  CHECK(l.ns.seen.size() == 1);
}

TEST_CASE("dns client: a closed nameserver port fails fast with EAI_AGAIN, not by timeout",
          "[dns][rfc1122]") {
  // Nothing listens on B's port 53: each query draws ICMP port unreachable (ECONNREFUSED on
  // the connected socket), and the next attempt goes at once.
  TwoStacks t;
  SeededRng ids(1);
  dns::Client client(t.a.sockets(), ids, {.nameserver = kIpB, .timeout = kTimeout});
  const Instant start = t.clock.now();
  client.start("host.test", start);
  for (int round = 0; round < 20 && !client.done(); ++round) {
    t.sim.settle();
    client.step(t.clock.now());
  }
  CHECK(error(client) == EAI_AGAIN);
  CHECK(t.clock.now() == start);
  CHECK(client.queries_sent() == 3);
  CHECK(t.b.stats().udp.rx_drop_no_port == 3);
  CHECK(t.a.sockets().table().empty());
}

TEST_CASE("dns client: a name that cannot be sent is EAI_NONAME, with nothing sent", "[dns]") {
  const std::string name =
      GENERATE(std::string(""), std::string("a..b"), std::string(64, 'x'), std::string("."));
  INFO("name '" << name << "'");
  Lookup l(answering(kAnswer));
  l.start(name);
  CHECK(error(l.client) == EAI_NONAME);
  CHECK_FALSE(l.client.running());
  l.settle();
  CHECK(l.ns.seen.empty());
  CHECK(l.t.a.stats().udp.tx_datagrams == 0);
}

TEST_CASE(
    "dns client: one client runs lookups one after another, and destroying it closes its socket",
    "[dns]") {
  Lookup l(answering(kAnswer));
  l.start("one.test");
  REQUIRE(l.run());
  CHECK(addresses(l.client) == std::vector<Ipv4Addr>{kAnswer});
  l.finished.reset();
  l.start("two.test");
  CHECK_FALSE(l.client.done());  // a new lookup forgets the last answer
  REQUIRE(l.run());
  CHECK(addresses(l.client) == std::vector<Ipv4Addr>{kAnswer});
  REQUIRE(l.ns.seen.size() == 2);
  CHECK(l.ns.seen[1].query.questions[0].name == "two.test");
  CHECK(l.ns.seen[0].query.id != l.ns.seen[1].query.id);

  TwoStacks t;
  SeededRng ids(1);
  {
    dns::Client c(t.a.sockets(), ids, {.nameserver = kIpB});
    c.start("host.test", t.clock.now());
    CHECK(c.fd() >= 0);
    CHECK(t.a.sockets().table().size() == 1);
  }
  CHECK(t.a.sockets().table().empty());
}
