// QueueDevice: a scripted peer for tests. The test injects the frames the stack will
// receive and takes the frames the stack transmitted, so a test reads as a conversation:
// inject a SYN, poll, take_transmitted() and match the SYN-ACK.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "tapir/device.hpp"

namespace tapir::phy {

struct QueueDeviceStats {
  std::uint64_t rx_frames = 0;   // injected frames handed out by receive()
  std::uint64_t tx_frames = 0;   // frames accepted by transmit()
  std::uint64_t tx_refused = 0;  // transmit() calls answered with an error
};

class QueueDevice final : public Device {
 public:
  explicit QueueDevice(DeviceCaps caps = {}) : caps_(caps) {}

  DeviceCaps caps() const override { return caps_; }
  std::optional<Bytes> receive(Instant now) override;
  RxInfo last_rx_info() const override { return current_info_; }
  // Refuses frames longer than max_frame_len(caps.mtu) with MsgSize, and every frame with
  // the error set by fail_transmit().
  Errno transmit(Bytes frame, Instant now) override;

  // Queues a frame for the stack to receive. Any length is accepted, so tests can feed
  // truncated or oversized frames.
  void inject(Bytes frame);
  // Queues a frame that receive() hands out with `info` (an offloading device's report:
  // checksum-partial frames, superframes).
  void inject(Bytes frame, RxInfo info);
  // Every frame transmitted since the last call, oldest first.
  std::vector<std::vector<std::byte>> take_transmitted();
  // From now on transmit() answers `e` and keeps nothing (Errno::Ok restores normal service),
  // to exercise the stack's handling of a full or failing device.
  void fail_transmit(Errno e) { fail_with_ = e; }

  // Injected frames not yet received.
  std::size_t pending() const { return inbox_.size(); }
  const QueueDeviceStats& stats() const { return stats_; }

 private:
  DeviceCaps caps_;
  std::deque<std::pair<std::vector<std::byte>, RxInfo>> inbox_;
  std::vector<std::byte> current_;  // the frame last returned by receive()
  RxInfo current_info_;
  std::vector<std::vector<std::byte>> sent_;
  Errno fail_with_ = Errno::Ok;
  QueueDeviceStats stats_;
};

}  // namespace tapir::phy
