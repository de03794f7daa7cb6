// PcapWriter: a decorator that forwards everything to the device it wraps and records every
// frame received and transmitted in a pcap file (libpcap, DLT_EN10MB), for Wireshark and for
// the golden-trace fixtures. The model is smoltcp's phy/pcap_writer.rs and gVisor's
// link/sniffer. Timestamps are the Instants passed in plus a fixed epoch offset, so a
// ManualClock run always writes the same file and the live app can stamp wall-clock dates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tapir/device.hpp"

struct pcap;         // libpcap's pcap_t, kept out of this header
struct pcap_dumper;  // libpcap's pcap_dumper_t

namespace tapir::phy {

class PcapWriter final : public Device {
 public:
  // Creates (truncates) `path`. `epoch_offset` is added to every Instant to form the record
  // time: zero for deterministic captures, (system_clock - steady_clock) in the live app.
  // Throws DeviceError naming the file and the reason when it cannot be opened.
  PcapWriter(Device& inner, const std::string& path, Duration epoch_offset = Duration{0});
  ~PcapWriter() override;
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  DeviceCaps caps() const override { return without_tso(inner_.caps()); }
  RxInfo last_rx_info() const override { return inner_.last_rx_info(); }
  std::optional<Bytes> receive(Instant now) override;
  // Records the frame only when the wrapped device accepted it.
  Errno transmit(Bytes frame, Instant now) override;
  // Frames pass through unchanged: the stack may build them in the inner device's buffer.
  MutBytes tx_slot(std::size_t len) override { return inner_.tx_slot(len); }
  // Flushes the wrapped device, then the file, so a capture never ends mid-record.
  void flush(Instant now) override;
  int wait_fd() const override { return inner_.wait_fd(); }
  std::optional<Instant> next_deadline() const override { return inner_.next_deadline(); }

  std::uint64_t frames_written() const { return frames_written_; }
  const std::string& path() const { return path_; }

 private:
  void record(Bytes frame, Instant now);

  Device& inner_;
  std::string path_;
  Duration epoch_offset_;
  pcap* pcap_ = nullptr;
  pcap_dumper* dumper_ = nullptr;
  std::uint64_t frames_written_ = 0;
};

}  // namespace tapir::phy
