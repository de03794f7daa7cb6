// The congestion-control interface a connection drives (STYLE.md §6), so algorithms are
// pluggable and testable without a connection: NewReno (newreno.hpp) and CUBIC
// (cubic.hpp) implement it.
//
// The connection classifies each ACK and reports it: new data acknowledged -> on_ack(),
// a duplicate ACK by RFC 5681 §2 -> on_dup_ack(), an expired retransmission timer ->
// on_rto(). The algorithm answers with what the loss-recovery rules want sent next
// (AckResponse), and cwnd() bounds how much may be in flight (RFC 5681 §3.1: the sender
// MUST NOT send data with a sequence number above SND.UNA + min(cwnd, rwnd)).
//
// Sequence positions are 64-bit absolute offsets, as SND.UNA is kept by the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tapir/time.hpp"
#include "tcp/seq.hpp"

namespace tapir::tcp {

// The send side as congestion control sees it.
struct Flight {
  std::uint64_t una = 0;  // SND.UNA
  std::uint64_t max = 0;  // one past the highest offset ever sent (SND.NXT before any rewind)
  // RFC 5681 §2 FlightSize: "data that has been sent but not yet cumulatively acknowledged".
  std::uint64_t size() const { return max - una; }
};

enum class LossAction : std::uint8_t {
  None,
  // RFC 5681 §3.2 step 1 (RFC 3042 §2, limited transmit): on the 1st and 2nd duplicate ACK
  // the sender SHOULD send one segment of new data, if FlightSize stays <= cwnd + 2*SMSS.
  LimitedTransmit,
  // RFC 5681 §3.2 step 3: retransmit the segment starting at SND.UNA now.
  FastRetransmit,
  // RFC 6582 §3.2 step 4: a partial ACK; retransmit the first unacknowledged segment.
  RetransmitFirstUnacked,
};
std::string_view to_string(LossAction a);

struct AckResponse {
  LossAction action = LossAction::None;
  // RFC 6298 (5.3) restarts the retransmission timer on every ACK of new data; during
  // NewReno fast recovery RFC 6582 §3.2 step 4 resets it only on the first partial ACK.
  bool restart_rto = false;
  friend bool operator==(const AckResponse&, const AckResponse&) = default;
};

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;
  virtual std::string_view name() const = 0;

  // An ACK acknowledged `acked_bytes` of new data. `flight` is the state *after* it:
  // flight.una is the new SND.UNA, which decides partial vs full ACK (RFC 6582 §3.2 step 4).
  virtual AckResponse on_ack(std::uint64_t acked_bytes, const Flight& flight, Instant now) = 0;
  // A duplicate ACK (RFC 5681 §2; see is_duplicate_ack); counting them happens here.
  virtual AckResponse on_dup_ack(const Flight& flight, Instant now) = 0;
  // Loss detected without a timeout: enter fast retransmit and fast recovery (RFC 5681
  // §3.2 steps 2-3). on_dup_ack() calls it on the third duplicate ACK; a SACK-based loss
  // detector could call it directly.
  virtual void on_loss_fast_retransmit(const Flight& flight) = 0;
  // The retransmission timer expired (RFC 5681 §3.1 loss window; RFC 6582 §3.2 step 5).
  virtual void on_rto(const Flight& flight) = 0;
  // Sending resumes after an idle period longer than the RTO (RFC 5681 §4.1).
  virtual void on_idle_restart() = 0;
  // The connection's smoothed RTT (RFC 6298 §2), given before each on_ack() once there is
  // one. CUBIC's target needs it (RFC 9438 §4.2); NewReno ignores it.
  virtual void set_srtt(Duration /*srtt*/) {}

  // Bytes allowed in flight, and the slow-start threshold.
  virtual std::uint64_t cwnd() const = 0;
  virtual std::uint64_t ssthresh() const = 0;
  // Inside fast recovery (between the fast retransmit and the ACK that covers `recover`).
  virtual bool in_recovery() const = 0;
};

// What the connection knows about an arriving ACK, for the duplicate-ACK test.
struct DupAckCheck {
  SeqNum seg_ack;         // SEG.ACK
  SeqNum snd_una;         // SND.UNA before this ACK
  SeqNum snd_max;         // highest sequence number sent + 1
  std::size_t seg_len;    // payload octets in the segment
  bool syn_or_fin;        // SYN or FIN set
  std::uint32_t seg_wnd;  // the window it advertises (scaled)
  std::uint32_t snd_wnd;  // the window the previous ACK advertised
};

// RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT: (a) data is outstanding, (b) no data, (c) neither
// SYN nor FIN, (d) SEG.ACK equals SND.UNA, (e) the window is unchanged.
constexpr bool is_duplicate_ack(const DupAckCheck& c) {
  return c.snd_una != c.snd_max      // (a)
         && c.seg_len == 0           // (b)
         && !c.syn_or_fin            // (c)
         && c.seg_ack == c.snd_una   // (d)
         && c.seg_wnd == c.snd_wnd;  // (e)
}

// RFC 5681 §3.1 equation (1): the initial window from SMSS.
constexpr std::uint64_t rfc5681_initial_window(std::uint32_t smss) {
  const std::uint64_t s = smss;
  if (s > 2190) return 2 * s;  // "IW = 2 * SMSS bytes and MUST NOT be more than 2 segments"
  if (s > 1095) return 3 * s;  // "IW = 3 * SMSS bytes and MUST NOT be more than 3 segments"
  return 4 * s;                // "IW = 4 * SMSS bytes and MUST NOT be more than 4 segments"
}

// The largest window a peer can advertise (RFC 7323 §2.3: 65535 << 14); RFC 5681 §3.1
// says the initial ssthresh "SHOULD be set arbitrarily high (e.g., to the size of the
// largest possible advertised window)".
inline constexpr std::uint64_t kMaxAdvertisedWindow = std::uint64_t{65535} << 14;

}  // namespace tapir::tcp
