// Stack: one network interface with its ARP, IPv4, ICMP (and, above them, UDP and TCP)
// state, driven by the caller. The stack is sans-IO and single-threaded: it reads and
// writes frames only through the Device it was given, and learns the time only from the
// Instant passed to poll(). The caller loops:
//
//   stack.poll(clock.now());                    // receive, run timers, transmit
//   wait until a frame arrives or stack.next_deadline()
//
// which the app does with poll(2) on device.wait_fd(), and tests do with a ManualClock.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tapir/device.hpp"
#include "tapir/socket.hpp"
#include "tapir/stack_config.hpp"
#include "tapir/stats.hpp"

namespace tapir {

struct NeighborInfo {
  Ipv4Addr ip;
  std::optional<MacAddr> mac;  // nullopt while the address is being resolved
  Duration expires_in{};       // reachable entries: time left
  std::size_t pending = 0;     // datagrams waiting for resolution
};

struct PingReply {
  Ipv4Addr from;
  std::uint16_t ident = 0;
  std::uint16_t seq = 0;
  std::size_t data_len = 0;
  std::uint8_t ttl = 0;
  Bytes data;  // valid during the callback only
};

class Stack {
 public:
  Stack(phy::Device& device, const StackConfig& config);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Receives up to `max_frames` frames (0: one receive batch, the device's rx_batch),
  // fires every timer due at `now`, and flushes the device. Returns the number of frames
  // received (a caller may poll again at once while frames keep coming, before it waits).
  // Never throws; malformed input is counted and dropped.
  std::size_t poll(Instant now, std::size_t max_frames = 0) noexcept;
  // The earliest moment poll() has work to do without a new frame; nullopt: none.
  std::optional<Instant> next_deadline() const;

  const Stats& stats() const;
  // The socket table (include/tapir/socket.hpp). Calls made between polls act at now().
  Sockets& sockets();
  Instant now() const;
  // Pushes out frames that socket calls made since the last poll (poll() does this too).
  void flush();
  const StackConfig& config() const;
  std::vector<NeighborInfo> neighbors(Instant now) const;

  // ICMP echo for ping clients: send a request, and get replies through the handler.
  Errno send_ping(Ipv4Addr dst, std::uint16_t ident, std::uint16_t seq, Bytes data, Instant now);
  void on_ping_reply(std::function<void(const PingReply&, Instant)> handler);

  // The layers, for the socket layer and the apps inside the project (src/stack/impl.hpp).
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tapir
