// A scripted peer that negotiates TCP options (RFC 7323 Timestamps, RFC 2018 SACK) with
// the stack under TcpHarness, for tcp_options_test.cpp and tcp_sack_test.cpp.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "support/tcp_harness.hpp"

namespace tapir::test {

using Ts = std::pair<std::uint32_t, std::uint32_t>;
inline constexpr std::uint32_t kPeerTsval = 7000;
// TSvals of the peer's later segments count from here.
inline constexpr std::uint32_t kT = kPeerTsval + 100;

// ESTABLISHED by a passive open whose SYN offered Timestamps (TSval kPeerTsval) and, when
// `sack`, SACK-Permitted; the handshake's ACK carries TSval kPeerTsval + 1. Returns the
// stack's TSval in its SYN,ACK through `our_tsval`.
inline int established_ts(TcpHarness& h, bool sack, std::uint32_t* our_tsval = nullptr) {
  h.listener = h.listen();
  h.send(seg({.flags = {.syn = true},
              .seq = kPeerIss,
              .mss = kPeerMss,
              .ts = Ts{kPeerTsval, 0},
              .sack_permitted = sack}));
  auto sa = h.expect({.flags = {.syn = true, .ack = true},
                      .ack = kPeerIss + 1,
                      .mss = 1460,
                      .has_ts = true,
                      .tsecr = kPeerTsval,
                      .sack_permitted = sack});
  h.iss = sa.tcp.seq;
  if (our_tsval) *our_tsval = sa.tcp.timestamps->first;
  h.send(seg({.flags = {.ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1,
              .ts = Ts{kPeerTsval + 1, sa.tcp.timestamps->first}}));
  h.expect_nothing();
  h.fd = h.accept(h.listener);
  return h.fd;
}

// Data from the peer at stream offset `off` (0 = the first octet after the SYN),
// acknowledging everything the stack sent so far; TSecr 0 (no RTT sample, LINUX).
inline Frame data_ts(TcpHarness& h, std::uint32_t off, const std::string& payload,
                     std::uint32_t tsval) {
  return seg({.flags = {.psh = true, .ack = true},
              .seq = kPeerIss + 1 + off,
              .ack = h.conn(h.fd).snd().max.raw(),
              .payload = payload,
              .ts = Ts{tsval, 0}});
}

// The peer's ACK of stack offset `ack_off` (0 = the first data octet) with SACK blocks
// given as stack offsets [begin, end), and a timestamp pair.
inline Frame ack_sack(TcpHarness& h, std::uint32_t ack_off,
                      const std::vector<std::pair<std::uint32_t, std::uint32_t>>& blocks, Ts ts) {
  std::vector<wire::SackBlock> sack;
  sack.reserve(blocks.size());
  for (auto [b, e] : blocks) sack.push_back({h.iss + 1 + b, h.iss + 1 + e});
  return seg({.flags = {.ack = true},
              .seq = kPeerIss + 1,
              .ack = h.iss + 1 + ack_off,
              .ts = ts,
              .sack = sack});
}

}  // namespace tapir::test
