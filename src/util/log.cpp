#include "util/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <map>
#include <mutex>
#include <string>

namespace tapir::log {

namespace {
struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  std::shared_ptr<spdlog::sinks::sink> sink =
      std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::warn;
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

spdlog::logger& get(std::string_view name) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.loggers.find(name);
  if (it == r.loggers.end()) {
    auto logger = std::make_shared<spdlog::logger>(std::string(name), r.sink);
    logger->set_level(r.level);
    logger->set_pattern("%H:%M:%S.%f %^%-5l%$ %-4n %v");
    it = r.loggers.emplace(std::string(name), std::move(logger)).first;
  }
  return *it->second;
}

void set_level(spdlog::level::level_enum level) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.level = level;
  for (auto& [_, l] : r.loggers) l->set_level(level);
}

void set_sink(std::shared_ptr<spdlog::sinks::sink> sink) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.sink = std::move(sink);
  for (auto& [_, l] : r.loggers) l->sinks() = {r.sink};
}

}  // namespace tapir::log
