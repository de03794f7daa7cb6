// A stack brought up on a TAP for the length of one command: the shared stack flags
// parsed, the device chain opened (TAP + capture + fault injection), the stack and its run
// loop built. serve, ping, nc, get and resolve all start this way.
#pragma once

#include <memory>

#include "app/event_loop.hpp"
#include "app/stack_options.hpp"
#include "time/steady_clock.hpp"

namespace tapir::app {

struct Session {
  explicit Session(const Args& args);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  StackSetup setup;
  SteadyClock clock;
  DeviceChain devices;
  std::unique_ptr<Stack> stack;
  std::unique_ptr<EventLoop> loop;
};

}  // namespace tapir::app
