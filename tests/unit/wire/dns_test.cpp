// DNS codec (RFC 1035 §4): a query's exact bytes, a compressed response with a CNAME
// chain, round trips, and every rejection reason (truncation, pointer loops, bad labels).
#include <catch2/catch.hpp>

#include "wire/dns.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

namespace {

// Query id 0x1234, RD, one question: example.test A IN.
constexpr std::string_view kQuery =
    "1234 0100 0001 0000 0000 0000"
    "07 6578616d706c65 04 74657374 00 0001 0001";

// The answer: example.test CNAME www.example.test (compressed against the question),
// www.example.test A 10.0.0.1 (its name a pointer into the CNAME's RDATA, offset 42).
constexpr std::string_view kResponse =
    "1234 8180 0001 0002 0000 0000"
    "07 6578616d706c65 04 74657374 00 0001 0001"
    "c00c 0005 0001 0000003c 0006 03 777777 c00c"
    "c02a 0001 0001 0000003c 0004 0a000001";

}  // namespace

TEST_CASE("DNS: a query encodes as RFC 1035 §4.1 lays it out", "[wire][dns][rfc1035-4.1]") {
  auto q = dns_query(0x1234, "example.test.");
  CHECK(to_hex(q.emit()) == to_hex(hex(kQuery)));
  auto parsed = DnsMessage::parse(hex(kQuery));
  REQUIRE(parsed);
  CHECK(*parsed == q);
  CHECK(parsed->recursion_desired);
  CHECK_FALSE(parsed->response);
}

TEST_CASE("DNS: a compressed response with a CNAME chain parses", "[wire][dns][rfc1035-4.1.4]") {
  auto m = DnsMessage::parse(hex(kResponse));
  REQUIRE(m);
  CHECK(m->id == 0x1234);
  CHECK(m->response);
  CHECK(m->recursion_desired);
  CHECK(m->recursion_available);
  CHECK_FALSE(m->truncated);
  CHECK(m->rcode == dns::Rcode::NoError);
  REQUIRE(m->questions.size() == 1);
  CHECK(m->questions[0] == DnsQuestion{"example.test", dns::kTypeA, dns::kClassIn});
  REQUIRE(m->answers.size() == 2);
  CHECK(m->answers[0].name == "example.test");
  CHECK(m->answers[0].type == dns::kTypeCname);
  CHECK(m->answers[0].ttl == 60);
  CHECK(m->answers[0].cname == std::optional<std::string>("www.example.test"));
  CHECK(m->answers[1].name == "www.example.test");
  CHECK(m->answers[1].a == Ipv4Addr::from_octets(10, 0, 0, 1));
}

TEST_CASE("DNS: emit then parse is the identity", "[wire][dns]") {
  DnsMessage m = dns_query(7, "a.b.c");
  m.response = true;
  m.authoritative = true;
  m.rcode = dns::Rcode::NxDomain;
  m.answers.push_back({"a.b.c", dns::kTypeCname, dns::kClassIn, 5, std::nullopt, "d.e", {}});
  m.answers.push_back({"d.e", dns::kTypeA, dns::kClassIn, 9, Ipv4Addr::from_octets(1, 2, 3, 4)});
  m.authority.push_back({"e", 6, dns::kClassIn, 1, std::nullopt, std::nullopt,
                         std::vector<std::byte>(3, std::byte{7})});
  auto bytes = m.emit();
  auto back = DnsMessage::parse(bytes);
  REQUIRE(back);
  CHECK(*back == m);
  CHECK(to_hex(back->emit()) == to_hex(bytes));
}

TEST_CASE("DNS: every truncation of a response is rejected as Truncated",
          "[wire][dns][truncated]") {
  auto full = hex(kResponse);
  for (std::size_t n = 0; n < full.size(); ++n) {
    INFO("length " << n);
    auto m = DnsMessage::parse(Bytes(full).first(n));
    REQUIRE_FALSE(m);
    CHECK(m.error() == ParseError::Truncated);
  }
}

TEST_CASE("DNS: compression pointers must point backwards and may not loop",
          "[wire][dns][rfc1035-4.1.4]") {
  SECTION("a pointer to itself") {
    auto b = hex("0001 8000 0001 0000 0000 0000 c00c 0001 0001");
    CHECK(DnsMessage::parse(b).error() == ParseError::BadOption);
  }
  SECTION("a pointer forwards") {
    auto b = hex("0001 8000 0001 0000 0000 0000 c00e 00 0001 0001");
    CHECK(DnsMessage::parse(b).error() == ParseError::BadOption);
  }
  SECTION("a chain of backward pointers is followed up to the jump limit") {
    // Answer 1 (owner: root, an unknown type) carries in its RDATA the name "x" at 23 and
    // `n` pointers, each to the one before; answer 2's owner points at the last of them,
    // so reading it takes n + 1 jumps.
    auto message = [](int n) {
      std::vector<std::byte> b = hex("0001 8000 0000 0002 0000 0000 00 0063 0001 00000000");
      std::size_t rdlen = 3 + 2 * static_cast<std::size_t>(n);
      b.push_back(std::byte(rdlen >> 8));
      b.push_back(std::byte(rdlen & 0xff));
      for (int v : {0x01, int{'x'}, 0x00}) b.push_back(std::byte(v));
      std::size_t prev = 23;
      for (int i = 0; i < n; ++i) {
        std::size_t here = b.size();
        b.push_back(std::byte(0xc0 | (prev >> 8)));
        b.push_back(std::byte(prev & 0xff));
        prev = here;
      }
      b.push_back(std::byte(0xc0 | (prev >> 8)));
      b.push_back(std::byte(prev & 0xff));
      auto tail = hex("0001 0001 00000000 0004 0a000001");
      b.insert(b.end(), tail.begin(), tail.end());
      return b;
    };
    auto ok = DnsMessage::parse(message(dns::kMaxPointers - 1));
    REQUIRE(ok);
    CHECK(ok->answers.at(1).name == "x");
    CHECK(DnsMessage::parse(message(dns::kMaxPointers)).error() == ParseError::BadOption);
  }
  SECTION("reserved label types 0x40 and 0x80") {
    CHECK(DnsMessage::parse(hex("0001 8000 0001 0000 0000 0000 4100 0001 0001")).error() ==
          ParseError::BadOption);
    CHECK(DnsMessage::parse(hex("0001 8000 0001 0000 0000 0000 8100 0001 0001")).error() ==
          ParseError::BadOption);
  }
}

TEST_CASE("DNS: names above 255 octets and A records of the wrong size are rejected",
          "[wire][dns][rfc1035-2.3.4]") {
  // Five labels of 63 octets: 5 * 64 + 1 = 321 octets.
  std::vector<std::byte> b = hex("0001 8000 0001 0000 0000 0000");
  for (int l = 0; l < 5; ++l) {
    b.push_back(std::byte{63});
    b.insert(b.end(), 63, std::byte{'a'});
  }
  b.push_back(std::byte{0});
  auto tail = hex("0001 0001");
  b.insert(b.end(), tail.begin(), tail.end());
  CHECK(DnsMessage::parse(b).error() == ParseError::BadOption);

  auto bad_a = hex("0001 8000 0000 0001 0000 0000 00 0001 0001 00000000 0005 0a00000100");
  CHECK(DnsMessage::parse(bad_a).error() == ParseError::BadTotalLen);
}

TEST_CASE("DNS: which names can be sent, and case-insensitive comparison",
          "[wire][dns][rfc1035-2.3]") {
  CHECK(dns_valid_name("example.test"));
  CHECK(dns_valid_name("example.test."));
  CHECK(dns_valid_name(std::string(63, 'a') + ".b"));
  CHECK_FALSE(dns_valid_name(std::string(64, 'a') + ".b"));
  CHECK_FALSE(dns_valid_name(""));
  CHECK_FALSE(dns_valid_name("."));
  CHECK_FALSE(dns_valid_name("a..b"));
  CHECK_FALSE(dns_valid_name(".a"));
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += std::string(62, 'x') + ".";
  CHECK(long_name.size() == 252);
  CHECK(dns_valid_name(long_name));  // 253 octets encoded
  CHECK_FALSE(dns_valid_name(long_name + "abc"));
  CHECK(dns_name_equal("WWW.Example.TEST.", "www.example.test"));
  CHECK_FALSE(dns_name_equal("www.example.test", "ww.example.test"));
}
