// The ARP neighbour cache (RFC 826, RFC 1122 §2.3.2): IPv4 -> MAC translations with expiry,
// refresh, request retries with backoff, and a bounded queue of packets waiting for an
// answer (RFC 1122 §2.3.2.2: "SHOULD save at least one packet"; one slot loses the burst
// that a TCP handshake or a fragmented datagram sends at once, so tapir keeps several).
//
// The cache is sans-IO: it decides, the EthernetLayer sends. Time is passed in. Each entry
// has one deadline (expiry when reachable, the next request while resolving), kept in a
// TimerQueue: poll() visits only the entries that are due, next_deadline() is O(1).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tapir/address.hpp"
#include "tapir/bytes.hpp"
#include "tapir/stack_config.hpp"
#include "tapir/stats.hpp"
#include "tapir/time.hpp"
#include "util/timer_queue.hpp"

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
  TimerQueue::Handle timer = 0;                // the entry's deadline in the cache's queue
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

  std::optional<Instant> next_deadline() const { return timers_.next(); }
  const std::unordered_map<Ipv4Addr, NeighborEntry>& entries() const { return entries_; }
  void clear() {
    entries_.clear();
    timers_ = TimerQueue{};
    owners_.clear();
    pending_total_ = 0;
  }

 private:
  using Iter = std::unordered_map<Ipv4Addr, NeighborEntry>::iterator;
  Duration backoff(std::uint32_t sent) const;
  void drop_pending(NeighborEntry& e, std::uint64_t ArpStats::*counter);
  bool make_room(Instant now);
  // The table with its deadlines: every entry holds a queue handle, owners_ maps it back.
  Iter insert(Ipv4Addr ip);
  Iter erase(Iter it);
  void rearm(const NeighborEntry& e) {
    timers_.schedule(e.timer,
                     e.state == NeighborEntry::State::Reachable ? e.expires_at : e.next_request);
  }
  // One due entry: expire it, retry its request, or give up on it.
  template <class F, class G>
  void on_due(Ipv4Addr ip, Instant now, F& send_request, G& unresolved);

  ArpConfig cfg_;
  ArpStats& stats_;
  std::unordered_map<Ipv4Addr, NeighborEntry> entries_;
  TimerQueue timers_;
  std::vector<Ipv4Addr> owners_;  // by handle
  std::vector<TimerQueue::Handle> due_;
  std::size_t pending_total_ = 0;
};

template <class F, class G>
void NeighborCache::poll(Instant now, F&& send_request, G&& unresolved) {
  due_.clear();
  timers_.take_due(now, due_);
  // Entries are found again by address: the callbacks may change the table.
  for (auto h : due_) on_due(owners_[h], now, send_request, unresolved);
}

template <class F, class G>
void NeighborCache::on_due(Ipv4Addr ip, Instant now, F& send_request, G& unresolved) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) return;
  auto& e = it->second;
  if (e.state == NeighborEntry::State::Reachable) {
    if (now >= e.expires_at) {
      ++stats_.cache_expired;
      erase(it);
      return;
    }
  } else if (now >= e.next_request) {
    if (e.requests_sent >= cfg_.max_requests) {
      // RFC 1122 §2.3.2.1: give up after a bounded number of tries; the waiting
      // datagrams are lost and counted.
      ++stats_.resolve_failed;
      auto waiting = std::exchange(e.pending, {});
      stats_.pending_drop_unresolved += waiting.size();
      pending_total_ -= waiting.size();
      for (const auto& d : waiting) unresolved(Bytes(d));
      // Whatever the callbacks queued for this address meanwhile is lost with it.
      it = entries_.find(ip);
      if (it != entries_.end()) {
        drop_pending(it->second, &ArpStats::pending_drop_unresolved);
        erase(it);
      }
      return;
    }
    ++e.requests_sent;
    e.next_request = now + backoff(e.requests_sent);
    send_request(ArpRequestToSend{ip, std::nullopt});
  }
  rearm(e);
}

}  // namespace tapir::link
