// The TCP layer: demultiplexing (4-tuple -> connection, then listener by address and
// port, then by the wildcard), RFC 9293 §3.10.7.1 resets for segments that match
// nothing, §3.10.7.2 LISTEN processing, RFC 1122 §4.2.2.13 TIME-WAIT reopening, and the
// glue that turns a connection's OutSegments into IP datagrams.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "ip/ipv4_layer.hpp"
#include "tcp/isn.hpp"
#include "tcp/listener.hpp"

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
  bool in_use(const FourTuple& id) const { return conns_.contains(id); }

  Listener* listen(Ipv4Addr addr, std::uint16_t port, std::size_t backlog, int owner);
  // Closes a listener: children not yet accepted are reset (LINUX).
  void unlisten(Listener* l, Instant now);
  std::shared_ptr<Connection> accept(Listener& l);

  // Runs a connection's output after a user call (send, recv, shutdown, close).
  void kick(Connection& c, Instant now);
  void close(Connection& c, bool abort, Instant now);

  void poll(Instant now);
  std::optional<Instant> next_deadline() const;

  void set_events(std::function<void(Connection&, ConnEvent)> f) { events_ = std::move(f); }
  void set_listener_events(std::function<void(Listener&)> f) { listener_events_ = std::move(f); }
  // Every state change of every connection made from now on (tests, traces).
  void set_transition_hook(TransitionHook f) { hook_ = std::move(f); }
  std::size_t connection_count() const { return conns_.size(); }
  template <class F>
  void for_each_connection(F&& f) const {
    for (const auto& [_, c] : conns_) f(*c);
  }
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
  void after(Connection& c, Instant now);
  Listener* find_listener(Ipv4Addr addr, std::uint16_t port);

  ip::Ipv4Layer& ip_;
  TcpConfig cfg_;
  TcpStats& stats_;
  IsnGenerator isn_;
  ChallengeLimiter limiter_;
  std::unordered_map<FourTuple, std::shared_ptr<Connection>, FourTupleHash> conns_;
  std::map<std::pair<std::uint32_t, std::uint16_t>, std::unique_ptr<Listener>> listeners_;
  std::function<void(Connection&, ConnEvent)> events_;
  std::function<void(Listener&)> listener_events_;
  TransitionHook hook_;
  spdlog::logger& log_;
};

}  // namespace tapir::tcp
