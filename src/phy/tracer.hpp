// Tracer: a decorator that prints every frame as it passes, "<- " for received and "-> " for
// transmitted, followed by the one-line decode of wire::format_frame (smoltcp's phy/tracer.rs
// is the model). Lines go to the `phy` logger at trace level and, when given, to a sink: the
// CLI's --trace prints them coloured by direction.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "tapir/device.hpp"
#include "wire/common.hpp"

namespace tapir::phy {

// Receives each trace line ("<- ARP who-has ..."); `outgoing` is true for transmitted frames.
using TraceSink = std::function<void(std::string_view line, bool outgoing)>;

class Tracer final : public Device {
 public:
  // `mode` decides whether the decoder checks checksums (Ignore when the device offloads them).
  explicit Tracer(Device& inner, TraceSink sink = {},
                  wire::ChecksumMode mode = wire::ChecksumMode::Verify);

  DeviceCaps caps() const override { return without_tso(inner_.caps()); }
  RxInfo last_rx_info() const override { return inner_.last_rx_info(); }
  std::optional<Bytes> receive(Instant now) override;
  // Traces the frame after the wrapped device took it; a refused frame's line ends in
  // " (refused: EAGAIN)" or the like.
  Errno transmit(Bytes frame, Instant now) override;
  // Frames pass through unchanged: the stack may build them in the inner device's buffer.
  MutBytes tx_slot(std::size_t len) override { return inner_.tx_slot(len); }
  void flush(Instant now) override { inner_.flush(now); }
  int wait_fd() const override { return inner_.wait_fd(); }
  std::optional<Instant> next_deadline() const override { return inner_.next_deadline(); }

 private:
  void trace(Bytes frame, bool outgoing, Errno result);

  Device& inner_;
  TraceSink sink_;
  wire::ChecksumMode mode_;
};

}  // namespace tapir::phy
