// Deterministic replay of a recorded conversation (docs/replay.md). A fixture is three files:
//
//   pcaps/NAME.pcap      the recording: every frame tapir received and sent
//   pcaps/NAME.sidecar   the stack's configuration and the peer (app/sidecar.hpp)
//   pcaps/NAME.trace     the golden trace: the replayed conversation, one decoded line per
//                        frame with the decision behind it (app/annotator.hpp)
//
// Replay builds a fresh Stack from the sidecar on a QueueDevice and a ManualClock, feeds it
// the peer's frames at their recorded times (polling at every stack deadline in between, as
// the live event loop would have woken up), and collects what the stack sends. A frame in the
// capture is tapir's when its source MAC is the sidecar's `mac`; every other frame came from
// the peer's side of the wire. check_replay() then compares the frames sent with the frames
// tapir sent in the recording -- byte for byte, or field by field where the sidecar's
// `ignore` names exceptions -- and the rendered trace with the golden file. A fixture
// whose sidecar names a `client` (tapir as a DNS client, app/resolve_task.hpp) has that
// client re-run on the replay's clock, and its answer checked against the sidecar's
// `expect`.
//
// Nothing here reads a clock or draws a random number outside the stack's seeded Rng: the
// same fixture always replays to the same output, byte for byte.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/sidecar.hpp"
#include "phy/pcap_reader.hpp"
#include "tapir/dns_client.hpp"
#include "tapir/stack.hpp"

namespace tapir::app {

// A fixture that cannot be replayed: incomplete records, time running backwards, a service
// this build does not know. The message is one line naming the file and the problem.
struct FixtureError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Fixture {
  std::string name;  // "ping" for pcaps/ping.pcap
  std::string capture_path;
  std::string trace_path;  // pcaps/NAME.trace (may not exist yet)
  Sidecar sidecar;
  phy::Capture capture;
};

// Reads NAME.pcap and the NAME.sidecar beside it. Throws phy::CaptureError, SidecarError or
// FixtureError, each with a one-line message naming the file.
Fixture load_fixture(const std::string& capture_path);

// The applications the replayed stack runs (the sidecar's `services`): given the names and
// the stack, returns the function the event loop would call after every poll (it returns its
// own next deadline), or throws FixtureError for a name it does not know.
using ServiceTick = std::function<std::optional<Instant>(Instant now)>;
using ServiceFactory =
    std::function<ServiceTick(const std::vector<std::string>& names, Stack& stack)>;

// The services of `tapir serve --services` (app/services.hpp), as the recording ran them.
ServiceFactory serve_services();

struct ReplayFrame {
  std::uint64_t number = 0;  // position in the conversation, 1-based, as Wireshark counts
  Instant time;              // on the replay's clock (the recording's Instants)
  bool outgoing = false;     // sent by tapir
  std::vector<std::byte> bytes;
};

// What the sidecar's `client` did in the replay.
struct ClientOutcome {
  std::string what;                   // "resolve tapir.test via 10.0.0.1"
  std::optional<dns::Answer> answer;  // nullopt: no answer by the end of the recording
  std::optional<Instant> at;          // when the answer came
};

struct ReplayResult {
  std::vector<ReplayFrame> sent;        // every frame the replayed stack sent, in order
  std::string trace;                    // the conversation in golden-trace form
  std::vector<std::string> problems;    // replay could not follow the recording (e.g. a stack
                                        // that keeps asking to be polled at one instant)
  std::optional<ClientOutcome> client;  // set when the sidecar names a client
};

struct ReplayOptions {
  ServiceFactory services = serve_services();
  // Also write the replayed conversation to this file as annotated pcapng (--pcapng), with
  // the recording's wall-clock times.
  std::optional<std::string> pcapng_path;
};

// Replays the fixture on a fresh stack, with the sidecar's services and client. Throws
// FixtureError when the sidecar names services that `options.services` cannot provide,
// phy::DeviceError when the pcapng file cannot be written.
ReplayResult run_replay(const Fixture& f, const ReplayOptions& options = {});

struct Verdict {
  bool pass = false;
  std::string report;  // "PASS ..." or "FAIL ..." followed by the diff, newline-terminated
};

// Compares the replay with the recording, the client's answer with the sidecar's `expect`
// and, when `golden` holds the golden trace's text, the trace with it.
Verdict check_replay(const Fixture& f, const ReplayResult& r,
                     const std::optional<std::string>& golden);

// One frame in the trace's form: "#12    1.204511 -> ICMP 10.0.0.2 > ..." (no newline).
std::string trace_line(std::uint64_t number, Duration since_start, bool outgoing, Bytes frame);

}  // namespace tapir::app
