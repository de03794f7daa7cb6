#include "app/annotator.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tapir::app {

namespace {

// Counters that move with nearly every frame and say nothing about a decision. They are
// named only when nothing more specific changed.
constexpr std::string_view kTotals[] = {"eth.rx_frames",     "eth.rx_bytes",     "eth.tx_frames",
                                        "eth.tx_bytes",      "ipv4.rx_packets",  "ipv4.tx_packets",
                                        "ipv4.rx_delivered", "icmp.rx_messages", "udp.rx_datagrams",
                                        "udp.tx_datagrams",  "tcp.rx_segments",  "tcp.tx_segments"};

bool is_total(const CounterChange& c) {
  const auto full = fmt::format("{}.{}", c.group, c.name);
  return std::find(std::begin(kTotals), std::end(kTotals), full) != std::end(kTotals);
}
bool is_eth(const CounterChange& c) { return c.group == "eth" && is_total(c); }
bool is_tx(const CounterChange& c) {
  return c.name.substr(0, 3) == "tx_" || c.name == "pending_sent";
}

// The specific counters if any changed, else the totals without the Ethernet ones, else
// those.
std::string describe_all(const std::vector<CounterChange>& changes) {
  std::vector<const CounterChange*> picked;
  for (int pass = 0; pass < 3 && picked.empty(); ++pass) {
    for (const auto& c : changes) {
      const bool take = pass == 0   ? !is_total(c)
                        : pass == 1 ? is_total(c) && !is_eth(c)
                                    : is_eth(c);
      if (take) picked.push_back(&c);
    }
  }
  std::string out;
  for (const auto* c : picked) {
    if (!out.empty()) out += "; ";
    out += describe(*c);
  }
  return out;
}

std::string frame_range(std::uint64_t first, std::size_t count) {
  if (count == 1) return fmt::format("#{}", first);
  return fmt::format("#{}-#{}", first, first + count - 1);
}

}  // namespace

std::vector<CounterChange> changed_counters(const Stats& before, const Stats& after) {
  std::vector<std::uint64_t> old_values;
  visit_counters(before, [&](std::string_view, std::string_view, std::string_view,
                             std::uint64_t v) { old_values.push_back(v); });
  std::vector<CounterChange> out;
  std::size_t i = 0;
  visit_counters(after, [&](std::string_view group, std::string_view name, std::string_view help,
                            std::uint64_t v) {
    const std::uint64_t old = old_values[i++];
    if (v > old) out.push_back({group, name, help, v - old});
  });
  return out;
}

std::string describe(const CounterChange& c) {
  // Help texts of decisions start with their verb ("dropped: ...", "ignored: ...", "errors
  // not sent: ..."); the verb goes first so that the decision reads first.
  std::string_view verb;
  std::string_view rest = c.help;
  auto colon = c.help.find(": ");
  if (colon <= 20 &&  // npos is larger
      c.help.substr(0, colon).find('(') == std::string_view::npos) {
    verb = c.help.substr(0, colon);
    rest = c.help.substr(colon + 2);
  }
  std::string count = c.delta > 1 ? fmt::format(" x{}", c.delta) : "";
  if (verb.empty()) return fmt::format("{}.{}{} ({})", c.group, c.name, count, rest);
  return fmt::format("{}: {}.{}{} ({})", verb, c.group, c.name, count, rest);
}

phy::FrameNotes explain_step(const phy::Step& step, const std::vector<CounterChange>& changes,
                             std::uint64_t first_number) {
  phy::FrameNotes notes;
  if (step.kind == phy::StepKind::Received && step.rx) {
    std::vector<CounterChange> rx;
    std::vector<CounterChange> tx;
    for (const auto& c : changes) (is_tx(c) ? tx : rx).push_back(c);
    notes.rx = describe_all(rx);
    if (!step.tx.empty()) {
      notes.rx += fmt::format("; sent {}", frame_range(first_number + 1, step.tx.size()));
      notes.tx = fmt::format("for #{}: {}", first_number, describe_all(tx));
    }
    return notes;
  }
  // Timers and socket calls: everything that changed explains the frames sent.
  const auto all = describe_all(changes);
  notes.tx = step.kind == phy::StepKind::Timers ? "timer: " + all : all;
  return notes;
}

}  // namespace tapir::app
