// PcapngWriter: a decorator like PcapWriter, but writing pcapng with a comment on every
// packet that names the decision behind it ("dropped: ipv4.rx_drop_bad_checksum (header
// checksum mismatch)"), so that Wireshark becomes a teaching view of the stack. libpcap
// cannot write pcapng, so the few blocks needed are written here, following the pcapng
// specification (IETF draft "PCAP Now Generic", draft-ietf-opsawg-pcapng):
//
//   Section Header Block (§4.1)      once, little-endian, section length unspecified
//   Interface Description Block (§4.2) once: LINKTYPE_ETHERNET, if_tsresol = 6 (µs)
//   Enhanced Packet Block (§4.3)     per frame: timestamp, data, epb_flags (direction)
//                                    and opt_comment (§3.5) when a comment is known
//
// Frames are grouped in steps by a StepRecorder (phy/step_recorder.hpp) and written when
// their step ends, received frame first, so that the comment can say what handling the
// frame caused; a FrameAnnotator supplies the comments. Timestamps are the Instants plus a
// fixed epoch offset, as in PcapWriter.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "phy/step_recorder.hpp"
#include "tapir/device.hpp"

namespace tapir::phy {

// The comments for one step: `rx` for its received frame, `tx` for each frame sent in it.
struct FrameNotes {
  std::string rx;
  std::string tx;
};

class FrameAnnotator {
 public:
  virtual ~FrameAnnotator() = default;
  // A step begins: take whatever explain() will compare against.
  virtual void begin() = 0;
  // The step ended; `first_number` is the 1-based frame number its first frame gets in the
  // file (the received frame if any, else the first frame sent).
  virtual FrameNotes explain(const Step& step, std::uint64_t first_number) = 0;
};

// The block encoders, exposed so that tests can check the exact bytes.
namespace pcapng {
enum class Direction : std::uint8_t { Unknown = 0, Inbound = 1, Outbound = 2 };
constexpr std::uint16_t kLinkTypeEthernet = 1;
std::vector<std::byte> section_header(std::string_view user_application);
std::vector<std::byte> interface_description(std::uint16_t link_type, std::uint32_t snap_len,
                                             std::string_view if_name);
// `timestamp_us` counts microseconds since 1970 (the resolution if_tsresol = 6 announces).
std::vector<std::byte> enhanced_packet(std::uint32_t interface_id, std::uint64_t timestamp_us,
                                       Bytes data, Direction direction, std::string_view comment);
}  // namespace pcapng

class PcapngWriter final : public Device, private StepSink {
 public:
  // Creates (truncates) `path` and writes the section and interface headers. Throws
  // DeviceError naming the file and the reason when it cannot be opened or written.
  PcapngWriter(Device& inner, const std::string& path, Duration epoch_offset = Duration{0});
  // Writes the open step (without comments) and closes the file; flush() first to have the
  // last step annotated.
  ~PcapngWriter() override;
  PcapngWriter(const PcapngWriter&) = delete;
  PcapngWriter& operator=(const PcapngWriter&) = delete;

  // Without an annotator, packets carry only their direction. `a` must stay valid until it
  // is replaced or the writer is destroyed (the destructor does not call it).
  void set_annotator(FrameAnnotator* a);

  DeviceCaps caps() const override { return without_tso(recorder_.caps()); }
  RxInfo last_rx_info() const override { return recorder_.last_rx_info(); }
  std::optional<Bytes> receive(Instant now) override { return recorder_.receive(now); }
  Errno transmit(Bytes frame, Instant now) override { return recorder_.transmit(frame, now); }
  // Frames pass through unchanged: the stack may build them in the inner device's buffer.
  MutBytes tx_slot(std::size_t len) override { return recorder_.tx_slot(len); }
  // Ends the open step, flushes the wrapped device, then the file.
  void flush(Instant now) override;
  int wait_fd() const override { return recorder_.wait_fd(); }
  std::optional<Instant> next_deadline() const override { return recorder_.next_deadline(); }

  std::uint64_t frames_written() const { return frames_written_; }
  const std::string& path() const { return path_; }

 private:
  void step_begin() override;
  void step_end(Step&& step) override;
  void write_frame(const StepFrame& f, pcapng::Direction dir, std::string_view comment);
  void write_block(const std::vector<std::byte>& block);

  std::string path_;
  Duration epoch_offset_;
  std::FILE* file_ = nullptr;
  FrameAnnotator* annotator_ = nullptr;
  std::uint64_t frames_written_ = 0;
  bool write_failed_ = false;
  StepRecorder recorder_;  // last: its destructor ends the open step while file_ is open
};

}  // namespace tapir::phy
