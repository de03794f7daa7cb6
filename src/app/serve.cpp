// `tapir serve`: bring the stack up on a TAP and serve until SIGINT/SIGTERM.
#include "app/commands.hpp"

#include <csignal>
#include <cstdio>

#include "app/control.hpp"
#include "app/event_loop.hpp"
#include "app/services.hpp"
#include "app/stack_options.hpp"
#include "time/steady_clock.hpp"
#include "util/log.hpp"

namespace tapir::app {

namespace {
std::vector<FlagSpec> serve_specs() {
  auto specs = stack_flag_specs();
  specs.insert(specs.end() - 1,
               {"--services", "LIST",
                "services to run, comma-separated: echo,discard,daytime,chargen,http"});
  specs.insert(specs.end() - 1,
               {"--http-root", "DIR", "directory the http service serves (default: current)"});
  specs.insert(
      specs.end() - 1,
      {"--control", "PATH", "control socket for tapir ss/stats/arp (default /run/tapir/TAP.sock)"});
  return specs;
}
constexpr std::string_view kSynopsis = "[OPTIONS]";
constexpr std::string_view kDescription =
    "Runs the stack on a TAP interface until SIGINT or SIGTERM: it answers ARP and ping,\n"
    "and serves the requested services.";
}  // namespace

int cmd_serve(int argc, char** argv) {
  auto specs = serve_specs();
  Args args(specs, argc, argv, 2);
  if (args.has("--help")) {
    std::fputs(usage_text("serve", kSynopsis, kDescription, specs).c_str(), stdout);
    return 0;
  }
  if (!args.positional().empty()) {
    throw UsageError("unexpected argument '" + args.positional().front() + "' (see --help)");
  }
  StackSetup setup = parse_stack_flags(args);
  auto service_names = parse_services_flag(args.get_or("--services", ""));
  apply_log_level(setup.log_level);
  SteadyClock clock;
  DeviceChain devices = open_devices(setup, &clock);
  Stack stack(devices.top(), setup.config);
  devices.attach(stack);
  EventLoop loop(stack, devices.top(), clock);
  ControlServer control(args.get_or("--control", default_control_path(setup.tap.name)), stack,
                        loop);
  std::fputs(devices.capture_banner().c_str(), stdout);
  ServiceHost services(stack);
  ServiceOptions service_options{.http_root = args.get_or("--http-root", "."),
                                 .seed = setup.config.seed};
  for (const auto& line : start_services(services, service_names, service_options)) {
    std::puts(line.c_str());
  }
  loop.on_tick([&](Instant now) {
    services.dispatch(now);
    return services.next_deadline();
  });
  std::printf("tapir: serving on %s: %s mac %s mtu %zu\n", devices.tap->name().c_str(),
              setup.config.address.to_string().c_str(), setup.config.mac.to_string().c_str(),
              stack.config().mtu);
  std::fflush(stdout);
  int sig = loop.run();
  devices.flush_all(clock.now());
  std::printf("tapir: %s, shutting down\n", sig == SIGINT ? "interrupted" : "terminated");
  return 0;
}

}  // namespace tapir::app
