// Stats: one named counter per event and per drop reason, grouped by layer (the way
// `netstat -s` groups them). Every early return on the receive path bumps exactly one
// drop counter, so a test can assert *why* a frame was dropped (STYLE.md §0.3).
//
// Each group is an X-macro list: the one place a counter is named. The struct, the
// printer (`tapir stats`) and the JSON output are all generated from these lists.
#pragma once

#include <cstdint>
#include <string_view>

// X(name, "what it counts")
#define TAPIR_ETH_COUNTERS(X)                                                        \
  X(rx_frames, "frames received")                                                    \
  X(tx_frames, "frames sent")                                                        \
  X(rx_bytes, "octets received")                                                     \
  X(tx_bytes, "octets sent")                                                         \
  X(rx_drop_truncated, "dropped: shorter than an Ethernet header")                   \
  X(rx_drop_not_for_us, "dropped: destination MAC is not ours, broadcast or joined") \
  X(rx_drop_unknown_ethertype, "dropped: EtherType we do not speak")                 \
  X(rx_drop_vlan, "dropped: 802.1Q VLAN-tagged frame")                               \
  X(rx_drop_oversize, "dropped: longer than the MTU allows")                         \
  X(rx_drop_own_source, "dropped: source MAC is our own or a group address")         \
  X(tx_drop_device, "dropped: device refused the frame")                             \
  X(rx_superframes, "offload: coalesced superframes longer than the MTU received")   \
  X(rx_checksum_offloaded, "offload: frames whose transport checksum the device left")

#define TAPIR_ARP_COUNTERS(X)                                                      \
  X(rx_requests, "requests received")                                              \
  X(rx_replies, "replies received")                                                \
  X(tx_requests, "requests sent")                                                  \
  X(tx_replies, "replies sent")                                                    \
  X(tx_gratuitous, "gratuitous announcements sent")                                \
  X(rx_gratuitous, "gratuitous announcements received")                            \
  X(rx_drop_malformed, "dropped: truncated or bad length fields")                  \
  X(rx_drop_unsupported, "dropped: hardware/protocol type is not Ethernet/IPv4")   \
  X(rx_drop_bad_opcode, "dropped: opcode neither request nor reply")               \
  X(rx_drop_bad_sender, "dropped: sender address is broadcast, multicast or zero") \
  X(rx_drop_not_for_us, "ignored: request for another host's address")             \
  X(rx_conflict, "received a packet claiming our own IP address")                  \
  X(cache_inserts, "neighbour entries created")                                    \
  X(cache_updates, "neighbour entries refreshed or changed")                       \
  X(cache_expired, "neighbour entries expired")                                    \
  X(cache_evicted, "neighbour entries evicted because the cache was full")         \
  X(resolve_failed, "resolutions given up after all retries")                      \
  X(pending_queued, "packets queued waiting for resolution")                       \
  X(pending_sent, "queued packets sent after resolution")                          \
  X(pending_drop_full, "dropped: pending queue full")                              \
  X(pending_drop_unresolved, "dropped: address never resolved")

#define TAPIR_IPV4_COUNTERS(X)                                                        \
  X(rx_packets, "datagrams received")                                                 \
  X(rx_delivered, "datagrams delivered to a protocol")                                \
  X(tx_packets, "datagrams sent")                                                     \
  X(rx_drop_truncated, "dropped: truncated header or payload")                        \
  X(rx_drop_bad_version, "dropped: version is not 4")                                 \
  X(rx_drop_bad_header_len, "dropped: IHL below 5 or beyond the packet")              \
  X(rx_drop_bad_total_len, "dropped: total length below the header or beyond frame")  \
  X(rx_drop_bad_checksum, "dropped: header checksum mismatch")                        \
  X(rx_drop_bad_option, "dropped: malformed IP option")                               \
  X(rx_drop_bad_source, "dropped: source is broadcast, multicast or our own address") \
  X(rx_drop_not_for_us, "dropped: destination is not our address or a broadcast")     \
  X(rx_drop_unknown_protocol, "dropped: no handler for the protocol (ICMP sent)")     \
  X(rx_fragments, "fragments received")                                               \
  X(reassembled, "datagrams reassembled from fragments")                              \
  X(reasm_drop_timeout, "dropped: reassembly timed out (30 s)")                       \
  X(reasm_drop_overlap, "dropped: overlapping fragments")                             \
  X(reasm_drop_too_big, "dropped: reassembled size above 65535")                      \
  X(reasm_drop_memory, "dropped: reassembly memory limit reached")                    \
  X(reasm_drop_inconsistent, "dropped: fragments disagree on the datagram length")    \
  X(tx_fragmented, "datagrams fragmented on send")                                    \
  X(tx_fragments, "fragments sent")                                                   \
  X(tx_drop_too_big, "dropped: above the MTU with DF set or above 65535")             \
  X(tx_drop_no_route, "dropped: no route to the destination")

#define TAPIR_ICMP_COUNTERS(X)                                                         \
  X(rx_messages, "messages received")                                                  \
  X(rx_echo_requests, "echo requests received")                                        \
  X(rx_echo_replies, "echo replies received")                                          \
  X(rx_dest_unreachable, "destination unreachable received")                           \
  X(rx_time_exceeded, "time exceeded received")                                        \
  X(rx_other, "other types received")                                                  \
  X(tx_echo_replies, "echo replies sent")                                              \
  X(tx_echo_requests, "echo requests sent")                                            \
  X(tx_dest_unreachable, "destination unreachable sent")                               \
  X(tx_other_errors, "other errors sent (time exceeded)")                              \
  X(tx_rate_limited, "errors not sent: rate limit")                                    \
  X(tx_suppressed, "errors not sent: about an error, broadcast or non-first fragment") \
  X(rx_drop_truncated, "dropped: shorter than an ICMP header")                         \
  X(rx_drop_bad_checksum, "dropped: checksum mismatch")                                \
  X(rx_drop_broadcast_echo, "ignored: echo request to a broadcast address")

#define TAPIR_IGMP_COUNTERS(X)                                                          \
  X(rx_messages, "messages received")                                                   \
  X(rx_queries, "membership queries received")                                          \
  X(rx_reports, "other members' reports received")                                      \
  X(rx_other, "ignored: leaves, IGMPv3 reports and unknown types")                      \
  X(rx_drop_truncated, "dropped: shorter than an IGMP message")                         \
  X(rx_drop_bad_checksum, "dropped: checksum mismatch")                                 \
  X(rx_drop_bad_query, "dropped: query for a non-group or to the wrong destination")    \
  X(rx_drop_bad_report, "dropped: report whose source is off our subnet (RFC 2236 §9)") \
  X(tx_reports, "membership reports sent")                                              \
  X(tx_leaves, "leave group messages sent")                                             \
  X(reports_suppressed, "reports not sent: another member reported first")

#define TAPIR_UDP_COUNTERS(X)                                             \
  X(rx_datagrams, "datagrams received")                                   \
  X(tx_datagrams, "datagrams sent")                                       \
  X(rx_drop_truncated, "dropped: shorter than a UDP header")              \
  X(rx_drop_bad_length, "dropped: length field disagrees with IP length") \
  X(rx_drop_bad_checksum, "dropped: checksum mismatch")                   \
  X(rx_drop_no_port, "dropped: no socket on the port (ICMP sent)")        \
  X(rx_drop_buffer_full, "dropped: socket receive buffer full")           \
  X(rx_delivered, "datagrams queued to a socket")                         \
  X(rx_icmp_errors, "ICMP errors reported to a connected socket")

#define TAPIR_TCP_COUNTERS(X)                                                            \
  X(rx_segments, "segments received")                                                    \
  X(tx_segments, "segments sent")                                                        \
  X(tso_superframes, "superframes handed to the device to segment (TSO)")                \
  X(tso_segments, "segments in those superframes (also in tx_segments)")                 \
  X(tso_fallbacks, "superframes the device refused, sent as single segments")            \
  X(buffers_released, "empty send or receive buffers freed (idle connections)")          \
  X(rx_drop_truncated, "dropped: shorter than a TCP header")                             \
  X(rx_drop_bad_offset, "dropped: data offset below 5 or beyond segment")                \
  X(rx_drop_bad_checksum, "dropped: checksum mismatch")                                  \
  X(rx_drop_bad_option, "dropped: malformed option")                                     \
  X(rx_drop_bad_flags, "dropped: illegal flag combination (SYN+FIN, SYN+RST, none)")     \
  X(rx_drop_broadcast, "dropped: sent to a broadcast or multicast address")              \
  X(rx_no_socket, "segments for no connection or listener (RST sent unless RST)")        \
  X(rx_drop_unacceptable, "dropped: outside the receive window (ACK sent)")              \
  X(rx_drop_no_ack, "dropped: ACK bit off in a synchronized state")                      \
  X(rx_drop_ack_unsent, "dropped: acknowledges data never sent (ACK sent)")              \
  X(rx_drop_old_ack, "dropped: ACK older than the window allows (RFC 5961 §5.2)")        \
  X(rx_data_after_close, "data for a closed socket (RST sent)")                          \
  X(rx_resets, "resets received and accepted")                                           \
  X(rx_ooo_segments, "segments received out of order")                                   \
  X(rx_dup_acks, "duplicate ACKs received")                                              \
  X(tx_resets, "resets sent")                                                            \
  X(tx_challenge_acks, "challenge ACKs sent (RFC 5961)")                                 \
  X(challenge_acks_limited, "challenge ACKs not sent: rate limit")                       \
  X(tx_delayed_acks, "ACKs sent after the delayed-ACK timer")                            \
  X(tx_window_probes, "zero-window probes sent")                                         \
  X(retransmitted_segments, "segments retransmitted")                                    \
  X(retransmitted_bytes, "octets retransmitted")                                         \
  X(fast_retransmits, "fast retransmits (third duplicate ACK, RFC 5681 §3.2)")           \
  X(rto_expired, "retransmission timeouts (RFC 6298 §5)")                                \
  X(timeouts, "connections given up after the retransmission limit (ETIMEDOUT)")         \
  X(keepalive_probes, "keep-alive probes sent")                                          \
  X(keepalive_timeouts, "connections ended by unanswered keep-alives")                   \
  X(active_opens, "active opens (connect)")                                              \
  X(passive_opens, "passive opens (SYN to a listener)")                                  \
  X(established, "connections established")                                              \
  X(aborts_unread_data, "closes with unread data, turned into a reset (RFC 2525 §2.17)") \
  X(listen_syn_drops, "SYNs dropped: SYN-RECEIVED table full")                           \
  X(listen_overflows, "handshakes held back: accept queue full")                         \
  X(rx_drop_no_timestamp, "dropped: no timestamp on a connection using them (RFC 7323)") \
  X(paws_rejected, "dropped: TSval below TS.Recent (PAWS, RFC 7323 §5.3; ACK sent)")     \
  X(sack_blocks_sent, "SACK blocks sent (RFC 2018 §4)")                                  \
  X(sack_blocks_received, "SACK blocks received")                                        \
  X(sack_blocks_ignored, "SACK blocks ignored: empty, below SND.UNA or past SND.NXT")    \
  X(sack_recoveries, "SACK-based loss recoveries entered (RFC 6675 §5)")                 \
  X(sack_rescue_retransmits, "rescue retransmissions (RFC 6675 §4 NextSeg rule 4)")      \
  X(time_wait_reopens, "TIME-WAIT connections reopened by a new SYN (RFC 1122 4.2.2.13)")

#define TAPIR_SOCKET_COUNTERS(X)                                \
  X(opened, "sockets opened")                                   \
  X(closed, "sockets closed")                                   \
  X(accepted, "connections accepted")                           \
  X(stream_bytes_sent, "octets applications handed to TCP")     \
  X(stream_bytes_received, "octets applications read from TCP") \
  X(datagrams_sent, "datagrams applications sent")              \
  X(datagrams_received, "datagrams applications read")

#define TAPIR_DECLARE_COUNTER(name, help) std::uint64_t name = 0;

namespace tapir {

struct EthStats {
  TAPIR_ETH_COUNTERS(TAPIR_DECLARE_COUNTER)
};
struct ArpStats {
  TAPIR_ARP_COUNTERS(TAPIR_DECLARE_COUNTER)
};
struct Ipv4Stats {
  TAPIR_IPV4_COUNTERS(TAPIR_DECLARE_COUNTER)
};
struct IcmpStats {
  TAPIR_ICMP_COUNTERS(TAPIR_DECLARE_COUNTER)
};
struct IgmpStats {
  TAPIR_IGMP_COUNTERS(TAPIR_DECLARE_COUNTER)
};
struct UdpStats {
  TAPIR_UDP_COUNTERS(TAPIR_DECLARE_COUNTER)
};
struct TcpStats {
  TAPIR_TCP_COUNTERS(TAPIR_DECLARE_COUNTER)
};

struct SocketStats {
  TAPIR_SOCKET_COUNTERS(TAPIR_DECLARE_COUNTER)
};

struct Stats {
  EthStats eth;
  ArpStats arp;
  Ipv4Stats ipv4;
  IcmpStats icmp;
  IgmpStats igmp;
  UdpStats udp;
  TcpStats tcp;
  SocketStats socket;
};

// Calls f(group, name, help, value) for every counter, in declaration order.
template <class F>
void visit_counters(const Stats& s, F&& f) {
#define TAPIR_VISIT(group, member) \
  [&](const auto& g) {             \
    (void)g;                       \
    member(TAPIR_VISIT_ONE)        \
  }(s.group);
#define TAPIR_VISIT_ONE(name, help) \
  f(std::string_view(kGroup), std::string_view(#name), std::string_view(help), g.name);
  {
    static constexpr const char* kGroup = "eth";
    TAPIR_VISIT(eth, TAPIR_ETH_COUNTERS)
  }
  {
    static constexpr const char* kGroup = "arp";
    TAPIR_VISIT(arp, TAPIR_ARP_COUNTERS)
  }
  {
    static constexpr const char* kGroup = "ipv4";
    TAPIR_VISIT(ipv4, TAPIR_IPV4_COUNTERS)
  }
  {
    static constexpr const char* kGroup = "icmp";
    TAPIR_VISIT(icmp, TAPIR_ICMP_COUNTERS)
  }
  {
    static constexpr const char* kGroup = "igmp";
    TAPIR_VISIT(igmp, TAPIR_IGMP_COUNTERS)
  }
  {
    static constexpr const char* kGroup = "udp";
    TAPIR_VISIT(udp, TAPIR_UDP_COUNTERS)
  }
  {
    static constexpr const char* kGroup = "tcp";
    TAPIR_VISIT(tcp, TAPIR_TCP_COUNTERS)
  }
  {
    static constexpr const char* kGroup = "socket";
    TAPIR_VISIT(socket, TAPIR_SOCKET_COUNTERS)
  }
#undef TAPIR_VISIT_ONE
#undef TAPIR_VISIT
}

}  // namespace tapir
