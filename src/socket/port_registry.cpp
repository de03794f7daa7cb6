#include "socket/port_registry.hpp"

#include <algorithm>

namespace tapir::socket {

namespace {
bool addresses_overlap(Ipv4Addr a, Ipv4Addr b) {
  return a == b || a.is_unspecified() || b.is_unspecified();
}

// Linux SO_REUSEADDR semantics (see the header).
bool may_share(const Reservation& held, const Reservation& want) {
  if (held.proto == Proto::Tcp && held.time_wait && want.reuse_addr) return true;
  if (!held.reuse_addr || !want.reuse_addr) return false;
  if (held.proto == Proto::Udp) return true;
  return !held.listening && !want.listening;
}
}  // namespace

bool PortRegistry::conflicts(const Reservation& r) const {
  auto it = held_.find(key(r.proto, r.port));
  if (it == held_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(), [&](const Reservation& h) {
    return h.owner != r.owner && addresses_overlap(h.addr, r.addr) && !may_share(h, r);
  });
}

Result<std::uint16_t> PortRegistry::reserve(Reservation r,
                                            const std::function<bool(std::uint16_t)>& usable) {
  if (r.port != 0) {
    if (conflicts(r)) return Errno::AddrInUse;
    held_[key(r.proto, r.port)].push_back(r);
    return r.port;
  }
  // RFC 6056 §3.3.1 Algorithm 1: start at a random offset in the range and probe linearly.
  std::uint32_t count = static_cast<std::uint32_t>(last_ - first_) + 1;
  std::uint32_t offset = rng_.below(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    r.port = static_cast<std::uint16_t>(first_ + (offset + i) % count);
    // An ephemeral port is never shared, whatever SO_REUSEADDR says (Linux does the same).
    auto it = held_.find(key(r.proto, r.port));
    if (it != held_.end() && !it->second.empty()) continue;
    if (usable && !usable(r.port)) continue;
    held_[key(r.proto, r.port)].push_back(r);
    return r.port;
  }
  return Errno::AddrNotAvail;
}

void PortRegistry::release(Proto proto, std::uint16_t port, std::uint64_t owner) {
  auto it = held_.find(key(proto, port));
  if (it == held_.end()) return;
  std::erase_if(it->second, [&](const Reservation& h) { return h.owner == owner; });
  if (it->second.empty()) held_.erase(it);
}

void PortRegistry::update(Proto proto, std::uint16_t port, std::uint64_t owner, bool listening,
                          bool time_wait) {
  auto it = held_.find(key(proto, port));
  if (it == held_.end()) return;
  for (auto& h : it->second) {
    if (h.owner != owner) continue;
    h.listening = listening;
    h.time_wait = time_wait;
  }
}

std::size_t PortRegistry::size() const {
  std::size_t n = 0;
  for (const auto& [_, v] : held_) n += v.size();
  return n;
}

}  // namespace tapir::socket
