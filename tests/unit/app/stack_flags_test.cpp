// The flags every stack command shares (app/stack_options.hpp): capture, trace, faults,
// congestion control.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "app/stack_options.hpp"

using namespace tapir;
using namespace tapir::app;

namespace {

StackSetup parse(std::vector<std::string> words) {
  words.insert(words.begin(), {"tapir", "serve"});
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  Args args(stack_flag_specs(), static_cast<int>(argv.size()), argv.data(), 2);
  return parse_stack_flags(args);
}

std::string usage_error(std::vector<std::string> words) {
  try {
    (void)parse(std::move(words));
  } catch (const UsageError& e) {
    return e.what();
  }
  FAIL("no usage error");
  return {};
}

}  // namespace

TEST_CASE("stack flags: --pcap, --pcapng and --trace", "[app][capture]") {
  const auto none = parse({});
  CHECK_FALSE(none.pcap_path);
  CHECK_FALSE(none.pcapng_path);
  CHECK_FALSE(none.trace);
  CHECK_FALSE(none.faults);

  const auto s = parse({"--pcap", "a.pcap", "--pcapng=b.pcapng", "--trace"});
  CHECK(s.pcap_path == "a.pcap");
  CHECK(s.pcapng_path == "b.pcapng");
  CHECK(s.trace);

  CHECK(usage_error({"--pcap", ""}) == "--pcap: expected a file name");
  CHECK(usage_error({"--pcap", "x", "--pcapng", "x"}) == "--pcapng: 'x' is also the --pcap file");
}

TEST_CASE("stack flags: fault injection in both directions, seeded by --seed", "[app][capture]") {
  const auto s = parse({"--drop-pct", "2.5", "--dup-pct", "1", "--reorder-pct", "3",
                        "--corrupt-pct", "0.5", "--seed", "77"});
  REQUIRE(s.faults);
  CHECK(s.faults->seed == 77);
  for (const auto* f : {&s.faults->rx, &s.faults->tx}) {
    CHECK(f->drop_pct == 2.5);
    CHECK(f->dup_pct == 1);
    CHECK(f->reorder_pct == 3);
    CHECK(f->corrupt_pct == 0.5);
  }
  CHECK_FALSE(parse({"--drop-pct", "0"}).faults);
  const auto msg = usage_error({"--corrupt-pct", "101"});
  CHECK(msg.rfind("--corrupt-pct", 0) == 0);
  CHECK(msg.find("101") != std::string::npos);
  CHECK(usage_error({"--drop-pct", "lots"}).rfind("--drop-pct", 0) == 0);
}

TEST_CASE("stack flags: --congestion picks the TCP congestion control", "[app][congestion]") {
  CHECK(parse({}).config.tcp.congestion == CongestionAlgorithm::NewReno);
  CHECK(parse({"--congestion", "cubic"}).config.tcp.congestion == CongestionAlgorithm::Cubic);
  CHECK(parse({"--congestion=newreno"}).config.tcp.congestion == CongestionAlgorithm::NewReno);
  CHECK(usage_error({"--congestion", "bbr"}) ==
        "--congestion: invalid value 'bbr': expected newreno or cubic");
  CHECK(usage_error({"--congestion", ""}) ==
        "--congestion: invalid value '': expected newreno or cubic");
}

TEST_CASE("congestion names: newreno, cubic, and Linux's reno", "[app][congestion]") {
  CHECK(congestion_name(CongestionAlgorithm::NewReno) == "newreno");
  CHECK(congestion_name(CongestionAlgorithm::Cubic) == "cubic");
  CHECK(congestion_from_name("cubic") == CongestionAlgorithm::Cubic);
  CHECK(congestion_from_name("newreno") == CongestionAlgorithm::NewReno);
  CHECK(congestion_from_name("reno") == CongestionAlgorithm::NewReno);
  CHECK_FALSE(congestion_from_name("Cubic"));
  CHECK_FALSE(congestion_from_name(""));
}

TEST_CASE("stack flags: --max-sockets sizes the socket table", "[app][sockets]") {
  CHECK(parse({}).config.sockets.max_sockets == 1024);
  CHECK(parse({"--max-sockets", "110000"}).config.sockets.max_sockets == 110000);
  CHECK(usage_error({"--max-sockets", "0"}).find("--max-sockets") == 0);
  CHECK(usage_error({"--max-sockets", "lots"}).find("--max-sockets") == 0);
}
