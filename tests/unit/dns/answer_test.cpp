// Reading a nameserver's response (src/dns/answer.hpp): which datagrams answer the query,
// and what they say, without a stack.
#include <catch2/catch.hpp>

#include "dns/answer.hpp"

using namespace tapir;
using wire::DnsMessage;
using wire::DnsRecord;

namespace {

constexpr std::uint16_t kId = 0x5a17;

DnsMessage response(const std::string& name = "host.test") {
  DnsMessage m = wire::dns_query(kId, name);
  m.response = true;
  m.recursion_available = true;
  return m;
}

DnsRecord a_record(std::string name, Ipv4Addr a) {
  return {std::move(name), wire::dns::kTypeA, wire::dns::kClassIn, 60, a};
}

DnsRecord cname(std::string name, std::string target) {
  return {std::move(name), wire::dns::kTypeCname, wire::dns::kClassIn, 60,
          std::nullopt,    std::move(target)};
}

std::optional<dns::Answer> read(const DnsMessage& m, std::string_view name = "host.test") {
  const auto bytes = m.emit();
  return dns::read_response(bytes, kId, name);
}

const Ipv4Addr kAddr = Ipv4Addr::from_octets(10, 0, 0, 42);

}  // namespace

TEST_CASE("dns answer: the query is one question for A records with RD set, RFC 1035 4.1.1",
          "[dns][rfc1035]") {
  const auto bytes = dns::encode_query(kId, "Host.Test.");
  auto m = DnsMessage::parse(bytes);
  REQUIRE(m);
  CHECK(m->id == kId);
  CHECK_FALSE(m->response);
  CHECK(m->opcode == 0);
  CHECK(m->recursion_desired);
  CHECK(m->questions ==
        std::vector<wire::DnsQuestion>{{"Host.Test", wire::dns::kTypeA, wire::dns::kClassIn}});
  CHECK(m->answers.empty());
  CHECK(bytes.size() == 12 + 11 + 4);  // header, 4Host4Test0, type and class
}

TEST_CASE("dns answer: the A records of the name asked for, in order", "[dns]") {
  auto m = response();
  m.answers.push_back(a_record("HOST.test", kAddr));
  m.answers.push_back(a_record("other.test", Ipv4Addr::from_octets(10, 0, 0, 7)));
  m.answers.push_back(a_record("host.test.", Ipv4Addr::from_octets(10, 0, 0, 43)));
  auto got = read(m);
  REQUIRE(got);
  REQUIRE(*got);
  CHECK(**got == std::vector<Ipv4Addr>{kAddr, Ipv4Addr::from_octets(10, 0, 0, 43)});
}

TEST_CASE("dns answer: only the response to this query counts, RFC 1035 7.3", "[dns][rfc1035]") {
  auto m = response();
  m.answers.push_back(a_record("host.test", kAddr));
  SECTION("another ID") {
    m.id = kId + 1;
    CHECK_FALSE(read(m));
  }
  SECTION("a query, not a response") {
    m.response = false;
    CHECK_FALSE(read(m));
  }
  SECTION("another name") { CHECK_FALSE(read(m, "other.test")); }
  SECTION("another type") {
    m.questions[0].type = wire::dns::kTypeCname;
    CHECK_FALSE(read(m));
  }
  SECTION("another class") {
    m.questions[0].klass = 3;
    CHECK_FALSE(read(m));
  }
  SECTION("no question") {
    m.questions.clear();
    CHECK_FALSE(read(m));
  }
  SECTION("the name in another case is the same name, RFC 1035 2.3.3") {
    m.questions[0].name = "HoSt.TeSt";
    CHECK(read(m));
  }
}

TEST_CASE("dns answer: RCODE and TC map to EAI errors as getaddrinfo reports them",
          "[dns][rfc1035]") {
  using wire::dns::Rcode;
  auto [rcode, truncated, with_a, expected] = GENERATE(
      std::make_tuple(Rcode::NxDomain, false, false, EAI_NONAME),
      std::make_tuple(Rcode::NoError, false, false, EAI_NONAME),  // no A record
      std::make_tuple(Rcode::ServFail, false, false, EAI_AGAIN),
      std::make_tuple(Rcode::Refused, false, false, EAI_FAIL),
      std::make_tuple(Rcode::FormErr, false, false, EAI_FAIL),
      std::make_tuple(Rcode::NotImp, false, false, EAI_FAIL),
      std::make_tuple(Rcode::NoError, true, true, EAI_FAIL));  // TC: the answer did not fit
  INFO("rcode=" << static_cast<int>(rcode) << " tc=" << truncated);
  auto m = response();
  m.rcode = rcode;
  m.truncated = truncated;
  if (with_a) m.answers.push_back(a_record("host.test", kAddr));
  auto got = read(m);
  REQUIRE(got);
  REQUIRE_FALSE(*got);
  CHECK(got->error() == expected);
}

TEST_CASE("dns answer: a CNAME chain inside the answer is followed, RFC 1034 3.6.2", "[dns]") {
  auto m = response("www.test");
  m.answers.push_back(cname("www.test", "web.test"));
  m.answers.push_back(a_record("www.test", Ipv4Addr::from_octets(6, 6, 6, 6)));  // shadowed
  m.answers.push_back(cname("WEB.test", "server.test"));
  m.answers.push_back(a_record("server.test", kAddr));
  auto got = read(m, "www.test");
  REQUIRE(got);
  REQUIRE(*got);
  CHECK(**got == std::vector<Ipv4Addr>{kAddr});

  SECTION("a CNAME to a name without an A record is EAI_NONAME") {
    m.answers.pop_back();
    CHECK(read(m, "www.test")->error() == EAI_NONAME);
  }
  SECTION("a CNAME loop is EAI_FAIL") {
    m.answers.push_back(cname("server.test", "www.test"));
    CHECK(read(m, "www.test")->error() == EAI_FAIL);
  }
  SECTION("a chain of the longest length allowed is followed, one more link is EAI_FAIL") {
    DnsMessage chain = response("n0.test");
    for (int i = 0; i < dns::kMaxCnameChain; ++i) {
      chain.answers.push_back(
          cname("n" + std::to_string(i) + ".test", "n" + std::to_string(i + 1) + ".test"));
    }
    const auto last = "n" + std::to_string(dns::kMaxCnameChain) + ".test";
    chain.answers.push_back(a_record(last, kAddr));
    CHECK(read(chain, "n0.test")->value() == std::vector<Ipv4Addr>{kAddr});
    chain.answers.back() = cname(last, "beyond.test");
    chain.answers.push_back(a_record("beyond.test", kAddr));
    CHECK(read(chain, "n0.test")->error() == EAI_FAIL);
  }
}

TEST_CASE("dns answer: a datagram that does not parse is EAI_FAIL", "[dns]") {
  auto m = response();
  m.answers.push_back(a_record("host.test", kAddr));
  auto bytes = m.emit();
  SECTION("cut inside the answer") { bytes.resize(bytes.size() - 2); }
  SECTION("shorter than a header") { bytes.resize(5); }
  SECTION("an A record whose RDLENGTH is not 4") {
    // The last record's RDLENGTH is the two octets before its four of RDATA.
    bytes[bytes.size() - 5] = std::byte{5};
    bytes.push_back(std::byte{0});
  }
  auto got = dns::read_response(bytes, kId, "host.test");
  REQUIRE(got);
  REQUIRE_FALSE(*got);
  CHECK(got->error() == EAI_FAIL);
}

TEST_CASE("dns answer: EAI names and answers print and compare", "[dns]") {
  CHECK(dns::eai_name(EAI_NONAME) == "EAI_NONAME");
  CHECK(dns::eai_name(EAI_AGAIN) == "EAI_AGAIN");
  CHECK(dns::eai_name(12345) == "EAI_?");
  CHECK(dns::eai_from_name("EAI_FAIL") == EAI_FAIL);
  CHECK_FALSE(dns::eai_from_name("EAI_?"));
  CHECK_FALSE(dns::eai_from_name("NXDOMAIN"));
  const dns::Answer two = std::vector<Ipv4Addr>{kAddr, Ipv4Addr::from_octets(10, 0, 0, 43)};
  CHECK(dns::to_string(two) == "10.0.0.42, 10.0.0.43");
  CHECK(dns::to_string(dns::Answer(EAI_NONAME)) == "EAI_NONAME");
  CHECK(dns::same_answer(two, two));
  CHECK_FALSE(dns::same_answer(two, std::vector<Ipv4Addr>{kAddr}));
  CHECK_FALSE(dns::same_answer(two, dns::Answer(EAI_NONAME)));
  CHECK(dns::same_answer(dns::Answer(EAI_AGAIN), dns::Answer(EAI_AGAIN)));
  CHECK_FALSE(dns::same_answer(dns::Answer(EAI_AGAIN), dns::Answer(EAI_FAIL)));
}
