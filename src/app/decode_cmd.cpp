// `tapir decode CAPTURE`: tcpdump-like listing of a capture through tapir's own parsers, one
// line per frame (wire::format_frame), or every field with -v (format_frame_verbose).
#include <fmt/format.h>

#include <cstdio>
#include <ctime>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "phy/pcap_reader.hpp"
#include "wire/format.hpp"

namespace tapir::app {

namespace {

const std::vector<FlagSpec>& decode_specs() {
  static const std::vector<FlagSpec> specs = {
      {"-v", "", "print every header field of every frame"},
      {"--absolute", "", "print UTC dates and times instead of seconds since the first frame"},
      {"--help", "", "show this help"},
  };
  return specs;
}
constexpr std::string_view kSynopsis = "[OPTIONS] CAPTURE";
constexpr std::string_view kDescription =
    "Lists an Ethernet capture (pcap or pcapng) one frame per line, decoded by tapir's own\n"
    "parsers: frame number, time, and the decode (a malformed frame says which layer failed\n"
    "and why).";

std::string timestamp(std::int64_t us, std::int64_t first_us, bool absolute) {
  if (!absolute) {
    const auto d = us - first_us;
    return fmt::format("{:>4}.{:06}", d / 1'000'000, d % 1'000'000);
  }
  const std::time_t sec = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  ::gmtime_r(&sec, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:06}", date, us % 1'000'000);
}

}  // namespace

int cmd_decode(int argc, char** argv) {
  const auto& specs = decode_specs();
  Args args(specs, argc, argv, 2);
  if (args.has("--help")) {
    std::fputs(usage_text("decode", kSynopsis, kDescription, specs).c_str(), stdout);
    return 0;
  }
  if (args.positional().size() != 1) throw UsageError("expected one capture file (see --help)");
  const auto cap = phy::read_capture(args.positional().front());
  const bool verbose = args.has("-v");
  const bool absolute = args.has("--absolute");
  std::string out;
  for (std::size_t i = 0; i < cap.records.size(); ++i) {
    const auto& r = cap.records[i];
    out = fmt::format("{:>5} {} {}", i + 1, timestamp(r.time_us, cap.records[0].time_us, absolute),
                      wire::format_frame(r.bytes));
    if (!r.complete())
      out += fmt::format(" [captured {} of {} octets]", r.bytes.size(), r.orig_len);
    out += '\n';
    if (verbose) {
      const auto fields = wire::format_frame_verbose(r.bytes);
      std::string_view rest = fields;
      while (!rest.empty()) {
        auto nl = rest.find('\n');
        out += fmt::format("      {}\n", rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
      }
    }
    std::fputs(out.c_str(), stdout);
  }
  return 0;
}

}  // namespace tapir::app
