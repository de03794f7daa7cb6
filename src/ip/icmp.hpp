// ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo replies for any size (reassembled requests
// included), error generation with the RFC 1122 suppression rules and a rate limit, and
// delivery of received errors to the protocol that sent the offending datagram.
#pragma once

#include <array>
#include <functional>

#include "ip/datagram.hpp"
#include "tapir/stack_config.hpp"
#include "tapir/stats.hpp"
#include "wire/icmpv4.hpp"

namespace spdlog {
class logger;
}

namespace tapir::ip {

class Ipv4Layer;

// An echo reply seen by the stack, for clients such as `tapir ping`.
struct EchoReply {
  Ipv4Addr from;
  std::uint16_t ident;
  std::uint16_t seq;
  Bytes data;
  std::uint8_t ttl;
};

class Icmp final : public TransportHandler {
 public:
  Icmp(Ipv4Layer& ip, const IcmpConfig& cfg, IcmpStats& stats);

  void on_datagram(const Datagram& d, Instant now) override;

  // Sends an error about datagram `about` unless RFC 1122 §3.2.2 forbids it or the rate
  // limit is exhausted. `rest` is the type-specific second word (0 for most).
  void send_error(std::uint8_t type, std::uint8_t code, const Datagram& about, Instant now,
                  std::uint32_t rest = 0);
  // Same, for a datagram known only by its header and first octets (reassembly timeout).
  void send_error(std::uint8_t type, std::uint8_t code, const wire::Ipv4Repr& ip, Bytes payload,
                  Instant now, std::uint32_t rest = 0);

  Errno send_echo_request(Ipv4Addr dst, std::uint16_t ident, std::uint16_t seq, Bytes data,
                          Instant now, std::uint8_t ttl = 0);
  void set_echo_reply_handler(std::function<void(const EchoReply&, Instant)> h) {
    on_echo_reply_ = std::move(h);
  }
  // Hands an error (received, or raised locally by the IP layer) to the protocol of the
  // datagram it is about.
  void deliver_error(const IcmpError& e, Instant now);
  // Where received errors go: protocol number -> handler (set by Ipv4Layer::add_protocol).
  void route_errors_to(wire::IpProto proto, TransportHandler* h) {
    error_sinks_[static_cast<std::uint8_t>(proto)] = h;
  }

 private:
  void on_echo_request(const Datagram& d, const wire::Icmpv4Repr& req, Instant now);
  void on_error(const Datagram& d, const wire::Icmpv4Repr& msg, Instant now);
  bool take_token(Instant now);

  Ipv4Layer& ip_;
  IcmpConfig cfg_;
  IcmpStats& stats_;
  double tokens_;
  std::optional<Instant> last_refill_;
  std::function<void(const EchoReply&, Instant)> on_echo_reply_;
  std::array<TransportHandler*, 256> error_sinks_{};
  spdlog::logger& log_;
};

}  // namespace tapir::ip
