// The inside of the socket table. Each descriptor indexes a slot; a slot's generation
// changes on every reuse, so an id taken from an old socket (the owner of a port
// reservation, a listener's child) never reaches its successor.
//
// Slots are made as descriptors are needed (SocketConfig::max_sockets is a limit, not an
// allocation), in a deque so that making one never moves the others: accept() holds the
// listener's entry while it adds the child's. Closed slots wait in a min-heap, so the next
// socket gets the lowest free descriptor (as POSIX asks of open()) in O(log n).
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "ip/ipv4_layer.hpp"
#include "socket/port_registry.hpp"
#include "tapir/socket.hpp"
#include "tcp/tcp_layer.hpp"
#include "udp/udp_layer.hpp"

namespace tapir {

struct Sockets::Impl {
  struct Entry {
    bool used = false;
    std::uint32_t generation = 0;
    int type = 0;  // SOCK_DGRAM / SOCK_STREAM
    bool nonblocking = false;
    bool reuse_addr = false;
    bool bound = false;
    Ipv4Addr bound_addr;
    std::uint16_t bound_port = 0;
    bool shut_rd = false;
    bool shut_wr = false;
    Duration rcvtimeo{0};
    Duration sndtimeo{0};
    std::size_t sndbuf = 0;
    std::unique_ptr<udp::UdpEndpoint> udp;
    // Stream sockets: a connection (connecting, connected, or accepted) or a listener.
    std::shared_ptr<tcp::Connection> conn;
    tcp::Listener* listener = nullptr;
    tcp::ConnOptions topts;
    std::size_t rcvbuf = 0;
    bool linger_abort = false;  // SO_LINGER on with a zero timeout: close() resets
    bool connect_failed_reported = false;
  };

  Impl(ip::Ipv4Layer& ip, udp::UdpLayer& udp, tcp::TcpLayer& tcp, Rng& rng, const SocketConfig& cfg,
       const Instant& now, SocketStats& stats);

  // The entry behind `fd`, or nullptr (EBADF).
  Entry* get(int fd);
  std::uint64_t owner_id(int fd) const {
    return (std::uint64_t{slots[static_cast<std::size_t>(fd)].generation} << 32) |
           static_cast<std::uint32_t>(fd);
  }
  void mark_changed(int fd);
  socket::Proto proto(const Entry& e) const {
    return e.type == SOCK_STREAM ? socket::Proto::Tcp : socket::Proto::Udp;
  }
  // Binds `fd` to addr:port (port 0: ephemeral). Errors: AddrInUse, AddrNotAvail, Inval.
  Errno bind_to(int fd, Entry& e, Ipv4Addr addr, std::uint16_t port);
  Errno autobind(int fd, Entry& e);
  bool local_address_ok(Ipv4Addr a) const;
  int ip_default_ttl() const { return ip_ttl; }

  // UDP halves of the calls (src/socket/udp_calls.cpp).
  Errno udp_connect(int fd, Entry& e, const sockaddr_in& to);
  Result<std::size_t> udp_sendto(int fd, Entry& e, Bytes data, const sockaddr_in* to);
  Result<std::size_t> udp_recvfrom(Entry& e, MutBytes buf, int flags, sockaddr_in* from);
  short udp_readiness(const Entry& e) const;
  Errno udp_join(Entry& e, Ipv4Addr group);
  Errno udp_leave(Entry& e, Ipv4Addr group);

  // TCP halves (src/socket/tcp_calls.cpp).
  Errno tcp_connect(int fd, Entry& e, const sockaddr_in& to);
  Errno tcp_listen(int fd, Entry& e, int backlog);
  Result<int> tcp_accept(Entry& e, sockaddr_in* peer);
  Result<std::size_t> tcp_send(Entry& e, Bytes data);
  Result<std::size_t> tcp_recv(Entry& e, MutBytes buf, int flags);
  Errno tcp_shutdown(int fd, Entry& e, int how);
  void tcp_close(int fd, Entry& e);
  short tcp_readiness(const Entry& e) const;
  void on_tcp_event(tcp::Connection& c, tcp::ConnEvent ev);
  Result<int> new_entry(int type);

  ip::Ipv4Layer& ip;
  udp::UdpLayer& udp;
  tcp::TcpLayer& tcp;
  SocketConfig cfg;
  const Instant& now;
  SocketStats& stats;
  int ip_ttl = 64;
  socket::PortRegistry ports;
  std::deque<Entry> slots;
  std::vector<int> free_fds;  // closed slots, a min-heap (std::greater)
  std::vector<int> changed;
  std::vector<bool> changed_flag;
};

}  // namespace tapir
