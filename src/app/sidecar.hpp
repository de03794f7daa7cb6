// The sidecar of a replay fixture: pcaps/NAME.sidecar beside pcaps/NAME.pcap, holding what
// the capture cannot: the configuration of the stack that was recorded, which side of the
// wire is the peer, and which fields replay may not compare exactly. A small text format,
// one `key = value` per line, '#' starts a comment (docs/replay.md describes every key):
//
//   mac = 02:00:00:00:00:02       the stack's MAC; frames from it are tapir's output
//   ip = 10.0.0.2/24              the stack's address and prefix
//   gateway = 10.0.0.1            optional
//   mtu = 1500                    optional (default 1500)
//   seed = 1                      the --seed of the recorded run
//   peer = 02:00:00:00:00:01      the peer's MAC (the Linux side of the TAP)
//   services = echo               optional, comma-separated, as `tapir serve --services`
//   client = resolve tapir.test via 10.0.0.1 at start expect 10.0.0.42
//                                 optional: a client the replay starts (ClientSpec below)
//   clock_origin = 1767000000.000123   optional: wall time of the stack's Instant 0
//   ignore = ipv4.id, time        optional: fields compared by nothing but their presence
//   time_tolerance_ms = 50        optional: how far a sent frame may move in time
//   description = ...             optional free text: what the conversation shows
//   recorded = ...                optional free text: when, on which kernel, with which command
//
// Unknown keys, repeated keys and bad values are errors naming the file, the line and the key.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tapir/dns_client.hpp"
#include "tapir/stack_config.hpp"

namespace tapir::app {

struct SidecarError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `client = resolve NAME via ADDR [at start|SECONDS] [timeout MS] [attempts N]
//            [expect ADDR,ADDR...|EAI_NAME]`: the replay runs `tapir resolve NAME
// --nameserver ADDR` (app/resolve_task.hpp) on its clock and, with `expect`, checks its
// answer.
struct ClientSpec {
  std::string name;
  Ipv4Addr nameserver;
  // On the recording's clock (seconds since clock_origin); nullopt ("at start"): right
  // after the first poll, when `tapir resolve` starts it.
  std::optional<Instant> at;
  Duration timeout = dns::kDefaultTimeout;
  int attempts = dns::kDefaultAttempts;
  std::optional<dns::Answer> expect;

  // "resolve tapir.test via 10.0.0.1": what the client does, for reports and traces.
  std::string what() const;
  // The key's value, as parse_sidecar reads it.
  std::string to_string() const;
};

struct Sidecar {
  std::string path;
  StackConfig config;  // mac, address, gateway, mtu, seed; the rest at their defaults
  MacAddr peer;
  std::vector<std::string> services;
  std::optional<ClientSpec> client;
  std::optional<std::int64_t> clock_origin_us;  // microseconds since 1970
  std::vector<std::string> ignore;
  Duration time_tolerance = std::chrono::milliseconds(50);
  std::string description;
  std::string recorded;

  bool ignores(std::string_view field) const;
};

// Parses sidecar text; `path` only names the file in error messages.
Sidecar parse_sidecar(std::string_view text, const std::string& path);
// Reads and parses the file. A missing file is a SidecarError like any other problem.
Sidecar load_sidecar(const std::string& path);
// "dir/NAME.pcap" -> "dir/NAME.sidecar" (and likewise for .pcapng or no extension).
std::string sidecar_path_for(const std::string& capture_path);
// The sidecar text for `s`, in the order and format parse_sidecar reads.
std::string format_sidecar(const Sidecar& s);

// Is `name` a field that `ignore` may name? (time, data, eth.trailer, LAYER.FIELD)
bool is_ignorable_field(std::string_view name);

}  // namespace tapir::app
