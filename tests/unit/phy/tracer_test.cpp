#include "phy/tracer.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "phy/queue_device.hpp"
#include "util/log.hpp"
#include "wire/format.hpp"

using namespace tapir;
using namespace tapir::phy;

namespace {

struct Line {
  std::string text;
  bool outgoing;
};

// 10.0.0.1 (02:00:00:00:00:01) asks who has 10.0.0.2.
const std::vector<std::byte> kArpRequest = bytes_from_hex(
    "ffffffffffff 020000000001 0806"
    "0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002"
    "000000000000000000000000000000000000");

// Routes the tapir loggers to a ring buffer at trace level for one test, then restores them.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)) {
    log::set_sink(sink_);
    log::set_level(spdlog::level::trace);
  }
  ~CapturedLog() {
    log::set_level(spdlog::level::warn);
    log::set_sink(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  }
  std::vector<std::string> lines() const { return sink_->last_formatted(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

}  // namespace

TEST_CASE("Tracer: every frame in and out reaches the sink, decoded", "[phy]") {
  QueueDevice inner;
  std::vector<Line> lines;
  Tracer tracer(inner, [&](std::string_view l, bool out) {
    lines.push_back({std::string(l), out});
  });
  const Instant t0;
  const std::string decoded = wire::format_frame(kArpRequest);
  REQUIRE(decoded.rfind("ARP who-has 10.0.0.2 tell 10.0.0.1", 0) == 0);

  inner.inject(kArpRequest);
  auto f = tracer.receive(t0);
  REQUIRE(f);
  CHECK(f->size() == kArpRequest.size());
  CHECK_FALSE(tracer.receive(t0));
  REQUIRE(tracer.transmit(kArpRequest, t0) == Errno::Ok);
  CHECK(inner.take_transmitted().size() == 1);

  REQUIRE(lines.size() == 2);
  CHECK(lines[0].text == "<- " + decoded);
  CHECK_FALSE(lines[0].outgoing);
  CHECK(lines[1].text == "-> " + decoded);
  CHECK(lines[1].outgoing);
}

TEST_CASE("Tracer: a frame the device refuses is traced with the error", "[phy]") {
  QueueDevice inner;
  std::vector<Line> lines;
  Tracer tracer(inner, [&](std::string_view l, bool out) {
    lines.push_back({std::string(l), out});
  });
  inner.fail_transmit(Errno::Again);
  CHECK(tracer.transmit(kArpRequest, Instant{}) == Errno::Again);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].text == "-> " + wire::format_frame(kArpRequest) + " (refused: EAGAIN)");
}

TEST_CASE("Tracer: lines go to the phy logger at trace level", "[phy]") {
  CapturedLog captured;
  QueueDevice inner;
  Tracer tracer(inner);
  inner.inject(kArpRequest);
  REQUIRE(tracer.receive(Instant{}));
  REQUIRE(tracer.transmit(kArpRequest, Instant{}) == Errno::Ok);
  const auto logged = captured.lines();
  REQUIRE(logged.size() == 2);
  CHECK(logged[0].find("phy") != std::string::npos);
  CHECK(logged[0].find("<- ARP who-has 10.0.0.2 tell 10.0.0.1") != std::string::npos);
  CHECK(logged[1].find("-> ARP who-has 10.0.0.2 tell 10.0.0.1") != std::string::npos);
}

TEST_CASE("Tracer: forwards caps, wait_fd and deadlines of the wrapped device", "[phy]") {
  QueueDevice inner({.mtu = 1280, .rx_batch = 4});
  Tracer tracer(inner);
  CHECK(tracer.caps().mtu == 1280);
  CHECK(tracer.caps().rx_batch == 4);
  CHECK(tracer.wait_fd() == -1);
  CHECK_FALSE(tracer.next_deadline());
  // Below trace level and without a sink nothing is decoded, and frames still pass.
  inner.inject(kArpRequest);
  CHECK(tracer.receive(Instant{}));
}
