// `tapir replay CAPTURE...`: replays fixtures (app/replay.hpp) and reports pass or fail with
// a diff. Exit 0 only when every fixture passes, 1 on a mismatch or a fixture that cannot be
// read, 2 on a usage error.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/replay.hpp"
#include "util/log.hpp"

namespace tapir::app {

namespace {

const std::vector<FlagSpec>& replay_specs() {
  static const std::vector<FlagSpec> specs = {
      {"--update-golden", "", "write NAME.trace from the replay (only if the frames match)"},
      {"--show", "", "print the replayed conversation (the trace) on stdout"},
      {"--pcapng", "FILE", "write the replayed conversation as pcapng, each packet commented"},
      {"--help", "", "show this help"},
  };
  return specs;
}
constexpr std::string_view kSynopsis = "[OPTIONS] CAPTURE.pcap...";
constexpr std::string_view kDescription =
    "Replays each capture's peer frames into a fresh stack configured from CAPTURE.sidecar,\n"
    "compares what the stack sends with what tapir sent in the recording (byte for byte, or\n"
    "by field where the sidecar's `ignore` says so) and the conversation with the golden\n"
    "trace CAPTURE.trace. Prints PASS or FAIL with a diff; see docs/replay.md.";

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Returns true when the fixture passes (or its golden trace was written).
bool replay_one(const std::string& path, bool update, bool show,
                const std::optional<std::string>& pcapng) {
  const Fixture f = load_fixture(path);
  const ReplayResult r = run_replay(f, {.services = serve_services(), .pcapng_path = pcapng});
  if (show) std::fputs(r.trace.c_str(), stdout);
  if (update) {
    const Verdict frames = check_replay(f, r, std::nullopt);
    if (!frames.pass) {
      std::fputs(frames.report.c_str(), stdout);
      std::printf("not writing %s: the replayed frames do not match the recording\n",
                  f.trace_path.c_str());
      return false;
    }
    std::ofstream out(f.trace_path, std::ios::binary | std::ios::trunc);
    out << r.trace;
    if (!out.flush()) throw FixtureError(f.trace_path + ": cannot write the golden trace");
    std::printf("wrote %s\n", f.trace_path.c_str());
    return true;
  }
  const auto golden = read_text(f.trace_path);
  const Verdict v = check_replay(f, r, golden);
  std::fputs(v.report.c_str(), stdout);
  if (!golden) {
    std::printf("  golden trace %s is missing: create it with scripts/regen-golden.sh\n",
                f.trace_path.c_str());
    return false;
  }
  return v.pass;
}

}  // namespace

int cmd_replay(int argc, char** argv) {
  const auto& specs = replay_specs();
  Args args(specs, argc, argv, 2);
  if (args.has("--help")) {
    std::fputs(usage_text("replay", kSynopsis, kDescription, specs).c_str(), stdout);
    return 0;
  }
  if (args.positional().empty()) throw UsageError("expected a capture file (see --help)");
  // The replayed stack's own logs would interleave with the report.
  log::set_level(spdlog::level::off);
  const auto pcapng = args.get("--pcapng");
  if (pcapng && args.positional().size() > 1) {
    throw UsageError("--pcapng: give one capture to replay, not " +
                     std::to_string(args.positional().size()));
  }
  bool all = true;
  for (const auto& path : args.positional()) {
    try {
      all = replay_one(path, args.has("--update-golden"), args.has("--show"), pcapng) && all;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tapir replay: %s\n", e.what());
      all = false;
    }
  }
  std::fflush(stdout);
  return all ? 0 : 1;
}

}  // namespace tapir::app
