#include "phy/pcapng_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "phy/common.hpp"
#include "util/log.hpp"

namespace tapir::phy {

namespace pcapng {

namespace {

// Block types (draft-ietf-opsawg-pcapng §4.1-§4.3).
constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr std::uint32_t kInterfaceDescription = 0x00000001;
constexpr std::uint32_t kEnhancedPacket = 0x00000006;
// §4.1: written in the writer's byte order; a reader learns the order from this value.
constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;
// Option codes: §3.5 (any block), §4.1 shb_userappl, §4.2 if_name / if_tsresol,
// §4.3.1 epb_flags.
constexpr std::uint16_t kOptEnd = 0;
constexpr std::uint16_t kOptComment = 1;
constexpr std::uint16_t kShbUserAppl = 4;
constexpr std::uint16_t kIfName = 2;
constexpr std::uint16_t kIfTsresol = 9;
constexpr std::uint16_t kEpbFlags = 2;
constexpr std::uint8_t kMicroseconds = 6;  // if_tsresol: 10^-6 s per unit

// A block under construction. Everything is little-endian (the magic tells readers so), so
// the file is the same on every host and golden comparisons stay byte-exact.
class BlockBuilder {
 public:
  explicit BlockBuilder(std::uint32_t type) {
    u32(type);
    u32(0);  // total length, patched by finish()
  }
  void u16(std::uint16_t v) {
    for (int i = 0; i < 2; ++i) b_.push_back(std::byte((v >> (8 * i)) & 0xff));
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b_.push_back(std::byte((v >> (8 * i)) & 0xff));
  }
  void raw(Bytes data) {
    b_.insert(b_.end(), data.begin(), data.end());
    pad();
  }
  // §3.5: code, length, value padded to 32 bits.
  void option(std::uint16_t code, Bytes value) {
    u16(code);
    u16(static_cast<std::uint16_t>(value.size()));
    raw(value);
  }
  void option(std::uint16_t code, std::string_view text) { option(code, as_bytes(text)); }
  std::vector<std::byte> finish(bool has_options) {
    if (has_options) option(kOptEnd, Bytes{});
    u32(0);  // trailing total length
    const auto total = static_cast<std::uint32_t>(b_.size());
    for (int i = 0; i < 4; ++i) {
      b_[4 + i] = std::byte((total >> (8 * i)) & 0xff);
      b_[b_.size() - 4 + i] = std::byte((total >> (8 * i)) & 0xff);
    }
    return std::move(b_);
  }

 private:
  void pad() {
    while (b_.size() % 4 != 0) b_.push_back(std::byte{0});
  }
  std::vector<std::byte> b_;
};

// Option values are at most 65535 octets (the length field is 16 bits).
std::string_view clip(std::string_view s) { return s.substr(0, 0xffff); }

}  // namespace

std::vector<std::byte> section_header(std::string_view user_application) {
  BlockBuilder b(kSectionHeader);
  b.u32(kByteOrderMagic);
  b.u16(1);  // major version
  b.u16(0);  // minor version
  // Section length -1: not known in advance (§4.1), which a streaming writer cannot know.
  b.u32(0xffffffff);
  b.u32(0xffffffff);
  b.option(kShbUserAppl, clip(user_application));
  return b.finish(true);
}

std::vector<std::byte> interface_description(std::uint16_t link_type, std::uint32_t snap_len,
                                             std::string_view if_name) {
  BlockBuilder b(kInterfaceDescription);
  b.u16(link_type);
  b.u16(0);  // reserved
  b.u32(snap_len);
  if (!if_name.empty()) b.option(kIfName, clip(if_name));
  const std::byte tsresol[] = {std::byte{kMicroseconds}};
  b.option(kIfTsresol, Bytes(tsresol));
  return b.finish(true);
}

std::vector<std::byte> enhanced_packet(std::uint32_t interface_id, std::uint64_t timestamp_us,
                                       Bytes data, Direction direction, std::string_view comment) {
  BlockBuilder b(kEnhancedPacket);
  b.u32(interface_id);
  b.u32(static_cast<std::uint32_t>(timestamp_us >> 32));
  b.u32(static_cast<std::uint32_t>(timestamp_us & 0xffffffff));
  b.u32(static_cast<std::uint32_t>(data.size()));  // captured length
  b.u32(static_cast<std::uint32_t>(data.size()));  // original length
  b.raw(data);
  bool has_options = false;
  if (direction != Direction::Unknown) {
    // §4.3.1 epb_flags: bits 0-1 are the direction (01 inbound, 10 outbound).
    const std::uint32_t flags = static_cast<std::uint32_t>(direction);
    const std::byte v[] = {std::byte(flags & 0xff), std::byte{0}, std::byte{0}, std::byte{0}};
    b.option(kEpbFlags, Bytes(v));
    has_options = true;
  }
  if (!comment.empty()) {
    b.option(kOptComment, clip(comment));
    has_options = true;
  }
  return b.finish(has_options);
}

}  // namespace pcapng

namespace {
// As PcapWriter: every frame a 64 KiB MTU allows is captured whole.
constexpr std::uint32_t kSnapLen = 65535;
}  // namespace

PcapngWriter::PcapngWriter(Device& inner, const std::string& path, Duration epoch_offset)
    : path_(path), epoch_offset_(epoch_offset), recorder_(inner, *this) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    throw DeviceError("cannot open pcapng file '" + path + "': " + std::strerror(errno) +
                      "; check that the directory exists and is writable");
  }
  write_block(pcapng::section_header("tapir"));
  write_block(pcapng::interface_description(pcapng::kLinkTypeEthernet, kSnapLen, "tapir"));
  if (std::fflush(file_) != 0 || write_failed_) {
    std::fclose(file_);
    throw DeviceError("cannot write pcapng file '" + path + "': " + std::strerror(errno));
  }
}

PcapngWriter::~PcapngWriter() {
  // Frames still open are written without comments: whatever the annotator watches (the
  // stack) may already be gone.
  annotator_ = nullptr;
  recorder_.finish();
  std::fclose(file_);
}

void PcapngWriter::set_annotator(FrameAnnotator* a) {
  annotator_ = a;
  if (annotator_) annotator_->begin();
}

void PcapngWriter::flush(Instant now) {
  recorder_.flush(now);
  std::fflush(file_);
}

void PcapngWriter::step_begin() {
  if (annotator_) annotator_->begin();
}

void PcapngWriter::step_end(Step&& step) {
  if (!step.rx && step.tx.empty()) return;
  FrameNotes notes;
  if (annotator_) notes = annotator_->explain(step, frames_written_ + 1);
  if (step.rx) write_frame(*step.rx, pcapng::Direction::Inbound, notes.rx);
  for (const auto& f : step.tx) write_frame(f, pcapng::Direction::Outbound, notes.tx);
}

void PcapngWriter::write_frame(const StepFrame& f, pcapng::Direction dir,
                               std::string_view comment) {
  // Instants before the epoch cannot be written (pcapng timestamps are unsigned): clamp.
  const std::int64_t us = std::max<std::int64_t>(0, f.time.micros() + epoch_offset_.count());
  const auto len = std::min<std::size_t>(f.bytes.size(), kSnapLen);
  write_block(pcapng::enhanced_packet(0, static_cast<std::uint64_t>(us), Bytes(f.bytes).first(len),
                                      dir, comment));
  ++frames_written_;
}

void PcapngWriter::write_block(const std::vector<std::byte>& block) {
  if (write_failed_) return;
  if (std::fwrite(block.data(), 1, block.size(), file_) != block.size()) {
    // A full disk should not stop the stack; the capture ends here and the log says so.
    write_failed_ = true;
    log::get("phy").error("pcapng file '{}': write failed ({}); capture stopped", path_,
                          std::strerror(errno));
  }
}

}  // namespace tapir::phy
