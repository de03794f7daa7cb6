// Names the decision behind each frame from the counters it changed, without any hook in
// the protocol layers: the stack counts every decision (include/tapir/stats.hpp), so the
// difference between two snapshots of stack.stats() taken around a step (one received
// frame and its handling, or one round of timers; phy/step_recorder.hpp) says what the
// stack did, in the counters' own words:
//
//   dropped: ipv4.rx_drop_bad_checksum (header checksum mismatch)
//   icmp.rx_echo_requests (echo requests received); sent #5
//   for #4: icmp.tx_echo_replies (echo replies sent)
//
// StatsAnnotator feeds these to PcapngWriter (--pcapng); replay prints the same notes in
// its golden traces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "phy/pcapng_writer.hpp"
#include "tapir/stats.hpp"

namespace tapir::app {

struct CounterChange {
  std::string_view group;  // "ipv4"
  std::string_view name;   // "rx_drop_bad_checksum"
  std::string_view help;   // "dropped: header checksum mismatch"
  std::uint64_t delta = 0;
};

// Every counter that grew from `before` to `after`, in declaration order.
std::vector<CounterChange> changed_counters(const Stats& before, const Stats& after);
// "dropped: ipv4.rx_drop_bad_checksum (header checksum mismatch)", "ipv4.tx_fragments x3
// (fragments sent)".
std::string describe(const CounterChange& c);
// The notes for one step given the counters it changed; `first_number` is the frame number
// of the step's first frame (see phy::FrameAnnotator::explain).
phy::FrameNotes explain_step(const phy::Step& step, const std::vector<CounterChange>& changes,
                             std::uint64_t first_number);

class StatsAnnotator final : public phy::FrameAnnotator {
 public:
  // `stats` is the live stack.stats(); it must outlive the annotator.
  explicit StatsAnnotator(const Stats& stats) : stats_(stats), before_(stats) {}
  void begin() override { before_ = stats_; }
  phy::FrameNotes explain(const phy::Step& step, std::uint64_t first_number) override {
    return explain_step(step, changed_counters(before_, stats_), first_number);
  }

 private:
  const Stats& stats_;
  Stats before_;
};

}  // namespace tapir::app
