#include "app/replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "app/annotator.hpp"
#include "app/frame_compare.hpp"
#include "app/resolve_task.hpp"
#include "app/services.hpp"
#include "phy/pcapng_writer.hpp"
#include "phy/queue_device.hpp"
#include "phy/step_recorder.hpp"
#include "wire/format.hpp"

namespace tapir::app {

namespace {

// A stack that asks to be polled again at the same instant this many times in a row is not
// making progress; replay stops rather than spin.
constexpr int kMaxPollsPerInstant = 1000;
// Diffs beyond this many frames are summarised.
constexpr std::size_t kMaxFrameDiffs = 10;

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  std::string file = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = file.rfind('.');
  return dot == std::string::npos || dot == 0 ? file : file.substr(0, dot);
}

std::string with_extension(const std::string& capture_path, std::string_view ext) {
  auto side = sidecar_path_for(capture_path);  // ".../NAME.sidecar"
  return side.substr(0, side.size() - std::string_view(".sidecar").size()) + std::string(ext);
}

// Maps capture timestamps to the stack's Instants: the sidecar's clock_origin is the wall
// time of Instant 0 in the recorded run, so replayed Instants equal the recorded ones (TCP
// ISNs depend on them, RFC 6528 §3). Without it the first frame is Instant 0.
struct Timeline {
  std::int64_t origin_us;
  Instant at(const phy::CaptureRecord& r) const {
    return Instant::from_micros(r.time_us - origin_us);
  }
};

Timeline timeline_of(const Fixture& f) {
  return {f.sidecar.clock_origin_us.value_or(f.capture.records.front().time_us)};
}

bool is_tapirs(const Fixture& f, const phy::CaptureRecord& r) {
  auto eth = wire::EthernetView::checked(r.bytes);
  return eth && eth->src() == f.sidecar.config.mac;
}

std::string seconds(Duration d) {
  const auto us = d.count();
  const char* sign = us < 0 ? "-" : "";
  const auto a = us < 0 ? -us : us;
  return fmt::format("{}{}.{:06}", sign, a / 1'000'000, a % 1'000'000);
}

std::string ordinal(std::size_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return fmt::format("{}{}", n, suffix);
}

// Collects the replayed conversation step by step (phy/step_recorder.hpp) and renders it in
// the golden trace's form, with the counters each step changed as its note.
class TraceBuilder final : public phy::StepSink {
 public:
  TraceBuilder(const ManualClock& clock, Instant start) : clock_(clock), start_(start) {
    trace_ =
        "# tapir replay trace: '->' sent by tapir, '<-' from the peer, seconds since the first\n"
        "# frame; each frame's second line names the counters it changed. Regenerate with\n"
        "# scripts/regen-golden.sh and review the changes like code.\n";
  }
  void watch(const Stats& stats) {
    stats_ = &stats;
    before_ = stats;
  }
  void step_begin() override {
    if (stats_) before_ = *stats_;
  }
  void step_end(phy::Step&& step) override {
    std::vector<CounterChange> changes;
    if (stats_) changes = changed_counters(before_, *stats_);
    if (!step.rx && step.tx.empty()) {
      if (changes.empty()) return;
      auto notes = explain_step(step, changes, number_ + 1);
      trace_ += fmt::format("{:6}{:>11}    {}\n", "", seconds(clock_.now() - start_), notes.tx);
      return;
    }
    auto notes = explain_step(step, changes, number_ + 1);
    if (step.rx) add(*step.rx, false, notes.rx);
    for (auto& f : step.tx) {
      add(f, true, notes.tx);
      sent_.push_back({number_, f.time, true, std::move(f.bytes)});
    }
  }
  ReplayResult take() { return {std::move(sent_), std::move(trace_), {}}; }

 private:
  void add(const phy::StepFrame& f, bool outgoing, const std::string& note) {
    ++number_;
    trace_ += trace_line(number_, f.time - start_, outgoing, f.bytes);
    trace_ += '\n';
    if (!note.empty()) trace_ += fmt::format("{:21}{}\n", "", note);
  }

  const ManualClock& clock_;
  Instant start_;
  const Stats* stats_ = nullptr;
  Stats before_;
  std::uint64_t number_ = 0;
  std::string trace_;
  std::vector<ReplayFrame> sent_;
};

struct Input {
  Instant time;
  const std::vector<std::byte>* bytes;
};

// ---- check_replay helpers ----

struct Expected {
  std::size_t record;  // 1-based capture frame number
  Instant time;
  const std::vector<std::byte>* bytes;
};

std::string field_table(const std::vector<FieldDiff>& diffs) {
  std::size_t wf = 5;
  std::size_t we = 8;
  for (const auto& d : diffs) {
    wf = std::max(wf, d.field.size());
    we = std::max(we, d.expected.size());
  }
  std::string out = fmt::format("    {:<{}}  {:<{}}  {}\n", "field", wf, "expected", we, "actual");
  for (const auto& d : diffs) {
    out += fmt::format("    {:<{}}  {:<{}}  {}\n", d.field, wf, d.expected, we, d.actual);
  }
  return out;
}

std::string golden_diff(const std::string& golden_path, const std::string& golden,
                        const std::string& actual) {
  auto lines = [](const std::string& s) {
    std::vector<std::string_view> out;
    std::string_view rest = s;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      out.push_back(rest.substr(0, nl));
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
    return out;
  };
  const auto g = lines(golden);
  const auto a = lines(actual);
  std::size_t i = 0;
  while (i < g.size() && i < a.size() && g[i] == a[i]) ++i;
  auto at = [](const std::vector<std::string_view>& v, std::size_t k) {
    return k < v.size() ? std::string(v[k]) : std::string("(end of trace)");
  };
  return fmt::format(
      "  golden trace {} differs from the replay at line {} ({} lines golden, {} replayed):\n"
      "    golden: {}\n    replay: {}\n"
      "  (if the change is intended, regenerate with scripts/regen-golden.sh and review it)\n",
      golden_path, i + 1, g.size(), a.size(), at(g, i), at(a, i));
}

// The sidecar's client, as `tapir resolve` runs it (app/resolve.cpp), after the services in
// the same tick.
ServiceTick with_client(ServiceTick services, std::shared_ptr<ResolveTask> client) {
  return [services = std::move(services), client = std::move(client)](Instant now) {
    auto due = services ? services(now) : std::optional<Instant>{};
    return earliest(due, client->tick(now));
  };
}

// The trace's last line: what the client got, and when.
std::string client_line(const ClientOutcome& o, Instant start) {
  if (!o.answer)
    return fmt::format("client: {} -> no answer by the end of the recording\n", o.what);
  return fmt::format("client: {} -> {} at {}\n", o.what, dns::to_string(*o.answer),
                     seconds(*o.at - start));
}

// Empty when the client answered as the sidecar expects (or nothing is expected).
std::string client_diff(const Sidecar& sc, const ReplayResult& r) {
  if (!sc.client || !sc.client->expect) return {};
  const auto& want = *sc.client->expect;
  if (!r.client || !r.client->answer) {
    return fmt::format("  client: {} got no answer by the end of the recording (expected {})\n",
                       sc.client->what(), dns::to_string(want));
  }
  if (dns::same_answer(*r.client->answer, want)) return {};
  return fmt::format("  client: {} answered {}, expected {}\n", sc.client->what(),
                     dns::to_string(*r.client->answer), dns::to_string(want));
}

}  // namespace

ServiceFactory serve_services() {
  return [](const std::vector<std::string>& names, Stack& stack) -> ServiceTick {
    auto host = std::make_shared<ServiceHost>(stack);
    try {
      // The names as `--services` would take them: an unknown one is refused by name.
      ServiceOptions options;
      options.seed = stack.config().seed;  // as `tapir serve` passes its --seed
      (void)start_services(*host, parse_services_flag(fmt::format("{}", fmt::join(names, ","))),
                           options);
    } catch (const std::exception& e) {
      throw FixtureError(fmt::format("services = {}: {}", fmt::join(names, ","), e.what()));
    }
    // As `tapir serve` does after every poll (app/serve.cpp).
    return [host](Instant now) {
      host->dispatch(now);
      return host->next_deadline();
    };
  };
}

std::string trace_line(std::uint64_t number, Duration since_start, bool outgoing, Bytes frame) {
  return fmt::format("#{:<5}{:>11} {} {}", number, seconds(since_start), outgoing ? "->" : "<-",
                     wire::format_frame(frame));
}

Fixture load_fixture(const std::string& capture_path) {
  Fixture f;
  f.name = base_name(capture_path);
  f.capture_path = capture_path;
  f.trace_path = with_extension(capture_path, ".trace");
  f.capture = phy::read_capture(capture_path);
  f.sidecar = load_sidecar(sidecar_path_for(capture_path));
  const auto& recs = f.capture.records;
  if (recs.empty()) throw FixtureError(capture_path + ": the capture holds no frames");
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (!recs[i].complete()) {
      throw FixtureError(fmt::format(
          "{}: frame {}: only {} of {} octets captured; replay needs whole frames (capture "
          "with a larger snap length)",
          capture_path, i + 1, recs[i].bytes.size(), recs[i].orig_len));
    }
    if (i > 0 && recs[i].time_us < recs[i - 1].time_us) {
      throw FixtureError(
          fmt::format("{}: frame {}: time goes backwards from frame {}", capture_path, i + 1, i));
    }
  }
  return f;
}

ReplayResult run_replay(const Fixture& f, const ReplayOptions& options) {
  const auto& services = options.services;
  const auto& sc = f.sidecar;
  const Timeline tl = timeline_of(f);
  const auto& recs = f.capture.records;
  const Instant start = tl.at(recs.front());
  const Instant end = tl.at(recs.back());
  std::vector<Input> inputs;
  for (const auto& r : recs) {
    if (!is_tapirs(f, r)) inputs.push_back({tl.at(r), &r.bytes});
  }

  ManualClock clock(start);
  phy::DeviceCaps caps;
  if (sc.config.mtu != 0) caps.mtu = sc.config.mtu;
  phy::QueueDevice dev(caps);
  std::unique_ptr<phy::PcapngWriter> pcapng;
  if (options.pcapng_path) {
    pcapng = std::make_unique<phy::PcapngWriter>(dev, *options.pcapng_path, Duration{tl.origin_us});
  }
  TraceBuilder trace(clock, start);
  phy::StepRecorder recorder(pcapng ? static_cast<phy::Device&>(*pcapng) : dev, trace);
  Stack stack(recorder, sc.config);
  trace.watch(stack.stats());
  StatsAnnotator annotator(stack.stats());
  if (pcapng) pcapng->set_annotator(&annotator);
  ServiceTick tick;
  if (!sc.services.empty()) {
    if (!services) {
      throw FixtureError(fmt::format("{}: services = {}: no services are available to replay",
                                     sc.path, fmt::join(sc.services, ",")));
    }
    try {
      tick = services(sc.services, stack);
    } catch (const std::exception& e) {
      throw FixtureError(sc.path + ": " + e.what());
    }
  }
  std::shared_ptr<ResolveTask> client;
  if (sc.client) {
    const auto& c = *sc.client;
    client = std::make_shared<ResolveTask>(
        stack, c.name,
        dns::ClientConfig{.nameserver = c.nameserver, .timeout = c.timeout, .attempts = c.attempts},
        c.at);
    tick = with_client(std::move(tick), client);
  }

  std::vector<std::string> problems;
  std::size_t next = 0;
  std::optional<Instant> app_deadline;
  bool stalled = false;
  auto poll_at = [&](Instant t) {
    clock.set(t);
    while (next < inputs.size() && inputs[next].time <= t) dev.inject(*inputs[next++].bytes);
    // More frames than one receive batch take more polls at the same instant; a stack that
    // stops reading them would keep replay here forever.
    for (;;) {
      const std::size_t waiting = dev.pending();
      stack.poll(t);
      app_deadline = tick ? tick(t) : std::nullopt;
      if (dev.pending() == 0) return;
      if (dev.pending() >= waiting) {
        problems.push_back(fmt::format("the stack stopped reading frames at +{} s ({} waiting)",
                                       seconds(t - start), dev.pending()));
        stalled = true;
        return;
      }
    }
  };

  poll_at(start);
  int polls_here = 0;
  while (!stalled) {
    auto due = earliest(stack.next_deadline(), app_deadline);
    std::optional<Instant> arrival;
    if (next < inputs.size()) arrival = inputs[next].time;
    auto t = earliest(due, arrival);
    // The recording ends with its last frame, or, for a client still waiting for its answer
    // then (a silent nameserver), when the client gives up: `tapir resolve` ran until then.
    const bool client_waiting = client && !client->done();
    if (!t || (*t > end && !client_waiting)) break;
    const Instant at = std::max(*t, clock.now());
    polls_here = at == clock.now() ? polls_here + 1 : 0;
    if (polls_here > kMaxPollsPerInstant) {
      problems.push_back(fmt::format("the stack asked to be polled at +{} s more than {} times",
                                     seconds(at - start), kMaxPollsPerInstant));
      break;
    }
    poll_at(at);
  }
  recorder.finish();
  if (pcapng) pcapng->flush(clock.now());
  ReplayResult result = trace.take();
  result.problems = std::move(problems);
  if (client) {
    ClientOutcome o{sc.client->what(), std::nullopt, client->finished_at()};
    if (client->done()) o.answer = client->answer();
    result.trace += client_line(o, start);
    result.client = std::move(o);
  }
  return result;
}

Verdict check_replay(const Fixture& f, const ReplayResult& r,
                     const std::optional<std::string>& golden) {
  const auto& sc = f.sidecar;
  const Timeline tl = timeline_of(f);
  const Instant start = tl.at(f.capture.records.front());
  std::vector<Expected> expected;
  std::size_t peer_frames = 0;
  for (std::size_t i = 0; i < f.capture.records.size(); ++i) {
    const auto& rec = f.capture.records[i];
    if (is_tapirs(f, rec)) {
      expected.push_back({i + 1, tl.at(rec), &rec.bytes});
    } else {
      ++peer_frames;
    }
  }
  auto ignored = [&sc](std::string_view field) { return sc.ignores(field); };

  std::string diff;
  std::size_t bad_frames = 0;
  std::size_t exact = 0;
  std::size_t by_field = 0;  // equal but for the sidecar's ignored fields
  const std::size_t n = std::max(expected.size(), r.sent.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::string one;
    if (i < expected.size() && i < r.sent.size()) {
      const auto& e = expected[i];
      const auto& a = r.sent[i];
      auto diffs = compare_frames(*e.bytes, a.bytes, ignored);
      const auto drift = a.time - e.time;
      if (!sc.ignores("time") && (drift > sc.time_tolerance || -drift > sc.time_tolerance)) {
        diffs.push_back(
            {"time", "+" + seconds(e.time - start) + " s", "+" + seconds(a.time - start) + " s"});
      }
      if (diffs.empty()) {
        ++(*e.bytes == a.bytes ? exact : by_field);
        continue;
      }
      one = fmt::format("  capture frame {} (tapir's {} frame) differs in {}:\n", e.record,
                        ordinal(i + 1),
                        diffs.size() == 1 ? "1 field" : fmt::format("{} fields", diffs.size()));
      one += field_table(diffs);
      one += fmt::format("    expected: {}\n    actual:   {}\n", wire::format_frame(*e.bytes),
                         wire::format_frame(a.bytes));
    } else if (i < expected.size()) {
      const auto& e = expected[i];
      one = fmt::format(
          "  capture frame {} (tapir's {} frame, at +{} s): the replay did not send it\n"
          "    expected: {}\n",
          e.record, ordinal(i + 1), seconds(e.time - start), wire::format_frame(*e.bytes));
    } else {
      const auto& a = r.sent[i];
      one = fmt::format(
          "  the replay sent an extra frame (tapir's {} frame, at +{} s)\n"
          "    actual:   {}\n",
          ordinal(i + 1), seconds(a.time - start), wire::format_frame(a.bytes));
    }
    if (++bad_frames <= kMaxFrameDiffs) diff += one;
  }
  if (bad_frames > kMaxFrameDiffs) {
    diff += fmt::format("  ... and {} more frames differ\n", bad_frames - kMaxFrameDiffs);
  }
  for (const auto& p : r.problems) diff += "  " + p + "\n";
  const std::string client = client_diff(sc, r);
  diff += client;
  const bool golden_ok = !golden || *golden == r.trace;
  if (!golden_ok) diff += golden_diff(f.trace_path, *golden, r.trace);

  Verdict v;
  v.pass = bad_frames == 0 && r.problems.empty() && client.empty() && golden_ok;
  v.report = fmt::format(
      "{} {}: {} peer frames replayed; {} frames sent, {} recorded ({} identical{})",
      v.pass ? "PASS" : "FAIL", f.capture_path, peer_frames, r.sent.size(), expected.size(), exact,
      by_field > 0 ? fmt::format(", {} equal but for ignored fields", by_field) : "");
  if (sc.client && sc.client->expect) {
    v.report += client.empty() ? "; client answer as expected" : "; client answer differs";
  }
  if (golden) v.report += golden_ok ? "; trace matches" : "; trace differs";
  v.report += '\n';
  v.report += diff;
  return v;
}

}  // namespace tapir::app
