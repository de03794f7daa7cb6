#include "phy/pcap_reader.hpp"

#include <pcap/pcap.h>
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "phy/pcap_writer.hpp"
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

// A capture of two transmitted frames at 1.5 s and 2.25 s after the epoch.
std::string write_two(const TempDir& dir, const std::string& name) {
  const auto path = dir.file(name);
  QueueDevice inner;
  PcapWriter w(inner, path, std::chrono::seconds(1'000));
  REQUIRE(w.transmit(frame_of(60, 1), Instant::from_micros(1'500'000)) == Errno::Ok);
  REQUIRE(w.transmit(frame_of(98, 2), Instant::from_micros(2'250'000)) == Errno::Ok);
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The one-line message read_capture throws for `path`.
std::string error_of(const std::string& path) {
  try {
    (void)read_capture(path);
  } catch (const CaptureError& e) {
    return e.what();
  }
  FAIL("read_capture accepted " << path);
  return {};
}

void check_one_line_naming(const std::string& msg, const std::string& path) {
  INFO(msg);
  CHECK(msg.rfind(path + ": ", 0) == 0);
  CHECK(msg.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("read_capture: frames, lengths and microsecond times of a pcap", "[phy][capture]") {
  TempDir dir;
  const auto path = write_two(dir, "two.pcap");
  const auto cap = read_capture(path);
  CHECK(cap.path == path);
  CHECK(cap.link_type == DLT_EN10MB);
  REQUIRE(cap.records.size() == 2);
  CHECK(cap.records[0].bytes == frame_of(60, 1));
  CHECK(cap.records[0].time_us == 1'001'500'000);
  CHECK(cap.records[0].complete());
  CHECK(cap.records[1].bytes == frame_of(98, 2));
  CHECK(cap.records[1].orig_len == 98);
  CHECK(cap.records[1].time_us == 1'002'250'000);
}

TEST_CASE("read_capture: a capture cut in the middle of a record", "[phy][capture]") {
  TempDir dir;
  const auto path = write_two(dir, "cut.pcap");
  auto bytes = slurp(path);
  spit(path, bytes.substr(0, bytes.size() - 5));
  const auto msg = error_of(path);
  check_one_line_naming(msg, path);
  CHECK(msg.find("frame 2") != std::string::npos);
  CHECK(msg.find("truncated") != std::string::npos);
}

TEST_CASE("read_capture: a file cut inside its header", "[phy][capture]") {
  TempDir dir;
  const auto path = write_two(dir, "short.pcap");
  spit(path, slurp(path).substr(0, 10));
  const auto msg = error_of(path);
  check_one_line_naming(msg, path);
  CHECK(msg.find("truncated") != std::string::npos);
}

TEST_CASE("read_capture: a corrupt record length", "[phy][capture]") {
  TempDir dir;
  const auto path = write_two(dir, "corrupt.pcap");
  auto bytes = slurp(path);
  // The first record's captured length (after the 24-octet file header and two time words).
  for (int i = 0; i < 4; ++i) bytes[24 + 8 + static_cast<std::size_t>(i)] = '\x7f';
  spit(path, bytes);
  const auto msg = error_of(path);
  check_one_line_naming(msg, path);
  CHECK(msg.find("frame 1") != std::string::npos);
}

TEST_CASE("read_capture: not a capture at all, or no file", "[phy][capture]") {
  TempDir dir;
  const auto text = dir.file("notes.pcap");
  spit(text, "these are not the frames you are looking for\n");
  const auto msg = error_of(text);
  check_one_line_naming(msg, text);
  CHECK(msg.find("unknown file format") != std::string::npos);

  const auto empty = dir.file("empty.pcap");
  spit(empty, "");
  check_one_line_naming(error_of(empty), empty);

  const auto missing = dir.file("missing.pcap");
  const auto m = error_of(missing);
  check_one_line_naming(m, missing);
  CHECK(m.find("No such file or directory") != std::string::npos);
  CHECK(m.find(missing + ": " + missing) == std::string::npos);  // named once
}

TEST_CASE("read_capture: a link type other than Ethernet is refused", "[phy][capture]") {
  TempDir dir;
  const auto path = dir.file("raw.pcap");
  pcap_t* p = ::pcap_open_dead(DLT_RAW, 65535);
  REQUIRE(p);
  pcap_dumper_t* d = ::pcap_dump_open(p, path.c_str());
  REQUIRE(d);
  ::pcap_dump_close(d);
  ::pcap_close(p);
  const auto msg = error_of(path);
  check_one_line_naming(msg, path);
  CHECK(msg.find("is not Ethernet") != std::string::npos);
}

TEST_CASE("read_capture: a record cut by the snap length is read but not complete",
          "[phy][capture]") {
  TempDir dir;
  const auto path = dir.file("snap.pcap");
  pcap_t* p = ::pcap_open_dead(DLT_EN10MB, 64);
  REQUIRE(p);
  pcap_dumper_t* d = ::pcap_dump_open(p, path.c_str());
  REQUIRE(d);
  const auto f = frame_of(64, 0);
  pcap_pkthdr hdr{};
  hdr.caplen = 64;
  hdr.len = 1514;
  ::pcap_dump(reinterpret_cast<u_char*>(d), &hdr, reinterpret_cast<const u_char*>(f.data()));
  ::pcap_dump_close(d);
  ::pcap_close(p);
  const auto cap = read_capture(path);
  REQUIRE(cap.records.size() == 1);
  CHECK_FALSE(cap.records[0].complete());
  CHECK(cap.records[0].orig_len == 1514);
}
