// TcpHarness: one stack (10.0.0.2) facing a scripted TCP peer (10.0.0.1) on a ManualClock,
// so a test reads as the conversation on the wire (Minnow's TestHarness, smoltcp's send!/
// recv! macros):
//
//   TcpHarness h;
//   int fd = h.listen();
//   h.send(seg({.flags = {.syn = true}, .seq = kPeerIss}));
//   auto synack = h.expect({.flags = {.syn = true, .ack = true}, .ack = kPeerIss + 1});
//   h.advance(1s);
//   h.expect({.flags = {.syn = true, .ack = true}, .seq = synack.tcp.seq});  // retransmitted
//
// Every step (segments in, segments out, time moving, socket calls, state changes) goes to
// a log that is printed, with each frame decoded by wire::format_frame, when an
// expectation fails. ARP requests from the stack are answered by the harness and never
// reach expect(). The canonical-state fixtures (established_passive(), fin_wait_2(), ...)
// reach their state by driving the connection through real segments, never by poking it.
#pragma once

#include <catch2/catch.hpp>

#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "phy/queue_device.hpp"
#include "stack/impl.hpp"
#include "tapir/stack.hpp"
#include "tcp/connection.hpp"
#include "wire/tcp.hpp"

namespace tapir::test {

inline const MacAddr kStackMac{{0x02, 0, 0, 0, 0, 0x02}};
inline const MacAddr kRemoteMac{{0x52, 0x54, 0, 0xab, 0xcd, 0xef}};
inline const Ipv4Addr kStackIp = Ipv4Addr::from_octets(10, 0, 0, 2);
inline const Ipv4Addr kRemoteIp = Ipv4Addr::from_octets(10, 0, 0, 1);
inline constexpr std::uint16_t kStackPort = 80;     // where the stack listens
inline constexpr std::uint16_t kPeerPort = 40000;   // the scripted peer's port
inline constexpr std::uint32_t kPeerIss = 1000000;  // the scripted peer's ISN
inline constexpr std::uint16_t kPeerWindow = 65535;
inline constexpr std::uint16_t kPeerMss = 1460;

// One segment the scripted peer sends. Designated initializers over these defaults:
// seg({.flags = {.syn = true}, .seq = kPeerIss, .mss = 1460}).
struct SegSpec {
  wire::TcpFlags flags;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = kPeerWindow;
  std::string payload;
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
  std::uint16_t src_port = kPeerPort;
  std::uint16_t dst_port = kStackPort;
  Ipv4Addr src = kRemoteIp;
  Ipv4Addr dst = kStackIp;
  // Damage, for bad-input tests.
  bool bad_checksum = false;
  std::optional<std::uint8_t> data_offset_words;  // written over the real data offset
  std::vector<std::uint8_t> raw_options;          // replaces the options (padded to 4)
  // RFC 7323 §3.2 Timestamps (TSval, TSecr); RFC 2018 SACK-Permitted and SACK blocks.
  std::optional<std::pair<std::uint32_t, std::uint32_t>> ts;
  bool sack_permitted = false;
  std::vector<wire::SackBlock> sack;
};

using Frame = std::vector<std::byte>;
// The Ethernet frame (peer MAC -> stack MAC, IPv4, TCP) for a spec.
Frame seg(const SegSpec& s);

// An ICMP error from the peer's address about a segment the stack sent (RFC 792: it
// quotes the IP header and the first 8 octets, ports and sequence number).
struct Seen;
Frame icmp_error(std::uint8_t type, std::uint8_t code, const Seen& about);

// What a segment from the stack must look like. `flags` is compared exactly (PSH
// included); every other field is checked only when given.
struct SegMatch {
  wire::TcpFlags flags;
  std::optional<std::uint32_t> seq;
  std::optional<std::uint32_t> ack;
  std::optional<std::uint16_t> window;
  std::optional<std::string> payload;
  std::optional<std::size_t> payload_len;
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
  bool no_options = false;     // no MSS and no window scale
  std::optional<Duration> at;  // sent this long after the harness started
  std::uint16_t dst_port = kPeerPort;
  // Options of RFC 7323 §3 and RFC 2018, each checked only when given: whether a Timestamps
  // option is there, its TSecr, SACK-Permitted, and the SACK blocks exactly and in order
  // (an empty list: no SACK option).
  std::optional<bool> has_ts;
  std::optional<std::uint32_t> tsecr;
  std::optional<bool> sack_permitted;
  std::optional<std::vector<wire::SackBlock>> sack;
};

// A segment the stack sent, decoded.
struct Seen {
  wire::Ipv4Repr ip;
  wire::TcpRepr tcp;  // tcp.payload is cleared; the bytes are in `payload`
  std::string payload;
  Duration at{};  // since the harness started
};

class TcpHarness {
 public:
  static StackConfig default_config();
  explicit TcpHarness(StackConfig cfg = default_config());
  ~TcpHarness();
  TcpHarness(const TcpHarness&) = delete;
  TcpHarness& operator=(const TcpHarness&) = delete;

  // ---- the wire ----
  void send(const Frame& f);  // the peer sends a frame; the stack polls
  // The peer's frames all wait at the device, and the stack takes them in one poll (a
  // receive batch, as a TAP read loop finds a burst).
  void send_batch(const std::vector<Frame>& frames);
  // The same, as an offloading device would report it (checksum not verified, superframe).
  void send(const Frame& f, phy::RxInfo info);
  void send_raw_ip(Bytes ip_packet);
  Seen expect(const SegMatch& m);
  void expect_nothing();
  // Moves time forward by `d`, firing every deadline in between at its own instant.
  void advance(Duration d);
  // The next segment the stack sent, whatever it is (fails when there is none).
  Seen next();
  std::size_t pending() const { return out_.size(); }

  // ---- the socket API on the stack side (each call is logged) ----
  Sockets& sockets() { return stack_.sockets(); }
  int listen(std::uint16_t port = kStackPort, int backlog = 8);
  int connect(std::uint16_t local_port = 0, std::uint16_t remote_port = kPeerPort);
  int accept(int listener, sockaddr_in* peer = nullptr);
  Result<std::size_t> write(int f, std::string_view data);
  std::string read(int f, std::size_t max = 1 << 20);
  Errno shutdown(int f, int how);
  Errno close(int f);
  void set_int(int f, int level, int name, int value);
  Errno so_error(int f);
  // Every event poll() can report for `f` (POLLRDHUP included), as if all were asked for.
  short poll(int f) { return sockets().readiness(f); }

  // ---- inspection ----
  tcp::Connection& conn(int f);
  tcp::TcpState state(int f) { return conn(f).state(); }
  // The state of the one live connection (after close(), it has no descriptor).
  tcp::TcpState state_of_only_connection();
  const TcpStats& tcp_stats() const { return stack_.stats().tcp; }
  std::size_t live_connections() { return stack_.impl().tcp.connection_count(); }
  std::size_t port_reservations() { return stack_.impl().sockets.impl().ports.size(); }
  Stack& stack() { return stack_; }
  Instant now() const { return clock_.now(); }
  Duration elapsed() const { return clock_.now() - Instant{}; }
  // True when some connection went `from -> to` since the harness started.
  bool took(tcp::TcpState from, tcp::TcpState to) const;
  void note(const std::string& what) { log("note: " + what); }
  std::string diagnostic() const;
  // How `s` differs from `m` (empty when it matches), and one-line forms of both.
  static std::vector<std::string> mismatches(const SegMatch& m, const Seen& s);
  static std::string describe(const SegMatch& m);
  static std::string describe(const Seen& s);

  // ---- canonical states, reached through real segments ----
  // The stack's initial sequence number on the fixture's connection.
  std::uint32_t iss = 0;
  int listener = -1;          // the listening socket (passive fixtures)
  int fd = -1;                // the connection's socket
  int syn_received();         // listen, SYN in, SYN,ACK out (no socket yet: returns -1)
  int established_passive();  // ... ACK in, accept
  int syn_sent();             // connect, SYN out
  int established_active();   // ... SYN,ACK in, ACK out
  int fin_wait_1();           // established_passive, shutdown(SHUT_WR), FIN out
  int fin_wait_2();           // fin_wait_1, ACK of the FIN in
  int close_wait();           // established_passive, FIN in, ACK out
  int closing();              // fin_wait_1, FIN in (not acknowledging ours), ACK out
  int last_ack();             // close_wait, shutdown(SHUT_WR), FIN out
  int time_wait();            // fin_wait_2, FIN in, ACK out

  // Closes every descriptor the harness opened, lets every timer run out (answering the
  // stack's retransmissions with nothing), then checks that no connection and no port
  // reservation is left (lwIP's leak check after each test).
  void finish();

 private:
  void send_frames(std::span<const Frame> frames);  // all injected, then one poll
  void poll();
  void collect();
  void log(std::string line);
  [[noreturn]] void fail(const std::string& why);

  ManualClock clock_;
  phy::QueueDevice dev_;
  Stack stack_;
  std::deque<Seen> out_;
  std::vector<std::string> steps_;
  std::vector<std::pair<tcp::TcpState, tcp::TcpState>> transitions_;
  std::vector<int> fds_;
  bool finished_ = false;
};

}  // namespace tapir::test
