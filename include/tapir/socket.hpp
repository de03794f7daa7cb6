// The socket table: BSD-style calls over tapir's UDP and TCP, as the networking texts
// describe them. Descriptors are small integers; behind each is a slot with protocol,
// local and remote address, state and buffers. Names, arguments, flags and errors are
// those of the Berkeley/Linux API (AF_INET, SOCK_DGRAM, sockaddr_in, MSG_PEEK, EADDRINUSE,
// ...), so code written against Linux sockets reads the same.
//
// This is the non-blocking core: it runs in the stack's own thread, between polls, and
// never waits. A call that would block returns Errno::Again (or InProgress for connect).
// Readiness is seen through poll() and the changed-descriptor list. The blocking facade
// for application threads (include/tapir/bsd.hpp) is built on top of it.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapir/address.hpp"
#include "tapir/bytes.hpp"
#include "tapir/errno.hpp"
#include "tapir/result.hpp"
#include "tapir/stack_config.hpp"
#include "tapir/time.hpp"

namespace tapir {

// sockaddr_in <-> tapir's address types (network byte order lives only in sockaddr_in).
sockaddr_in make_sockaddr(Ipv4Addr addr, std::uint16_t port);
Ipv4Addr sockaddr_addr(const sockaddr_in& sa);
std::uint16_t sockaddr_port(const sockaddr_in& sa);

// One row of the socket table, as `tapir ss` prints it.
struct SocketInfo {
  int fd = -1;
  int type = 0;       // SOCK_DGRAM or SOCK_STREAM
  std::string state;  // "UNCONN", "LISTEN", "ESTABLISHED", RFC 9293 names for TCP
  Ipv4Addr local_addr;
  std::uint16_t local_port = 0;
  Ipv4Addr peer_addr;
  std::uint16_t peer_port = 0;
  std::size_t recv_q = 0;  // octets (datagram payload octets for UDP) waiting to be read
  std::size_t send_q = 0;  // octets not yet acknowledged (TCP)
  // TCP only (`ss -i`): smoothed RTT, RTO, congestion window in octets.
  std::optional<Duration> rtt;
  std::optional<Duration> rto;
  std::optional<std::size_t> cwnd;
  std::string congestion;  // TCP connections: "newreno" or "cubic" (TCP_CONGESTION)
};

class Sockets {
 public:
  struct Impl;
  explicit Sockets(std::unique_ptr<Impl> impl);
  ~Sockets();
  Sockets(const Sockets&) = delete;
  Sockets& operator=(const Sockets&) = delete;

  // socket(AF_INET, SOCK_DGRAM | SOCK_STREAM [| SOCK_NONBLOCK], 0 or IPPROTO_UDP/TCP).
  // Errors: AfNoSupport, ProtoNoSupport (wrong protocol for the type), SockTNoSupport, MFile.
  Result<int> socket(int domain, int type, int protocol);
  Errno bind(int fd, const sockaddr_in& addr);
  Errno connect(int fd, const sockaddr_in& addr);
  Errno listen(int fd, int backlog);
  Result<int> accept(int fd, sockaddr_in* peer);
  Result<std::size_t> send(int fd, Bytes data, int flags);
  Result<std::size_t> sendto(int fd, Bytes data, int flags, const sockaddr_in* to);
  // Returns the octets copied; with MSG_TRUNC on a datagram socket, the datagram's real
  // length, and on a TCP socket the octets discarded (up to buf.size(), nothing copied;
  // as Linux). A TCP socket returns 0 at end of stream.
  Result<std::size_t> recv(int fd, MutBytes buf, int flags);
  Result<std::size_t> recvfrom(int fd, MutBytes buf, int flags, sockaddr_in* from);
  Errno shutdown(int fd, int how);
  Errno close(int fd);
  Result<sockaddr_in> getsockname(int fd);
  Result<sockaddr_in> getpeername(int fd);
  Errno setsockopt(int fd, int level, int name, const void* value, socklen_t len);
  Errno getsockopt(int fd, int level, int name, void* value, socklen_t* len);
  // F_GETFL / F_SETFL with O_NONBLOCK.
  Result<int> fcntl(int fd, int cmd, int arg = 0);

  // Current readiness of each descriptor (no waiting): fills revents, returns how many
  // have events. An invalid descriptor gets POLLNVAL.
  int poll(pollfd* fds, std::size_t n);
  // The events poll() would report for one descriptor (0 when none, POLLNVAL if invalid).
  short readiness(int fd);
  // Descriptors whose readiness may have changed since the last call, for event-driven
  // apps in the stack's thread (services); each listed once.
  std::vector<int> take_changed();
  // The same into `out` (replacing its contents), for a caller that keeps one vector for
  // every call: the two lists swap storage, so neither allocates once both have grown.
  void take_changed(std::vector<int>& out);

  bool is_nonblocking(int fd);
  // SO_RCVTIMEO / SO_SNDTIMEO, for the blocking facade; zero means "wait for ever".
  Duration recv_timeout(int fd);
  Duration send_timeout(int fd);

  std::vector<SocketInfo> table();

  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tapir
