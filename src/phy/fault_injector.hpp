// FaultInjector: a decorator that makes the link lossy, the project's netem substitute
// (smoltcp's phy/fault_injector.rs is the model). Each direction has its own settings and
// its own seeded random stream: drop, duplicate, reorder (hold a frame back until the next
// one passes or reorder_hold elapses), corrupt (flip one random bit, the hardest corruption
// to detect), a fixed delay, a frame-size limit and a token-bucket rate limit. Every decision
// comes from the seed and the Instants passed in, so a run reproduces exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "tapir/device.hpp"
#include "tapir/random.hpp"

namespace tapir::phy {

// The faults of one direction. Percentages are 0..100 with a resolution of 0.0001.
struct FaultConfig {
  double drop_pct = 0;
  double dup_pct = 0;
  double reorder_pct = 0;
  double corrupt_pct = 0;
  Duration delay{0};                                      // every frame is held this long
  Duration reorder_hold = std::chrono::milliseconds(10);  // longest wait for a successor
  std::size_t max_frame_len = 0;                          // longer frames are dropped; 0 = no limit
  std::uint64_t rate_bytes_per_sec = 0;                   // token-bucket rate; 0 = no limit
  std::size_t burst_bytes = std::size_t{64} * 1024;  // bucket depth; a longer frame never passes
};

struct FaultInjectorConfig {
  std::uint64_t seed = 1;
  FaultConfig rx;  // frames coming from the wrapped device towards the stack
  FaultConfig tx;  // frames going from the stack to the wrapped device
  static FaultInjectorConfig both(std::uint64_t seed, const FaultConfig& f) { return {seed, f, f}; }
};

// What happened to the frames of one direction.
struct FaultCounters {
  std::uint64_t frames_in = 0;     // frames offered
  std::uint64_t frames_out = 0;    // frames passed on, duplicates included
  std::uint64_t dropped = 0;       // lost to drop_pct
  std::uint64_t too_big = 0;       // dropped: longer than max_frame_len
  std::uint64_t rate_limited = 0;  // dropped: the token bucket was empty
  std::uint64_t duplicated = 0;    // frames sent twice
  std::uint64_t reordered = 0;     // frames held back to let a later frame pass
  std::uint64_t corrupted = 0;     // frames with one bit flipped
  std::uint64_t delayed = 0;       // frames held for the fixed delay
  std::uint64_t refused = 0;       // tx: frames the wrapped device refused after the faults
};

struct FaultStats {
  FaultCounters rx;
  FaultCounters tx;
};

// One direction's fault pipeline: frames go in with offer() and come out with pop_due().
class FaultLane {
 public:
  FaultLane(const FaultConfig& cfg, std::uint64_t seed);

  // Runs one frame through the faults; whatever survives waits until it is due.
  // `info` travels with the frame (a corrupted checksum-unverified frame stays undetected,
  // as it would behind a real offloading device).
  void offer(Bytes frame, Instant now, RxInfo info = {});
  // Moves the next frame due at `now` into `out` (and its RxInfo into *info when given);
  // false when none is due.
  bool pop_due(Instant now, std::vector<std::byte>& out, RxInfo* info = nullptr);
  std::optional<Instant> next_deadline() const;
  const FaultCounters& counters() const { return counters_; }
  FaultCounters& counters() { return counters_; }

 private:
  struct Pending {
    Instant due;
    std::vector<std::byte> bytes;
    RxInfo info;
  };

  bool roll(std::uint32_t ppm);
  bool take_tokens(std::size_t len, Instant now);
  void corrupt(std::vector<std::byte>& frame);
  void release_held();
  void release_expired_hold(Instant now);

  FaultConfig cfg_;
  std::uint32_t drop_ppm_;
  std::uint32_t dup_ppm_;
  std::uint32_t reorder_ppm_;
  std::uint32_t corrupt_ppm_;
  SeededRng rng_;
  std::deque<Pending> queue_;    // in release order
  std::optional<Pending> held_;  // the frame held back for reordering
  Instant held_until_;           // when held_ goes out even without a successor
  std::uint64_t tokens_ = 0;     // octets x 1e6, so refills at any rate stay integral
  std::optional<Instant> refilled_at_;
  FaultCounters counters_;
};

class FaultInjector final : public Device {
 public:
  // Throws DeviceError when a percentage is outside 0..100.
  FaultInjector(Device& inner, const FaultInjectorConfig& cfg);

  DeviceCaps caps() const override { return without_tso(inner_.caps()); }
  std::optional<Bytes> receive(Instant now) override;
  RxInfo last_rx_info() const override { return rx_info_; }
  // Answers MsgSize for a frame longer than the MTU, and otherwise the first error the wrapped
  // device gave for a frame released during this call (Ok when none was released): a lossy
  // wire does not tell the sender about the frames it loses.
  Errno transmit(Bytes frame, Instant now) override;
  // Releases tx frames that are due, then flushes the wrapped device.
  void flush(Instant now) override;
  int wait_fd() const override { return inner_.wait_fd(); }
  // The earliest of: a delayed or held frame falling due in either direction, and the
  // wrapped device's own deadline.
  std::optional<Instant> next_deadline() const override;

  FaultStats stats() const { return {rx_.counters(), tx_.counters()}; }

 private:
  Errno release_tx(Instant now);

  Device& inner_;
  FaultLane rx_;
  FaultLane tx_;
  std::vector<std::byte> rx_current_;  // the frame last returned by receive()
  RxInfo rx_info_;                     // and what the wrapped device said about it
  std::vector<std::byte> tx_scratch_;
};

}  // namespace tapir::phy
