#include "phy/fault_injector.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "phy/common.hpp"

namespace tapir::phy {

namespace {

constexpr std::uint32_t kPpmScale = 1'000'000;
constexpr std::uint64_t kMicrosPerSec = 1'000'000;

std::uint32_t to_ppm(double pct, const char* what) {
  if (!(pct >= 0.0 && pct <= 100.0)) {
    throw DeviceError(std::string("fault injector: ") + what + " " + std::to_string(pct) +
                      "% is outside 0..100");
  }
  return static_cast<std::uint32_t>(std::lround(pct * (static_cast<double>(kPpmScale) / 100.0)));
}

// Each direction draws from its own stream, so traffic in one direction never shifts the
// faults of the other.
std::uint64_t lane_seed(std::uint64_t seed, std::uint64_t lane) {
  SeededRng mix(seed ^ (lane * 0xd1b54a32d192ed03ULL));
  return mix.next_u64();
}

}  // namespace

FaultLane::FaultLane(const FaultConfig& cfg, std::uint64_t seed)
    : cfg_(cfg),
      drop_ppm_(to_ppm(cfg.drop_pct, "drop")),
      dup_ppm_(to_ppm(cfg.dup_pct, "duplicate")),
      reorder_ppm_(to_ppm(cfg.reorder_pct, "reorder")),
      corrupt_ppm_(to_ppm(cfg.corrupt_pct, "corrupt")),
      rng_(seed) {}

bool FaultLane::roll(std::uint32_t ppm) { return rng_.below(kPpmScale) < ppm; }

void FaultLane::offer(Bytes frame, Instant now, RxInfo info) {
  ++counters_.frames_in;
  release_expired_hold(now);
  // Every frame draws the same four numbers whatever the settings, so enabling one fault
  // does not change which frames another fault hits.
  const bool drop = roll(drop_ppm_);
  const bool corrupt_it = roll(corrupt_ppm_);
  const bool dup = roll(dup_ppm_);
  const bool reorder = roll(reorder_ppm_);

  if (cfg_.max_frame_len != 0 && frame.size() > cfg_.max_frame_len) {
    ++counters_.too_big;
    return;
  }
  if (drop) {
    ++counters_.dropped;
    return;
  }
  if (cfg_.rate_bytes_per_sec != 0 && !take_tokens(frame.size(), now)) {
    ++counters_.rate_limited;
    return;
  }
  std::vector<std::byte> bytes(frame.begin(), frame.end());
  if (corrupt_it && !bytes.empty()) corrupt(bytes);
  const Instant due = now + cfg_.delay;
  if (cfg_.delay > Duration{0}) ++counters_.delayed;
  if (dup) ++counters_.duplicated;

  // The first copy (of two with a duplicate) is the one a reorder holds back; the last
  // takes the buffer itself.
  auto place = [&](std::vector<std::byte> copy, bool first) {
    if (reorder && first && !held_) {
      held_ = Pending{due, std::move(copy), info};
      held_until_ = now + cfg_.reorder_hold;
      ++counters_.reordered;
      return;
    }
    queue_.push_back(Pending{due, std::move(copy), info});
    // The held frame goes out right behind the first frame that overtook it.
    release_held();
  };
  if (dup) place(bytes, true);
  place(std::move(bytes), !dup);
}

void FaultLane::corrupt(std::vector<std::byte>& frame) {
  const std::uint32_t bit = rng_.below(static_cast<std::uint32_t>(frame.size() * 8));
  frame[bit / 8] ^= std::byte{static_cast<unsigned char>(1U << (bit % 8))};
  ++counters_.corrupted;
}

bool FaultLane::take_tokens(std::size_t len, Instant now) {
  const std::uint64_t depth = static_cast<std::uint64_t>(cfg_.burst_bytes) * kMicrosPerSec;
  if (!refilled_at_) {
    tokens_ = depth;
  } else if (now > *refilled_at_) {
    // Clamp the elapsed time to what fills the bucket so the product cannot overflow.
    const auto fill_us = depth / cfg_.rate_bytes_per_sec + 1;
    const auto elapsed =
        std::min<std::uint64_t>(static_cast<std::uint64_t>((now - *refilled_at_).count()), fill_us);
    tokens_ = std::min(depth, tokens_ + elapsed * cfg_.rate_bytes_per_sec);
  }
  if (!refilled_at_ || now > *refilled_at_) refilled_at_ = now;
  const std::uint64_t cost = static_cast<std::uint64_t>(len) * kMicrosPerSec;
  if (tokens_ < cost) return false;
  tokens_ -= cost;
  return true;
}

void FaultLane::release_held() {
  if (!held_) return;
  queue_.push_back(std::move(*held_));
  held_.reset();
}

void FaultLane::release_expired_hold(Instant now) {
  if (held_ && now >= held_until_) release_held();
}

bool FaultLane::pop_due(Instant now, std::vector<std::byte>& out, RxInfo* info) {
  release_expired_hold(now);
  if (queue_.empty() || queue_.front().due > now) return false;
  out = std::move(queue_.front().bytes);
  if (info) *info = queue_.front().info;
  queue_.pop_front();
  ++counters_.frames_out;
  return true;
}

std::optional<Instant> FaultLane::next_deadline() const {
  std::optional<Instant> at;
  if (!queue_.empty()) at = queue_.front().due;
  if (held_) at = earliest(at, std::optional<Instant>(held_until_));
  return at;
}

FaultInjector::FaultInjector(Device& inner, const FaultInjectorConfig& cfg)
    : inner_(inner), rx_(cfg.rx, lane_seed(cfg.seed, 1)), tx_(cfg.tx, lane_seed(cfg.seed, 2)) {}

std::optional<Bytes> FaultInjector::receive(Instant now) {
  for (;;) {
    if (rx_.pop_due(now, rx_current_, &rx_info_)) return Bytes(rx_current_);
    auto frame = inner_.receive(now);
    if (!frame) return std::nullopt;
    rx_.offer(*frame, now, inner_.last_rx_info());
  }
}

Errno FaultInjector::transmit(Bytes frame, Instant now) {
  if (frame.size() > max_frame_len(inner_.caps().mtu)) return Errno::MsgSize;
  tx_.offer(frame, now);
  return release_tx(now);
}

void FaultInjector::flush(Instant now) {
  (void)release_tx(now);
  inner_.flush(now);
}

Errno FaultInjector::release_tx(Instant now) {
  Errno first = Errno::Ok;
  while (tx_.pop_due(now, tx_scratch_)) {
    const Errno e = inner_.transmit(tx_scratch_, now);
    if (e == Errno::Ok) continue;
    ++tx_.counters().refused;
    if (first == Errno::Ok) first = e;
  }
  return first;
}

std::optional<Instant> FaultInjector::next_deadline() const {
  return earliest(earliest(rx_.next_deadline(), tx_.next_deadline()), inner_.next_deadline());
}

}  // namespace tapir::phy
