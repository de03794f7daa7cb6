#include "app/session.hpp"

namespace tapir::app {

Session::Session(const Args& args) : setup(parse_stack_flags(args)) {
  apply_log_level(setup.log_level);
  devices = open_devices(setup, &clock);
  stack = std::make_unique<Stack>(devices.top(), setup.config);
  devices.attach(*stack);
  loop = std::make_unique<EventLoop>(*stack, devices.top(), clock);
}

// The capture is flushed whatever way the command ends.
Session::~Session() { devices.flush_all(clock.now()); }

}  // namespace tapir::app
