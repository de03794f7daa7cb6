// ICMPv4 (RFC 792; RFC 1122 §3.2.2).
#include "ip/icmp.hpp"

#include <algorithm>
#include <cstring>

#include "ip/ipv4_layer.hpp"
#include "util/log.hpp"

namespace tapir::ip {

using wire::Icmpv4Repr;
namespace type = wire::icmp_type;

Icmp::Icmp(Ipv4Layer& ip, const IcmpConfig& cfg, IcmpStats& stats)
    : ip_(ip), cfg_(cfg), stats_(stats), tokens_(cfg.error_burst), log_(log::get("icmp")) {}

void Icmp::on_datagram(const Datagram& d, Instant now) {
  ++stats_.rx_messages;
  auto msg = Icmpv4Repr::parse(d.payload);
  if (!msg) {
    ++(msg.error() == wire::ParseError::BadChecksum ? stats_.rx_drop_bad_checksum
                                                    : stats_.rx_drop_truncated);
    TAPIR_LOG_DEBUG(&log_, "drop {} from {}", wire::to_string(msg.error()), d.ip.src.to_string());
    return;
  }
  switch (msg->type) {
    case type::kEchoRequest:
      ++stats_.rx_echo_requests;
      on_echo_request(d, *msg, now);
      return;
    case type::kEchoReply:
      ++stats_.rx_echo_replies;
      if (on_echo_reply_) {
        on_echo_reply_({d.ip.src, msg->echo_ident(), msg->echo_seq(), msg->data, d.ip.ttl}, now);
      }
      return;
    case type::kDestUnreachable:
      ++stats_.rx_dest_unreachable;
      on_error(d, *msg, now);
      return;
    case type::kTimeExceeded:
      ++stats_.rx_time_exceeded;
      on_error(d, *msg, now);
      return;
    case type::kSourceQuench:
    case type::kParamProblem:
      ++stats_.rx_other;
      on_error(d, *msg, now);
      return;
    default:
      // RFC 1122 §3.2.2: an ICMP message of unknown type MUST be silently discarded.
      ++stats_.rx_other;
      return;
  }
}

void Icmp::on_echo_request(const Datagram& d, const Icmpv4Repr& req, Instant now) {
  if (d.to_group()) {
    // RFC 1122 §3.2.2.6 lets a host ignore echo requests to broadcast or multicast
    // addresses; Linux does by default (icmp_echo_ignore_broadcasts=1), and so does tapir.
    ++stats_.rx_drop_broadcast_echo;
    return;
  }
  // RFC 792 / RFC 1122 §3.2.2.6: the reply returns the identifier, sequence number and
  // data unchanged, from the address the request was sent to.
  Icmpv4Repr reply{type::kEchoReply, 0, req.rest, req.data};
  SendParams p{.dst = d.ip.src, .proto = wire::IpProto::Icmp, .src = d.ip.dst};
  auto err = ip_.send(
      p, reply.buffer_len(), [&](MutBytes out, const wire::Ipv4Repr&) { reply.emit(out); }, now);
  if (err == Errno::Ok) ++stats_.tx_echo_replies;
}

Errno Icmp::send_echo_request(Ipv4Addr dst, std::uint16_t ident, std::uint16_t seq, Bytes data,
                              Instant now, std::uint8_t ttl) {
  Icmpv4Repr req{type::kEchoRequest, 0, Icmpv4Repr::echo_rest(ident, seq), data};
  SendParams p{.dst = dst, .proto = wire::IpProto::Icmp, .ttl = ttl};
  auto err = ip_.send(
      p, req.buffer_len(), [&](MutBytes out, const wire::Ipv4Repr&) { req.emit(out); }, now);
  if (err == Errno::Ok) ++stats_.tx_echo_requests;
  return err;
}

void Icmp::on_error(const Datagram& d, const Icmpv4Repr& msg, Instant now) {
  // RFC 1122 §3.2.2: the error quotes our datagram's IP header and at least 8 octets of
  // its data; the quoted protocol field says which transport to tell.
  // The quote is usually cut short of its own total length, so the view is built
  // unchecked and only the header is validated.
  if (msg.data.size() < wire::Ipv4View::kMinHeaderLen) return;
  auto raw = wire::Ipv4View::unchecked(msg.data);
  if (raw.version() != 4 || raw.header_len() < wire::Ipv4View::kMinHeaderLen ||
      raw.header_len() > msg.data.size()) {
    return;
  }
  IcmpError e;
  e.type = msg.type;
  e.code = msg.code;
  e.rest = msg.rest;
  e.reporter = d.ip.src;
  e.inner.src = raw.src();
  e.inner.dst = raw.dst();
  e.inner.protocol = raw.protocol();
  e.inner.ident = raw.ident();
  e.inner_payload = msg.data.subspan(raw.header_len());
  if (!ip_.is_local(e.inner.src)) return;  // not about something we sent
  deliver_error(e, now);
}

void Icmp::deliver_error(const IcmpError& e, Instant now) {
  auto* sink = error_sinks_[static_cast<std::uint8_t>(e.inner.protocol)];
  if (sink) sink->on_icmp_error(e, now);
}

bool Icmp::take_token(Instant now) {
  // Token bucket: `errors_per_second` tokens per second, at most `error_burst` saved.
  if (last_refill_) {
    double secs = static_cast<double>((now - *last_refill_).count()) / 1e6;
    tokens_ = std::min<double>(cfg_.error_burst, tokens_ + secs * cfg_.errors_per_second);
  }
  last_refill_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void Icmp::send_error(std::uint8_t t, std::uint8_t code, const Datagram& about, Instant now,
                      std::uint32_t rest) {
  // RFC 1122 §3.2.2: no error about a datagram sent to a broadcast or multicast address
  // or received as a link-layer broadcast.
  if (about.to_group() || about.link_multicast) {
    ++stats_.tx_suppressed;
    return;
  }
  send_error(t, code, about.ip, about.payload, now, rest);
}

void Icmp::send_error(std::uint8_t t, std::uint8_t code, const wire::Ipv4Repr& ip, Bytes payload,
                      Instant now, std::uint32_t rest) {
  // RFC 1122 §3.2.2: never about an ICMP error, about a fragment other than the first,
  // or to a source that does not name one host.
  bool about_error = false;
  if (ip.protocol == wire::IpProto::Icmp && !payload.empty()) {
    auto inner_type = load_u8(payload, 0);
    about_error = inner_type != type::kEchoRequest && inner_type != type::kEchoReply &&
                  inner_type != type::kTimestamp && inner_type != type::kTimestampReply;
  }
  if (about_error || ip.frag_offset != 0 || ip.src.is_unspecified() || ip.src.is_broadcast() ||
      ip.src.is_multicast() || ip.src.is_loopback()) {
    ++stats_.tx_suppressed;
    return;
  }
  if (!take_token(now)) {
    ++stats_.tx_rate_limited;
    return;
  }
  // RFC 1812 §4.3.2.3: quote as much of the datagram as fits in 576 octets (RFC 792 asks
  // for the header plus 64 bits at least).
  std::size_t quote_payload =
      std::min(payload.size(), 576 - 20 - Icmpv4Repr::kHeaderLen - ip.header_len());
  std::size_t quote_len = ip.header_len() + quote_payload;
  std::array<std::byte, 576> quote;
  wire::Ipv4Repr original = ip;
  original.payload_len =
      static_cast<std::uint16_t>(std::max<std::size_t>(ip.payload_len, payload.size()));
  original.emit(MutBytes(quote));
  std::memcpy(quote.data() + ip.header_len(), payload.data(), quote_payload);
  Icmpv4Repr msg{t, code, rest, Bytes(quote).first(quote_len)};
  SendParams p{.dst = ip.src, .proto = wire::IpProto::Icmp};
  if (ip_.send(
          p, msg.buffer_len(), [&](MutBytes out, const wire::Ipv4Repr&) { msg.emit(out); }, now) ==
      Errno::Ok) {
    ++(t == type::kDestUnreachable ? stats_.tx_dest_unreachable : stats_.tx_other_errors);
    TAPIR_LOG_DEBUG(&log_, "sent type={} code={} to {}", t, code, ip.src.to_string());
  }
}

}  // namespace tapir::ip
