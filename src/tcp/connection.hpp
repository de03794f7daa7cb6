// One TCP connection (RFC 9293): the TCB, its buffers and timers, and the state machine.
//
// Read first: RFC 9293 (§3.3 states, §3.4 sequence numbers, §3.8 data communication,
// §3.10 event processing), RFC 1122 §4.2, RFC 6298 (RTO), RFC 5681 + RFC 6582
// (congestion control), RFC 5961 (blind in-window attacks), RFC 7323 (window scale,
// timestamps, PAWS), RFC 2018 + RFC 6675 (SACK and SACK-based loss recovery).
//
// The connection never touches wire bytes: it receives parsed segments (wire::TcpRepr)
// and hands segments to send to an Emit callback as a header plus a range of its send
// buffer. Time comes in as an Instant. The code is split by concern:
//   connection.cpp  user calls (send, recv, close, abort), timers, state changes
//   input.cpp       segment arrival, one function per RFC 9293 §3.10.7 step
//   output.cpp      choosing what to send: SYN, data (Nagle, SWS), FIN, ACK, probes
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "tapir/errno.hpp"
#include "tapir/result.hpp"
#include "tapir/stack_config.hpp"
#include "tapir/stats.hpp"
#include "tcp/cubic.hpp"
#include "tcp/newreno.hpp"
#include "tcp/reassembler.hpp"
#include "tcp/rtt.hpp"
#include "tcp/sack_scoreboard.hpp"
#include "tcp/send_buffer.hpp"
#include "tcp/state.hpp"
#include "tcp/tcb.hpp"
#include "tcp/timers.hpp"
#include "tcp/timestamps.hpp"
#include "util/function_ref.hpp"
#include "wire/tcp.hpp"

namespace spdlog {
class logger;
}

namespace tapir::tcp {

struct FourTuple {
  Ipv4Addr local_addr;
  std::uint16_t local_port = 0;
  Ipv4Addr remote_addr;
  std::uint16_t remote_port = 0;
  friend bool operator==(const FourTuple&, const FourTuple&) = default;
};

struct FourTupleHash {
  std::size_t operator()(const FourTuple& t) const noexcept {
    std::uint64_t a = (std::uint64_t{t.local_addr.value} << 32) | t.remote_addr.value;
    std::uint64_t b = (std::uint64_t{t.local_port} << 16) | t.remote_port;
    return std::hash<std::uint64_t>{}(a * 0x9e3779b97f4a7c15ULL ^ b);
  }
};

// A segment to send: the header, and `payload_len` octets of the send buffer starting at
// stream offset `payload_offset`.
struct OutSegment {
  wire::TcpRepr hdr;
  std::uint64_t payload_offset = 0;
  std::size_t payload_len = 0;
  // Non-zero for a superframe (docs/offload.md): the device cuts the payload into segments
  // of gso_mss octets, each with a copy of the header (TCP segmentation offload).
  std::uint16_t gso_mss = 0;
};
using Emit = FunctionRef<void(const OutSegment&)>;

// Observes every state change (tests, traces): the connection, the old and the new state.
using TransitionHook = std::function<void(const FourTuple&, TcpState, TcpState)>;

// RFC 5961 §7: challenge ACKs are rate limited across the whole stack, so that an
// attacker cannot turn them into an amplifier. A token bucket refilled each second.
struct ChallengeLimiter {
  std::uint32_t per_second = 1000;
  std::uint32_t tokens = 1000;
  std::optional<Instant> window_start;
  bool allow(Instant now) {
    if (!window_start || now - *window_start >= std::chrono::seconds(1)) {
      window_start = now;
      tokens = per_second;
    }
    if (tokens == 0) return false;
    --tokens;
    return true;
  }
};

// Per-connection options set through setsockopt. A zero keep-alive value means "the
// stack's default" (TcpConfig), which is what a fresh socket reports.
struct ConnOptions {
  bool nodelay = false;                // TCP_NODELAY: Nagle off
  bool keepalive = false;              // SO_KEEPALIVE
  Duration keepalive_idle{0};          // TCP_KEEPIDLE
  Duration keepalive_interval{0};      // TCP_KEEPINTVL
  std::uint32_t keepalive_probes = 0;  // TCP_KEEPCNT
  // TCP_CONGESTION; unset means TcpConfig::congestion.
  std::optional<CongestionAlgorithm> congestion;
};

class Connection {
 public:
  Connection(const TcpConfig& cfg, TcpStats& stats, const FourTuple& id, std::size_t mtu,
             std::size_t send_buffer, std::size_t recv_buffer);

  // RFC 9293 §3.10.1 OPEN, active: send a SYN and enter SYN-SENT.
  void open_active(SeqNum iss, Instant now);
  // RFC 9293 §3.10.7.2: a listener got an acceptable SYN; the child enters SYN-RECEIVED.
  void open_passive(const wire::TcpRepr& syn, SeqNum iss, Instant now);

  // RFC 9293 §3.10.7 SEGMENT ARRIVES (synchronizing and synchronized states). Control
  // segments that must go out at once (RST, challenge ACKs) go through `emit`.
  void on_segment(const wire::TcpRepr& seg, Instant now, Emit emit);
  // Fires due timers (retransmission, persist, delayed ACK, keep-alive, TIME-WAIT).
  void on_timer(Instant now, Emit emit);
  // Sends whatever is due now: SYN, data, FIN, ACKs, window probes.
  void dispatch(Instant now, Emit emit);
  std::optional<Instant> next_deadline() const;

  // An ICMP error about this connection (RFC 1122 §4.2.3.9, RFC 5927): `seq` is the
  // sequence number quoted from our segment; `hard` errors end a connection still in
  // SYN-SENT with `err`, soft ones are remembered and reported if it later times out.
  void on_icmp_error(Errno err, bool hard, SeqNum seq, Instant now);

  // User calls (RFC 9293 §3.10.2-§3.10.5).
  Result<std::size_t> send(Bytes data);
  Result<std::size_t> recv(MutBytes out, bool peek, bool discard = false);
  Errno shutdown_write();  // CLOSE for the sending direction: FIN after queued data
  void shutdown_read() { shut_rd_ = true; }
  // close(): FIN after queued data, or RST if received data was never read (RFC 2525
  // §2.17, as Linux). The connection lives on without a socket until it is CLOSED.
  void close(Instant now, Emit emit);
  void abort(Instant now, Emit emit);  // RFC 9293 §3.10.5 ABORT: RST, then CLOSED

  TcpState state() const { return state_; }
  const FourTuple& id() const { return id_; }
  // The error that ended or troubled the connection (ECONNREFUSED, ECONNRESET, ETIMEDOUT);
  // take_error() reports it once, as SO_ERROR does.
  Errno error() const { return error_; }
  Errno take_error() { return std::exchange(error_, Errno::Ok); }
  bool established_once() const { return established_once_; }
  bool readable() const;  // data, end of stream, or an error
  bool writable() const;  // room in the send buffer in a state that can send
  bool peer_closed() const { return fin_received_; }
  bool write_closed() const { return fin_queued_; }
  // CLOSED, or (a passive open reset in SYN-RECEIVED) handed back to its listener.
  bool gone() const { return state_ == TcpState::Closed || back_to_listen_; }
  bool user_closed() const { return user_closed_; }
  std::size_t recv_queue() const { return rcv_.output().size(); }
  std::size_t send_queue() const { return sbuf_.size(); }
  std::size_t send_space() const { return sbuf_.free_space(); }
  Duration rto() const { return rtt_.rto(); }
  std::optional<Duration> srtt() const { return rtt_.srtt(); }
  std::uint64_t cwnd() const { return cc_->cwnd(); }
  const CongestionControl& congestion() const { return *cc_; }
  const Negotiated& negotiated() const { return neg_; }
  const SendSequenceSpace& snd() const { return snd_; }
  const ReceiveSequenceSpace& rcv() const { return rcv_seq_; }
  const ConnOptions& options() const { return opts_; }
  // RFC 7323 §5.4: the connection's timestamp clock offset, set by its owner before the
  // first segment (TcpLayer draws it from the ISN secret).
  void set_ts_offset(std::uint32_t offset) { ts_.offset = offset; }
  const TimestampVars& timestamps() const { return ts_; }
  // The sender's SACK state (RFC 2018 §5, RFC 6675).
  const SackScoreboard& sack_scoreboard() const { return sack_; }
  const SackRecovery& sack_recovery() const { return recovery_; }
  // setsockopt: new options take effect at once (SO_KEEPALIVE starts or stops the timer,
  // TCP_CONGESTION switches the algorithm).
  void set_options(const ConnOptions& o, Instant now);
  std::size_t copy_payload(std::uint64_t offset, MutBytes out) const {
    return sbuf_.copy_out(offset, out);
  }
  std::size_t memory_bytes() const;
  // Frees the send or receive storage that holds no byte (nothing unacknowledged or
  // unsent; nothing unread or out of order), so an idle connection keeps no buffer
  // memory. The first kBufferReleasesAtOnce times this happens at once; a connection that
  // keeps coming back for its buffers (request/response, a reader that drains) keeps them
  // until no data has moved through them for TcpConfig::buffer_release_delay (checked
  // when the buffer_release timer fires, so they go one to two delays after the last
  // use), so a busy connection allocates nothing per segment. TcpLayer calls it after
  // every event.
  void release_idle_buffers(Instant now);
  static constexpr std::uint32_t kBufferReleasesAtOnce = 2;

  // Set by the owner (the socket table) to hear of readiness changes and of the end.
  int owner = -1;
  // A listener's child keeps a pointer to its listener until it is accepted.
  void* listener = nullptr;
  // The port reservation this connection holds in the socket layer's registry (active
  // opens): released when the connection is really gone, after TIME-WAIT.
  std::uint64_t port_owner = 0;
  ChallengeLimiter* limiter = nullptr;
  const TransitionHook* on_transition = nullptr;
  // The largest IPv4 datagram the device segments for us (TSO), 0 when it cannot: set by
  // the owner before the first segment; data then leaves in superframes where it can.
  void set_tso_limit(std::size_t max_datagram) { tso_max_datagram_ = max_datagram; }

 private:
  // ---- input.cpp: RFC 9293 §3.10.7 ----
  enum class Next : std::uint8_t { Continue, Drop };
  void on_segment_syn_sent(const wire::TcpRepr& seg, Instant now, Emit emit);
  Next check_timestamps(const wire::TcpRepr& seg, Instant now, Emit emit);
  Next check_sequence(const wire::TcpRepr& seg, Instant now, Emit emit);
  Next check_rst(const wire::TcpRepr& seg, Instant now, Emit emit);
  Next check_syn(const wire::TcpRepr& seg, Instant now, Emit emit);
  Next process_ack(const wire::TcpRepr& seg, Instant now, Emit emit);
  Next after_ack_in_state(const wire::TcpRepr& seg, Instant now, Emit emit);
  void process_text(const wire::TcpRepr& seg, Instant now, Emit emit);
  void process_fin(Instant now);
  bool ack_acceptable_rfc5961(SeqNum ack) const;
  void on_new_ack(const wire::TcpRepr& seg, Instant now);
  void update_ts_recent(const wire::TcpRepr& seg, Instant now);
  void reply_to_unacceptable(const wire::TcpRepr& seg, Instant now, Emit emit);
  void on_duplicate_ack(Instant now);
  std::uint64_t take_sack_blocks(const wire::TcpRepr& seg, SeqNum una_after);
  void on_sack_ack(bool cumulative, std::uint64_t newly_sacked);
  void enter_sack_recovery();
  void update_window(const wire::TcpRepr& seg);
  void take_syn_options(const wire::TcpRepr& syn, Instant now);
  void challenge_ack(Instant now, Emit emit);
  bool simultaneous_syn_ack(const wire::TcpRepr& seg) const;
  void return_to_listen();
  void trim_to_window(wire::TcpRepr& seg) const;
  bool our_fin_acked() const { return fin_sent() && fin_seq().before(snd_.una); }

  // ---- output.cpp ----
  void send_syn(bool with_ack, Instant now, Emit emit);
  bool send_data_segment(Instant now, Emit emit);
  void send_ack(Instant now, Emit emit);
  void send_rst(SeqNum seq, Instant now, Emit emit);
  void retransmit_first(Instant now, Emit emit);
  void retransmit_range(std::uint64_t begin, std::size_t len, Instant now, Emit emit);
  void sack_recovery_send(Instant now, Emit emit);
  bool new_data_allowed() const;
  std::uint64_t send_window(std::uint64_t nxt) const;
  void skip_sacked();
  std::size_t sack_blocks_to_send() const;
  void add_sack_blocks(wire::TcpRepr& h);
  void resend_syn_ack(Instant now, Emit emit);
  void send_probe(Instant now, Emit emit);
  void hold_for_window(Instant now);
  void emit_data(std::uint64_t nxt, std::size_t len, bool fin, std::uint64_t end, Instant now,
                 Emit emit);
  wire::TcpRepr header(SeqNum seq, bool ack, Instant now);
  std::size_t max_payload() const;
  std::uint16_t advertise_window();
  std::uint32_t rcv_edge_gain() const;
  // RCV.WND as last advertised: RCV.ADV - RCV.NXT, the window the peer knows.
  std::uint32_t advertised_window() const {
    return rcv_seq_.adv.after(rcv_seq_.nxt) ? (rcv_seq_.adv - rcv_seq_.nxt).value : 0;
  }
  // RFC 7323 §2.2/§2.3: the largest window the 16-bit field carries with our shift.
  std::uint64_t max_window() const { return std::uint64_t{65535} << neg_.rcv_shift; }
  // How far a window update would move the right edge: rcv_edge_gain() once receiver SWS
  // avoidance allows the move, else 0.
  std::uint32_t window_update_gain() const;
  bool window_update_urgent() const;
  std::uint32_t rcv_wnd() const;
  std::uint64_t data_off(SeqNum s) const;
  SeqNum seq_of(std::uint64_t data_offset) const {
    return snd_.iss + SeqLen(1) + SeqLen(static_cast<std::uint32_t>(data_offset));
  }
  std::uint64_t flight() const { return static_cast<std::uint64_t>((snd_.max - snd_.una).value); }
  bool fin_sent() const { return fin_queued_ && !snd_.max.before_eq(fin_seq()); }
  SeqNum fin_seq() const { return seq_of(fin_offset_); }
  void arm_retransmit(Instant now);
  void on_ack_sent();
  std::size_t superframe_len(std::uint64_t nxt, std::size_t len, std::uint64_t end) const;

  // ---- connection.cpp ----
  void set_state(TcpState next);
  void enter_time_wait(Instant now);
  void become_closed(Errno why);
  void on_retransmit_timeout(Instant now, Emit emit);
  void on_keepalive_timeout(Instant now, Emit emit);
  void free_idle_buffers();  // frees whichever of the two buffers is releasable()
  std::uint64_t buffer_usage() const;
  void arm_keepalive(Instant now);
  void give_up(Errno why, Instant now, Emit emit);

  TcpConfig cfg_;
  TcpStats& stats_;
  FourTuple id_;
  std::size_t mtu_;
  std::size_t tso_max_datagram_ = 0;  // set_tso_limit(); 0: one segment per OutSegment
  TcpState state_ = TcpState::Closed;
  SendSequenceSpace snd_;
  ReceiveSequenceSpace rcv_seq_;
  Negotiated neg_;
  SendBuffer sbuf_;
  Reassembler rcv_;
  RttEstimator rtt_;
  RttSampler sampler_;
  TimestampVars ts_;                 // RFC 7323 §4.3, §5.4
  SackScoreboard sack_;              // what the peer SACKed (RFC 2018 §5)
  SackRecovery recovery_;            // RFC 6675 §5 loss recovery
  bool sack_after_advance_ = false;  // the last data segment moved RCV.NXT (RFC 2018 §4)
  std::unique_ptr<CongestionControl> cc_;
  Timers timers_;
  ConnOptions opts_;

  bool passive_ = false;  // opened by a listener (RST in SYN-RECEIVED returns to LISTEN)
  bool syn_sent_ = false;
  bool fin_queued_ = false;
  std::uint64_t fin_offset_ = 0;  // data offset the FIN follows
  bool fin_received_ = false;
  bool shut_rd_ = false;
  bool user_closed_ = false;
  bool established_once_ = false;
  bool back_to_listen_ = false;
  bool ack_now_ = false;
  // An ACK owed once the work in hand is done: the frames of this poll (the every-second-
  // segment ACK, process_text: one per receive batch), or the application's turn (a window
  // update after a read, recv: its reply would carry it). next_deadline() makes it due at
  // once and TcpLayer::poll sends it, unless a segment has carried it first.
  bool ack_soon_ = false;
  bool retransmit_pending_ = false;  // fast retransmit / partial ACK: resend at SND.UNA
  bool probing_ = false;             // zero window: the persist timer is running
  bool delayed_ack_fired_ = false;
  bool override_sws_ = false;       // the persist timer fired with a small window open
  std::uint64_t rx_since_ack_ = 0;  // in-order octets received since our last ACK
  std::uint32_t retransmits_ = 0;   // consecutive RTO expiries (RFC 1122 §4.2.3.5)
  std::uint32_t persist_backoff_ = 0;
  std::uint32_t probes_unanswered_ = 0;  // window probes with no ACK since (RFC 1122 §4.2.2.17)
  std::uint32_t keepalive_sent_ = 0;
  std::uint32_t buffer_releases_ = 0;    // saturates at kBufferReleasesAtOnce
  std::uint64_t buffer_usage_mark_ = 0;  // buffer_usage() when buffer_release was armed
  std::uint64_t limited_transmit_ = 0;   // RFC 3042 allowance beyond cwnd, octets (no SACK)
  Instant last_rx_;
  std::optional<Instant> last_tx_;
  std::optional<Instant> last_oow_ack_;  // last ACK for an unacceptable bare ACK  // when data was
                                         // last sent (RFC 5681 §4.1 idle restart)
  Errno error_ = Errno::Ok;
  Errno soft_error_ = Errno::Ok;  // an ICMP soft error, reported instead of ETIMEDOUT
  spdlog::logger& log_;
};

}  // namespace tapir::tcp
