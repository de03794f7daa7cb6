#include "phy/step_recorder.hpp"

#include <utility>

namespace tapir::phy {

StepRecorder::StepRecorder(Device& inner, StepSink& sink) : inner_(inner), sink_(sink) {
  sink_.step_begin();
}

StepRecorder::~StepRecorder() { finish(); }

void StepRecorder::finish() {
  if (open_.rx || !open_.tx.empty()) end_step(StepKind::Idle);
}

void StepRecorder::end_step(StepKind next) {
  Step done = std::exchange(open_, Step{next, std::nullopt, {}});
  sink_.step_end(std::move(done));
  sink_.step_begin();
}

std::optional<Bytes> StepRecorder::receive(Instant now) {
  auto frame = inner_.receive(now);
  end_step(frame ? StepKind::Received : StepKind::Timers);
  if (frame) open_.rx = StepFrame{now, {frame->begin(), frame->end()}};
  return frame;
}

Errno StepRecorder::transmit(Bytes frame, Instant now) {
  const Errno e = inner_.transmit(frame, now);
  if (e == Errno::Ok) open_.tx.push_back(StepFrame{now, {frame.begin(), frame.end()}});
  return e;
}

void StepRecorder::flush(Instant now) {
  end_step(StepKind::Idle);
  inner_.flush(now);
}

}  // namespace tapir::phy
