// Configuration of one stack: the interface's addresses and every protocol's tunables,
// each defaulted to the value the comment justifies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tapir/address.hpp"
#include "tapir/time.hpp"

namespace tapir {

struct ArpConfig {
  // How long a resolved entry is trusted. RFC 1122 §2.3.2.1 asks for a timeout without
  // fixing one; 60 s is smoltcp's ENTRY_LIFETIME and close to Linux's reachable+stale time.
  Duration entry_lifetime = std::chrono::seconds(60);
  // An entry used after this age is re-validated by a unicast request (RFC 1122 §2.3.2.1,
  // "unicast poll"), so a busy flow keeps its entry without a broadcast or a stall.
  Duration refresh_after = std::chrono::seconds(45);
  // First retry interval; doubled on each retry. RFC 1122 §2.3.2.1 limits requests to
  // one per second per destination.
  Duration request_interval = std::chrono::seconds(1);
  std::uint32_t max_requests = 3;  // like Linux's mcast_solicit
  std::size_t max_entries = 1024;
  std::size_t max_pending_per_entry = 64;  // a 64 KiB datagram is 45 fragments
  std::size_t max_pending_total = 512;
  bool gratuitous_on_start = true;  // RFC 5227 §2.3 announcement
};

struct Ipv4Config {
  std::uint8_t ttl = 64;  // RFC 1700 / Linux default
  // RFC 1122 §3.3.2 leaves the reassembly timeout to the host (60-120 s suggested);
  // Linux uses 30 s (ipfrag_time), which tapir follows.
  Duration reassembly_timeout = std::chrono::seconds(30);
  std::size_t reassembly_max_datagrams = 64;
  std::size_t reassembly_max_bytes =
      std::size_t{4} * 1024 * 1024;  // all datagrams in reassembly together
};

struct IcmpConfig {
  // RFC 1812 §4.3.2.8 / RFC 1122 §3.2.2: rate-limit generated errors. Token bucket:
  // `error_burst` at once, refilled at `errors_per_second`.
  std::uint32_t errors_per_second = 100;
  std::uint32_t error_burst = 10;
};

struct SocketConfig {
  int max_sockets = 1024;                 // EMFILE beyond this
  std::uint16_t ephemeral_first = 49152;  // RFC 6335 §6 dynamic range
  std::uint16_t ephemeral_last = 65535;
  // Bind an unbound socket to an ephemeral port on its first sendto/connect, as BSD does.
  // When off, sending or connecting from an unbound socket fails with EINVAL, like
  // FreeRTOS-Plus-TCP without ipconfigALLOW_SOCKET_SEND_WITHOUT_BIND.
  bool autobind = true;
  std::size_t udp_rcvbuf = 212992;  // Linux's net.core.rmem_default
  std::size_t udp_sndbuf = 212992;
};

// TCP congestion control: NewReno (RFC 5681 + RFC 6582) or CUBIC (RFC 9438). The stack's
// default is TcpConfig::congestion; a socket picks its own with TCP_CONGESTION.
enum class CongestionAlgorithm : std::uint8_t { NewReno, Cubic };

// "newreno" or "cubic": the names TCP_CONGESTION reports and --congestion takes.
constexpr std::string_view congestion_name(CongestionAlgorithm a) {
  return a == CongestionAlgorithm::Cubic ? "cubic" : "newreno";
}
// "newreno", "cubic", or "reno" (LINUX: Linux's "reno" is NewReno); nullopt otherwise.
constexpr std::optional<CongestionAlgorithm> congestion_from_name(std::string_view n) {
  if (n == "newreno" || n == "reno") return CongestionAlgorithm::NewReno;
  if (n == "cubic") return CongestionAlgorithm::Cubic;
  return std::nullopt;
}

struct TcpConfig {
  // Socket buffers (SO_SNDBUF / SO_RCVBUF defaults). The receive buffer bounds the
  // advertised window; the window scale offered in a SYN fits max_buffer (RFC 7323 §2.3).
  std::size_t send_buffer = std::size_t{256} * 1024;
  std::size_t recv_buffer = std::size_t{256} * 1024;
  std::size_t max_buffer = std::size_t{4} * 1024 * 1024;
  bool window_scaling = true;  // RFC 7323 §2: offered in SYNs, used only if the peer agrees
  // RFC 7323 §3: the Timestamps option (RTT measurement, PAWS), offered in SYNs and used
  // only when the peer's SYN (or SYN,ACK) carries it too.
  bool timestamps = true;
  // RFC 2018: selective acknowledgements and RFC 6675 loss recovery, on when both SYNs
  // carry SACK-Permitted.
  bool sack = true;
  // RFC 6298 (2.4) says 1 s; LINUX: 200 ms (TCP_RTO_MIN), which tapir follows by default.
  Duration min_rto = std::chrono::milliseconds(200);
  Duration initial_rto = std::chrono::seconds(1);  // RFC 6298 (2.1)
  Duration max_rto = std::chrono::seconds(60);     // RFC 6298 (2.5)
  // RFC 1122 §4.2.3.5: give up after R2 retransmissions (LINUX: tcp_retries2 = 15,
  // tcp_syn_retries = 6).
  std::uint32_t max_retransmits = 15;
  std::uint32_t max_syn_retransmits = 6;
  // RFC 1122 §4.2.3.2: an ACK may be delayed up to 500 ms; RFC 9293 §3.8.6.3 and the
  // issue ask for at most 200 ms. LINUX: 40 ms (TCP_DELACK_MIN).
  Duration delayed_ack = std::chrono::milliseconds(40);
  // RFC 9293 §3.3.3 2*MSL. LINUX: TIME-WAIT lasts 60 s (TCP_TIMEWAIT_LEN).
  Duration time_wait = std::chrono::seconds(60);
  // RFC 1122 §4.2.3.6 keep-alive defaults (LINUX: 7200 s idle, 75 s interval, 9 probes).
  Duration keepalive_idle = std::chrono::seconds(7200);
  Duration keepalive_interval = std::chrono::seconds(75);
  std::uint32_t keepalive_probes = 9;
  // RFC 5961 §7: challenge ACKs sent per second at most (LINUX: tcp_challenge_ack_limit).
  std::uint32_t challenge_ack_limit = 1000;
  std::uint32_t max_syn_backlog = 256;  // SYN-RECEIVED children per listener
  std::uint32_t max_backlog = 4096;     // listen() backlogs are capped here (LINUX: somaxconn)
  // Congestion control of new connections. NewReno, the RFC 5681 baseline, stays the
  // default so that traces and the loss suite keep their recorded behaviour; LINUX
  // defaults to CUBIC (--congestion cubic).
  CongestionAlgorithm congestion = CongestionAlgorithm::NewReno;
  // Not a protocol parameter: how long a connection that reuses its buffers keeps them
  // empty before they are freed (Connection::release_idle_buffers). The first two times a
  // buffer empties it is freed at once, so a connection used once costs no buffer memory.
  Duration buffer_release_delay = std::chrono::seconds(1);
};

struct StackConfig {
  MacAddr mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
  Ipv4Cidr address{Ipv4Addr::from_octets(10, 0, 0, 2), 24};
  std::optional<Ipv4Addr> gateway;
  std::size_t mtu = 0;  // 0: take the device's MTU
  // Seeds every random choice of the stack (IP IDs, ISNs, ephemeral ports): the same seed
  // and the same input frames at the same times give the same output frames.
  std::uint64_t seed = 1;
  ArpConfig arp;
  Ipv4Config ipv4;
  IcmpConfig icmp;
  SocketConfig sockets;
  TcpConfig tcp;
};

}  // namespace tapir
