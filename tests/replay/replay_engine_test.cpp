// The replay engine on conversations the tests record themselves (replay_support.hpp), so
// that every mismatch can be provoked on purpose: a changed field, a different seed, a
// missing or extra frame, a moved frame, a stale golden trace.
#include <catch2/catch.hpp>

#include "app/replay.hpp"
#include "phy/pcap_reader.hpp"
#include "replay/replay_support.hpp"
#include "util/checksum.hpp"
#include "wire/ipv4.hpp"

using namespace tapir;
using namespace tapir::test;
using app::check_replay;
using app::load_fixture;
using app::run_replay;

namespace {

const Instant kStart = Instant::from_millis(20);
const Instant kPing = Instant::from_millis(400);
const Instant kEnd = Instant::from_millis(600);

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

// Rewrites the capture with `edit` applied to each record (index, bytes, time).
template <class Edit>
void rewrite(const std::string& pcap, Edit edit) {
  auto cap = phy::read_capture(pcap);
  phy::QueueDevice sink;
  phy::PcapWriter w(sink, pcap);
  for (std::size_t i = 0; i < cap.records.size(); ++i) {
    auto& r = cap.records[i];
    if (!edit(i, r.bytes, r.time_us)) continue;
    REQUIRE(w.transmit(r.bytes, Instant::from_micros(r.time_us)) == Errno::Ok);
  }
}

// Index of the first record whose one-line decode contains `what`.
std::size_t find_record(const std::string& pcap, const std::string& what) {
  auto cap = phy::read_capture(pcap);
  for (std::size_t i = 0; i < cap.records.size(); ++i) {
    if (contains(app::trace_line(0, {}, false, cap.records[i].bytes), what)) return i;
  }
  FAIL("no record with " << what);
  return 0;
}

void fix_ip_checksum(std::vector<std::byte>& frame) {
  auto ip = MutBytes(frame).subspan(14);
  store_be16(ip, 10, 0);
  store_be16(ip, 10, internet_checksum(ip.first(20)));
}

}  // namespace

TEST_CASE("replay: a recorded ping replays byte for byte", "[replay]") {
  TempDir dir;
  const auto pcap = record(dir, "ping", ping_conversation(kPing), kStart, kEnd);
  const auto f = load_fixture(pcap);
  CHECK(f.name == "ping");
  CHECK(f.trace_path == dir.file("ping.trace"));
  const auto r = run_replay(f);
  REQUIRE(r.sent.size() == 3);  // announcement, ARP reply, echo reply
  const auto v = check_replay(f, r, std::nullopt);
  INFO(v.report);
  CHECK(v.pass);
  CHECK(contains(v.report, "PASS"));
  CHECK(contains(v.report, "3 frames sent, 3 recorded (3 identical)"));
  CHECK(r.problems.empty());
}

TEST_CASE("replay: the trace is the conversation with the decision behind each frame", "[replay]") {
  TempDir dir;
  const auto pcap = record(dir, "ping", ping_conversation(kPing), kStart, kEnd);
  const auto r = replay(pcap);
  INFO(r.trace);
  CHECK(contains(r.trace, "#1       0.000000 -> ARP who-has 10.0.0.2 tell 10.0.0.2\n"));
  CHECK(contains(r.trace, "arp.tx_gratuitous (gratuitous announcements sent)"));
  CHECK(contains(r.trace, "#2       0.380000 <- ARP who-has 10.0.0.2 tell 10.0.0.1\n"));
  CHECK(contains(r.trace, "#4       0.380120 <- ICMP 10.0.0.1 > 10.0.0.2 echo request id=119"));
  CHECK(contains(r.trace, "icmp.rx_echo_requests (echo requests received); sent #5"));
  CHECK(contains(r.trace, "for #4: icmp.tx_echo_replies (echo replies sent)"));
}

TEST_CASE("replay: the same fixture twice gives identical output", "[replay][determinism]") {
  TempDir dir;
  const auto pcap = record(dir, "ping", ping_conversation(kPing, 3000), kStart, kEnd, 7);
  const auto f = load_fixture(pcap);
  const auto a = run_replay(f);
  const auto b = run_replay(f);
  CHECK(a.trace == b.trace);
  REQUIRE(a.sent.size() == b.sent.size());
  for (std::size_t i = 0; i < a.sent.size(); ++i) {
    CHECK(a.sent[i].bytes == b.sent[i].bytes);
    CHECK(a.sent[i].time == b.sent[i].time);
    CHECK(a.sent[i].number == b.sent[i].number);
  }
  CHECK(check_replay(f, a, b.trace).report == check_replay(f, b, a.trace).report);
}

TEST_CASE("replay: a changed field fails with frame, field, expected, actual, both decoded",
          "[replay][diff]") {
  TempDir dir;
  const auto pcap = record(dir, "ttl", ping_conversation(kPing), kStart, kEnd);
  const auto reply = find_record(pcap, "echo reply");
  // The recording says the stack answered with TTL 63 (it sends 64).
  rewrite(pcap, [&](std::size_t i, std::vector<std::byte>& b, std::int64_t&) {
    if (i == reply) {
      b[14 + 8] = std::byte{63};
      fix_ip_checksum(b);
    }
    return true;
  });
  const auto f = load_fixture(pcap);
  const auto v = check_replay(f, run_replay(f), std::nullopt);
  INFO(v.report);
  CHECK_FALSE(v.pass);
  CHECK(v.report.rfind("FAIL " + pcap, 0) == 0);
  CHECK(contains(v.report, "capture frame " + std::to_string(reply + 1) + " (tapir's 3rd frame)"));
  CHECK(contains(v.report, "ipv4.ttl       63"));
  CHECK(contains(v.report, "64\n"));
  CHECK(contains(v.report, "ipv4.checksum"));
  CHECK(contains(v.report, "expected: ICMP 10.0.0.2 > 10.0.0.1 echo reply id=119 seq=1"));
  CHECK(contains(v.report, "actual:   ICMP 10.0.0.2 > 10.0.0.1 echo reply id=119 seq=1"));
}

TEST_CASE("replay: another seed changes IP IDs, `ignore = ipv4.id` names the exception",
          "[replay][diff]") {
  TempDir dir;
  const auto pcap = record(dir, "seed", ping_conversation(kPing), kStart, kEnd, 1);
  SECTION("without the exception the diff names ipv4.id") {
    spit(dir.file("seed.sidecar"), sidecar_text(99));
    const auto f = load_fixture(pcap);
    const auto v = check_replay(f, run_replay(f), std::nullopt);
    INFO(v.report);
    CHECK_FALSE(v.pass);
    CHECK(contains(v.report, "ipv4.id "));
  }
  SECTION("with it the frames are equal but for ignored fields") {
    spit(dir.file("seed.sidecar"), sidecar_text(99, "ignore = ipv4.id\n"));
    const auto f = load_fixture(pcap);
    const auto v = check_replay(f, run_replay(f), std::nullopt);
    INFO(v.report);
    CHECK(v.pass);
    CHECK(contains(v.report, "(2 identical, 1 equal but for ignored fields)"));
  }
}

TEST_CASE("replay: a frame the stack no longer sends, and one it newly sends", "[replay][diff]") {
  TempDir dir;
  const auto pcap = record(dir, "count", ping_conversation(kPing), kStart, kEnd);
  const auto reply = find_record(pcap, "echo reply");
  SECTION("the recording has a frame the replay does not send") {
    const auto cap = phy::read_capture(pcap);
    {
      phy::QueueDevice sink;
      phy::PcapWriter w(sink, pcap);
      for (const auto& r : cap.records) {
        REQUIRE(w.transmit(r.bytes, Instant::from_micros(r.time_us)) == Errno::Ok);
      }
      const auto& again = cap.records[reply];
      REQUIRE(w.transmit(again.bytes, Instant::from_micros(again.time_us + 1000)) == Errno::Ok);
    }
    const auto f = load_fixture(pcap);
    const auto v = check_replay(f, run_replay(f), std::nullopt);
    INFO(v.report);
    CHECK_FALSE(v.pass);
    CHECK(contains(v.report, "(tapir's 4th frame, at +0.381120 s): the replay did not send it"));
    CHECK(contains(v.report, "expected: ICMP 10.0.0.2 > 10.0.0.1 echo reply"));
  }
  SECTION("the replay sends a frame the recording does not have") {
    rewrite(pcap,
            [&](std::size_t i, std::vector<std::byte>&, std::int64_t&) { return i != reply; });
    const auto f = load_fixture(pcap);
    const auto v = check_replay(f, run_replay(f), std::nullopt);
    INFO(v.report);
    CHECK_FALSE(v.pass);
    CHECK(contains(v.report, "the replay sent an extra frame (tapir's 3rd frame, at +0.380120 s)"));
    CHECK(contains(v.report, "actual:   ICMP 10.0.0.2 > 10.0.0.1 echo reply"));
  }
}

TEST_CASE("replay: a frame sent at another time than recorded", "[replay][diff]") {
  TempDir dir;
  const auto pcap = record(dir, "late", ping_conversation(kPing), kStart, kEnd);
  const auto reply = find_record(pcap, "echo reply");
  rewrite(pcap, [&](std::size_t i, std::vector<std::byte>&, std::int64_t& t) {
    if (i == reply) t += 100'000;  // the recording says 100 ms later
    return true;
  });
  SECTION("beyond the tolerance it is a difference in `time`") {
    const auto f = load_fixture(pcap);
    const auto v = check_replay(f, run_replay(f), std::nullopt);
    INFO(v.report);
    CHECK_FALSE(v.pass);
    CHECK(contains(v.report, "time "));
    CHECK(contains(v.report, "+0.480120 s"));
    CHECK(contains(v.report, "+0.380120 s"));
  }
  SECTION("a wider tolerance, or `ignore = time`, accepts it") {
    for (const char* extra : {"time_tolerance_ms = 150\n", "ignore = time\n"}) {
      spit(dir.file("late.sidecar"), sidecar_text(1, extra));
      const auto f = load_fixture(pcap);
      const auto v = check_replay(f, run_replay(f), std::nullopt);
      INFO(extra << v.report);
      CHECK(v.pass);
    }
  }
}

TEST_CASE("replay: a stale golden trace shows the first line that differs", "[replay][diff]") {
  TempDir dir;
  const auto pcap = record(dir, "golden", ping_conversation(kPing), kStart, kEnd);
  const auto f = load_fixture(pcap);
  const auto r = run_replay(f);
  CHECK(check_replay(f, r, r.trace).pass);
  std::string stale = r.trace;
  stale.replace(stale.find("echo reply"), 10, "echo REPLY");
  const auto v = check_replay(f, r, stale);
  INFO(v.report);
  CHECK_FALSE(v.pass);
  CHECK(contains(v.report, "; trace differs"));
  CHECK(contains(v.report, "golden trace " + dir.file("golden.trace") + " differs"));
  CHECK(contains(v.report, "    golden: #5 "));
  CHECK(contains(v.report, "echo REPLY"));
  CHECK(contains(v.report, "    replay: #5 "));
}

TEST_CASE("replay: the sidecar's services run as `tapir serve` runs them", "[replay]") {
  TempDir dir;
  wire::Ipv4Repr ip;
  ip.src = kKernelIp;
  ip.dst = kStackIp;
  ip.protocol = wire::IpProto::Udp;
  ip.ident = 7;
  // UDP 40000 -> 7 "ping!" (checksum 0: none, RFC 768).
  const std::byte udp[] = {std::byte{0x9c}, std::byte{0x40}, std::byte{0},   std::byte{7},
                           std::byte{0},    std::byte{13},   std::byte{0},   std::byte{0},
                           std::byte{'p'},  std::byte{'i'},  std::byte{'n'}, std::byte{'g'},
                           std::byte{'!'}};
  auto conv = ping_conversation(kPing);
  conv.push_back(
      {kPing + std::chrono::milliseconds(1), ipv4_frame(kKernelMac, kStackMac, ip, udp)});
  const auto pcap = record(dir, "echo", conv, kStart, kEnd, 1, {"echo"});
  const auto f = load_fixture(pcap);
  CHECK(f.sidecar.services == std::vector<std::string>{"echo"});
  const auto r = run_replay(f);
  INFO(r.trace);
  CHECK(contains(r.trace, "-> UDP 10.0.0.2:7 > 10.0.0.1:40000 len=5"));
  CHECK(check_replay(f, r, std::nullopt).pass);

  SECTION("without the services the port is closed: the replay answers port unreachable") {
    const auto bare =
        run_replay(f, {.services = [](const auto&, Stack&) { return app::ServiceTick{}; }});
    const auto v = check_replay(f, bare, std::nullopt);
    INFO(v.report);
    CHECK_FALSE(v.pass);
    CHECK(contains(v.report, "actual:   ICMP 10.0.0.2 > 10.0.0.1 unreachable port"));
  }
  SECTION("a service this build does not know is a one-line error naming the sidecar") {
    spit(dir.file("echo.sidecar"), sidecar_text(1, "services = teleport\n"));
    const auto g = load_fixture(pcap);
    try {
      (void)run_replay(g);
      FAIL("replayed an unknown service");
    } catch (const app::FixtureError& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.rfind(dir.file("echo.sidecar") + ": services = teleport: ", 0) == 0);
      CHECK(msg.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("replay: --pcapng writes the replayed conversation with comments", "[replay]") {
  TempDir dir;
  const auto pcap = record(dir, "ng", ping_conversation(kPing), kStart, kEnd);
  const auto f = load_fixture(pcap);
  const auto out = dir.file("ng.pcapng");
  const auto r = run_replay(f, {.pcapng_path = out});
  const auto cap = phy::read_capture(out);
  const auto rec = phy::read_capture(pcap);
  REQUIRE(cap.records.size() == rec.records.size());
  for (std::size_t i = 0; i < cap.records.size(); ++i) {
    CHECK(cap.records[i].bytes == rec.records[i].bytes);
    CHECK(cap.records[i].time_us == rec.records[i].time_us);  // the recording's wall times
  }
  const auto raw = slurp(out);
  CHECK(contains(raw, "for #4: icmp.tx_echo_replies (echo replies sent)"));
  CHECK(r.sent.size() == 3);
}

TEST_CASE("load_fixture: problems are one line naming the file", "[replay][bad-input]") {
  TempDir dir;
  const auto pcap = record(dir, "bad", ping_conversation(kPing), kStart, kEnd);
  auto error_of = [&](const std::string& path) -> std::string {
    try {
      (void)load_fixture(path);
    } catch (const std::exception& e) {
      return e.what();
    }
    FAIL("load_fixture accepted " << path);
    return {};
  };
  auto check_line = [](const std::string& msg, const std::string& file, const std::string& what) {
    INFO(msg);
    CHECK(msg.rfind(file, 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.find(what) != std::string::npos);
  };

  SECTION("missing sidecar") {
    std::filesystem::remove(dir.file("bad.sidecar"));
    check_line(error_of(pcap), dir.file("bad.sidecar"), "cannot open sidecar");
  }
  SECTION("unknown sidecar key") {
    spit(dir.file("bad.sidecar"), sidecar_text(1, "colour = blue\n"));
    check_line(error_of(pcap), dir.file("bad.sidecar") + ":8:", "unknown key 'colour'");
  }
  SECTION("a capture with no frames") {
    rewrite(pcap, [](std::size_t, std::vector<std::byte>&, std::int64_t&) { return false; });
    check_line(error_of(pcap), pcap, "holds no frames");
  }
  SECTION("time running backwards") {
    rewrite(pcap, [](std::size_t i, std::vector<std::byte>&, std::int64_t& t) {
      if (i == 2) t -= 1'000'000;
      return true;
    });
    check_line(error_of(pcap), pcap, "frame 3: time goes backwards");
  }
  SECTION("a truncated capture") {
    const auto bytes = slurp(pcap);
    spit(pcap, bytes.substr(0, bytes.size() - 3));
    check_line(error_of(pcap), pcap, "truncated");
  }
}
