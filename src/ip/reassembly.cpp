#include "ip/reassembly.hpp"

#include <algorithm>
#include <cstring>

namespace tapir::ip {

std::list<Reassembly::Entry>::iterator Reassembly::find_or_create(const wire::Ipv4Repr& ip,
                                                                  Instant now) {
  // RFC 791 §3.2: fragments belong together when source, destination, protocol and
  // identification are all equal.
  auto it = std::find_if(list_.begin(), list_.end(), [&](const Entry& e) {
    return e.src == ip.src && e.dst == ip.dst && e.proto == ip.protocol && e.ident == ip.ident;
  });
  if (it != list_.end()) return it;
  if (list_.size() >= cfg_.reassembly_max_datagrams) return list_.end();
  // A spare entry moves over without allocating (splice relinks the node).
  if (spare_.empty()) spare_.emplace_back();
  list_.splice(list_.end(), spare_, spare_.begin());
  Entry& e = list_.back();
  e.src = ip.src;
  e.dst = ip.dst;
  e.proto = ip.protocol;
  e.ident = ip.ident;
  e.deadline = now + cfg_.reassembly_timeout;
  e.holes.assign(1, Hole{0, kInfinity});
  e.data.clear();
  e.first.reset();
  e.total.reset();
  return std::prev(list_.end());
}

void Reassembly::retire(std::list<Entry>::iterator it) {
  bytes_held_ -= it->data.size();
  if (spare_.size() < kSpareEntries) {
    spare_.splice(spare_.end(), list_, it);
  } else {
    list_.erase(it);
  }
}

void Reassembly::drop(std::list<Entry>::iterator it, std::uint64_t Ipv4Stats::*counter) {
  ++(stats_.*counter);
  retire(it);
}

// RFC 815 §3, steps 1-8: walk the hole list; the fragment must fall inside holes only.
// Returns false when it overlaps data already held with different content.
bool Reassembly::fill(Entry& e, std::size_t first, std::size_t last, Bytes payload, bool more) {
  std::size_t covered = 0;  // octets of the fragment that fall into holes
  std::vector<Hole>& next = next_holes_;
  next.clear();
  for (const Hole& h : e.holes) {
    // Steps 2-3: a hole entirely outside the fragment stays as it is.
    if (first > h.last || last < h.first) {
      next.push_back(h);
      continue;
    }
    covered += std::min(last, h.last) - std::max(first, h.first) + 1;
    // Step 4 is deleting this hole; steps 5-6 create what is left on either side.
    if (first > h.first) next.push_back({h.first, first - 1});
    if (last < h.last && more) next.push_back({last + 1, h.last});
  }
  std::size_t len = last - first + 1;
  if (covered != len) {
    // Part of the fragment lands on octets we already hold: fine only if identical.
    std::size_t held = std::min(e.data.size(), last + 1);
    if (held < first + 1 ||
        std::memcmp(e.data.data() + first, payload.data(), std::min(len, held - first)) != 0) {
      return false;
    }
  }
  e.holes.swap(next);
  if (e.data.size() < last + 1) {
    bytes_held_ += last + 1 - e.data.size();
    e.data.resize(last + 1);
  }
  std::memcpy(e.data.data() + first, payload.data(), len);
  return true;
}

std::optional<Reassembled> Reassembly::add(const wire::Ipv4Repr& ip, Bytes payload, Instant now) {
  ++stats_.rx_fragments;
  auto it = find_or_create(ip, now);
  if (it == list_.end()) {
    ++stats_.reasm_drop_memory;
    return std::nullopt;
  }
  Entry& e = *it;
  std::size_t first = ip.frag_offset;
  std::size_t end = first + payload.size();
  // RFC 791: every fragment but the last carries a multiple of 8 octets; a fragment
  // without data, or one past a known end, cannot be part of a well-formed datagram.
  bool bad_shape = payload.empty() || (ip.more_frags && payload.size() % 8 != 0) ||
                   (e.total && end > *e.total) || (!ip.more_frags && e.total && end != *e.total) ||
                   (!ip.more_frags && end < e.data.size());
  if (bad_shape) {
    drop(it, &Ipv4Stats::reasm_drop_inconsistent);
    return std::nullopt;
  }
  // RFC 791: the total length field is 16 bits; a datagram reassembling beyond it (the
  // "ping of death") is discarded.
  if (end + ip.header_len() > 65535) {
    drop(it, &Ipv4Stats::reasm_drop_too_big);
    return std::nullopt;
  }
  if (bytes_held_ + (end > e.data.size() ? end - e.data.size() : 0) > cfg_.reassembly_max_bytes) {
    drop(it, &Ipv4Stats::reasm_drop_memory);
    return std::nullopt;
  }
  if (!fill(e, first, end - 1, payload, ip.more_frags)) {
    drop(it, &Ipv4Stats::reasm_drop_overlap);
    return std::nullopt;
  }
  if (!ip.more_frags) e.total = end;
  if (first == 0) e.first = ip;
  if (!e.holes.empty()) return std::nullopt;

  // RFC 815 step 8: no holes left, the datagram is complete. The previous datagram's
  // buffer goes back into the entry, to be reused.
  Reassembled r{*e.first, {}};
  r.ip.more_frags = false;
  r.ip.frag_offset = 0;
  r.ip.payload_len = static_cast<std::uint16_t>(e.data.size());
  bytes_held_ -= e.data.size();
  done_.swap(e.data);
  e.data.clear();
  retire(it);
  r.payload = Bytes(done_);
  ++stats_.reassembled;
  return r;
}

std::optional<Instant> Reassembly::next_deadline() const {
  // Entries are created in arrival order with the same timeout, so the oldest is first.
  if (list_.empty()) return std::nullopt;
  return list_.front().deadline;
}

}  // namespace tapir::ip
