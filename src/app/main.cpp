// tapir: a userspace TCP/IP stack on a Linux TAP device.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "phy/common.hpp"

namespace {

struct Command {
  std::string_view name;
  int (*run)(int, char**);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"serve", tapir::app::cmd_serve, "run the stack on a TAP and serve until interrupted"},
    {"ping", tapir::app::cmd_ping, "ping a host from tapir's stack (like iputils ping)"},
    {"nc", tapir::app::cmd_nc,
     "TCP/UDP netcat over tapir's stack: stdin to the peer, peer to stdout"},
    {"get", tapir::app::cmd_get, "fetch an http:// URL over tapir's stack (body to stdout)"},
    {"ss", tapir::app::cmd_ss, "show the socket table of a running stack (like ss -tuan)"},
    {"stats", tapir::app::cmd_stats, "show every counter of a running stack (like netstat -s)"},
    {"arp", tapir::app::cmd_arp, "show the neighbour cache of a running stack (like ip neigh)"},
    {"replay", tapir::app::cmd_replay, "replay a recorded fixture (pcaps/) and diff the output"},
    {"decode", tapir::app::cmd_decode, "list a capture frame by frame through tapir's parsers"},
    {"resolve", tapir::app::cmd_resolve, "look a name up through tapir's DNS stub resolver"},
};

void print_help(std::FILE* out) {
  std::fputs("Usage: tapir COMMAND [OPTIONS]\n\nCommands:\n", out);
  for (const auto& c : kCommands) {
    std::fprintf(out, "  %-10s %.*s\n", std::string(c.name).c_str(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  }
  std::fputs("\nRun 'tapir COMMAND --help' for a command's options.\n", out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_help(stderr);
    return 2;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_help(stdout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (c.name != name) continue;
    try {
      return c.run(argc, argv);
    } catch (const tapir::app::UsageError& e) {
      std::fprintf(stderr, "tapir %s: %s\n", argv[1], e.what());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tapir %s: %s\n", argv[1], e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "tapir: unknown command '%s' (run 'tapir --help' for the list)\n", argv[1]);
  return 2;
}
