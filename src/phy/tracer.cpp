#include "phy/tracer.hpp"

#include <string>
#include <utility>

#include "util/log.hpp"
#include "wire/format.hpp"

namespace tapir::phy {

namespace {
spdlog::logger& phy_log() {
  static spdlog::logger& l = log::get("phy");
  return l;
}
}  // namespace

Tracer::Tracer(Device& inner, TraceSink sink, wire::ChecksumMode mode)
    : inner_(inner), sink_(std::move(sink)), mode_(mode) {}

std::optional<Bytes> Tracer::receive(Instant now) {
  auto frame = inner_.receive(now);
  if (frame) trace(*frame, false, Errno::Ok);
  return frame;
}

Errno Tracer::transmit(Bytes frame, Instant now) {
  const Errno e = inner_.transmit(frame, now);
  trace(frame, true, e);
  return e;
}

void Tracer::trace(Bytes frame, bool outgoing, Errno result) {
  auto& log = phy_log();
  // The level is checked at run time rather than through SPDLOG_LOGGER_TRACE: tracing frames
  // is this decorator's whole job, and decoding is skipped when nobody would see the line.
  const bool to_log = log.should_log(spdlog::level::trace);
  if (!to_log && !sink_) return;
  std::string line = outgoing ? "-> " : "<- ";
  line += wire::format_frame(frame, mode_);
  if (result != Errno::Ok) {
    line += " (refused: ";
    line += to_string(result);
    line += ')';
  }
  if (to_log) log.trace("{}", line);
  if (sink_) sink_(line, outgoing);
}

}  // namespace tapir::phy
