// Helpers for the replay suite: a private temp directory, and a recorder that makes a
// fixture the way `tapir serve --pcap` does -- a stack on a PcapWriter over a scripted peer
// (QueueDevice), polled when a peer frame arrives and at every stack deadline -- so that
// the engine can be tested on conversations whose every byte the test controls.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "app/replay.hpp"
#include "phy/pcap_writer.hpp"
#include "phy/queue_device.hpp"
#include "support/frames.hpp"
#include "wire/icmpv4.hpp"

namespace tapir::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/tapir-replay-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

inline const MacAddr kStackMac{{0x02, 0, 0, 0, 0, 0x02}};
inline const MacAddr kKernelMac{{0x02, 0, 0, 0, 0, 0x01}};
inline const Ipv4Addr kStackIp = Ipv4Addr::from_octets(10, 0, 0, 2);
inline const Ipv4Addr kKernelIp = Ipv4Addr::from_octets(10, 0, 0, 1);
// The wall time of the recorded stack's Instant 0 (the sidecar's clock_origin).
inline constexpr std::int64_t kOriginUs = 1'700'000'000'000'000;

struct PeerFrame {
  Instant at;
  Frame bytes;
};

inline StackConfig stack_config(std::uint64_t seed = 1) {
  StackConfig c;
  c.mac = kStackMac;
  c.address = {kStackIp, 24};
  c.seed = seed;
  return c;
}

inline std::string sidecar_text(std::uint64_t seed, const std::string& extra = "") {
  return "# written by the replay tests\nmac = 02:00:00:00:00:02\nip = 10.0.0.2/24\n"
         "mtu = 1500\nseed = " +
         std::to_string(seed) + "\npeer = 02:00:00:00:00:01\nclock_origin = 1700000000.000000\n" +
         extra;
}

// Records NAME.pcap and NAME.sidecar in `dir`: the stack starts at `start`, the peer's frames
// arrive at their instants, and the run ends at `end`. `services` runs as `tapir serve`
// runs them.
inline std::string record(const TempDir& dir, const std::string& name,
                          const std::vector<PeerFrame>& peer, Instant start, Instant end,
                          std::uint64_t seed = 1, const std::vector<std::string>& services = {},
                          const std::string& sidecar_extra = "") {
  auto pcap = dir.file(name + ".pcap");
  {
    ManualClock clock(start);
    phy::QueueDevice dev;
    phy::PcapWriter writer(dev, pcap, Duration{kOriginUs});
    Stack stack(writer, stack_config(seed));
    app::ServiceTick tick;
    if (!services.empty()) tick = app::serve_services()(services, stack);
    std::optional<Instant> app_due;
    auto poll = [&](Instant t) {
      clock.set(t);
      stack.poll(t);
      app_due = tick ? tick(t) : std::nullopt;
    };
    poll(start);
    std::size_t next = 0;
    for (int guard = 0; guard < 100000; ++guard) {
      auto due = earliest(stack.next_deadline(), app_due);
      std::optional<Instant> arrival;
      if (next < peer.size()) arrival = peer[next].at;
      auto t = earliest(due, arrival);
      if (!t || *t > end) break;
      if (arrival && *t == *arrival) dev.inject(peer[next++].bytes);
      poll(std::max(*t, clock.now()));
    }
    (void)dev.take_transmitted();
  }
  std::string extra = sidecar_extra;
  if (!services.empty()) {
    extra += "services = ";
    for (std::size_t i = 0; i < services.size(); ++i) extra += (i ? "," : "") + services[i];
    extra += "\n";
  }
  spit(dir.file(name + ".sidecar"), sidecar_text(seed, extra));
  return pcap;
}

// The kernel's side of a ping: ARP request for the stack, then an echo request.
inline std::vector<PeerFrame> ping_conversation(Instant t0, std::size_t data_len = 56) {
  wire::ArpRepr who{wire::ArpOp::Request, kKernelMac, kKernelIp, MacAddr{}, kStackIp};
  std::vector<std::byte> data(data_len, std::byte{0x5a});
  wire::Ipv4Repr ip;
  ip.src = kKernelIp;
  ip.dst = kStackIp;
  ip.protocol = wire::IpProto::Icmp;
  ip.ttl = 64;
  ip.ident = 0x4242;
  return {
      {t0, arp_frame(MacAddr::broadcast(), who)},
      {t0 + std::chrono::microseconds(120),
       ipv4_frame(kKernelMac, kStackMac, ip, icmp_message(8, 0x77, 1, data))},
  };
}

inline app::ReplayResult replay(const std::string& pcap) {
  return app::run_replay(app::load_fixture(pcap));
}

}  // namespace tapir::test
