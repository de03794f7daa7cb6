// A scripted peer that negotiates TCP options (RFC 7323 Timestamps) with the stack under
// TcpHarness, for tcp_options_test.cpp.
#pragma once

#include <string>
#include <utility>

#include "support/tcp_harness.hpp"

namespace tapir::test {

using Ts = std::pair<std::uint32_t, std::uint32_t>;
inline constexpr std::uint32_t kPeerTsval = 7000;
// TSvals of the peer's later segments count from here.
inline constexpr std::uint32_t kT = kPeerTsval + 100;

// ESTABLISHED by a passive open whose SYN offered Timestamps (TSval kPeerTsval); the
// handshake's ACK carries TSval kPeerTsval + 1. Returns the stack's TSval in its SYN,ACK
// through `our_tsval`.
inline int established_ts(TcpHarness& h, std::uint32_t* our_tsval = nullptr) {
  h.listener = h.listen();
  h.send(seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = kPeerMss, .ts = Ts{kPeerTsval, 0}}));
  auto sa = h.expect({.flags = {.syn = true, .ack = true},
                      .ack = kPeerIss + 1,
                      .mss = 1460,
                      .has_ts = true,
                      .tsecr = kPeerTsval});
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

}  // namespace tapir::test
