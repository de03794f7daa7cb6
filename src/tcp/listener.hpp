// A listening socket's TCP side (RFC 9293 §3.10.7.2): the SYN-RECEIVED children not yet
// established and the accept queue of established ones, both bounded and counted.
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "tcp/connection.hpp"

namespace tapir::tcp {

struct Listener {
  Ipv4Addr addr;  // 0.0.0.0 for a wildcard listener
  std::uint16_t port = 0;
  std::size_t backlog = 128;
  std::vector<std::shared_ptr<Connection>> syn_received;  // handshakes under way
  std::deque<std::shared_ptr<Connection>> accept_queue;   // established, not yet accepted
  int owner = -1;                                         // the listening descriptor
};

}  // namespace tapir::tcp
