// A device with TCP segmentation offload for stack tests: SegmentingDevice reports tso_max,
// records every transmit_gso() call and cuts each superframe into segments in software the
// way Linux does for a TAP with TUN_F_TSO4 (net/ipv4/tcp_offload.c tcp_gso_segment and
// net/ipv4/af_inet.c inet_gso_segment), then hands the segments to the device it wraps.
// A test can drop chosen segments (a superframe partly lost on the wire) or make the
// device refuse superframes (OpNotSupp, as a TAP whose offload is gone).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "support/frames.hpp"
#include "tapir/device.hpp"

namespace tapir::test {

// Cuts a superframe into frames of gso.segment_size payload octets, as the kernel does:
// each frame gets a copy of the first gso.header_len octets with the IPv4 total length,
// ID (the superframe's ID plus the segment's index) and header checksum rewritten, the TCP
// sequence number advanced, FIN and PSH cleared on all but the last segment and CWR on all
// but the first, and the TCP checksum completed from the pseudo-header sum the sender left
// in the field (adjusted from the superframe's TCP length to the segment's).
std::vector<Frame> segment_superframe(Bytes frame, const phy::GsoInfo& gso);

class SegmentingDevice final : public phy::Device {
 public:
  // One transmit_gso() call the device accepted.
  struct Superframe {
    Frame frame;  // the whole superframe, as the stack handed it over
    phy::GsoInfo gso;
    std::size_t segments = 0;
  };
  // A frame the device passed on to the wrapped one, in order.
  struct Sent {
    Frame frame;
    bool from_superframe = false;
    bool last_segment = false;  // the last segment cut from its superframe
  };
  // Decides whether segment `segment` of superframe number `superframe` (both from 0) is lost.
  using DropRule = std::function<bool(std::size_t superframe, std::size_t segment)>;

  // `tso_max`: what caps() reports (0: a device without TSO, whose transmit_gso() refuses).
  SegmentingDevice(phy::Device& inner, std::size_t tso_max) : inner_(inner), tso_max_(tso_max) {}

  phy::DeviceCaps caps() const override;
  std::optional<Bytes> receive(Instant now) override { return inner_.receive(now); }
  phy::RxInfo last_rx_info() const override { return inner_.last_rx_info(); }
  Errno transmit(Bytes frame, Instant now) override;
  Errno transmit_gso(Bytes frame, const phy::GsoInfo& gso, Instant now) override;
  void flush(Instant now) override { inner_.flush(now); }
  std::optional<Instant> next_deadline() const override { return inner_.next_deadline(); }

  void drop(DropRule rule) { drop_ = std::move(rule); }
  // From now on transmit_gso() answers OpNotSupp (while caps() still reports tso_max).
  void refuse_superframes(bool refuse) { refuse_ = refuse; }
  // Keeps a copy of every superframe and every frame passed on (small transfers only).
  void record(bool on) { record_ = on; }

  std::size_t superframe_count() const { return superframe_count_; }
  std::size_t dropped() const { return dropped_; }
  const std::vector<Superframe>& superframes() const { return superframes_; }
  const std::vector<Sent>& sent() const { return sent_; }

 private:
  phy::Device& inner_;
  std::size_t tso_max_;
  DropRule drop_;
  bool refuse_ = false;
  bool record_ = false;
  std::size_t superframe_count_ = 0;
  std::size_t dropped_ = 0;
  std::vector<Superframe> superframes_;
  std::vector<Sent> sent_;
};

}  // namespace tapir::test
