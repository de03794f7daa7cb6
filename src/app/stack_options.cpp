#include "app/stack_options.hpp"

#include "util/log.hpp"

namespace tapir::app {

const std::vector<FlagSpec>& stack_flag_specs() {
  static const std::vector<FlagSpec> specs = {
      {"--tap", "NAME", "TAP interface to attach to, created if missing (default tap0)"},
      {"--ip", "ADDR/LEN", "the stack's address and prefix (default 10.0.0.2/24)"},
      {"--gateway", "ADDR", "default gateway for off-link destinations (default: none)"},
      {"--mac", "MAC", "the stack's MAC (default 02:00:00:00:00:02, locally administered)"},
      {"--mtu", "BYTES", "set the TAP's MTU before starting (default: keep the TAP's)"},
      {"--seed", "N", "seed of every random choice: ISNs, ports, IP IDs (default 1)"},
      {"--log-level", "LEVEL", "trace, debug, info, warn, error or off (default warn)"},
      {"--help", "", "show this help"},
  };
  return specs;
}

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
  if (auto v = args.get("--seed")) s.config.seed = parse_uint_flag("--seed", *v, 0, UINT64_MAX);
  if (auto v = args.get("--log-level")) {
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
    if (std::find(std::begin(kLevels), std::end(kLevels), *v) == std::end(kLevels)) {
      throw UsageError("--log-level: invalid value '" + *v +
                       "': expected trace, debug, info, warn, error or off");
    }
    s.log_level = *v;
  }
  return s;
}

void DeviceChain::flush_all(Instant now) { top().flush(now); }

DeviceChain open_devices(const StackSetup& setup) {
  DeviceChain chain;
  chain.tap = std::make_unique<phy::TapDevice>(setup.tap);
  return chain;
}

void apply_log_level(std::string_view level) {
  log::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace tapir::app
