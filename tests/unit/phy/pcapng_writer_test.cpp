#include "phy/pcapng_writer.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "phy/common.hpp"
#include "phy/pcap_reader.hpp"
#include "phy/queue_device.hpp"

#include "support/temp_dir.hpp"

using namespace tapir;
using namespace tapir::phy;

namespace {

using test::TempDir;

std::vector<std::byte> frame_of(std::size_t len, std::uint8_t first) {
  std::vector<std::byte> f(len);
  for (std::size_t i = 0; i < len; ++i) f[i] = std::byte(static_cast<std::uint8_t>(first + i));
  return f;
}

std::uint32_t le32(const std::vector<std::byte>& b, std::size_t off) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(b[off + i]);
  return v;
}
std::uint16_t le16(const std::vector<std::byte>& b, std::size_t off) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[off]) |
                                    (std::to_integer<unsigned>(b[off + 1]) << 8));
}

struct Option {
  std::uint16_t code;
  std::vector<std::byte> value;
};

// Walks an option list (draft-ietf-opsawg-pcapng §3.5) that runs to the block's trailer.
std::vector<Option> options_of(const std::vector<std::byte>& block, std::size_t off) {
  std::vector<Option> out;
  const std::size_t end = block.size() - 4;
  while (off + 4 <= end) {
    const auto code = le16(block, off);
    const auto len = le16(block, off + 2);
    REQUIRE(off + 4 + len <= end);
    out.push_back({code, {block.begin() + off + 4, block.begin() + off + 4 + len}});
    off += 4 + (len + 3) / 4 * 4;
    if (code == 0) break;
  }
  CHECK(off == end);
  return out;
}

std::string text(const std::vector<std::byte>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

void check_framing(const std::vector<std::byte>& block, std::uint32_t type) {
  REQUIRE(block.size() >= 12);
  CHECK(block.size() % 4 == 0);
  CHECK(le32(block, 0) == type);
  CHECK(le32(block, 4) == block.size());
  CHECK(le32(block, block.size() - 4) == block.size());
}

std::vector<std::vector<std::byte>> blocks_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> all(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i)
    all[i] = std::byte(static_cast<unsigned char>(raw[i]));
  std::vector<std::vector<std::byte>> out;
  std::size_t off = 0;
  while (off + 8 <= all.size()) {
    const auto len = le32(all, off + 4);
    REQUIRE(len >= 12);
    REQUIRE(off + len <= all.size());
    out.emplace_back(all.begin() + off, all.begin() + off + len);
    off += len;
  }
  CHECK(off == all.size());
  return out;
}

// An annotator that names the step kinds and frame numbers it is told about.
class FakeAnnotator final : public FrameAnnotator {
 public:
  int begins = 0;
  void begin() override { ++begins; }
  FrameNotes explain(const Step& step, std::uint64_t first) override {
    const char* kind = step.kind == StepKind::Received ? "rx"
                       : step.kind == StepKind::Timers ? "timers"
                                                       : "idle";
    return {std::string(kind) + " #" + std::to_string(first),
            std::string(kind) + " tx after #" + std::to_string(first)};
  }
};

}  // namespace

TEST_CASE("pcapng: the Section Header Block is little-endian, version 1.0, length unknown",
          "[phy][pcapng]") {
  const auto b = pcapng::section_header("tapir");
  check_framing(b, 0x0A0D0D0A);
  CHECK(le32(b, 8) == 0x1A2B3C4D);  // byte-order magic
  CHECK(le16(b, 12) == 1);
  CHECK(le16(b, 14) == 0);
  CHECK(le32(b, 16) == 0xffffffff);  // section length -1
  CHECK(le32(b, 20) == 0xffffffff);
  const auto opts = options_of(b, 24);
  REQUIRE(opts.size() == 2);
  CHECK(opts[0].code == 4);  // shb_userappl
  CHECK(text(opts[0].value) == "tapir");
  CHECK(opts[1].code == 0);
}

TEST_CASE("pcapng: the Interface Description Block says Ethernet and microseconds",
          "[phy][pcapng]") {
  const auto b = pcapng::interface_description(pcapng::kLinkTypeEthernet, 65535, "tap0");
  check_framing(b, 0x00000001);
  CHECK(le16(b, 8) == 1);  // LINKTYPE_ETHERNET
  CHECK(le16(b, 10) == 0);
  CHECK(le32(b, 12) == 65535);
  const auto opts = options_of(b, 16);
  REQUIRE(opts.size() == 3);
  CHECK(opts[0].code == 2);  // if_name
  CHECK(text(opts[0].value) == "tap0");
  CHECK(opts[1].code == 9);  // if_tsresol
  REQUIRE(opts[1].value.size() == 1);
  CHECK(opts[1].value[0] == std::byte{6});
  CHECK(opts[2].code == 0);
}

TEST_CASE("pcapng: an Enhanced Packet Block carries time, data, direction and comment",
          "[phy][pcapng]") {
  const auto data = frame_of(61, 1);  // odd length: padded to 64
  const std::uint64_t ts = 0x0000000512345678ULL;
  const auto b =
      pcapng::enhanced_packet(0, ts, data, pcapng::Direction::Outbound, "dropped: because");
  check_framing(b, 0x00000006);
  CHECK(le32(b, 8) == 0);            // interface
  CHECK(le32(b, 12) == 0x00000005);  // timestamp, high word
  CHECK(le32(b, 16) == 0x12345678);  // low word
  CHECK(le32(b, 20) == 61);          // captured
  CHECK(le32(b, 24) == 61);          // original
  CHECK(std::equal(data.begin(), data.end(), b.begin() + 28));
  for (std::size_t i = 28 + 61; i < 28 + 64; ++i) CHECK(b[i] == std::byte{0});
  const auto opts = options_of(b, 28 + 64);
  REQUIRE(opts.size() == 3);
  CHECK(opts[0].code == 2);  // epb_flags
  REQUIRE(opts[0].value.size() == 4);
  CHECK(le32(opts[0].value, 0) == 2);  // outbound
  CHECK(opts[1].code == 1);            // opt_comment
  CHECK(text(opts[1].value) == "dropped: because");
  CHECK(opts[2].code == 0);

  SECTION("no direction and no comment: no options at all") {
    const auto bare = pcapng::enhanced_packet(0, 1, data, pcapng::Direction::Unknown, "");
    CHECK(bare.size() == 28 + 64 + 4);
  }
}

TEST_CASE("PcapngWriter: frames grouped by step, received first, with the annotator's notes",
          "[phy][pcapng]") {
  TempDir dir;
  const std::string path = dir.file("steps.pcapng");
  QueueDevice inner;
  const auto rx1 = frame_of(60, 1);
  const auto tx1 = frame_of(70, 2);
  const auto tx2 = frame_of(80, 3);
  const auto tx3 = frame_of(90, 4);
  inner.inject(rx1);
  FakeAnnotator notes;
  const Duration epoch = std::chrono::seconds(1'700'000'000);
  {
    PcapngWriter w(inner, path, epoch);
    w.set_annotator(&notes);
    // One poll as the stack makes it: a frame and its answer, the end of the receive loop,
    // a timer's frame, the flush; then an application sends between polls.
    REQUIRE(w.receive(Instant::from_millis(10)));
    REQUIRE(w.transmit(tx1, Instant::from_millis(10)) == Errno::Ok);
    REQUIRE_FALSE(w.receive(Instant::from_millis(10)));
    REQUIRE(w.transmit(tx2, Instant::from_millis(10)) == Errno::Ok);
    w.flush(Instant::from_millis(10));
    REQUIRE(w.transmit(tx3, Instant::from_millis(25)) == Errno::Ok);
    w.flush(Instant::from_millis(30));
    CHECK(w.frames_written() == 4);
  }
  CHECK(notes.begins >= 4);

  const auto cap = read_capture(path);  // libpcap reads pcapng
  REQUIRE(cap.records.size() == 4);
  CHECK(cap.records[0].bytes == rx1);
  CHECK(cap.records[1].bytes == tx1);
  CHECK(cap.records[2].bytes == tx2);
  CHECK(cap.records[3].bytes == tx3);
  CHECK(cap.records[0].time_us == 1'700'000'000'010'000);
  CHECK(cap.records[3].time_us == 1'700'000'000'025'000);

  const auto blocks = blocks_of(path);
  REQUIRE(blocks.size() == 6);  // SHB, IDB, 4 EPBs
  auto comment_and_flags = [&](std::size_t i) {
    const auto& b = blocks[i];
    const auto caplen = le32(b, 20);
    std::string comment;
    std::uint32_t flags = 0;
    for (const auto& o : options_of(b, 28 + (caplen + 3) / 4 * 4)) {
      if (o.code == 1) comment = text(o.value);
      if (o.code == 2) flags = le32(o.value, 0);
    }
    return std::pair{comment, flags};
  };
  CHECK(comment_and_flags(2) == std::pair<std::string, std::uint32_t>{"rx #1", 1});
  CHECK(comment_and_flags(3) == std::pair<std::string, std::uint32_t>{"rx tx after #1", 2});
  CHECK(comment_and_flags(4) == std::pair<std::string, std::uint32_t>{"timers tx after #3", 2});
  CHECK(comment_and_flags(5) == std::pair<std::string, std::uint32_t>{"idle tx after #4", 2});
}

TEST_CASE("PcapngWriter: the open step is written on destruction, without comments",
          "[phy][pcapng]") {
  TempDir dir;
  const std::string path = dir.file("open.pcapng");
  QueueDevice inner;
  FakeAnnotator notes;
  {
    PcapngWriter w(inner, path);
    w.set_annotator(&notes);
    REQUIRE(w.transmit(frame_of(60, 9), Instant::from_millis(1)) == Errno::Ok);
  }
  const auto blocks = blocks_of(path);
  REQUIRE(blocks.size() == 3);
  const auto opts = options_of(blocks[2], 28 + 60);
  REQUIRE(opts.size() == 2);  // direction and end only
  CHECK(opts[0].code == 2);
}

TEST_CASE("PcapngWriter: an unwritable path throws DeviceError naming the file", "[phy][pcapng]") {
  QueueDevice inner;
  const std::string path = "/nonexistent-tapir-dir/x.pcapng";
  try {
    PcapngWriter w(inner, path);
    FAIL("PcapngWriter opened " << path);
  } catch (const DeviceError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find("No such file or directory") != std::string::npos);
  }
}
