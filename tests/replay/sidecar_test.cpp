#include "app/sidecar.hpp"

#include <catch2/catch.hpp>

using namespace tapir;
using tapir::app::parse_sidecar;
using tapir::app::Sidecar;
using tapir::app::SidecarError;

namespace {

const char* kFull =
    "# a comment line\n"
    "description = ping -c 3 # not a comment in free text\n"
    "recorded = 2026-11-21 on Linux 6.1\n"
    "mac = 02:00:00:00:00:02\n"
    "ip = 10.0.0.2/24\n"
    "gateway = 10.0.0.1   # trailing comment\n"
    "mtu = 1400\n"
    "seed = 42\n"
    "peer = 02:00:00:00:00:01\n"
    "services = echo, discard\n"
    "clock_origin = 1795240200.653830\n"
    "ignore = ipv4.id, tcp.seq, time\n"
    "time_tolerance_ms = 20\n";

std::string error_of(const std::string& text) {
  try {
    (void)parse_sidecar(text, "f.sidecar");
  } catch (const SidecarError& e) {
    return e.what();
  }
  FAIL("parse_sidecar accepted:\n" << text);
  return {};
}

const std::string kMinimal =
    "mac = 02:00:00:00:00:02\nip = 10.0.0.2/24\nseed = 1\npeer = 02:00:00:00:00:01\n";

}  // namespace

TEST_CASE("sidecar: every key", "[replay][sidecar]") {
  const Sidecar s = parse_sidecar(kFull, "f.sidecar");
  CHECK(s.path == "f.sidecar");
  CHECK(s.description == "ping -c 3 # not a comment in free text");
  CHECK(s.recorded == "2026-11-21 on Linux 6.1");
  CHECK(s.config.mac.to_string() == "02:00:00:00:00:02");
  CHECK(s.config.address.to_string() == "10.0.0.2/24");
  REQUIRE(s.config.gateway);
  CHECK(s.config.gateway->to_string() == "10.0.0.1");
  CHECK(s.config.mtu == 1400);
  CHECK(s.config.seed == 42);
  CHECK(s.peer.to_string() == "02:00:00:00:00:01");
  CHECK(s.services == std::vector<std::string>{"echo", "discard"});
  REQUIRE(s.clock_origin_us);
  CHECK(*s.clock_origin_us == 1'795'240'200'653'830);
  CHECK(s.ignore == std::vector<std::string>{"ipv4.id", "tcp.seq", "time"});
  CHECK(s.ignores("tcp.seq"));
  CHECK_FALSE(s.ignores("tcp.ack"));
  CHECK(s.time_tolerance == std::chrono::milliseconds(20));
}

TEST_CASE("sidecar: defaults of the optional keys", "[replay][sidecar]") {
  const Sidecar s = parse_sidecar(kMinimal, "m.sidecar");
  CHECK(s.config.mtu == 0);
  CHECK_FALSE(s.config.gateway);
  CHECK(s.services.empty());
  CHECK_FALSE(s.clock_origin_us);
  CHECK(s.ignore.empty());
  CHECK(s.time_tolerance == std::chrono::milliseconds(50));
}

TEST_CASE("sidecar: format_sidecar writes what parse_sidecar reads", "[replay][sidecar]") {
  const Sidecar a = parse_sidecar(kFull, "f.sidecar");
  const Sidecar b = parse_sidecar(app::format_sidecar(a), "g.sidecar");
  CHECK(b.config.mac == a.config.mac);
  CHECK(b.config.address == a.config.address);
  CHECK(b.config.gateway == a.config.gateway);
  CHECK(b.config.mtu == a.config.mtu);
  CHECK(b.config.seed == a.config.seed);
  CHECK(b.peer == a.peer);
  CHECK(b.services == a.services);
  CHECK(b.clock_origin_us == a.clock_origin_us);
  CHECK(b.ignore == a.ignore);
  CHECK(b.time_tolerance == a.time_tolerance);
  CHECK(b.description == a.description);
  CHECK(b.recorded == a.recorded);
}

TEST_CASE("sidecar: an unknown key names the file, the line and the key", "[replay][sidecar]") {
  const auto msg = error_of(kMinimal + "\ncolour = blue\n");
  CHECK(msg.rfind("f.sidecar:6: unknown key 'colour' (known keys: mac, ip,", 0) == 0);
  CHECK(msg.find('\n') == std::string::npos);
}

TEST_CASE("sidecar: bad lines and values are one-line errors", "[replay][sidecar]") {
  CHECK(error_of(kMinimal + "just words\n") ==
        "f.sidecar:5: expected 'key = value', got 'just words'");
  CHECK(error_of(kMinimal + "seed = 2\n") == "f.sidecar:5: key 'seed' given twice");
  CHECK(error_of("ip = 10.0.0.2/24\nseed = 1\npeer = 02:00:00:00:00:01\n") ==
        "f.sidecar: missing key 'mac'");
  CHECK(error_of(kMinimal + "mtu = 100\n") ==
        "f.sidecar:5: mtu: invalid value '100': expected a number from 576 to 9000");
  CHECK(error_of("mac = 02:00:00:00:00\n").rfind("f.sidecar:1: mac: invalid value", 0) == 0);
  CHECK(error_of(kMinimal + "ip = 10.0.0.2\n") != "");
  CHECK(error_of(kMinimal + "gateway = 192.168.1.1\n") ==
        "f.sidecar: gateway 192.168.1.1 is not on 10.0.0.2/24");
  CHECK(error_of(kMinimal + "ignore = ipv4.id, colour\n")
            .rfind("f.sidecar:5: ignore: invalid value 'colour'", 0) == 0);
  CHECK(error_of(kMinimal + "clock_origin = 12.1234567\n")
            .rfind("f.sidecar:5: clock_origin: invalid value", 0) == 0);
  CHECK(error_of(kMinimal + "services = echo;rm\n")
            .rfind("f.sidecar:5: services: invalid value 'echo;rm'", 0) == 0);
  CHECK(error_of(kMinimal + "seed = -1\n").rfind("f.sidecar:5: key 'seed' given twice", 0) == 0);
}

TEST_CASE("sidecar: ignorable field names", "[replay][sidecar]") {
  for (const char* ok : {"time", "data", "eth.trailer", "ipv4.id", "tcp.option", "icmp.seq"}) {
    CHECK(app::is_ignorable_field(ok));
  }
  for (const char* bad : {"", "ipv4.", "ip.id", "ipv4.ID", "tcp", "colour"}) {
    CHECK_FALSE(app::is_ignorable_field(bad));
  }
}

TEST_CASE("sidecar: NAME.pcap finds NAME.sidecar", "[replay][sidecar]") {
  CHECK(app::sidecar_path_for("pcaps/ping.pcap") == "pcaps/ping.sidecar");
  CHECK(app::sidecar_path_for("a.b/ping.pcapng") == "a.b/ping.sidecar");
  CHECK(app::sidecar_path_for("a.b/ping") == "a.b/ping.sidecar");
}

TEST_CASE("sidecar: client, the DNS lookup a replay runs", "[replay][sidecar][client]") {
  SECTION("the short form: at the start, the defaults of tapir resolve, nothing expected") {
    const Sidecar s = parse_sidecar(kMinimal + "client = resolve tapir.test via 10.0.0.1\n", "c");
    REQUIRE(s.client);
    CHECK(s.client->name == "tapir.test");
    CHECK(s.client->nameserver == Ipv4Addr::from_octets(10, 0, 0, 1));
    CHECK_FALSE(s.client->at);
    CHECK(s.client->timeout == dns::kDefaultTimeout);
    CHECK(s.client->attempts == dns::kDefaultAttempts);
    CHECK_FALSE(s.client->expect);
    CHECK(s.client->what() == "resolve tapir.test via 10.0.0.1");
    CHECK(s.client->to_string() == "resolve tapir.test via 10.0.0.1 at start");
  }
  SECTION("every option") {
    const Sidecar s = parse_sidecar(
        kMinimal +
            "client = resolve www.tapir.test via 10.0.0.53  at 1.25 timeout 500 attempts 2 "
            "expect 10.0.0.42,10.0.0.43  # comment\n",
        "c");
    REQUIRE(s.client);
    CHECK(s.client->at == Instant::from_micros(1'250'000));
    CHECK(s.client->timeout == std::chrono::milliseconds(500));
    CHECK(s.client->attempts == 2);
    REQUIRE(s.client->expect);
    CHECK(dns::to_string(*s.client->expect) == "10.0.0.42, 10.0.0.43");
    const auto text = s.client->to_string();
    CHECK(text ==
          "resolve www.tapir.test via 10.0.0.53 at 1.250000 timeout 500 attempts 2 expect "
          "10.0.0.42,10.0.0.43");
    // format_sidecar writes it back as parse_sidecar reads it.
    const Sidecar again = parse_sidecar(app::format_sidecar(s), "d");
    REQUIRE(again.client);
    CHECK(again.client->to_string() == text);
  }
  SECTION("an expected error") {
    const Sidecar s = parse_sidecar(
        kMinimal + "client = resolve gone.test via 10.0.0.1 expect EAI_NONAME at start\n", "c");
    REQUIRE(s.client);
    REQUIRE(s.client->expect);
    REQUIRE_FALSE(*s.client->expect);
    CHECK(s.client->expect->error() == EAI_NONAME);
    CHECK(s.client->to_string() == "resolve gone.test via 10.0.0.1 at start expect EAI_NONAME");
  }
}

TEST_CASE("sidecar: a bad client is a one-line error naming the file, the line and the key",
          "[replay][sidecar][client]") {
  const std::string form =
      "expected 'resolve NAME via ADDR [at start|SECONDS] [timeout MS] [attempts N] [expect "
      "ADDR,...|EAI_NAME]'";
  auto bad = [](const std::string& value) { return error_of(kMinimal + "client = " + value); };
  CHECK(bad("ping 10.0.0.1") == "f.sidecar:5: client: invalid value 'ping 10.0.0.1': " + form);
  CHECK(bad("resolve tapir.test 10.0.0.1") ==
        "f.sidecar:5: client: invalid value 'resolve tapir.test 10.0.0.1': " + form);
  CHECK(bad("resolve a..b via 10.0.0.1") ==
        "f.sidecar:5: client: invalid value 'a..b': expected a host name to resolve, like "
        "tapir.test");
  CHECK(bad("resolve tapir.test via ns.test") ==
        "f.sidecar:5: client: invalid value 'ns.test': expected the nameserver's IPv4 address, "
        "like 10.0.0.1");
  CHECK(bad("resolve tapir.test via 10.0.0.1 at soon")
            .rfind("f.sidecar:5: client: invalid value 'soon': expected 'at start' or", 0) == 0);
  CHECK(bad("resolve tapir.test via 10.0.0.1 timeout 0") ==
        "f.sidecar:5: client: invalid value '0': expected milliseconds from 1 to 600000");
  CHECK(bad("resolve tapir.test via 10.0.0.1 attempts 101") ==
        "f.sidecar:5: client: invalid value '101': expected a number of queries from 1 to 100");
  CHECK(bad("resolve tapir.test via 10.0.0.1 expect 10.0.0.300")
            .rfind("f.sidecar:5: client: invalid value '10.0.0.300': expected addresses", 0) == 0);
  CHECK(bad("resolve tapir.test via 10.0.0.1 expect NXDOMAIN")
            .rfind("f.sidecar:5: client: invalid value 'NXDOMAIN': expected addresses", 0) == 0);
  CHECK(bad("resolve tapir.test via 10.0.0.1 colour red")
            .rfind("f.sidecar:5: client: invalid value 'colour': expected one of at, timeout, "
                   "attempts, expect in",
                   0) == 0);
  CHECK(bad("resolve tapir.test via 10.0.0.1 at start at 1") ==
        "f.sidecar:5: client: 'at' given twice");
  CHECK(bad("resolve tapir.test via 10.0.0.1 expect")
            .rfind("f.sidecar:5: client: invalid value 'resolve tapir.test via 10.0.0.1 expect': "
                   "expected a value after 'expect'",
                   0) == 0);
  CHECK(error_of(kMinimal + "client = resolve a.test via 10.0.0.1\nclient = resolve b.test via "
                            "10.0.0.1\n") == "f.sidecar:6: key 'client' given twice");
  for (const auto& msg :
       {bad("ping"), bad("resolve x via y"), bad("resolve x.test via 10.0.0.1 at")}) {
    CHECK(msg.find('\n') == std::string::npos);
  }
}
