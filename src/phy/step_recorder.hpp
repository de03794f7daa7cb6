// StepRecorder: a decorator that cuts the stream of frames into *steps*, the units in which
// the stack makes its decisions, so that a capture can say why each frame was received or
// sent without any hook inside the protocol layers. Stack::poll() calls the device in a
// fixed order (src/stack/stack.cpp):
//
//   receive() -> frame 1   ... the stack handles frame 1, maybe transmit()s answers
//   receive() -> frame 2   ... frame 2 and its answers
//   receive() -> nullopt   (end of the receive loop) ... timers fire, maybe transmit()
//   flush()                (end of poll)             ... socket calls between polls
//
// Every receive() and flush() call therefore closes the step that was open and opens the
// next one: Received (one frame and whatever the stack sent while handling it), Timers (the
// frames sent after the receive loop) or Idle (frames sent outside poll(): the start-up
// announcement and socket calls made by applications between polls). A poll that drains a
// whole receive batch never calls receive() past it, so its timer output joins the batch's
// last frame; the device's rx_batch (64) makes that rare.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "tapir/device.hpp"

namespace tapir::phy {

enum class StepKind { Idle, Received, Timers };

struct StepFrame {
  Instant time;
  std::vector<std::byte> bytes;
};

struct Step {
  StepKind kind = StepKind::Idle;
  std::optional<StepFrame> rx;  // the frame received (Received steps only)
  std::vector<StepFrame> tx;    // frames the wrapped device accepted, in order
};

// Told when each step begins and ends. begin() is called once before the first step too.
class StepSink {
 public:
  virtual ~StepSink() = default;
  virtual void step_begin() = 0;
  // Called for every step, empty ones included (a sink comparing counters needs them).
  virtual void step_end(Step&& step) = 0;
};

class StepRecorder final : public Device {
 public:
  // `sink` must outlive the recorder; step_begin() is called from the constructor.
  StepRecorder(Device& inner, StepSink& sink);
  // Ends the step that is open, so that no frame is lost when the device goes away.
  ~StepRecorder() override;
  StepRecorder(const StepRecorder&) = delete;
  StepRecorder& operator=(const StepRecorder&) = delete;

  DeviceCaps caps() const override { return without_tso(inner_.caps()); }
  RxInfo last_rx_info() const override { return inner_.last_rx_info(); }
  std::optional<Bytes> receive(Instant now) override;
  Errno transmit(Bytes frame, Instant now) override;
  // Frames pass through unchanged: the stack may build them in the inner device's buffer.
  MutBytes tx_slot(std::size_t len) override { return inner_.tx_slot(len); }
  void flush(Instant now) override;
  int wait_fd() const override { return inner_.wait_fd(); }
  std::optional<Instant> next_deadline() const override { return inner_.next_deadline(); }

  // Ends the open step now (the next one is Idle). Safe to call more than once.
  void finish();

 private:
  void end_step(StepKind next);

  Device& inner_;
  StepSink& sink_;
  Step open_;
};

}  // namespace tapir::phy
