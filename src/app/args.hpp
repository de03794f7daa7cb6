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
