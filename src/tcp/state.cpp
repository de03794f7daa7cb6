// The TCP state names and the legal-transition table (see state.hpp). Each row below is
// one (from, to) edge; rows marked "not in Fig. 5" come from the §3.10 event text only.
#include "tcp/state.hpp"

#include <array>

namespace tapir::tcp {

namespace {

using S = TcpState;

constexpr std::array<std::string_view, kTcpStateCount> kNames = {
    "CLOSED",     "LISTEN",     "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK",     "TIME-WAIT",
};

// "RST, ABORT or user timeout" recurs for every synchronized state: §3.10.7.4 (second,
// check the RST bit), §3.10.5 (ABORT call) and §3.10.8 (USER TIMEOUT) each delete the
// TCB and enter CLOSED. The sections are cited once per row in the table.
constexpr Transition kTable[] = {
    // Fig. 5 "passive OPEN / create TCB"; §3.10.1 OPEN call, CLOSED STATE.
    {S::Closed, S::Listen, "passive OPEN", "§3.3.2 Fig. 5, §3.10.1"},
    // Fig. 5 "active OPEN / snd SYN"; §3.10.1 OPEN call, CLOSED STATE.
    {S::Closed, S::SynSent, "active OPEN, snd SYN", "§3.3.2 Fig. 5, §3.10.1"},
    // Fig. 5 "CLOSE / delete TCB"; §3.10.4 and §3.10.5 in LISTEN.
    {S::Listen, S::Closed, "CLOSE or ABORT", "§3.3.2 Fig. 5, §3.10.4, §3.10.5"},
    // Fig. 5 "SEND / snd SYN"; §3.10.2 SEND call, LISTEN STATE: passive becomes active.
    {S::Listen, S::SynSent, "SEND, snd SYN", "§3.3.2 Fig. 5, §3.10.2"},
    // Fig. 5 "rcv SYN / snd SYN,ACK"; §3.10.7.2 third, check for a SYN.
    {S::Listen, S::SynReceived, "rcv SYN, snd SYN,ACK", "§3.3.2 Fig. 5, §3.10.7.2"},
    // Fig. 5 "CLOSE / delete TCB"; not in Fig. 5: RST with acceptable ACK (§3.10.7.3), ABORT
    // (§3.10.5) and the SYN retransmission giving up (§3.10.8).
    {S::SynSent, S::Closed, "CLOSE, ABORT, rcv RST or user timeout",
     "§3.3.2 Fig. 5, §3.10.4, §3.10.5, §3.10.7.3, §3.10.8"},
    // Fig. 5 simultaneous open; §3.10.7.3 fourth, SYN without ACK: snd SYN,ACK.
    {S::SynSent, S::SynReceived, "rcv SYN (simultaneous open), snd SYN,ACK",
     "§3.3.2 Fig. 5, §3.10.7.3"},
    // Fig. 5 "rcv SYN,ACK / snd ACK"; §3.10.7.3 fourth, our SYN has been ACKed.
    {S::SynSent, S::Established, "rcv SYN,ACK, snd ACK", "§3.3.2 Fig. 5, §3.10.7.3"},
    // Not in Fig. 5: §3.10.7.4 second (RST) and fourth (SYN), SYN-RECEIVED STATE: "If this
    // connection was initiated with a passive OPEN, ... return this connection to LISTEN".
    {S::SynReceived, S::Listen, "rcv RST or SYN (passive open)", "§3.10.7.4"},
    // Not in Fig. 5: RST on an active open is "connection refused" (§3.10.7.4 second);
    // ABORT (§3.10.5); user timeout (§3.10.8).
    {S::SynReceived, S::Closed, "rcv RST (active open), ABORT or user timeout",
     "§3.10.5, §3.10.7.4, §3.10.8"},
    // Fig. 5 "rcv ACK of SYN"; §3.10.7.4 fifth, SYN-RECEIVED STATE.
    {S::SynReceived, S::Established, "rcv ACK of SYN", "§3.3.2 Fig. 5, §3.10.7.4"},
    // Fig. 5 "CLOSE / snd FIN"; §3.10.4 CLOSE call, SYN-RECEIVED STATE.
    {S::SynReceived, S::FinWait1, "CLOSE, snd FIN", "§3.3.2 Fig. 5, §3.10.4"},
    // Not in Fig. 5: §3.10.7.4 eighth, "SYN-RECEIVED STATE, ESTABLISHED STATE: Enter the
    // CLOSE-WAIT state" on a FIN.
    {S::SynReceived, S::CloseWait, "rcv FIN, snd ACK", "§3.10.7.4"},
    // Fig. 5 "CLOSE / snd FIN"; §3.10.4 CLOSE call, ESTABLISHED STATE.
    {S::Established, S::FinWait1, "CLOSE, snd FIN", "§3.3.2 Fig. 5, §3.10.4"},
    // Fig. 5 "rcv FIN / snd ACK"; §3.10.7.4 eighth.
    {S::Established, S::CloseWait, "rcv FIN, snd ACK", "§3.3.2 Fig. 5, §3.10.7.4"},
    // Not in Fig. 5.
    {S::Established, S::Closed, "rcv RST, ABORT or user timeout", "§3.10.5, §3.10.7.4, §3.10.8"},
    // Fig. 5 "rcv ACK of FIN"; §3.10.7.4 fifth, FIN-WAIT-1 STATE.
    {S::FinWait1, S::FinWait2, "rcv ACK of FIN", "§3.3.2 Fig. 5, §3.10.7.4"},
    // Fig. 5 "rcv FIN / snd ACK"; §3.10.7.4 eighth, FIN-WAIT-1 STATE, FIN not yet ACKed.
    {S::FinWait1, S::Closing, "rcv FIN, snd ACK", "§3.3.2 Fig. 5, §3.10.7.4"},
    // Not in Fig. 5: §3.10.7.4 eighth, FIN-WAIT-1 STATE: "If our FIN has been ACKed
    // (perhaps in this segment), then enter TIME-WAIT".
    {S::FinWait1, S::TimeWait, "rcv FIN and ACK of our FIN together, snd ACK", "§3.10.7.4"},
    // Not in Fig. 5.
    {S::FinWait1, S::Closed, "rcv RST, ABORT or user timeout", "§3.10.5, §3.10.7.4, §3.10.8"},
    // Fig. 5 "rcv FIN / snd ACK"; §3.10.7.4 eighth, FIN-WAIT-2 STATE.
    {S::FinWait2, S::TimeWait, "rcv FIN, snd ACK", "§3.3.2 Fig. 5, §3.10.7.4"},
    // Not in Fig. 5.
    {S::FinWait2, S::Closed, "rcv RST, ABORT or user timeout", "§3.10.5, §3.10.7.4, §3.10.8"},
    // Fig. 5 "CLOSE / snd FIN"; §3.10.4 CLOSE call, CLOSE-WAIT STATE.
    {S::CloseWait, S::LastAck, "CLOSE, snd FIN", "§3.3.2 Fig. 5, §3.10.4"},
    // Not in Fig. 5.
    {S::CloseWait, S::Closed, "rcv RST, ABORT or user timeout", "§3.10.5, §3.10.7.4, §3.10.8"},
    // Fig. 5 "rcv ACK of FIN"; §3.10.7.4 fifth, CLOSING STATE.
    {S::Closing, S::TimeWait, "rcv ACK of FIN", "§3.3.2 Fig. 5, §3.10.7.4"},
    // Not in Fig. 5: §3.10.7.4 second, "CLOSING STATE, LAST-ACK STATE, TIME-WAIT: If the RST
    // bit is set, then enter the CLOSED state".
    {S::Closing, S::Closed, "rcv RST, ABORT or user timeout", "§3.10.5, §3.10.7.4, §3.10.8"},
    // Fig. 5 "rcv ACK of FIN / delete TCB"; §3.10.7.4 fifth, LAST-ACK STATE. RST, ABORT
    // and user timeout lead to the same edge (not in Fig. 5).
    {S::LastAck, S::Closed, "rcv ACK of FIN, rcv RST, ABORT or user timeout",
     "§3.3.2 Fig. 5, §3.10.5, §3.10.7.4, §3.10.8"},
    // Fig. 5 "Timeout=2MSL / delete TCB"; §3.10.8 TIME-WAIT TIMEOUT. RST and ABORT lead to
    // the same edge (not in Fig. 5).
    {S::TimeWait, S::Closed, "2MSL timeout, rcv RST or ABORT",
     "§3.3.2 Fig. 5, §3.10.5, §3.10.7.4, §3.10.8"},
};

using Matrix = std::array<std::array<bool, kTcpStateCount>, kTcpStateCount>;

constexpr Matrix build_matrix() {
  Matrix m{};
  for (const Transition& t : kTable) {
    m[static_cast<std::size_t>(t.from)][static_cast<std::size_t>(t.to)] = true;
  }
  return m;
}

constexpr bool rows_are_unique_edges() {
  for (std::size_t i = 0; i < std::size(kTable); ++i) {
    if (kTable[i].from == kTable[i].to) return false;
    for (std::size_t j = i + 1; j < std::size(kTable); ++j) {
      if (kTable[i].from == kTable[j].from && kTable[i].to == kTable[j].to) return false;
    }
  }
  return true;
}
static_assert(rows_are_unique_edges(), "one row per (from, to) edge, and no self edges");

constexpr Matrix kLegalTransition = build_matrix();

}  // namespace

std::string_view to_string(TcpState s) { return kNames[static_cast<std::size_t>(s)]; }

std::optional<TcpState> state_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == s) return static_cast<TcpState>(i);
  }
  return std::nullopt;
}

std::span<const Transition> legal_transitions() { return kTable; }

bool is_legal_transition(TcpState from, TcpState to) {
  return kLegalTransition[static_cast<std::size_t>(from)][static_cast<std::size_t>(to)];
}

}  // namespace tapir::tcp
