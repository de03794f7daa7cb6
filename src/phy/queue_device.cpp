#include "phy/queue_device.hpp"

#include <utility>

#include "phy/common.hpp"

namespace tapir::phy {

std::optional<Bytes> QueueDevice::receive(Instant /*now*/) {
  if (inbox_.empty()) return std::nullopt;
  current_ = std::move(inbox_.front().first);
  current_info_ = inbox_.front().second;
  inbox_.pop_front();
  ++stats_.rx_frames;
  return Bytes(current_);
}

Errno QueueDevice::transmit(Bytes frame, Instant /*now*/) {
  Errno e = fail_with_;
  if (e == Errno::Ok && frame.size() > max_frame_len(caps_.mtu)) e = Errno::MsgSize;
  if (e != Errno::Ok) {
    ++stats_.tx_refused;
    return e;
  }
  sent_.emplace_back(frame.begin(), frame.end());
  ++stats_.tx_frames;
  return Errno::Ok;
}

void QueueDevice::inject(Bytes frame) { inject(frame, RxInfo{}); }

void QueueDevice::inject(Bytes frame, RxInfo info) {
  inbox_.emplace_back(std::vector<std::byte>(frame.begin(), frame.end()), info);
}

std::vector<std::vector<std::byte>> QueueDevice::take_transmitted() {
  return std::exchange(sent_, {});
}

}  // namespace tapir::phy
