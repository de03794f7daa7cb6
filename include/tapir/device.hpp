// The device interface: how frames get in and out of the stack. Real devices (TapDevice),
// test devices (MemoryWire, pcap replay) and decorators (PcapWriter, FaultInjector, Tracer)
// all implement it, and decorators stack: FaultInjector(Tracer(PcapWriter(TapDevice))).
#pragma once

#include <cstddef>
#include <optional>

#include "tapir/bytes.hpp"
#include "tapir/errno.hpp"
#include "tapir/time.hpp"

namespace tapir::phy {

struct DeviceCaps {
  // The largest IP datagram one frame carries (Ethernet payload), e.g. 1500.
  std::size_t mtu = 1500;
  // How many frames one receive batch may hold; the stack drains at most this many per poll.
  std::size_t rx_batch = 64;
};

class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceCaps caps() const = 0;
  // The next received Ethernet frame, or nullopt when none is waiting. The span stays valid
  // until the next call to receive() (a view never outlives the poll iteration).
  virtual std::optional<Bytes> receive(Instant now) = 0;
  // Sends one Ethernet frame. The device copies or writes it before returning and never
  // keeps `frame`. Errors: Again (queue full: the frame is dropped), Io, MsgSize.
  virtual Errno transmit(Bytes frame, Instant now) = 0;
  // Pushes out frames a batching device holds back. Called once at the end of each poll.
  virtual void flush(Instant /*now*/) {}
  // A file descriptor the app's poll(2) waits on for readability, or -1 (test devices).
  virtual int wait_fd() const { return -1; }
  // When a device holding frames back (delay, reorder) next wants to release them.
  virtual std::optional<Instant> next_deadline() const { return std::nullopt; }
};

}  // namespace tapir::phy
