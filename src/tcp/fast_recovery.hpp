// Fast retransmit and fast recovery (RFC 5681 §3.2) with NewReno's partial and full ACKs
// (RFC 6582 §3.2): the part of loss recovery that NewReno and CUBIC share. An algorithm
// keeps one FastRecovery, sets ssthresh itself when recovery begins (RFC 5681 equation
// (4), or RFC 9438's beta_cubic), and hands its cwnd to these steps by reference.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tcp/congestion.hpp"

namespace tapir::tcp {

class FastRecovery {
 public:
  struct Params {
    std::uint64_t smss = 536;
    // RFC 5681 §3.2: fast retransmit on the third duplicate ACK.
    std::uint32_t dup_ack_threshold = 3;
    // RFC 6582 §3.2 step 4: restart the retransmission timer on the first partial ACK only
    // ("Impatient"), or on each one ("Slow-but-Steady").
    bool impatient = true;
  };
  explicit FastRecovery(Params p) : p_(p) {}

  bool active() const { return active_; }
  // RFC 6582 §3.2 `recover`, as the offset one past the highest byte sent when recovery
  // (or the last timeout) began; 0 before either, which any ACK covers (the RFC's ISS).
  std::uint64_t recover() const { return recover_; }
  std::uint32_t dup_acks() const { return dup_acks_; }

  // An ACK of new data ends any run of duplicates.
  void on_new_ack() { dup_acks_ = 0; }

  enum class DupAck : std::uint8_t { Nothing, LimitedTransmit, Enter };
  // A duplicate ACK. Enter: the caller sets ssthresh, then calls enter().
  DupAck on_dup_ack(std::uint64_t& cwnd, const Flight& flight) {
    if (active_) {
      // RFC 5681 §3.2 step 4 / RFC 6582 §3.2 step 3: "For each additional duplicate ACK
      // received (after the third), cwnd MUST be incremented by SMSS."
      cwnd += p_.smss;
      return DupAck::Nothing;
    }
    ++dup_acks_;
    // RFC 5681 §3.2 step 1 / RFC 3042 §2: limited transmit on the first two.
    if (dup_acks_ < p_.dup_ack_threshold) return DupAck::LimitedTransmit;
    if (dup_acks_ > p_.dup_ack_threshold) return DupAck::Nothing;
    // RFC 6582 §3.2 step 1: enter fast retransmit only "if the Cumulative Acknowledgment
    // field covers more than recover"; otherwise do not, and do not reset ssthresh. This
    // keeps duplicate ACKs after a timeout or a finished recovery from starting another.
    if (flight.una < recover_) return DupAck::Nothing;
    return DupAck::Enter;
  }

  // Entering fast recovery, ssthresh already reduced (RFC 5681 §3.2 step 2).
  void enter(std::uint64_t& cwnd, std::uint64_t ssthresh, const Flight& flight) {
    // RFC 6582 §3.2 step 1: "recover is incremented to the value of the highest sequence
    // number transmitted by the TCP so far".
    recover_ = flight.max;
    // RFC 5681 §3.2 step 3: cwnd = ssthresh + 3*SMSS, one SMSS per duplicate ACK seen.
    cwnd = ssthresh + std::uint64_t{p_.dup_ack_threshold} * p_.smss;
    active_ = true;
    partial_acks_ = 0;
  }

  // An ACK of new data during fast recovery (RFC 6582 §3.2 step 4). A full ACK ends it.
  AckResponse on_ack(std::uint64_t& cwnd, std::uint64_t ssthresh, std::uint64_t acked_bytes,
                     const Flight& flight) {
    if (flight.una >= recover_) {
      // Full acknowledgment: set cwnd to option (1), min (ssthresh, max(FlightSize, SMSS)
      // + SMSS), which avoids a burst, then exit.
      cwnd = std::min(ssthresh, std::max(flight.size(), p_.smss) + p_.smss);
      active_ = false;
      return {LossAction::None, true};
    }
    // Partial acknowledgment: "Deflate the congestion window by the amount of new data
    // acknowledged", then "add back SMSS bytes" if at least one SMSS was acknowledged.
    // cwnd stays at one segment or more, so the retransmission always fits.
    cwnd = cwnd > acked_bytes ? cwnd - acked_bytes : 0;
    if (acked_bytes >= p_.smss) cwnd += p_.smss;
    cwnd = std::max(cwnd, p_.smss);
    ++partial_acks_;
    // "For the first partial ACK ... also reset the retransmit timer"; the Impatient
    // variant resets only then, Slow-but-Steady on each one.
    const bool restart = !p_.impatient || partial_acks_ == 1;
    return {LossAction::RetransmitFirstUnacked, restart};
  }

  // The retransmission timer expired (RFC 6582 §3.2 step 5): "record the highest sequence
  // number transmitted in the variable recover, and exit the fast recovery procedure if
  // applicable".
  void on_rto(const Flight& flight) {
    recover_ = std::max(recover_, flight.max);
    active_ = false;
    dup_acks_ = 0;
  }

 private:
  Params p_;
  std::uint64_t recover_ = 0;
  std::uint32_t dup_acks_ = 0;
  std::uint32_t partial_acks_ = 0;  // in the current fast recovery
  bool active_ = false;
};

// The AckResponse for what FastRecovery::on_dup_ack decided; `enter` runs the algorithm's
// on_loss_fast_retransmit.
template <class Enter>
AckResponse dup_ack_response(FastRecovery::DupAck d, Enter&& enter) {
  switch (d) {
    case FastRecovery::DupAck::LimitedTransmit:
      return {LossAction::LimitedTransmit, false};
    case FastRecovery::DupAck::Enter:
      enter();
      return {LossAction::FastRetransmit, false};
    case FastRecovery::DupAck::Nothing:
      break;
  }
  return {};
}

}  // namespace tapir::tcp
