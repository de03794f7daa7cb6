// One Catch2 test case per fixture in pcaps/ ("fixture: NAME"), registered when the test
// executable starts by scanning the directory CMake passes in TAPIR_PCAPS_DIR, so a new
// NAME.pcap becomes a test by being there. Each case replays the fixture, compares it with
// the recording and the golden trace, and replays it a second time to check that the
// output is the same byte for byte.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "app/replay.hpp"

#ifndef TAPIR_PCAPS_DIR
#error "TAPIR_PCAPS_DIR must name the fixture directory (tests/CMakeLists.txt sets it)"
#endif

namespace {

std::vector<std::string> fixture_captures() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(TAPIR_PCAPS_DIR, ec)) {
    if (e.path().extension() == ".pcap") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void replay_fixture(const std::string& capture) {
  using namespace tapir::app;
  INFO("fixture " << capture);
  const Fixture f = load_fixture(capture);
  std::ifstream in(f.trace_path, std::ios::binary);
  INFO("golden trace " << f.trace_path << " (scripts/regen-golden.sh writes it)");
  REQUIRE(in.good());
  const std::string golden{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};

  const ReplayResult first = run_replay(f);
  const Verdict v = check_replay(f, first, golden);
  INFO(v.report);
  CHECK(v.pass);

  // Byte determinism: a second replay of the same fixture is identical in every respect.
  const ReplayResult second = run_replay(f);
  CHECK(second.trace == first.trace);
  REQUIRE(second.sent.size() == first.sent.size());
  for (std::size_t i = 0; i < first.sent.size(); ++i) {
    CHECK(second.sent[i].bytes == first.sent[i].bytes);
    CHECK(second.sent[i].time == first.sent[i].time);
  }
  CHECK(check_replay(f, second, golden).report == v.report);
}

class FixtureInvoker final : public Catch::ITestInvoker {
 public:
  explicit FixtureInvoker(std::string capture) : capture_(std::move(capture)) {}
  void invoke() const override { replay_fixture(capture_); }

 private:
  std::string capture_;
};

// Catch2 keeps the registrations; the names must outlive them.
struct Registrations {
  std::vector<std::string> names;
  std::vector<std::unique_ptr<Catch::AutoReg>> regs;
  Registrations() {
    const auto captures = fixture_captures();
    names.reserve(captures.size());
    for (const auto& c : captures) {
      names.push_back("fixture: " + std::filesystem::path(c).stem().string());
      regs.push_back(std::make_unique<Catch::AutoReg>(
          new FixtureInvoker(c), CATCH_INTERNAL_LINEINFO, Catch::StringRef(),
          Catch::NameAndTags{names.back(), "[replay][fixture]"}));
    }
  }
};
const Registrations kRegistrations;

}  // namespace

TEST_CASE("fixtures: pcaps/ holds fixtures, each with its sidecar and golden trace",
          "[replay][fixture]") {
  const auto captures = fixture_captures();
  CHECK(captures.size() >= 16);  // issue 5 asks for at least 16 fixtures
  for (const auto& c : captures) {
    INFO(c);
    CHECK(std::filesystem::exists(tapir::app::sidecar_path_for(c)));
    auto trace = std::filesystem::path(c).replace_extension(".trace");
    CHECK(std::filesystem::exists(trace));
  }
}
