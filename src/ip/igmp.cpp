// IGMPv2 host side (RFC 2236 §3 and the host state machine of §6).
#include "ip/igmp.hpp"

#include <array>

#include "ip/ipv4_layer.hpp"
#include "util/log.hpp"
#include "wire/igmp.hpp"

namespace tapir::ip {

using wire::IgmpRepr;
namespace type = wire::igmp_type;

namespace {
// RFC 2113 §2.1: Router Alert, type 148, length 4, value 0 ("examine the packet").
constexpr std::array<std::byte, 4> kRouterAlert{std::byte{0x94}, std::byte{0x04}, std::byte{0},
                                                std::byte{0}};

// The response time a query asks for, in microseconds.
Duration max_response(const Datagram& d, std::uint8_t code) {
  std::uint32_t tenths = code;
  if (d.payload.size() >= 12 && code >= 128) {
    // RFC 3376 §4.1.1: an IGMPv3 query's Max Resp Code of 128 or more is a float,
    // (mant | 0x10) << (exp + 3), in tenths of a second.
    tenths = ((code & 0x0fu) | 0x10u) << (((code >> 4) & 0x07u) + 3);
  } else if (code == 0) {
    // RFC 2236 §4: a v1 query (Max Resp Time 0) means the v1 response time of 10 s.
    tenths = Igmp::kV1MaxRespTenths;
  }
  return Duration(std::int64_t{tenths} * 100000);
}
}  // namespace

Igmp::Igmp(Ipv4Layer& ip, IgmpStats& stats, Rng& rng)
    : ip_(ip), stats_(stats), rng_(rng), log_(log::get("ip")) {}

void Igmp::on_datagram(const Datagram& d, Instant now) {
  ++stats_.rx_messages;
  auto msg = IgmpRepr::parse(d.payload);
  if (!msg) {
    ++(msg.error() == wire::ParseError::BadChecksum ? stats_.rx_drop_bad_checksum
                                                    : stats_.rx_drop_truncated);
    TAPIR_LOG_DEBUG(&log_, "igmp: drop {} from {}", wire::to_string(msg.error()),
                    d.ip.src.to_string());
    return;
  }
  switch (msg->type) {
    case type::kQuery:
      on_query(d, msg->group, msg->max_resp_tenths, now);
      return;
    case type::kV1Report:
    case type::kV2Report:
      on_report(d, msg->group);
      return;
    default:
      // RFC 2236 §2.1: hosts ignore Leave Group messages; unknown types (IGMPv3 reports,
      // DVMRP, ...) are ignored too.
      ++stats_.rx_other;
      return;
  }
}

void Igmp::on_query(const Datagram& d, Ipv4Addr group, std::uint8_t code, Instant now) {
  // RFC 2236 §2.4: a General Query carries group 0 (sent to 224.0.0.1); a
  // Group-Specific Query carries the group and is sent to it.
  bool general = group.is_unspecified();
  if (!general && (!group.is_multicast() || (d.ip.dst != group && d.ip.dst != kAllSystems))) {
    ++stats_.rx_drop_bad_query;
    return;
  }
  ++stats_.rx_queries;
  Duration max_delay = max_response(d, code);
  // RFC 2236 §3: a General Query sets a timer for every group we belong to except
  // all-systems (never in groups_); a Group-Specific Query only for its group.
  if (general) {
    for (auto& [g, m] : groups_) start_timer(m, max_delay, now);
    return;
  }
  if (auto it = groups_.find(group); it != groups_.end()) start_timer(it->second, max_delay, now);
}

void Igmp::on_report(const Datagram& d, Ipv4Addr group) {
  // RFC 2236 §9: ignore a report whose source is not on our subnet (0.0.0.0 is
  // allowed: a host without an address yet), or that is not sent to its own group.
  if ((!d.ip.src.is_unspecified() && !ip_.address().contains(d.ip.src)) || group != d.ip.dst) {
    ++stats_.rx_drop_bad_report;
    return;
  }
  ++stats_.rx_reports;
  auto it = groups_.find(group);
  if (it == groups_.end() || !it->second.report_at) return;
  // RFC 2236 §3 and §6 (Delaying Member, "report received"): another member answered,
  // so stop our timer and do not send a duplicate; we are no longer the last reporter.
  it->second.report_at.reset();
  it->second.last_reporter = false;
  ++stats_.reports_suppressed;
  TAPIR_LOG_DEBUG(&log_, "igmp: report for {} suppressed by {}", group.to_string(),
                  d.ip.src.to_string());
}

void Igmp::start_timer(Membership& m, Duration max_delay, Instant now) {
  // RFC 2236 §3: a running timer is reset only if the query asks for a shorter time
  // than the timer has left.
  if (m.report_at && *m.report_at - now <= max_delay) return;
  // RFC 2236 §3: "a random value selected from the range (0, Max Response Time]".
  auto span = static_cast<std::uint32_t>(std::min<std::int64_t>(max_delay.count(), UINT32_MAX));
  m.report_at = now + Duration(1 + rng_.below(span));
}

void Igmp::on_join(Ipv4Addr group, Instant now) {
  // RFC 2236 §6: the all-systems group is never reported.
  if (!reportable(group)) return;
  auto& m = groups_[group];
  // RFC 2236 §3: on join, report at once in case we are the group's first member, and
  // repeat once after up to the Unsolicited Report Interval in case that one was lost.
  send(type::kV2Report, group, group, now);
  m.last_reporter = true;
  m.report_at.reset();
  start_timer(m, kUnsolicitedReportInterval, now);
}

void Igmp::on_leave(Ipv4Addr group, Instant now) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return;
  // RFC 2236 §3: the last host to report SHOULD send a Leave Group to all-routers;
  // one whose report was suppressed MAY stay silent, which tapir does (§6: "send leave
  // if flag set").
  if (it->second.last_reporter) send(type::kLeave, group, kAllRouters, now);
  groups_.erase(it);
}

void Igmp::poll(Instant now) {
  for (auto& [group, m] : groups_) {
    if (!m.report_at || *m.report_at > now) continue;
    // RFC 2236 §6 (Delaying Member, "timer expired"): send report, set flag, go Idle.
    m.report_at.reset();
    send(type::kV2Report, group, group, now);
    m.last_reporter = true;
  }
}

std::optional<Instant> Igmp::next_deadline() const {
  std::optional<Instant> t;
  for (const auto& [group, m] : groups_) t = earliest(t, m.report_at);
  return t;
}

std::optional<Instant> Igmp::report_due(Ipv4Addr group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? std::nullopt : it->second.report_at;
}

void Igmp::send(std::uint8_t t, Ipv4Addr group, Ipv4Addr dst, Instant now) {
  IgmpRepr msg{t, 0, group};
  // RFC 2236 §2: every IGMP message goes out with IP TTL 1 and the Router Alert option.
  SendParams p{.dst = dst, .proto = wire::IpProto::Igmp, .ttl = 1, .options = Bytes(kRouterAlert)};
  auto err = ip_.send(
      p, msg.buffer_len(), [&](MutBytes out, const wire::Ipv4Repr&) { msg.emit(out); }, now);
  if (err != Errno::Ok) {
    TAPIR_LOG_DEBUG(&log_, "igmp: send to {} failed: {}", dst.to_string(), to_string(err));
    return;
  }
  ++(t == type::kLeave ? stats_.tx_leaves : stats_.tx_reports);
  TAPIR_LOG_DEBUG(&log_, "igmp: sent {} for {}", t == type::kLeave ? "leave" : "report",
                  group.to_string());
}

}  // namespace tapir::ip
