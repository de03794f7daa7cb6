// `tapir resolve NAME --nameserver ADDR`: brings the stack up on a TAP, asks the
// nameserver for NAME's A records through tapir's own UDP (the Resolver over the blocking
// facade), prints them like host(1) and exits.
#include <cstdio>

#include "app/commands.hpp"
#include "app/stack_options.hpp"
#include "tapir/bsd.hpp"
#include "tapir/resolver.hpp"
#include "time/steady_clock.hpp"

namespace tapir::app {

namespace {
std::vector<FlagSpec> resolve_specs() {
  auto specs = stack_flag_specs();
  specs.insert(
      specs.begin(),
      {
          {"--nameserver", "ADDR", "the DNS server to ask (required unless NAME is in --hosts)"},
          {"--hosts", "FILE", "a hosts(5) file consulted before DNS (default: none)"},
          {"--timeout", "MS", "wait per query attempt, in milliseconds (default 2000)"},
          {"--attempts", "N", "queries sent before giving up (default 3)"},
      });
  return specs;
}
constexpr std::string_view kSynopsis = "NAME [OPTIONS]";
constexpr std::string_view kDescription =
    "Looks NAME up (numeric, hosts table, then DNS A records over tapir's UDP) and prints\n"
    "its addresses. Exit status 1 when the name does not resolve.";
}  // namespace

int cmd_resolve(int argc, char** argv) {
  auto specs = resolve_specs();
  Args args(specs, argc, argv, 2);
  if (args.has("--help")) {
    std::fputs(usage_text("resolve", kSynopsis, kDescription, specs).c_str(), stdout);
    return 0;
  }
  if (args.positional().size() != 1) {
    throw UsageError("expected exactly one NAME to resolve (see --help)");
  }
  const std::string name = args.positional().front();
  ResolverConfig rc;
  if (auto v = args.get("--nameserver")) rc.nameserver = parse_ipv4_flag("--nameserver", *v);
  if (auto v = args.get("--hosts")) rc.hosts_path = *v;
  if (auto v = args.get("--timeout")) {
    rc.timeout = std::chrono::milliseconds(parse_uint_flag("--timeout", *v, 1, 600000));
  }
  if (auto v = args.get("--attempts")) {
    rc.attempts = static_cast<int>(parse_uint_flag("--attempts", *v, 1, 100));
  }
  StackSetup setup = parse_stack_flags(args);
  rc.seed = setup.config.seed;
  apply_log_level(setup.log_level);
  Resolver resolver(rc);
  SteadyClock clock;
  DeviceChain devices = open_devices(setup, &clock);
  Runtime runtime(devices.top(), setup.config);
  bsd::ScopedUse use(runtime);
  auto addrs = resolver.resolve(name);
  if (!addrs) {
    std::fprintf(stderr, "tapir resolve: %s: %s\n", name.c_str(), ::gai_strerror(addrs.error()));
    return 1;
  }
  for (auto a : *addrs) std::printf("%s has address %s\n", name.c_str(), a.to_string().c_str());
  return 0;
}

}  // namespace tapir::app
