// The TCP layer: demultiplexing (4-tuple -> connection, then listener by address and
// port, then by the wildcard), RFC 9293 §3.10.7.1 resets for segments that match
// nothing, §3.10.7.2 LISTEN processing, RFC 1122 §4.2.2.13 TIME-WAIT reopening, and the
// glue that turns a connection's OutSegments into IP datagrams.
//
// The connection table scales to 100,000 connections and more: a 4-tuple finds its
// connection by hash, and the connections' deadlines sit in one TimerQueue (a min-heap),
// so poll() visits only the connections that are due and next_deadline() is the heap's
// top. Every piece of work on a connection ends in after(), which re-reads the
// connection's next deadline; a call that changes timers without other work must call
// reschedule().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "ip/ipv4_layer.hpp"
#include "tcp/isn.hpp"
#include "tcp/listener.hpp"
#include "util/timer_queue.hpp"

namespace spdlog {
class logger;
}

namespace tapir::tcp {

enum class ConnEvent : std::uint8_t {
  Changed,   // readiness may have changed (data, window, state)
  TimeWait,  // entered TIME-WAIT: the port reservation may now be shared (RFC 9293 §3.6.1)
  Gone,      // CLOSED and forgotten by the layer
};

class TcpLayer final : public ip::TransportHandler {
 public:
  TcpLayer(ip::Ipv4Layer& ip, const TcpConfig& cfg, TcpStats& stats, Rng& rng);

  void on_datagram(const ip::Datagram& d, Instant now) override;
  void on_icmp_error(const ip::IcmpError& err, Instant now) override;

  // Active open: a new connection in SYN-SENT, its SYN sent at once.
  std::shared_ptr<Connection> connect(const FourTuple& id, std::size_t sndbuf, std::size_t rcvbuf,
                                      const ConnOptions& opts, Instant now);
  bool in_use(const FourTuple& id) const { return index_.contains(id); }

  Listener* listen(Ipv4Addr addr, std::uint16_t port, std::size_t backlog, int owner);
  // Closes a listener: children not yet accepted are reset (LINUX).
  void unlisten(Listener* l, Instant now);
  std::shared_ptr<Connection> accept(Listener& l);

  // Runs a connection's output after a user call (send, recv, shutdown, close).
  void kick(Connection& c, Instant now);
  void close(Connection& c, bool abort, Instant now);
  // Re-reads c's next deadline after a call that may have armed or disarmed its timers
  // without sending anything (setsockopt SO_KEEPALIVE, options inherited on accept).
  void reschedule(Connection& c);

  // Fires the timers due at `now`: O(log n) per due connection, nothing for idle ones.
  void poll(Instant now);
  // The earliest deadline of all connections, O(1).
  std::optional<Instant> next_deadline() const;

  void set_events(std::function<void(Connection&, ConnEvent)> f) { events_ = std::move(f); }
  void set_listener_events(std::function<void(Listener&)> f) { listener_events_ = std::move(f); }
  // Every state change of every connection made from now on (tests, traces).
  void set_transition_hook(TransitionHook f) { hook_ = std::move(f); }
  std::size_t connection_count() const { return index_.size(); }
  template <class F>
  void for_each_connection(F&& f) const {
    for (const auto& c : slots_) {
      if (c) f(*c);
    }
  }
  // The deadline queue, for tests and the scale benchmark (its size and stale entries).
  const TimerQueue& timer_queue() const { return timers_; }
  std::size_t buffer_size_for_sockets() const { return cfg_.recv_buffer; }
  const TcpConfig& config() const { return cfg_; }

 private:
  // `min_iss`: a TIME-WAIT reopen must start above the old incarnation's sequence space.
  void on_listen_segment(Listener& l, const FourTuple& id, const wire::TcpRepr& seg, Instant now,
                         std::optional<SeqNum> min_iss = std::nullopt);
  bool reopen_time_wait(const std::shared_ptr<Connection>& conn, const wire::TcpRepr& seg,
                        Instant now);
  std::shared_ptr<Connection> make_connection(const FourTuple& id, std::size_t sndbuf,
                                              std::size_t rcvbuf);
  void reply_reset(const FourTuple& id, const wire::TcpRepr& seg, Instant now);
  void send(const FourTuple& id, const OutSegment& s, const Connection* c, Instant now);
  void send_superframe(const FourTuple& id, const OutSegment& s, const Connection* c, Instant now);
  void after(Connection& c, Instant now);
  Listener* find_listener(Ipv4Addr addr, std::uint16_t port);
  // The connection table: insert (replacing any connection on the same 4-tuple), find,
  // and forget (only if `c` is still the one filed under its 4-tuple).
  void insert(const std::shared_ptr<Connection>& c);
  std::shared_ptr<Connection> find(const FourTuple& id) const;
  void forget(const Connection& c);

  ip::Ipv4Layer& ip_;
  TcpConfig cfg_;
  TcpStats& stats_;
  IsnGenerator isn_;
  ChallengeLimiter limiter_;
  // Each connection holds a TimerQueue handle, which is also its index in slots_; index_
  // maps a 4-tuple to it.
  std::unordered_map<FourTuple, TimerQueue::Handle, FourTupleHash> index_;
  std::vector<std::shared_ptr<Connection>> slots_;
  TimerQueue timers_;
  std::vector<TimerQueue::Handle> due_;              // poll()'s scratch lists, kept to
  std::vector<std::shared_ptr<Connection>> firing_;  // avoid allocating on every poll
  std::map<std::pair<std::uint32_t, std::uint16_t>, std::unique_ptr<Listener>> listeners_;
  std::function<void(Connection&, ConnEvent)> events_;
  std::function<void(Listener&)> listener_events_;
  TransitionHook hook_;
  spdlog::logger& log_;
};

}  // namespace tapir::tcp
