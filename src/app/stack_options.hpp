// The options every command that runs a stack shares (--tap, --ip, --gateway, --mac, --mtu,
// --seed, --log-level, --pcap, fault injection), and the device chain they build:
//   FaultInjector( PcapWriter( Tracer( TapDevice ) ) )   (each layer only when asked for)
#pragma once

#include <memory>
#include <vector>

#include "app/args.hpp"
#include "phy/tap_device.hpp"
#include "tapir/stack_config.hpp"

namespace tapir::app {

const std::vector<FlagSpec>& stack_flag_specs();

struct StackSetup {
  StackConfig config;
  phy::TapConfig tap;
  std::optional<std::string> pcap_path;
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
};
DeviceChain open_devices(const StackSetup& setup);

// Sets every logger's level from a name (trace, debug, info, warn, error, off).
void apply_log_level(std::string_view level);

}  // namespace tapir::app
