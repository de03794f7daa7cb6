// TCP connection states (RFC 9293 §3.3.2) and the table of legal transitions between them.
//
// The table is RFC 9293 Figure 5 *plus* the edges that only the event-processing text of
// §3.10 gives: the figure is "only a summary" and omits, for example, SYN-RECEIVED ->
// LISTEN on RST and every synchronized state -> CLOSED on RST, ABORT or user timeout.
// docs/tcp-states.md is the same table in prose; tests/unit/tcp/state_test.cpp checks that
// the two agree row by row. The connection's set_state() asserts every change against it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tapir::tcp {

enum class TcpState : std::uint8_t {
  Closed,
  Listen,
  SynSent,
  SynReceived,
  Established,
  FinWait1,
  FinWait2,
  CloseWait,
  Closing,
  LastAck,
  TimeWait,
};
inline constexpr std::size_t kTcpStateCount = 11;

// The RFC spelling: "SYN-RECEIVED", "FIN-WAIT-1", ...
std::string_view to_string(TcpState s);
// The inverse of to_string (exact RFC spelling); nullopt for anything else.
std::optional<TcpState> state_from_string(std::string_view s);

// A set of states as a bitmask, so that "in one of these states" reads in(s, A | B).
class StateSet {
 public:
  constexpr StateSet() = default;
  constexpr StateSet(TcpState s) : bits_(bit(s)) {}  // NOLINT(google-explicit-constructor)
  constexpr bool contains(TcpState s) const { return (bits_ & bit(s)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  friend constexpr StateSet operator|(StateSet a, StateSet b) {
    return StateSet(a.bits_ | b.bits_);
  }
  friend constexpr StateSet operator&(StateSet a, StateSet b) {
    return StateSet(a.bits_ & b.bits_);
  }
  friend constexpr bool operator==(StateSet, StateSet) = default;

 private:
  constexpr explicit StateSet(std::uint16_t bits) : bits_(bits) {}
  static constexpr std::uint16_t bit(TcpState s) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(s));
  }
  std::uint16_t bits_ = 0;
};

constexpr StateSet operator|(TcpState a, TcpState b) { return StateSet(a) | StateSet(b); }
constexpr bool in(TcpState s, StateSet set) { return set.contains(s); }

// RFC 9293 §3.3.2: the states after the handshake ("synchronized" in §3.10.7.4).
inline constexpr StateSet kSynchronized =
    TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2 | TcpState::CloseWait |
    TcpState::Closing | TcpState::LastAck | TcpState::TimeWait;
// States in which our FIN has been sent (a CLOSE was issued locally).
inline constexpr StateSet kFinSent = TcpState::FinWait1 | TcpState::FinWait2 | TcpState::Closing |
                                     TcpState::LastAck | TcpState::TimeWait;
// States in which the peer's FIN has been received.
inline constexpr StateSet kFinReceived =
    TcpState::CloseWait | TcpState::Closing | TcpState::LastAck | TcpState::TimeWait;

// One edge of the state machine: the event that takes it and where the RFC says so.
struct Transition {
  TcpState from;
  TcpState to;
  std::string_view event;
  std::string_view section;
};

// Every legal edge, one row per (from, to) pair, in docs/tcp-states.md order.
std::span<const Transition> legal_transitions();
// True when `from -> to` is a row of legal_transitions(). Staying in a state is not a
// transition, so is_legal_transition(s, s) is false.
bool is_legal_transition(TcpState from, TcpState to);

}  // namespace tapir::tcp
