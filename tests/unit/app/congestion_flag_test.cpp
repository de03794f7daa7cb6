// --congestion, shared by every command that runs a stack (app/stack_options.hpp).
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
