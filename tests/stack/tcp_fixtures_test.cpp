// The TcpHarness's canonical states, each reached by real segments, checked against a
// hand-stated TCB (smoltcp's sanity! idea without poking private fields).
#include "support/tcp_harness.hpp"

using namespace tapir;
using namespace tapir::test;
using tapir::tcp::TcpState;

namespace {

struct Tcb {
  TcpState state;
  std::uint32_t snd_una;  // relative to ISS
  std::uint32_t snd_nxt;  // relative to ISS
  std::uint32_t rcv_nxt;  // relative to the peer's ISS
};

void check_tcb(TcpHarness& h, const Tcb& want) {
  auto& c = h.conn(h.fd);
  INFO(h.diagnostic());
  CHECK(c.state() == want.state);
  CHECK(c.snd().iss.raw() == h.iss);
  CHECK(c.snd().una.raw() == h.iss + want.snd_una);
  CHECK(c.snd().nxt.raw() == h.iss + want.snd_nxt);
  CHECK(c.snd().max.raw() == h.iss + want.snd_nxt);
  CHECK(c.rcv().irs.raw() == kPeerIss);
  CHECK(c.rcv().nxt.raw() == kPeerIss + want.rcv_nxt);
  // The peer's SYN carried no window scale: windows are taken as sent.
  CHECK(c.snd().wnd == kPeerWindow);
  CHECK_FALSE(c.negotiated().window_scaling);
  CHECK(c.negotiated().smss == 1460);
}

}  // namespace

TEST_CASE("fixture: SYN-RECEIVED after a SYN to a listener", "[tcp][harness][rfc9293-3.10.7.2]") {
  TcpHarness h;
  h.syn_received();
  CHECK(h.live_connections() == 1);
  // The child starts as a copy of the listener, then leaves LISTEN.
  CHECK(h.took(TcpState::Closed, TcpState::Listen));
  CHECK(h.took(TcpState::Listen, TcpState::SynReceived));
  h.finish();
}

TEST_CASE("fixture: ESTABLISHED by a passive open", "[tcp][harness][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.established_passive();
  check_tcb(h, {TcpState::Established, 1, 1, 1});
  CHECK(h.took(TcpState::SynReceived, TcpState::Established));
  h.finish();
}

TEST_CASE("fixture: SYN-SENT after connect", "[tcp][harness][rfc9293-3.10.1]") {
  TcpHarness h;
  h.syn_sent();
  auto& c = h.conn(h.fd);
  CHECK(c.state() == TcpState::SynSent);
  CHECK(c.snd().una.raw() == h.iss);
  CHECK(c.snd().nxt.raw() == h.iss + 1);
  CHECK(h.took(TcpState::Closed, TcpState::SynSent));
  h.finish();
}

TEST_CASE("fixture: ESTABLISHED by an active open", "[tcp][harness][rfc9293-3.10.7.3]") {
  TcpHarness h;
  h.established_active();
  check_tcb(h, {TcpState::Established, 1, 1, 1});
  CHECK(h.took(TcpState::SynSent, TcpState::Established));
  h.finish();
}

TEST_CASE("fixture: FIN-WAIT-1 after shutdown(SHUT_WR)", "[tcp][harness][rfc9293-3.10.4]") {
  TcpHarness h;
  h.fin_wait_1();
  check_tcb(h, {TcpState::FinWait1, 1, 2, 1});
  h.finish();
}

TEST_CASE("fixture: FIN-WAIT-2 once the FIN is acknowledged", "[tcp][harness][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.fin_wait_2();
  check_tcb(h, {TcpState::FinWait2, 2, 2, 1});
  h.finish();
}

TEST_CASE("fixture: CLOSE-WAIT after the peer's FIN", "[tcp][harness][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.close_wait();
  check_tcb(h, {TcpState::CloseWait, 1, 1, 2});
  h.finish();
}

TEST_CASE("fixture: CLOSING after a simultaneous close", "[tcp][harness][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.closing();
  check_tcb(h, {TcpState::Closing, 1, 2, 2});
  h.finish();
}

TEST_CASE("fixture: LAST-ACK after closing in CLOSE-WAIT", "[tcp][harness][rfc9293-3.10.4]") {
  TcpHarness h;
  h.last_ack();
  check_tcb(h, {TcpState::LastAck, 1, 2, 2});
  h.finish();
}

TEST_CASE("fixture: TIME-WAIT after FIN-WAIT-2 and the peer's FIN",
          "[tcp][harness][rfc9293-3.10.7.4]") {
  TcpHarness h;
  h.time_wait();
  check_tcb(h, {TcpState::TimeWait, 2, 2, 2});
  h.finish();
}

TEST_CASE("harness: a failed expectation prints the steps and the decoded segments",
          "[tcp][harness]") {
  TcpHarness h;
  h.syn_received();
  std::string d = h.diagnostic();
  CHECK(d.find("listen :80") != std::string::npos);
  CHECK(d.find("[S]") != std::string::npos);   // the peer's SYN, decoded
  CHECK(d.find("[S.]") != std::string::npos);  // the stack's SYN,ACK, decoded
  CHECK(d.find("LISTEN -> SYN-RECEIVED") != std::string::npos);
  // The SYN,ACK against a matcher that wants an ACK with another ack number.
  Seen synack;
  synack.tcp.flags = {.syn = true, .ack = true};
  synack.tcp.dst_port = kPeerPort;
  synack.tcp.ack = kPeerIss + 1;
  auto why = TcpHarness::mismatches({.flags = {.ack = true}, .ack = kPeerIss + 2}, synack);
  REQUIRE(why.size() == 2);
  CHECK(why[0] == "flags [S.], want [.]");
  CHECK(why[1] == "ack 1000001, want 1000002");
  CHECK(TcpHarness::mismatches({.flags = {.syn = true, .ack = true}, .ack = kPeerIss + 1}, synack)
            .empty());
  h.finish();
}
