#include "tapir/stack.hpp"

#include "stack/impl.hpp"
#include "util/log.hpp"

namespace tapir {

namespace {
std::size_t effective_mtu(const phy::Device& dev, const StackConfig& cfg) {
  return cfg.mtu != 0 ? cfg.mtu : dev.caps().mtu;
}
}  // namespace

Stack::Impl::Impl(phy::Device& dev, const StackConfig& cfg)
    : device(dev),
      config(cfg),
      rng(cfg.seed),
      link(dev, cfg.mac, cfg.address, effective_mtu(dev, cfg), cfg.arp, stats),
      ip(link, cfg, stats, rng),
      udp(ip, stats.udp),
      tcp(ip, cfg.tcp, stats.tcp, rng),
      sockets(std::make_unique<Sockets::Impl>(ip, udp, tcp, rng, cfg.sockets, now, stats.socket)) {
  link.set_receiver(&ip);
  ip.add_protocol(wire::IpProto::Udp, &udp);
  ip.add_protocol(wire::IpProto::Tcp, &tcp);
  sockets.impl().ip_ttl = cfg.ipv4.ttl;
  config.mtu = effective_mtu(dev, cfg);
}

Stack::Stack(phy::Device& device, const StackConfig& config)
    : impl_(std::make_unique<Impl>(device, config)) {
  log::get("app").info("interface up: mac {} ip {} mtu {}{}", config.mac.to_string(),
                       config.address.to_string(), impl_->config.mtu,
                       config.gateway ? " gateway " + config.gateway->to_string() : "");
}

Stack::~Stack() = default;

std::size_t Stack::poll(Instant now, std::size_t max_frames) noexcept {
  auto& s = *impl_;
  s.now = now;
  if (!s.announced) {
    s.announced = true;
    if (s.config.arp.gratuitous_on_start) s.link.announce(now);
  }
  // Bounded work per call (smoltcp's poll doc warns of unbounded ingress loops): at most
  // one device batch, then timers, then the transmit flush.
  const std::size_t budget = max_frames != 0 ? max_frames : s.device.caps().rx_batch;
  std::size_t received = 0;
  for (; received < budget; ++received) {
    auto frame = s.device.receive(now);
    if (!frame) break;
    s.link.on_frame(*frame, now);
  }
  s.link.poll(now);
  s.ip.poll(now);
  s.tcp.poll(now);
  s.device.flush(now);
  return received;
}

std::optional<Instant> Stack::next_deadline() const {
  auto& s = *impl_;
  auto t = earliest(s.link.next_deadline(), s.ip.next_deadline());
  t = earliest(t, s.tcp.next_deadline());
  return earliest(t, s.device.next_deadline());
}

const Stats& Stack::stats() const { return impl_->stats; }
Sockets& Stack::sockets() { return impl_->sockets; }
Instant Stack::now() const { return impl_->now; }
void Stack::flush() { impl_->device.flush(impl_->now); }
const StackConfig& Stack::config() const { return impl_->config; }

std::vector<NeighborInfo> Stack::neighbors(Instant now) const {
  std::vector<NeighborInfo> out;
  for (const auto& [ip, e] : impl_->link.neighbors().entries()) {
    NeighborInfo n{ip, std::nullopt, {}, e.pending.size()};
    if (e.state == link::NeighborEntry::State::Reachable) {
      n.mac = e.mac;
      n.expires_in = e.expires_at - now;
    }
    out.push_back(n);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.ip < b.ip; });
  return out;
}

Errno Stack::send_ping(Ipv4Addr dst, std::uint16_t ident, std::uint16_t seq, Bytes data,
                       Instant now) {
  auto err = impl_->ip.icmp().send_echo_request(dst, ident, seq, data, now);
  impl_->device.flush(now);
  return err;
}

void Stack::on_ping_reply(std::function<void(const PingReply&, Instant)> handler) {
  impl_->ip.icmp().set_echo_reply_handler(
      [h = std::move(handler)](const ip::EchoReply& r, Instant now) {
        h(PingReply{r.from, r.ident, r.seq, r.data.size(), r.ttl, r.data}, now);
      });
}

}  // namespace tapir
