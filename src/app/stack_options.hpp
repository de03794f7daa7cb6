// The options every command that runs a stack shares (--tap, --ip, --gateway, --mac, --mtu,
// --seed, --congestion, --log-level, --pcap, --pcapng, --trace, fault injection), and the
// device chain they build, each layer only when asked for:
//   FaultInjector( Tracer( PcapngWriter( PcapWriter( TapDevice ) ) ) )
// The captures sit next to the TAP, so they record the wire as the kernel sees it; the
// fault injector is outermost, between the wire and the stack.
#pragma once

#include <memory>
#include <vector>

#include "app/args.hpp"
#include "phy/fault_injector.hpp"
#include "phy/pcapng_writer.hpp"
#include "phy/tap_device.hpp"
#include "tapir/stack.hpp"
#include "tapir/stack_config.hpp"

namespace tapir::app {

const std::vector<FlagSpec>& stack_flag_specs();

struct StackSetup {
  StackConfig config;
  phy::TapConfig tap;
  std::optional<std::string> pcap_path;
  std::optional<std::string> pcapng_path;
  std::optional<phy::FaultInjectorConfig> faults;  // set when any --*-pct flag is non-zero
  bool trace = false;
  std::string log_level = "warn";
};

// Validates every stack flag (UsageError names the flag, the value and what is expected).
StackSetup parse_stack_flags(const Args& args);

// Opens the TAP and wraps it in the requested decorators. The returned vector owns every
// layer; back() is the outermost device, the one to give the Stack.
struct DeviceChain {
  std::unique_ptr<phy::TapDevice> tap;
  std::vector<std::unique_ptr<phy::Device>> decorators;
  phy::Device& top() { return decorators.empty() ? *tap : *decorators.back(); }
  void flush_all(Instant now);

  // Capture files being written, and the wall time (µs since 1970) of the clock's Instant 0:
  // a capture's timestamps are Instants plus this offset (a replay sidecar's clock_origin).
  std::vector<std::string> captures;
  std::int64_t clock_origin_us = 0;
  phy::PcapngWriter* pcapng = nullptr;
  std::unique_ptr<phy::FrameAnnotator> annotator;
  // Lets the --pcapng comments name the stack's decisions (call once the Stack exists).
  void attach(const Stack& stack);
  // "capturing to FILE (clock_origin = S.US)" lines for the command to print; empty if none.
  std::string capture_banner() const;
};
// `clock` is the clock the stack will run on; capture timestamps are its Instants plus the
// wall-clock offset measured here. Without it, the offset is measured against a SteadyClock
// started now (a SteadyClock the caller starts just before or after agrees to microseconds).
DeviceChain open_devices(const StackSetup& setup, const Clock* clock = nullptr);

// Sets every logger's level from a name (trace, debug, info, warn, error, off).
void apply_log_level(std::string_view level);

}  // namespace tapir::app
