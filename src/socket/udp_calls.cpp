// The datagram-socket halves of connect, sendto, recvfrom, poll and group membership.
#include <algorithm>
#include <cstring>

#include "socket/impl.hpp"

namespace tapir {

namespace {
// Reports and clears an asynchronous error (ECONNREFUSED after ICMP port unreachable),
// as Linux does on the next call.
Errno take_error(udp::UdpEndpoint& ep) { return std::exchange(ep.pending_error, Errno::Ok); }
}  // namespace

Errno Sockets::Impl::udp_connect(int fd, Entry& e, const sockaddr_in& to) {
  auto& ep = *e.udp;
  if (to.sin_family == AF_UNSPEC) {
    // POSIX / Linux: connect() with AF_UNSPEC dissolves a datagram socket's association.
    ep.connected = false;
    ep.remote_addr = {};
    ep.remote_port = 0;
    if (e.bound && !e.bound_addr.is_multicast()) ep.local_addr = e.bound_addr;
    return Errno::Ok;
  }
  if (to.sin_family != AF_INET) return Errno::AfNoSupport;
  Ipv4Addr dst = sockaddr_addr(to);
  if (sockaddr_port(to) == 0) return Errno::Inval;
  if (auto err = autobind(fd, e); err != Errno::Ok) return err;
  if (!ip.next_hop(dst)) return Errno::NetUnreach;
  if ((dst.is_broadcast() || ip.address().directed_broadcast() == dst) && !ep.broadcast) {
    return Errno::Acces;
  }
  ep.connected = true;
  ep.remote_addr = dst;
  ep.remote_port = sockaddr_port(to);
  // Linux (ip4_datagram_connect): a wildcard-bound socket takes the route's source address.
  if (ep.local_addr.is_unspecified()) ep.local_addr = ip.address().addr;
  return Errno::Ok;
}

Result<std::size_t> Sockets::Impl::udp_sendto(int fd, Entry& e, Bytes data, const sockaddr_in* to) {
  auto& ep = *e.udp;
  if (auto err = take_error(ep); err != Errno::Ok) return err;
  if (e.shut_wr) return Errno::Pipe;
  Ipv4Addr dst;
  std::uint16_t port;
  if (to) {
    if (to->sin_family != AF_INET) return Errno::AfNoSupport;
    dst = sockaddr_addr(*to);
    port = sockaddr_port(*to);
  } else {
    if (!ep.connected) return Errno::DestAddrReq;
    dst = ep.remote_addr;
    port = ep.remote_port;
  }
  if (data.size() > udp::UdpLayer::kMaxPayload) return Errno::MsgSize;
  if (data.size() > e.sndbuf) return Errno::MsgSize;
  if (auto err = autobind(fd, e); err != Errno::Ok) return err;
  if (auto err = udp.send(ep, dst, port, data, now); err != Errno::Ok) return err;
  return data.size();
}

Result<std::size_t> Sockets::Impl::udp_recvfrom(Entry& e, MutBytes buf, int flags,
                                                sockaddr_in* from) {
  auto& ep = *e.udp;
  if (auto err = take_error(ep); err != Errno::Ok) return err;
  if (ep.rx.empty()) {
    if (e.shut_rd) return std::size_t{0};
    return Errno::Again;
  }
  auto& d = ep.rx.front();
  std::size_t n = std::min(buf.size(), d.data.size());
  if (n) std::memcpy(buf.data(), d.data.data(), n);
  if (from) *from = make_sockaddr(d.from, d.from_port);
  // MSG_TRUNC: return the datagram's real length even if the buffer was shorter.
  std::size_t result = (flags & MSG_TRUNC) ? d.data.size() : n;
  if (!(flags & MSG_PEEK)) {
    // RFC 768 semantics: the rest of a datagram longer than the buffer is discarded.
    ep.rx_bytes -= d.data.size();
    ep.rx.pop_front();
    ep.rx.trim(udp::UdpEndpoint::kRxSlotsKept);
  }
  return result;
}

short Sockets::Impl::udp_readiness(const Entry& e) const {
  const auto& ep = *e.udp;
  short r = 0;
  if (!ep.rx.empty() || e.shut_rd) r |= POLLIN | POLLRDNORM;
  if (!e.shut_wr) r |= POLLOUT | POLLWRNORM;
  if (ep.pending_error != Errno::Ok) r |= POLLERR;
  if (e.shut_rd && e.shut_wr) r |= POLLHUP;
  return r;
}

Errno Sockets::Impl::udp_join(Entry& e, Ipv4Addr group) {
  auto& g = e.udp->groups;
  if (!group.is_multicast()) return Errno::Inval;
  if (std::find(g.begin(), g.end(), group) != g.end()) return Errno::AddrInUse;
  g.push_back(group);
  ip.join_group(group, now);  // RFC 1112 §7.2: the host reports membership of its first joiner
  return Errno::Ok;
}

Errno Sockets::Impl::udp_leave(Entry& e, Ipv4Addr group) {
  auto& g = e.udp->groups;
  auto it = std::find(g.begin(), g.end(), group);
  if (it == g.end()) return Errno::AddrNotAvail;
  g.erase(it);
  ip.leave_group(group, now);
  return Errno::Ok;
}

}  // namespace tapir
