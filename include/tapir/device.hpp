// The device interface: how frames get in and out of the stack. Real devices (TapDevice),
// test devices (MemoryWire, pcap replay) and decorators (PcapWriter, FaultInjector, Tracer)
// all implement it, and decorators stack: FaultInjector(Tracer(PcapWriter(TapDevice))).
#pragma once

#include <cstddef>
#include <cstdint>
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
  // The longest frame receive() may hand out; 0 means max_frame_len(mtu) (Ethernet header
  // plus one MTU-sized datagram). A device that receives coalesced superframes (a TAP with
  // offloads: one IPv4 datagram of up to 64 KiB) reports their bound here.
  std::size_t max_rx_frame = 0;
  // The largest superframe transmit_gso() takes (Ethernet header included), 0 when the
  // device cannot segment (transmit_gso() then answers OpNotSupp).
  std::size_t tso_max = 0;
};

// What the device knows about the frame receive() returned last. All false for a plain
// frame from a wire: the stack then verifies everything itself.
struct RxInfo {
  // The TCP/UDP checksum was not computed (the sender left it to offload: only the
  // pseudo-header sum is filled in) or the device already verified it. Either way the
  // frame comes from a trusted host-side peer, and the transport skips its own check.
  bool checksum_unverified = false;
  // The frame is a coalesced superframe (e.g. TCP segmentation offload): one datagram
  // longer than the MTU carrying many segments' worth of payload.
  bool superframe = false;
};

// How transmit_gso() asks the device to cut a superframe into MTU-sized frames. Offsets
// count from the start of the Ethernet frame.
enum class GsoType : std::uint8_t { TcpV4 };
struct GsoInfo {
  GsoType type = GsoType::TcpV4;
  std::uint16_t segment_size = 0;  // payload bytes per segment (the MSS)
  std::uint16_t header_len = 0;    // Ethernet + IP + TCP header bytes copied into each segment
  std::uint16_t csum_start = 0;    // where the transport header (and its checksum) starts
  std::uint16_t csum_offset = 0;   // the checksum field's offset from csum_start
};

// The caps a decorator reports when it records every frame it passes but cannot record a
// superframe yet: it hides transmit_gso() (the default OpNotSupp) by zeroing tso_max.
inline DeviceCaps without_tso(DeviceCaps c) {
  c.tso_max = 0;
  return c;
}

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
  // Zero-copy transmit (docs/hot-path.md): the device's own buffer for the next frame, of
  // at least `len` octets, or an empty span when it has none (the default). A frame built
  // there and then passed to transmit() (starting at the same address) is not copied
  // again. The buffer is valid until the next transmit(), transmit_gso() or flush().
  virtual MutBytes tx_slot(std::size_t /*len*/) { return {}; }
  // Sends one superframe for the device (or the kernel behind it) to cut into segments of
  // gso.segment_size payload octets. Its transport checksum field holds only the
  // pseudo-header sum (with the superframe's transport length, as Linux fills it); the
  // device completes it per segment. OpNotSupp when caps().tso_max is 0, MsgSize above it.
  virtual Errno transmit_gso(Bytes /*frame*/, const GsoInfo& /*gso*/, Instant /*now*/) {
    return Errno::OpNotSupp;
  }
  // Describes the frame the last receive() returned (valid until the next receive()).
  virtual RxInfo last_rx_info() const { return {}; }
  // Pushes out frames a batching device holds back. Called once at the end of each poll.
  virtual void flush(Instant /*now*/) {}
  // A file descriptor the app's poll(2) waits on for readability, or -1 (test devices).
  virtual int wait_fd() const { return -1; }
  // When a device holding frames back (delay, reorder) next wants to release them.
  virtual std::optional<Instant> next_deadline() const { return std::nullopt; }
};

}  // namespace tapir::phy
