// One spdlog logger per subsystem (STYLE.md §9): phy, eth, arp, ip, icmp, udp, tcp, sock, app.
// Normal events log at trace, drops and state changes at debug, lifecycle at info.
// Use SPDLOG_LOGGER_TRACE/DEBUG so that release builds compile trace lines out.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

// SPDLOG_LOGGER_DEBUG evaluates its arguments before the logger looks at its level, so an
// argument like addr.to_string() builds a std::string for every dropped frame even when
// nothing is printed. These check the level first: use them on per-frame paths whenever an
// argument does work (docs/hot-path.md). Lines above SPDLOG_ACTIVE_LEVEL still compile out.
#define TAPIR_LOG_DEBUG(logger, ...)                                                          \
  do {                                                                                        \
    if ((logger)->should_log(spdlog::level::debug)) SPDLOG_LOGGER_DEBUG(logger, __VA_ARGS__); \
  } while (false)
#define TAPIR_LOG_TRACE(logger, ...)                                                          \
  do {                                                                                        \
    if ((logger)->should_log(spdlog::level::trace)) SPDLOG_LOGGER_TRACE(logger, __VA_ARGS__); \
  } while (false)

namespace tapir::log {

// The named logger, created on first use with the level set by set_level().
spdlog::logger& get(std::string_view name);
// Sets the level of every tapir logger (and of those created later).
void set_level(spdlog::level::level_enum level);
// Replaces the sink of every tapir logger (tests route logs to a ring buffer).
void set_sink(std::shared_ptr<spdlog::sinks::sink> sink);

}  // namespace tapir::log
