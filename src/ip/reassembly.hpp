// IPv4 reassembly (RFC 791 §3.2, with RFC 815's hole-descriptor algorithm).
//
// Limits: a datagram may not exceed 65535 octets (the "ping of death" is dropped and
// counted); each datagram times out after Ipv4Config::reassembly_timeout (30 s); the
// number of datagrams and the octets held across all of them are bounded. A fragment
// that overlaps data already received with different content drops the whole datagram
// (overlaps are how fragment-based evasion works; RFC 5722 makes the same choice for IPv6),
// while an exact duplicate (as a duplicating link produces) is ignored.
//
// A finished or dropped datagram's entry is kept for reuse (up to kSpareEntries), with its
// buffers, so that a steady flow of fragmented datagrams allocates nothing
// (docs/hot-path.md).
#pragma once

#include <list>
#include <optional>
#include <vector>

#include "tapir/stack_config.hpp"
#include "tapir/stats.hpp"
#include "wire/ipv4.hpp"

namespace tapir::ip {

struct Reassembled {
  wire::Ipv4Repr ip;  // the first fragment's header, describing the whole datagram
  Bytes payload;      // valid until the next call to add()
};

class Reassembly {
 public:
  Reassembly(const Ipv4Config& cfg, Ipv4Stats& stats) : cfg_(cfg), stats_(stats) {}

  // Adds one fragment. Returns the whole datagram when this fragment completes it.
  std::optional<Reassembled> add(const wire::Ipv4Repr& ip, Bytes payload, Instant now);

  // Drops timed-out datagrams. For each whose first fragment had arrived, calls
  // on_timeout(header, first_octets) so that ICMP Time Exceeded (code 1) can be sent
  // (RFC 1122 §3.3.2, RFC 792).
  template <class F>
  void poll(Instant now, F&& on_timeout);

  std::optional<Instant> next_deadline() const;
  std::size_t in_progress() const { return list_.size(); }
  std::size_t bytes_held() const { return bytes_held_; }

 private:
  struct Hole {
    std::size_t first;
    std::size_t last;  // inclusive, as RFC 815 writes it
  };
  struct Entry {
    Ipv4Addr src, dst;
    wire::IpProto proto;
    std::uint16_t ident;
    Instant deadline;
    std::vector<Hole> holes{{0, kInfinity}};
    std::vector<std::byte> data;
    std::optional<wire::Ipv4Repr> first;  // header of the offset-0 fragment
    std::optional<std::size_t> total;     // payload length, known once the last fragment came
  };
  static constexpr std::size_t kInfinity = 65535 + 1;
  static constexpr std::size_t kSpareEntries = 4;

  std::list<Entry>::iterator find_or_create(const wire::Ipv4Repr& ip, Instant now);
  void drop(std::list<Entry>::iterator it, std::uint64_t Ipv4Stats::*counter);
  // Moves a finished or dropped entry to spare_ (or frees it when enough are spare).
  void retire(std::list<Entry>::iterator it);
  bool fill(Entry& e, std::size_t first, std::size_t last, Bytes payload, bool more);

  Ipv4Config cfg_;
  Ipv4Stats& stats_;
  std::list<Entry> list_;         // oldest first
  std::list<Entry> spare_;        // retired entries, their vectors' memory kept
  std::vector<Hole> next_holes_;  // fill()'s new hole list, swapped with the entry's
  std::size_t bytes_held_ = 0;
  std::vector<std::byte> done_;  // the last completed datagram
};

template <class F>
void Reassembly::poll(Instant now, F&& on_timeout) {
  for (auto it = list_.begin(); it != list_.end();) {
    auto next = std::next(it);
    if (now >= it->deadline) {
      if (it->first) {
        std::size_t n = std::min<std::size_t>(8, it->data.size());
        on_timeout(*it->first, Bytes(it->data).first(n));
      }
      drop(it, &Ipv4Stats::reasm_drop_timeout);
    }
    it = next;
  }
}

}  // namespace tapir::ip
