// The ARP neighbour cache (RFC 826, RFC 1122 §2.3.2): IPv4 -> MAC translations with expiry,
// refresh, request retries with backoff, and a bounded queue of packets waiting for an
// answer (RFC 1122 §2.3.2.2: "SHOULD save at least one packet"; one slot loses the burst
// that a TCP handshake or a fragmented datagram sends at once, so tapir keeps several).
//
// The cache is sans-IO: it decides, the EthernetLayer sends. Time is passed in.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "tapir/address.hpp"
#include "tapir/bytes.hpp"
#include "tapir/stack_config.hpp"
#include "tapir/stats.hpp"
#include "tapir/time.hpp"

namespace tapir::link {

struct NeighborEntry {
  enum class State : std::uint8_t { Incomplete, Reachable };
  State state = State::Incomplete;
  MacAddr mac;
  Instant expires_at;    // Reachable: when the entry is forgotten
  Instant refresh_at;    // Reachable: after this, the next use sends a unicast re-request
  Instant next_request;  // Incomplete: when to send the next request
  std::uint32_t requests_sent = 0;
  bool refresh_pending = false;
  std::deque<std::vector<std::byte>> pending;  // IPv4 datagrams waiting for the MAC
};

// What the caller must do after asking the cache.
struct ArpRequestToSend {
  Ipv4Addr target;
  std::optional<MacAddr> unicast_to;  // refresh: ask the known MAC directly (RFC 1122 §2.3.2.1)
};

class NeighborCache {
 public:
  NeighborCache(const ArpConfig& cfg, ArpStats& stats) : cfg_(cfg), stats_(stats) {}

  // The MAC for `ip`, if resolved and not expired. `refresh` is set when the entry is in use
  // near the end of its life and a unicast re-request should go out.
  std::optional<MacAddr> lookup(Ipv4Addr ip, Instant now, std::optional<ArpRequestToSend>* refresh);

  // Queues a datagram for an unresolved address. Returns the request to send now, if any
  // (the first packet for an address starts a resolution; later ones only queue).
  std::optional<ArpRequestToSend> enqueue(Ipv4Addr ip, Bytes datagram, Instant now);

  // RFC 826 "Packet Reception" merge step: update the entry for `ip` if one exists
  // (this is how a peer's gratuitous ARP reaches us); create it only when `create` (the
  // packet was addressed to us). Returns the datagrams that were waiting, now sendable.
  std::deque<std::vector<std::byte>> learn(Ipv4Addr ip, MacAddr mac, bool create, Instant now);

  // Expires entries and retries requests. Calls `send_request` for each request due, and
  // drops (and counts) the queues of resolutions that gave up, handing each dropped
  // datagram to `unresolved` first (so its sender can learn "host unreachable").
  template <class F, class G>
  void poll(Instant now, F&& send_request, G&& unresolved);

  std::optional<Instant> next_deadline() const;
  const std::unordered_map<Ipv4Addr, NeighborEntry>& entries() const { return entries_; }
  void clear() { entries_.clear(); }

 private:
  Duration backoff(std::uint32_t sent) const;
  void drop_pending(NeighborEntry& e, std::uint64_t ArpStats::*counter);
  bool make_room(Instant now);

  ArpConfig cfg_;
  ArpStats& stats_;
  std::unordered_map<Ipv4Addr, NeighborEntry> entries_;
  std::size_t pending_total_ = 0;
};

template <class F, class G>
void NeighborCache::poll(Instant now, F&& send_request, G&& unresolved) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& e = it->second;
    if (e.state == NeighborEntry::State::Reachable) {
      if (now >= e.expires_at) {
        ++stats_.cache_expired;
        it = entries_.erase(it);
        continue;
      }
    } else if (now >= e.next_request) {
      if (e.requests_sent >= cfg_.max_requests) {
        // RFC 1122 §2.3.2.1: give up after a bounded number of tries; the waiting
        // datagrams are lost and counted.
        ++stats_.resolve_failed;
        for (const auto& d : e.pending) unresolved(Bytes(d));
        drop_pending(e, &ArpStats::pending_drop_unresolved);
        it = entries_.erase(it);
        continue;
      }
      ++e.requests_sent;
      e.next_request = now + backoff(e.requests_sent);
      send_request(ArpRequestToSend{it->first, std::nullopt});
    }
    ++it;
  }
}

}  // namespace tapir::link
