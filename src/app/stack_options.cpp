#include "app/stack_options.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "app/annotator.hpp"
#include "phy/pcap_writer.hpp"
#include "phy/tracer.hpp"
#include "time/steady_clock.hpp"
#include "util/log.hpp"

namespace tapir::app {

const std::vector<FlagSpec>& stack_flag_specs() {
  static const std::vector<FlagSpec> specs = {
      {"--tap", "NAME", "TAP interface to attach to, created if missing (default tap0)"},
      {"--ip", "ADDR/LEN", "the stack's address and prefix (default 10.0.0.2/24)"},
      {"--gateway", "ADDR", "default gateway for off-link destinations (default: none)"},
      {"--mac", "MAC", "the stack's MAC (default 02:00:00:00:00:02, locally administered)"},
      {"--mtu", "BYTES", "set the TAP's MTU before starting (default: keep the TAP's)"},
      {"--offload", "", "TAP checksum and TCP segmentation offload (falls back when refused)"},
      {"--seed", "N", "seed of every random choice: ISNs, ports, IP IDs (default 1)"},
      {"--congestion", "ALGO", "TCP congestion control: newreno or cubic (default newreno)"},
      {"--max-sockets", "N", "size of the socket table: EMFILE beyond N (default 1024)"},
      {"--log-level", "LEVEL", "trace, debug, info, warn, error or off (default warn)"},
      {"--pcap", "FILE", "capture every frame in and out to FILE (pcap, for Wireshark/replay)"},
      {"--pcapng", "FILE", "capture to FILE as pcapng, each packet commented with its reason"},
      {"--trace", "", "print every frame in (<-) and out (->) as one decoded line"},
      {"--drop-pct", "P", "drop P% of frames, both directions (seeded by --seed)"},
      {"--dup-pct", "P", "duplicate P% of frames, both directions"},
      {"--reorder-pct", "P", "hold back P% of frames behind the next one, both directions"},
      {"--corrupt-pct", "P", "flip one random bit in P% of frames, both directions"},
      {"--help", "", "show this help"},
  };
  return specs;
}

namespace {

void parse_capture_flags(const Args& args, StackSetup& s) {
  if (auto v = args.get("--pcap")) {
    if (v->empty()) throw UsageError("--pcap: expected a file name");
    s.pcap_path = *v;
  }
  if (auto v = args.get("--pcapng")) {
    if (v->empty()) throw UsageError("--pcapng: expected a file name");
    if (s.pcap_path == *v) throw UsageError("--pcapng: '" + *v + "' is also the --pcap file");
    s.pcapng_path = *v;
  }
  s.trace = args.has("--trace");
  phy::FaultConfig f;
  if (auto v = args.get("--drop-pct")) f.drop_pct = parse_percent_flag("--drop-pct", *v);
  if (auto v = args.get("--dup-pct")) f.dup_pct = parse_percent_flag("--dup-pct", *v);
  if (auto v = args.get("--reorder-pct")) f.reorder_pct = parse_percent_flag("--reorder-pct", *v);
  if (auto v = args.get("--corrupt-pct")) f.corrupt_pct = parse_percent_flag("--corrupt-pct", *v);
  if (f.drop_pct > 0 || f.dup_pct > 0 || f.reorder_pct > 0 || f.corrupt_pct > 0) {
    s.faults = phy::FaultInjectorConfig::both(s.config.seed, f);
  }
}

// --trace: one line per frame on stdout, received in cyan and sent in yellow on a terminal.
void print_trace_line(std::string_view line, bool outgoing) {
  static const bool colour = ::isatty(STDOUT_FILENO) == 1;
  if (colour) std::fputs(outgoing ? "\033[33m" : "\033[36m", stdout);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputs(colour ? "\033[0m\n" : "\n", stdout);
  std::fflush(stdout);
}

std::string seconds_text(std::int64_t us) {
  return std::to_string(us / 1'000'000) + "." + fmt::format("{:06}", us % 1'000'000);
}

}  // namespace

StackSetup parse_stack_flags(const Args& args) {
  StackSetup s;
  if (auto v = args.get("--tap")) {
    try {
      phy::TapDevice::validate_name(*v);
    } catch (const std::exception& e) {
      throw UsageError(std::string("--tap: ") + e.what());
    }
    s.tap.name = *v;
  }
  if (auto v = args.get("--ip")) {
    s.config.address = parse_cidr_flag("--ip", *v);
    auto a = s.config.address.addr;
    if (a.is_unspecified() || a.is_multicast() || a.is_broadcast() ||
        s.config.address.directed_broadcast() == a || s.config.address.prefix_len == 0) {
      throw UsageError(
          "--ip: invalid value '" + *v +
          "': expected a unicast host address with a prefix of 1..32, like 10.0.0.2/24");
    }
  }
  if (auto v = args.get("--gateway")) {
    auto gw = parse_ipv4_flag("--gateway", *v);
    if (!s.config.address.contains(gw) || gw == s.config.address.addr) {
      throw UsageError("--gateway: invalid value '" + *v +
                       "': the gateway must be another host on " + s.config.address.to_string());
    }
    s.config.gateway = gw;
  }
  if (auto v = args.get("--mac")) s.config.mac = parse_mac_flag("--mac", *v);
  if (auto v = args.get("--mtu")) s.tap.mtu = parse_uint_flag("--mtu", *v, 576, 9000);
  s.tap.offload = args.has("--offload");
  if (auto v = args.get("--seed")) s.config.seed = parse_uint_flag("--seed", *v, 0, UINT64_MAX);
  if (auto v = args.get("--congestion")) {
    // tapir's own names only; TCP_CONGESTION also takes Linux's "reno".
    if (*v != "newreno" && *v != "cubic") {
      throw UsageError("--congestion: invalid value '" + *v + "': expected newreno or cubic");
    }
    s.config.tcp.congestion = *congestion_from_name(*v);
  }
  if (auto v = args.get("--max-sockets")) {
    s.config.sockets.max_sockets =
        static_cast<int>(parse_uint_flag("--max-sockets", *v, 1, 4000000));
  }
  if (auto v = args.get("--log-level")) {
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
    if (std::find(std::begin(kLevels), std::end(kLevels), *v) == std::end(kLevels)) {
      throw UsageError("--log-level: invalid value '" + *v +
                       "': expected trace, debug, info, warn, error or off");
    }
    s.log_level = *v;
  }
  parse_capture_flags(args, s);
  return s;
}

void DeviceChain::flush_all(Instant now) { top().flush(now); }

DeviceChain open_devices(const StackSetup& setup, const Clock* clock) {
  DeviceChain chain;
  chain.tap = std::make_unique<phy::TapDevice>(setup.tap);
  SteadyClock local;
  const Clock& c = clock ? *clock : local;
  const auto wall_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  chain.clock_origin_us = wall_us - c.now().micros();
  const Duration offset{chain.clock_origin_us};
  auto wrap = [&chain](std::unique_ptr<phy::Device> d) {
    chain.decorators.push_back(std::move(d));
  };
  if (setup.pcap_path) {
    wrap(std::make_unique<phy::PcapWriter>(chain.top(), *setup.pcap_path, offset));
    chain.captures.push_back(*setup.pcap_path);
  }
  if (setup.pcapng_path) {
    auto w = std::make_unique<phy::PcapngWriter>(chain.top(), *setup.pcapng_path, offset);
    chain.pcapng = w.get();
    wrap(std::move(w));
    chain.captures.push_back(*setup.pcapng_path);
  }
  if (setup.trace) wrap(std::make_unique<phy::Tracer>(chain.top(), print_trace_line));
  if (setup.faults) wrap(std::make_unique<phy::FaultInjector>(chain.top(), *setup.faults));
  return chain;
}

void DeviceChain::attach(const Stack& stack) {
  if (pcapng == nullptr) return;
  annotator = std::make_unique<StatsAnnotator>(stack.stats());
  pcapng->set_annotator(annotator.get());
}

std::string DeviceChain::capture_banner() const {
  std::string out;
  for (const auto& path : captures) {
    out +=
        "tapir: capturing to " + path + " (clock_origin = " + seconds_text(clock_origin_us) + ")\n";
  }
  return out;
}

void apply_log_level(std::string_view level) {
  log::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace tapir::app
