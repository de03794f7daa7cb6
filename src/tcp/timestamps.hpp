// The TCP Timestamps option's rules (RFC 7323 §3-§5) as pure functions, so each can be
// tested without a connection: the timestamp clock with its per-connection offset (§3.3,
// §5.4), which TSval the receiver remembers and echoes (§4.3), PAWS with the 24-day rule
// (§5.3, §5.5), and the round-trip time a TSecr measures (§4.1).
//
// The connection keeps the variables (TimestampVars) and calls these at the RFC's points:
// PAWS before the acceptability test (§5.3 R1 before R2), TS.Recent after it (R3), the
// sample when an ACK advances SND.UNA. See docs/conformance.md for what is not done.
#pragma once

#include <cstdint>
#include <optional>

#include "tapir/time.hpp"
#include "tcp/seq.hpp"

namespace tapir::tcp {

// RFC 7323 §3.2: the option is 10 octets; with the two NOPs that align it, every segment
// of a connection that uses it loses 12 octets of payload (RFC 6691 §2: the MSS counts
// data only, so options come out of the segment's data).
inline constexpr std::uint32_t kTimestampsSpace = 12;

// RFC 7323 §5.5: "invalidate" TS.Recent when the connection has been idle for more than
// 24 days (a 1 ms timestamp clock wraps its sign bit after 24.8 days).
inline constexpr Duration kTsRecentLifetime = std::chrono::hours(24 * 24);

// RFC 7323 §5.2: timestamps are compared in modular 32-bit space, as sequence numbers are:
// s < t when 0 < (t - s) < 2^31.
constexpr bool ts_before(std::uint32_t s, std::uint32_t t) {
  return static_cast<std::int32_t>(s - t) < 0;
}

// RFC 7323 §3.3: the timestamp clock ticks once a millisecond (the RFC allows 1 ms to 1 s
// per tick), taken from the Instant passed in, never from a clock of its own; §5.4: each
// connection adds its own offset, so TSval reveals nothing about the host's uptime and
// two connections' clocks cannot be related.
constexpr std::uint32_t ts_clock(Instant now, std::uint32_t offset) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.millis())) + offset;
}

// The per-connection variables of RFC 7323 §4.3 and §5.5.
struct TimestampVars {
  std::uint32_t offset = 0;  // Snd.TSoffset (§5.4), from the seeded ISN secret
  std::uint32_t recent = 0;  // TS.Recent: the TSval to echo in TSecr
  Instant recent_at;         // when TS.Recent was last set (§5.5 idle test)
  SeqNum last_ack_sent;      // Last.ACK.sent: the ACK field of the last segment sent
};

// RFC 7323 §5.3 R1: a segment whose TSval is older than TS.Recent is an old duplicate,
// unless TS.Recent is no longer valid: §5.5, more than 24 days since it was last set, and
// then R3 takes the new TSval. RST segments are exempt (the caller checks the RST bit).
constexpr bool paws_rejects(std::uint32_t tsval, const TimestampVars& ts, Instant now) {
  return ts_before(tsval, ts.recent) && now - ts.recent_at <= kTsRecentLifetime;
}

// RFC 7323 §4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent then
// SEG.TSval is copied to TS.Recent". Delayed ACKs thereby echo the earliest unacknowledged
// segment's TSval (§4.2 (A)), an out-of-order segment does not touch TS.Recent (§4.2 (B))
// and the segment that fills a hole does (§4.2 (C)).
constexpr bool ts_recent_takes(std::uint32_t tsval, SeqNum seq, const TimestampVars& ts) {
  return !ts_before(tsval, ts.recent) && seq.before_eq(ts.last_ack_sent);
}

// RFC 7323 §4.1: RTT = current timestamp clock - SEG.TSecr. The echoed value names the
// transmission that reached the peer, so the sample is unambiguous even for a
// retransmitted segment (the ambiguity Karn's rule avoids, RFC 6298 §3). A TSecr from the
// future (a broken or forged echo) gives nothing; LINUX (tcp_ack_update_rtt): neither does
// a TSecr of zero, which some stacks send when they have nothing to echo.
constexpr std::optional<Duration> ts_rtt(std::uint32_t now_ts, std::uint32_t tsecr) {
  if (tsecr == 0) return std::nullopt;
  const auto ticks = static_cast<std::int32_t>(now_ts - tsecr);
  if (ticks < 0) return std::nullopt;
  return std::chrono::milliseconds(ticks);
}

}  // namespace tapir::tcp
