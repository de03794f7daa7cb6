#include "link/neighbor_cache.hpp"

#include <algorithm>
#include <utility>

namespace tapir::link {

Duration NeighborCache::backoff(std::uint32_t sent) const {
  // Exponential backoff: 1 s, 2 s, 4 s ... after the 1st, 2nd, 3rd request.
  return cfg_.request_interval * (1u << std::min<std::uint32_t>(sent - 1, 16));
}

std::optional<MacAddr> NeighborCache::lookup(Ipv4Addr ip, Instant now,
                                             std::optional<ArpRequestToSend>* refresh) {
  auto it = entries_.find(ip);
  if (it == entries_.end() || it->second.state != NeighborEntry::State::Reachable) {
    return std::nullopt;
  }
  auto& e = it->second;
  if (now >= e.expires_at) return std::nullopt;
  if (now >= e.refresh_at && !e.refresh_pending && refresh) {
    // RFC 1122 §2.3.2.1 (unicast poll): re-validate an entry in use by asking its owner
    // directly before it expires, instead of letting traffic stall on a broadcast later.
    e.refresh_pending = true;
    *refresh = ArpRequestToSend{ip, e.mac};
  }
  return e.mac;
}

void NeighborCache::drop_pending(NeighborEntry& e, std::uint64_t ArpStats::*counter) {
  stats_.*counter += e.pending.size();
  pending_total_ -= e.pending.size();
  e.pending.clear();
}

bool NeighborCache::make_room(Instant now) {
  if (entries_.size() < cfg_.max_entries) return true;
  // Evict an expired entry, else the reachable entry closest to expiry. Entries still
  // resolving are kept: their queued datagrams would be lost.
  auto victim = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second.state != NeighborEntry::State::Reachable) continue;
    if (victim == entries_.end() || it->second.expires_at < victim->second.expires_at) victim = it;
    if (it->second.expires_at <= now) break;
  }
  if (victim == entries_.end()) return false;
  ++stats_.cache_evicted;
  erase(victim);
  return true;
}

std::optional<ArpRequestToSend> NeighborCache::enqueue(Ipv4Addr ip, Bytes datagram, Instant now) {
  auto it = entries_.find(ip);
  if (it == entries_.end() || it->second.state == NeighborEntry::State::Reachable) {
    if (it != entries_.end()) {
      erase(it);  // an expired reachable entry: resolve afresh
    } else if (!make_room(now)) {
      ++stats_.pending_drop_full;
      return std::nullopt;
    }
    it = insert(ip);
    ++stats_.cache_inserts;
  }
  auto& e = it->second;
  if (e.pending.size() >= cfg_.max_pending_per_entry || pending_total_ >= cfg_.max_pending_total) {
    ++stats_.pending_drop_full;
  } else {
    e.pending.emplace_back(datagram.begin(), datagram.end());
    ++pending_total_;
    ++stats_.pending_queued;
  }
  if (e.requests_sent > 0) return std::nullopt;  // a resolution is already under way
  e.requests_sent = 1;
  e.next_request = now + backoff(1);
  rearm(e);
  return ArpRequestToSend{ip, std::nullopt};
}

std::deque<std::vector<std::byte>> NeighborCache::learn(Ipv4Addr ip, MacAddr mac, bool create,
                                                        Instant now) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    if (!create || !make_room(now)) return {};
    it = insert(ip);
    ++stats_.cache_inserts;
  } else {
    ++stats_.cache_updates;
  }
  auto& e = it->second;
  e.state = NeighborEntry::State::Reachable;
  e.mac = mac;
  e.expires_at = now + cfg_.entry_lifetime;
  e.refresh_at = now + cfg_.refresh_after;
  e.refresh_pending = false;
  e.requests_sent = 0;
  rearm(e);
  pending_total_ -= e.pending.size();
  stats_.pending_sent += e.pending.size();
  return std::exchange(e.pending, {});
}

NeighborCache::Iter NeighborCache::insert(Ipv4Addr ip) {
  auto it = entries_.emplace(ip, NeighborEntry{}).first;
  it->second.timer = timers_.acquire();
  if (it->second.timer >= owners_.size()) owners_.resize(it->second.timer + 1);
  owners_[it->second.timer] = ip;
  return it;
}

NeighborCache::Iter NeighborCache::erase(Iter it) {
  timers_.release(it->second.timer);
  return entries_.erase(it);
}

}  // namespace tapir::link
