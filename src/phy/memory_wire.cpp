#include "phy/memory_wire.hpp"

#include <utility>

#include "phy/common.hpp"

namespace tapir::phy {

MemoryWire::MemoryWire(MemoryWireConfig cfg) : cfg_(cfg), a_(cfg_), b_(cfg_) {
  a_.peer_ = &b_;
  b_.peer_ = &a_;
}

DeviceCaps MemoryWire::End::caps() const { return {.mtu = cfg_->mtu, .rx_batch = cfg_->rx_batch}; }

std::optional<Bytes> MemoryWire::End::receive(Instant /*now*/) {
  if (inbox_.empty()) return std::nullopt;
  // Swapping the frame out keeps the returned span valid until the next receive(), and
  // leaves the previous frame's buffer in the slot for a later transmit to reuse.
  std::swap(current_, inbox_.front());
  inbox_.pop_front();
  ++stats_.rx_frames;
  return Bytes(current_);
}

Errno MemoryWire::End::transmit(Bytes frame, Instant /*now*/) {
  if (frame.size() > max_frame_len(cfg_->mtu)) {
    ++stats_.tx_drop_too_big;
    return Errno::MsgSize;
  }
  if (peer_->inbox_.size() >= cfg_->queue_frames) {
    ++stats_.tx_drop_full;
    return Errno::Again;
  }
  auto& slot = peer_->inbox_.push_back();
  // Every slot gets room for the longest frame once, so no later frame reallocates it.
  if (slot.capacity() < max_frame_len(cfg_->mtu)) slot.reserve(max_frame_len(cfg_->mtu));
  slot.assign(frame.begin(), frame.end());
  ++stats_.tx_frames;
  return Errno::Ok;
}

}  // namespace tapir::phy
