#include "app/annotator.hpp"

#include <catch2/catch.hpp>

#include "phy/queue_device.hpp"
#include "replay/replay_support.hpp"

using namespace tapir;
using namespace tapir::test;
using app::changed_counters;
using app::describe;

TEST_CASE("annotator: changed counters in declaration order with their deltas",
          "[replay][annotator]") {
  Stats before;
  Stats after;
  after.ipv4.rx_drop_bad_checksum = 1;
  after.eth.rx_frames = 3;
  after.icmp.tx_echo_replies = 2;
  const auto c = changed_counters(before, after);
  REQUIRE(c.size() == 3);
  CHECK(c[0].group == "eth");
  CHECK(c[0].name == "rx_frames");
  CHECK(c[0].delta == 3);
  CHECK(c[1].name == "rx_drop_bad_checksum");
  CHECK(c[2].name == "tx_echo_replies");
}

TEST_CASE("annotator: the decision's verb goes first", "[replay][annotator]") {
  CHECK(describe({"ipv4", "rx_drop_bad_checksum", "dropped: header checksum mismatch", 1}) ==
        "dropped: ipv4.rx_drop_bad_checksum (header checksum mismatch)");
  CHECK(describe({"icmp", "rx_echo_requests", "echo requests received", 1}) ==
        "icmp.rx_echo_requests (echo requests received)");
  CHECK(describe({"ipv4", "tx_fragments", "fragments sent", 3}) ==
        "ipv4.tx_fragments x3 (fragments sent)");
  CHECK(describe({"arp", "rx_conflict", "received a packet claiming our own IP address", 1}) ==
        "arp.rx_conflict (received a packet claiming our own IP address)");
}

TEST_CASE("annotator: notes of a received frame, its answer, and a timer", "[replay][annotator]") {
  std::vector<app::CounterChange> changes = {
      {"eth", "rx_frames", "frames received", 1},
      {"icmp", "rx_echo_requests", "echo requests received", 1},
      {"eth", "tx_frames", "frames sent", 1},
      {"icmp", "tx_echo_replies", "echo replies sent", 1},
  };
  phy::Step rx{phy::StepKind::Received, phy::StepFrame{}, {phy::StepFrame{}}};
  const auto n = app::explain_step(rx, changes, 7);
  CHECK(n.rx == "icmp.rx_echo_requests (echo requests received); sent #8");
  CHECK(n.tx == "for #7: icmp.tx_echo_replies (echo replies sent)");

  phy::Step silent{phy::StepKind::Received, phy::StepFrame{}, {}};
  const auto d =
      app::explain_step(silent,
                        {{"eth", "rx_frames", "frames received", 1},
                         {"eth", "rx_drop_vlan", "dropped: 802.1Q VLAN-tagged frame", 1}},
                        3);
  CHECK(d.rx == "dropped: eth.rx_drop_vlan (802.1Q VLAN-tagged frame)");
  CHECK(d.tx.empty());

  // Only totals changed: they are named rather than nothing.
  const auto t = app::explain_step(silent, {{"eth", "rx_frames", "frames received", 1}}, 1);
  CHECK(t.rx == "eth.rx_frames (frames received)");

  phy::Step timer{phy::StepKind::Timers, std::nullopt, {phy::StepFrame{}}};
  const auto r = app::explain_step(timer, {{"arp", "tx_requests", "requests sent", 1}}, 9);
  CHECK(r.tx == "timer: arp.tx_requests (requests sent)");
}

TEST_CASE("StatsAnnotator: follows a live stack through PcapngWriter", "[replay][annotator]") {
  TempDir dir;
  const auto path = dir.file("live.pcapng");
  phy::QueueDevice dev;
  {
    phy::PcapngWriter writer(dev, path);
    Stack stack(writer, stack_config());
    app::StatsAnnotator notes(stack.stats());
    writer.set_annotator(&notes);
    for (const auto& f : ping_conversation(Instant::from_millis(5))) {
      dev.inject(f.bytes);
      stack.poll(f.at);
    }
    writer.flush(Instant::from_millis(6));
  }
  const auto raw = slurp(path);
  CHECK(raw.find("arp.tx_gratuitous (gratuitous announcements sent)") != std::string::npos);
  CHECK(raw.find("arp.rx_requests (requests received); arp.cache_inserts") != std::string::npos);
  CHECK(raw.find("icmp.rx_echo_requests (echo requests received); sent #5") != std::string::npos);
  CHECK(raw.find("for #4: icmp.tx_echo_replies (echo replies sent)") != std::string::npos);
}
