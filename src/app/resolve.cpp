// `tapir resolve NAME --nameserver ADDR`: a numeric NAME or one in --hosts is answered at
// once; otherwise it brings the stack up on a TAP, asks the nameserver for NAME's A records
// through tapir's own UDP (dns::Client in the stack's thread, app/resolve_task.hpp), prints
// them like host(1) and exits. With --pcap and --seed the recording is what replay
// reproduces from a sidecar's `client = resolve NAME via ADDR` (docs/replay.md).
#include <csignal>
#include <cstdio>

#include "app/commands.hpp"
#include "app/resolve_task.hpp"
#include "app/session.hpp"
#include "tapir/resolver.hpp"

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

int print(const std::string& name, const dns::Answer& addrs) {
  if (!addrs) {
    std::fprintf(stderr, "tapir resolve: %s: %s\n", name.c_str(), ::gai_strerror(addrs.error()));
    return 1;
  }
  for (auto a : *addrs) std::printf("%s has address %s\n", name.c_str(), a.to_string().c_str());
  return 0;
}
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
  const Resolver local(rc);
  if (auto addrs = local.resolve_local(name)) return print(name, *addrs);
  if (!rc.nameserver) return print(name, EAI_NONAME);

  Session s(args);
  std::fputs(s.devices.capture_banner().c_str(), stdout);
  std::fflush(stdout);
  ResolveTask task(*s.stack, name,
                   {.nameserver = *rc.nameserver,
                    .port = rc.port,
                    .timeout = rc.timeout,
                    .attempts = rc.attempts});
  s.loop->on_tick([&](Instant now) {
    auto due = task.tick(now);
    if (task.done()) s.loop->stop();
    return due;
  });
  const int sig = s.loop->run();
  if (!task.done()) {
    std::fprintf(stderr, "tapir resolve: %s: %s before an answer came\n", name.c_str(),
                 sig == SIGINT ? "interrupted" : "terminated");
    return 1;
  }
  return print(name, task.answer());
}

}  // namespace tapir::app
