#include "app/args.hpp"

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
  if (value.empty() || ec != std::errc{} || p != value.data() + value.size() || v < min || v > max) {
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
