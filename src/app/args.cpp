#include "app/args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace tapir::app {

namespace {
[[noreturn]] void bad(std::string_view flag, std::string_view value, std::string_view expected) {
  throw UsageError(std::string(flag) + ": invalid value '" + std::string(value) + "': expected " +
                   std::string(expected));
}
}  // namespace

std::uint64_t parse_uint_flag(std::string_view flag, std::string_view value, std::uint64_t min,
                              std::uint64_t max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc{} || p != value.data() + value.size() || v < min ||
      v > max) {
    bad(flag, value, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

double parse_percent_flag(std::string_view flag, std::string_view value) {
  std::string s(value);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < 0 || v > 100) {
    bad(flag, value, "a percentage from 0 to 100 (e.g. 2.5)");
  }
  return v;
}

Ipv4Cidr parse_cidr_flag(std::string_view flag, std::string_view value) {
  auto c = Ipv4Cidr::parse(value);
  if (!c) bad(flag, value, "an IPv4 address with prefix length, like 10.0.0.2/24");
  return *c;
}

Ipv4Addr parse_ipv4_flag(std::string_view flag, std::string_view value) {
  auto a = Ipv4Addr::parse(value);
  if (!a) bad(flag, value, "a dotted-quad IPv4 address, like 10.0.0.1");
  return *a;
}

MacAddr parse_mac_flag(std::string_view flag, std::string_view value) {
  auto m = MacAddr::parse(value);
  if (!m || m->is_multicast() || m->is_zero()) {
    bad(flag, value, "a unicast MAC address like 02:00:00:00:00:02");
  }
  return *m;
}

}  // namespace tapir::app

namespace tapir::app {

Args::Args(const std::vector<FlagSpec>& specs, int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
      if (arg == "--") {
        for (++i; i < argc; ++i) positional_.emplace_back(argv[i]);
        break;
      }
      positional_.emplace_back(arg);
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (auto eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const FlagSpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      throw UsageError("unknown option '" + std::string(name) + "' (see --help)");
    }
    if (spec->value.empty()) {
      if (inline_value) throw UsageError(std::string(name) + " takes no value");
      values_[std::string(name)] = "";
      continue;
    }
    if (inline_value) {
      values_[std::string(name)] = std::string(*inline_value);
    } else if (i + 1 < argc) {
      values_[std::string(name)] = argv[++i];
    } else {
      throw UsageError(std::string(name) + " needs a value: " + std::string(name) + " " +
                       std::string(spec->value));
    }
  }
}

std::optional<std::string> Args::get(std::string_view flag) const {
  auto it = values_.find(std::string(flag));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(std::string_view flag, std::string_view dflt) const {
  return get(flag).value_or(std::string(dflt));
}

std::string usage_text(std::string_view command, std::string_view synopsis,
                       std::string_view description, const std::vector<FlagSpec>& specs) {
  std::string out = "Usage: tapir " + std::string(command) + " " + std::string(synopsis) + "\n\n" +
                    std::string(description) + "\n\nOptions:\n";
  for (const auto& s : specs) {
    std::string left = "  " + std::string(s.name);
    if (!s.value.empty()) left += " " + std::string(s.value);
    if (left.size() < 26)
      left.resize(26, ' ');
    else
      left += "  ";
    out += left + std::string(s.help) + "\n";
  }
  return out;
}

}  // namespace tapir::app
