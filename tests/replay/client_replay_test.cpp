// Replay of a fixture where tapir is the client (the sidecar's `client = resolve ...`): the
// tests record `tapir resolve`'s conversation themselves -- the same ResolveTask the command
// runs, on a stack over a PcapWriter, against a scripted kernel that answers ARP and DNS --
// and check that replay re-runs the lookup on its clock, byte for byte, and checks its answer.
#include <catch2/catch.hpp>

#include <functional>

#include "app/replay.hpp"
#include "app/resolve_task.hpp"
#include "replay/replay_support.hpp"
#include "wire/dns.hpp"
#include "wire/udp.hpp"

using namespace tapir;
using namespace tapir::test;
using app::check_replay;
using app::load_fixture;
using app::run_replay;
using wire::DnsMessage;

namespace {

const Instant kStart = Instant::from_millis(20);
const Ipv4Addr kAnswer = Ipv4Addr::from_octets(10, 0, 0, 42);
constexpr Duration kKernelDelay = std::chrono::microseconds(150);
const std::string kClient = "client = resolve tapir.test via 10.0.0.1 at start";

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

// The nameserver's response to a query; nullopt: it stays silent.
using Nameserver = std::function<std::optional<DnsMessage>(const DnsMessage&)>;

std::optional<DnsMessage> answers(const DnsMessage& q) {
  DnsMessage r = q;
  r.response = true;
  r.recursion_available = true;
  r.answers.push_back({q.questions.at(0).name, wire::dns::kTypeA, wire::dns::kClassIn, 0, kAnswer});
  return r;
}

Frame udp_frame(std::uint16_t src_port, std::uint16_t dst_port, Bytes payload) {
  std::vector<std::byte> udp(wire::UdpRepr::header_len() + payload.size());
  std::copy(payload.begin(), payload.end(), udp.begin() + wire::UdpRepr::header_len());
  wire::UdpRepr{src_port, dst_port, static_cast<std::uint16_t>(payload.size())}.emit(udp, kKernelIp,
                                                                                     kStackIp);
  wire::Ipv4Repr ip;
  ip.src = kKernelIp;
  ip.dst = kStackIp;
  ip.protocol = wire::IpProto::Udp;
  ip.ttl = 64;
  ip.ident = 0x1d1d;
  return ipv4_frame(kKernelMac, kStackMac, ip, udp);
}

// What the kernel sends back for one of the stack's frames: an ARP reply for 10.0.0.1, the
// nameserver's response to a query on port 53.
std::optional<Frame> kernel_reply(const Frame& f, const Nameserver& ns) {
  auto d = decode(f);
  if (d.arp && d.arp->op == wire::ArpOp::Request && d.arp->target_ip == kKernelIp) {
    wire::ArpRepr reply{wire::ArpOp::Reply, kKernelMac, kKernelIp, kStackMac, kStackIp};
    return arp_frame(kStackMac, reply);
  }
  if (!d.ip || d.ip->protocol != wire::IpProto::Udp) return std::nullopt;
  auto udp = wire::UdpView::checked(d.ip_payload);
  REQUIRE(udp);
  if (udp->dst_port() != 53) return std::nullopt;
  auto q = DnsMessage::parse(udp->payload());
  REQUIRE(q);
  auto r = ns(*q);
  if (!r) return std::nullopt;
  return udp_frame(53, udp->src_port(), r->emit());
}

// Records NAME.pcap as `tapir resolve tapir.test --nameserver 10.0.0.1 --seed SEED --pcap`
// does (app/resolve.cpp): the ResolveTask after every poll, from the first one, until it is
// done; the kernel answers each frame kKernelDelay later. Writes NAME.sidecar with `client`.
std::string record_resolve(const TempDir& dir, const std::string& name, const Nameserver& ns,
                           std::uint64_t seed = 1, const std::string& client_line = kClient) {
  const auto pcap = dir.file(name + ".pcap");
  {
    ManualClock clock(kStart);
    phy::QueueDevice dev;
    phy::PcapWriter writer(dev, pcap, Duration{kOriginUs});
    Stack stack(writer, stack_config(seed));
    app::ResolveTask task(stack, "tapir.test", {.nameserver = kKernelIp});
    std::vector<PeerFrame> to_inject;
    std::optional<Instant> task_due;
    auto poll = [&](Instant t) {
      clock.set(t);
      stack.poll(t);
      task_due = task.tick(t);
      for (const auto& f : dev.take_transmitted()) {
        if (auto r = kernel_reply(f, ns)) to_inject.push_back({t + kKernelDelay, std::move(*r)});
      }
    };
    poll(kStart);
    for (int guard = 0; guard < 100000 && !task.done(); ++guard) {
      std::optional<Instant> arrival;
      if (!to_inject.empty()) arrival = to_inject.front().at;
      auto t = earliest(earliest(stack.next_deadline(), task_due), arrival);
      REQUIRE(t);
      if (arrival && *t == *arrival) {
        dev.inject(to_inject.front().bytes);
        to_inject.erase(to_inject.begin());
      }
      poll(std::max(*t, clock.now()));
    }
    REQUIRE(task.done());
  }
  spit(dir.file(name + ".sidecar"), sidecar_text(seed, client_line + "\n"));
  return pcap;
}

}  // namespace

TEST_CASE("replay client: a recorded tapir resolve replays byte for byte with its answer",
          "[replay][client]") {
  TempDir dir;
  const auto pcap = record_resolve(dir, "dns", answers, 1, kClient + " expect 10.0.0.42");
  const auto f = load_fixture(pcap);
  REQUIRE(f.sidecar.client);
  const auto r = run_replay(f);
  INFO(r.trace);
  // Announcement, ARP request for the nameserver, the query.
  REQUIRE(r.sent.size() == 3);
  REQUIRE(r.client);
  REQUIRE(r.client->answer);
  CHECK(dns::to_string(*r.client->answer) == "10.0.0.42");
  CHECK(contains(r.trace, "-> ARP who-has 10.0.0.1 tell 10.0.0.2\n"));
  CHECK(contains(r.trace, "-> UDP 10.0.0.2:"));
  CHECK(contains(r.trace, "> 10.0.0.1:53 len="));
  CHECK(contains(r.trace, "client: resolve tapir.test via 10.0.0.1 -> 10.0.0.42 at 0.000300\n"));
  const auto v = check_replay(f, r, r.trace);
  INFO(v.report);
  CHECK(v.pass);
  CHECK(contains(v.report, "3 frames sent, 3 recorded (3 identical); client answer as expected"));

  SECTION("the same fixture twice gives the same output") {
    const auto again = run_replay(f);
    CHECK(again.trace == r.trace);
    REQUIRE(again.sent.size() == r.sent.size());
    for (std::size_t i = 0; i < r.sent.size(); ++i) CHECK(again.sent[i].bytes == r.sent[i].bytes);
  }
  SECTION("another expected answer fails, naming both") {
    spit(dir.file("dns.sidecar"), sidecar_text(1, kClient + " expect 10.0.0.43,10.0.0.44\n"));
    const auto g = load_fixture(pcap);
    const auto w = check_replay(g, run_replay(g), std::nullopt);
    INFO(w.report);
    CHECK_FALSE(w.pass);
    CHECK(contains(w.report, "; client answer differs"));
    CHECK(contains(w.report,
                   "  client: resolve tapir.test via 10.0.0.1 answered 10.0.0.42, "
                   "expected 10.0.0.43, 10.0.0.44\n"));
  }
  SECTION("without `expect` the answer is only traced") {
    spit(dir.file("dns.sidecar"), sidecar_text(1, kClient + "\n"));
    const auto g = load_fixture(pcap);
    const auto w = check_replay(g, run_replay(g), std::nullopt);
    INFO(w.report);
    CHECK(w.pass);
    CHECK_FALSE(contains(w.report, "client answer"));
  }
  SECTION("another seed: another port and query ID, and the recorded answer is not ours") {
    spit(dir.file("dns.sidecar"), sidecar_text(2, kClient + " expect 10.0.0.42\n"));
    const auto g = load_fixture(pcap);
    const auto w = check_replay(g, run_replay(g), std::nullopt);
    INFO(w.report);
    CHECK_FALSE(w.pass);
    CHECK(contains(w.report, "udp.src_port"));
    // The client never hears back on its port; replay runs it on until it gives up.
    CHECK(contains(w.report, "the replay sent an extra frame (tapir's 6th frame, at +4.000000 s)"));
    CHECK(contains(w.report, "answered EAI_AGAIN, expected 10.0.0.42"));
  }
  SECTION("a client started later than recorded sends its frames late") {
    spit(dir.file("dns.sidecar"), sidecar_text(1,
                                               "client = resolve tapir.test via 10.0.0.1 at "
                                               "0.120000 expect 10.0.0.42\n"));
    const auto g = load_fixture(pcap);
    const auto w = check_replay(g, run_replay(g), std::nullopt);
    INFO(w.report);
    CHECK_FALSE(w.pass);
    CHECK(contains(w.report, "time"));
  }
  SECTION("without the client the replay sends only the announcement") {
    spit(dir.file("dns.sidecar"), sidecar_text(1));
    const auto g = load_fixture(pcap);
    const auto w = check_replay(g, run_replay(g), std::nullopt);
    INFO(w.report);
    CHECK_FALSE(w.pass);
    CHECK(contains(w.report, "the replay did not send it"));
  }
}

TEST_CASE("replay client: a silent nameserver replays to the same retransmissions and EAI_AGAIN",
          "[replay][client]") {
  TempDir dir;
  auto silent = [](const DnsMessage&) { return std::optional<DnsMessage>{}; };
  const auto pcap = record_resolve(dir, "silent", silent, 3, kClient + " expect EAI_AGAIN");
  const auto f = load_fixture(pcap);
  const auto r = run_replay(f);
  INFO(r.trace);
  // Announcement, ARP request, three queries 2 s apart; the recording ends with the last
  // query, and replay runs the client on until it gives up, as tapir resolve did.
  // The attempts' deadlines count from the client's start, with the announcement.
  REQUIRE(r.sent.size() == 5);
  const Instant t0 = r.sent[0].time;
  CHECK(r.sent[2].time - t0 == kKernelDelay);  // the first query waited for ARP
  CHECK(r.sent[3].time - t0 == std::chrono::seconds(2));
  CHECK(r.sent[4].time - t0 == std::chrono::seconds(4));
  REQUIRE(r.client);
  REQUIRE(r.client->answer);
  CHECK(dns::to_string(*r.client->answer) == "EAI_AGAIN");
  CHECK(*r.client->at - t0 == std::chrono::seconds(6));
  CHECK(contains(r.trace, "client: resolve tapir.test via 10.0.0.1 -> EAI_AGAIN at 6.000000\n"));
  const auto v = check_replay(f, r, r.trace);
  INFO(v.report);
  CHECK(v.pass);
}

TEST_CASE("replay client: an NXDOMAIN answer is checked as an EAI error", "[replay][client]") {
  TempDir dir;
  auto nxdomain = [](const DnsMessage& q) {
    auto r = answers(q);
    r->answers.clear();
    r->rcode = wire::dns::Rcode::NxDomain;
    return r;
  };
  const auto pcap = record_resolve(dir, "nx", nxdomain, 1, kClient + " expect EAI_NONAME");
  const auto f = load_fixture(pcap);
  const auto v = check_replay(f, run_replay(f), std::nullopt);
  INFO(v.report);
  CHECK(v.pass);
  spit(dir.file("nx.sidecar"), sidecar_text(1, kClient + " expect 10.0.0.42\n"));
  const auto g = load_fixture(pcap);
  const auto w = check_replay(g, run_replay(g), std::nullopt);
  INFO(w.report);
  CHECK_FALSE(w.pass);
  CHECK(contains(w.report, "answered EAI_NONAME, expected 10.0.0.42"));
}
