// IGMPv2, the host side (RFC 2236): unsolicited reports on join (sent twice, §3), answers
// to General and Group-Specific Queries after a random delay (§3), report suppression
// when another member answers first (§3), Leave Group when the last member leaves (§3,
// §6), all with IP TTL 1 and the Router Alert option (§2, RFC 2113).
//
// Not implemented (docs/conformance.md): IGMPv1 router compatibility (§4: a v1 query,
// Max Resp Time 0, is answered with a v2 report after up to 10 s), and IGMPv3 (RFC 3376;
// a v3 query is answered as a v2 query, as RFC 3376 §7.1 lets an older host do).
//
// Timers are deadlines: next_deadline() and poll(now), never callbacks (STYLE.md §5).
#pragma once

#include <map>
#include <optional>

#include "ip/datagram.hpp"
#include "tapir/random.hpp"
#include "tapir/stats.hpp"

namespace spdlog {
class logger;
}

namespace tapir::ip {

class Ipv4Layer;

class Igmp final : public TransportHandler {
 public:
  // RFC 2236 §8.10: time between repetitions of a host's initial report.
  static constexpr Duration kUnsolicitedReportInterval = std::chrono::seconds(10);
  // RFC 2236 §4 (v1 queries carry 0): the v1 response time, 10 s.
  static constexpr std::uint8_t kV1MaxRespTenths = 100;
  static constexpr Ipv4Addr kAllSystems = Ipv4Addr::from_octets(224, 0, 0, 1);
  static constexpr Ipv4Addr kAllRouters = Ipv4Addr::from_octets(224, 0, 0, 2);

  Igmp(Ipv4Layer& ip, IgmpStats& stats, Rng& rng);

  void on_datagram(const Datagram& d, Instant now) override;
  // The first member of `group` joined / the last one left (Ipv4Layer counts members).
  void on_join(Ipv4Addr group, Instant now);
  void on_leave(Ipv4Addr group, Instant now);

  void poll(Instant now);
  std::optional<Instant> next_deadline() const;
  // The pending report time of a group, for tests and `tapir stats`; nullopt when idle.
  std::optional<Instant> report_due(Ipv4Addr group) const;

 private:
  // RFC 2236 §6: a member is Idle (no timer) or Delaying (report_at set). `last_reporter`
  // is the §6 flag: set when we sent the latest report, cleared when we hear another's.
  struct Membership {
    std::optional<Instant> report_at;
    bool last_reporter = false;
  };

  void on_query(const Datagram& d, Ipv4Addr group, std::uint8_t max_resp_tenths, Instant now);
  void on_report(const Datagram& d, Ipv4Addr group);
  void start_timer(Membership& m, Duration max_delay, Instant now);
  void send(std::uint8_t type, Ipv4Addr group, Ipv4Addr dst, Instant now);
  static bool reportable(Ipv4Addr group) { return group.is_multicast() && group != kAllSystems; }

  Ipv4Layer& ip_;
  IgmpStats& stats_;
  Rng& rng_;
  std::map<Ipv4Addr, Membership> groups_;
  spdlog::logger& log_;
};

}  // namespace tapir::ip
