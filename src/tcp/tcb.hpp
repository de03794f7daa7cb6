// The transmission control block's variables, named as RFC 9293 §3.3.1 names them, so the
// code reads `snd.una` where the RFC says SND.UNA.
//
//   Send Sequence Space (RFC 9293 §3.3.1, Figure 3)
//        1         2          3          4
//   ----------|----------|----------|----------
//          SND.UNA    SND.NXT    SND.UNA
//                               +SND.WND
//   1 - old sequence numbers that have been acknowledged
//   2 - sequence numbers of unacknowledged data
//   3 - sequence numbers allowed for new data transmission
//   4 - future sequence numbers that are not yet allowed
#pragma once

#include <cstdint>

#include "tcp/seq.hpp"

namespace tapir::tcp {

struct SendSequenceSpace {
  SeqNum una;             // SND.UNA: oldest unacknowledged sequence number
  SeqNum nxt;             // SND.NXT: next sequence number to send
  SeqNum max;             // highest sequence number sent + 1 (SND.NXT may fall back on retransmit)
  std::uint32_t wnd = 0;  // SND.WND: the peer's window, scaled (octets)
  SeqNum wl1;             // SND.WL1: segment sequence number of the last window update
  SeqNum wl2;             // SND.WL2: segment acknowledgment number of the last window update
  SeqNum iss;             // ISS: initial send sequence number
  std::uint32_t max_wnd = 0;  // the largest window the peer has offered (RFC 5961 §5.2)
};

struct ReceiveSequenceSpace {
  SeqNum nxt;  // RCV.NXT: next sequence number expected
  SeqNum irs;  // IRS: initial receive sequence number
  SeqNum adv;  // RCV.NXT + RCV.WND as last advertised: the right edge never moves left
};

// What the SYN exchange agreed on.
struct Negotiated {
  std::uint16_t peer_mss = 536;  // RFC 9293 §3.7.1: 536 when the peer sends no MSS option
  // Effective send MSS: min(peer MSS, our MTU - 40), less 12 octets with timestamps (RFC
  // 6691 §2, RFC 7323 §3.2): the payload of a full-sized segment, and SMSS for cwnd.
  std::uint16_t smss = 536;
  bool window_scaling = false;  // RFC 7323 §2.2: both SYNs carried the option
  std::uint8_t snd_shift = 0;   // Snd.Wind.Shift: applied to windows the peer advertises
  std::uint8_t rcv_shift = 0;   // Rcv.Wind.Shift: applied to windows we advertise
  bool timestamps = false;      // RFC 7323 §3.2: both SYNs carried the Timestamps option
  bool sack = false;            // RFC 2018 §2: both SYNs carried SACK-Permitted
};

}  // namespace tapir::tcp
