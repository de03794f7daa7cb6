#include "phy/pcap_writer.hpp"

#include <pcap/pcap.h>
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "phy/common.hpp"
#include "phy/queue_device.hpp"

#include "support/temp_dir.hpp"

using namespace tapir;
using namespace tapir::phy;

namespace {

// A private directory under /tmp, removed with everything in it when the test ends.
using test::TempDir;

struct Record {
  std::int64_t sec;
  std::int64_t usec;
  std::uint32_t len;
  std::vector<std::byte> bytes;
};

std::vector<Record> read_pcap(const std::string& path, int* linktype = nullptr) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = ::pcap_open_offline(path.c_str(), err);
  INFO("pcap_open_offline: " << err);
  REQUIRE(p != nullptr);
  if (linktype) *linktype = ::pcap_datalink(p);
  std::vector<Record> out;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  while (::pcap_next_ex(p, &hdr, &data) == 1) {
    const auto* b = reinterpret_cast<const std::byte*>(data);
    out.push_back({hdr->ts.tv_sec, hdr->ts.tv_usec, hdr->len, {b, b + hdr->caplen}});
  }
  ::pcap_close(p);
  return out;
}

std::vector<std::byte> frame_of(std::size_t len, std::uint8_t first) {
  std::vector<std::byte> f(len);
  for (std::size_t i = 0; i < len; ++i) f[i] = std::byte(static_cast<std::uint8_t>(first + i));
  return f;
}

}  // namespace

TEST_CASE("PcapWriter: libpcap reads back every frame with its bytes and timestamp", "[phy]") {
  TempDir dir;
  const std::string path = dir.file("capture.pcap");
  QueueDevice inner;
  const auto rx1 = frame_of(60, 1);
  const auto tx1 = frame_of(98, 50);
  const auto rx2 = frame_of(1514, 7);
  inner.inject(rx1);
  inner.inject(rx2);
  // 2023-11-14 22:13:20 UTC as the epoch of a ManualClock run.
  const Duration epoch = std::chrono::seconds(1'700'000'000);
  {
    PcapWriter pcap(inner, path, epoch);
    auto f = pcap.receive(Instant::from_micros(1'500'000));
    REQUIRE(f);
    CHECK(std::vector<std::byte>(f->begin(), f->end()) == rx1);
    REQUIRE(pcap.transmit(tx1, Instant::from_micros(2'000'001)) == Errno::Ok);
    REQUIRE(pcap.receive(Instant::from_micros(3'999'999)));
    CHECK_FALSE(pcap.receive(Instant::from_micros(4'000'000)));
    pcap.flush(Instant::from_micros(4'000'000));
    CHECK(pcap.frames_written() == 3);

    // After flush() the file holds whole records even while the writer stays open.
    CHECK(read_pcap(path).size() == 3);
  }
  CHECK(inner.take_transmitted() == std::vector<std::vector<std::byte>>{tx1});

  int linktype = 0;
  const auto recs = read_pcap(path, &linktype);
  CHECK(linktype == DLT_EN10MB);
  REQUIRE(recs.size() == 3);
  CHECK(recs[0].bytes == rx1);
  CHECK(recs[0].sec == 1'700'000'001);
  CHECK(recs[0].usec == 500'000);
  CHECK(recs[1].bytes == tx1);
  CHECK(recs[1].sec == 1'700'000'002);
  CHECK(recs[1].usec == 1);
  CHECK(recs[2].bytes == rx2);
  CHECK(recs[2].len == 1514);
  CHECK(recs[2].sec == 1'700'000'003);
  CHECK(recs[2].usec == 999'999);
}

TEST_CASE("PcapWriter: the same run writes the same file", "[phy]") {
  TempDir dir;
  auto run = [&](const std::string& path) {
    QueueDevice inner;
    inner.inject(frame_of(64, 3));
    PcapWriter pcap(inner, path);
    (void)pcap.receive(Instant::from_millis(10));
    (void)pcap.transmit(frame_of(80, 9), Instant::from_millis(20));
    pcap.flush(Instant::from_millis(20));
  };
  run(dir.file("a.pcap"));
  run(dir.file("b.pcap"));
  const auto a = read_pcap(dir.file("a.pcap"));
  const auto b = read_pcap(dir.file("b.pcap"));
  REQUIRE(a.size() == 2);
  REQUIRE(b.size() == 2);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].bytes == b[i].bytes);
    CHECK(a[i].sec == b[i].sec);
    CHECK(a[i].usec == b[i].usec);
  }
  CHECK(a[0].sec == 0);
  CHECK(a[0].usec == 10'000);
}

TEST_CASE("PcapWriter: frames the device refuses are not recorded", "[phy]") {
  TempDir dir;
  const std::string path = dir.file("refused.pcap");
  QueueDevice inner;
  {
    PcapWriter pcap(inner, path);
    inner.fail_transmit(Errno::Again);
    CHECK(pcap.transmit(frame_of(60, 1), Instant{}) == Errno::Again);
    inner.fail_transmit(Errno::Ok);
    CHECK(pcap.transmit(frame_of(60, 2), Instant{}) == Errno::Ok);
  }
  const auto recs = read_pcap(path);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].bytes == frame_of(60, 2));
}

TEST_CASE("PcapWriter: forwards caps, wait_fd and deadlines of the wrapped device", "[phy]") {
  TempDir dir;
  QueueDevice inner({.mtu = 9000, .rx_batch = 8});
  PcapWriter pcap(inner, dir.file("caps.pcap"));
  CHECK(pcap.caps().mtu == 9000);
  CHECK(pcap.caps().rx_batch == 8);
  CHECK(pcap.wait_fd() == -1);
  CHECK_FALSE(pcap.next_deadline());
}

TEST_CASE("PcapWriter: an unwritable path throws DeviceError naming the file", "[phy]") {
  QueueDevice inner;
  const std::string path = "/nonexistent-tapir-dir/x.pcap";
  try {
    PcapWriter pcap(inner, path);
    FAIL("PcapWriter opened " << path);
  } catch (const DeviceError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find("No such file or directory") != std::string::npos);
  }
}
