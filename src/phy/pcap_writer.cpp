#include "phy/pcap_writer.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdint>

#include "phy/common.hpp"

namespace tapir::phy {

namespace {
// The classic snapshot length: every frame a 64 KiB MTU allows is captured whole.
constexpr int kSnapLen = 65535;
constexpr std::int64_t kMicrosPerSec = 1'000'000;
}  // namespace

PcapWriter::PcapWriter(Device& inner, const std::string& path, Duration epoch_offset)
    : inner_(inner), path_(path), epoch_offset_(epoch_offset) {
  pcap_ = ::pcap_open_dead(DLT_EN10MB, kSnapLen);
  if (pcap_ == nullptr) {
    throw DeviceError("pcap file '" + path + "': libpcap could not allocate a handle");
  }
  dumper_ = ::pcap_dump_open(pcap_, path.c_str());
  if (dumper_ == nullptr) {
    std::string reason = ::pcap_geterr(pcap_);
    ::pcap_close(pcap_);
    throw DeviceError("cannot open pcap file '" + path + "': " + reason +
                      "; check that the directory exists and is writable");
  }
}

PcapWriter::~PcapWriter() {
  ::pcap_dump_close(dumper_);
  ::pcap_close(pcap_);
}

std::optional<Bytes> PcapWriter::receive(Instant now) {
  auto frame = inner_.receive(now);
  if (frame) record(*frame, now);
  return frame;
}

Errno PcapWriter::transmit(Bytes frame, Instant now) {
  const Errno e = inner_.transmit(frame, now);
  if (e == Errno::Ok) record(frame, now);
  return e;
}

void PcapWriter::flush(Instant now) {
  inner_.flush(now);
  ::pcap_dump_flush(dumper_);
}

void PcapWriter::record(Bytes frame, Instant now) {
  const std::int64_t us = now.micros() + epoch_offset_.count();
  // Floor division keeps tv_usec in [0, 1e6) for instants before the epoch as well.
  std::int64_t sec = us / kMicrosPerSec;
  std::int64_t usec = us % kMicrosPerSec;
  if (usec < 0) {
    --sec;
    usec += kMicrosPerSec;
  }
  pcap_pkthdr hdr{};
  hdr.ts.tv_sec = static_cast<time_t>(sec);
  hdr.ts.tv_usec = static_cast<suseconds_t>(usec);
  hdr.len = static_cast<bpf_u_int32>(frame.size());
  hdr.caplen = static_cast<bpf_u_int32>(std::min<std::size_t>(frame.size(), kSnapLen));
  ::pcap_dump(reinterpret_cast<u_char*>(dumper_), &hdr,
              reinterpret_cast<const u_char*>(frame.data()));
  ++frames_written_;
}

}  // namespace tapir::phy
