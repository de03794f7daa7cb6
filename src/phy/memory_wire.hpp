// MemoryWire: two Device ends joined in memory, for two stacks talking to each other (or a
// stack and a harness) without a kernel. What one end transmits the other end receives, in
// order, through a bounded queue per direction. Like smoltcp's TestingDevice and gVisor's
// link/channel, but symmetric.
//
// Each queue is a ring of frame buffers that are reused, sized for a full frame on first
// use: after warm-up a frame costs one copy (transmit into the peer's queue) and no
// allocation (tests/hot_path counts this).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "tapir/device.hpp"
#include "util/slot_ring.hpp"

namespace tapir::phy {

struct MemoryWireConfig {
  std::size_t mtu = 1500;           // both ends report it; longer frames get MsgSize
  std::size_t queue_frames = 1024;  // per direction; a full queue refuses with Again
  std::size_t rx_batch = 64;        // reported in caps()
};

// Counters of one end; tx_* describe what this end sent towards its peer.
struct MemoryWireStats {
  std::uint64_t rx_frames = 0;        // frames handed out by receive()
  std::uint64_t tx_frames = 0;        // frames queued towards the peer
  std::uint64_t tx_drop_full = 0;     // refused with Again: the peer's queue was full
  std::uint64_t tx_drop_too_big = 0;  // refused with MsgSize: longer than max_frame_len(mtu)
};

class MemoryWire {
 public:
  class End final : public Device {
   public:
    DeviceCaps caps() const override;
    std::optional<Bytes> receive(Instant now) override;
    Errno transmit(Bytes frame, Instant now) override;

    const MemoryWireStats& stats() const { return stats_; }
    // Frames waiting to be received at this end.
    std::size_t pending() const { return inbox_.size(); }

   private:
    friend class MemoryWire;
    explicit End(const MemoryWireConfig& cfg) : cfg_(&cfg) {}

    const MemoryWireConfig* cfg_;
    End* peer_ = nullptr;
    SlotRing<std::vector<std::byte>> inbox_;
    // The frame last returned by receive(); its buffer is swapped with the queue slot's.
    std::vector<std::byte> current_;
    MemoryWireStats stats_;
  };

  explicit MemoryWire(MemoryWireConfig cfg = {});
  // The ends point at each other and at cfg_, so the wire stays where it was built.
  MemoryWire(const MemoryWire&) = delete;
  MemoryWire& operator=(const MemoryWire&) = delete;

  End& end_a() { return a_; }
  End& end_b() { return b_; }

 private:
  MemoryWireConfig cfg_;
  End a_;
  End b_;
};

}  // namespace tapir::phy
