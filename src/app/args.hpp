// Command-line argument helpers shared by every subcommand. A bad value raises UsageError
// with a message that names the flag, the value and what is expected (exit code 2).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tapir/address.hpp"

namespace tapir::app {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::uint64_t parse_uint_flag(std::string_view flag, std::string_view value, std::uint64_t min,
                              std::uint64_t max);
double parse_percent_flag(std::string_view flag, std::string_view value);
Ipv4Cidr parse_cidr_flag(std::string_view flag, std::string_view value);
Ipv4Addr parse_ipv4_flag(std::string_view flag, std::string_view value);
MacAddr parse_mac_flag(std::string_view flag, std::string_view value);

}  // namespace tapir::app

#include <map>
#include <vector>

namespace tapir::app {

struct FlagSpec {
  std::string_view name;   // "--tap" (or "-c")
  std::string_view value;  // metavariable ("NAME"); empty for a switch
  std::string_view help;
};

// Parsed command line of one subcommand: flags (with --flag VALUE or --flag=VALUE) and
// positional arguments, checked against the command's FlagSpec list.
class Args {
 public:
  Args(const std::vector<FlagSpec>& specs, int argc, char** argv, int first);
  bool has(std::string_view flag) const { return values_.contains(std::string(flag)); }
  std::optional<std::string> get(std::string_view flag) const;
  std::string get_or(std::string_view flag, std::string_view dflt) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// "Usage: tapir CMD ..." followed by one line per flag.
std::string usage_text(std::string_view command, std::string_view synopsis,
                       std::string_view description, const std::vector<FlagSpec>& specs);

}  // namespace tapir::app
