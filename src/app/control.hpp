// Introspection of a running stack through a Unix control socket (`--control PATH`,
// default /run/tapir/<tap>.sock). A client (`tapir ss`, `tapir stats`, `tapir arp`)
// connects, writes one request line ("ss -i --json"), and reads the answer until the
// server closes. Answers are rendered in the stack's own thread, so they are a consistent
// snapshot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "app/event_loop.hpp"

namespace tapir::app {

std::string default_control_path(std::string_view tap_name);

// Renders the answer to one request: "ss [-i] [--json]", "stats [--json]", "arp [--json]".
// Unknown requests get "error: ..." (and the client exits 2).
std::string render_control(Stack& stack, std::string_view request);

class ControlServer {
 public:
  // Creates the socket (and its directory). Throws std::runtime_error with what to do when
  // the path is taken by a live tapir, or cannot be created.
  ControlServer(std::string path, Stack& stack, EventLoop& loop);
  ~ControlServer();  // closes and unlinks the socket: nothing is left behind
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  const std::string& path() const { return path_; }

 private:
  void on_accept();
  void on_client(int fd);
  std::string path_;
  Stack& stack_;
  EventLoop& loop_;
  int fd_ = -1;
  std::vector<int> clients_;
};

// The client side, shared by `tapir ss`, `tapir stats` and `tapir arp`.
int cmd_ss(int argc, char** argv);
int cmd_stats(int argc, char** argv);
int cmd_arp(int argc, char** argv);

}  // namespace tapir::app
