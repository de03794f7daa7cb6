// The socket table's calls: descriptor management and dispatch by socket type.
#include <arpa/inet.h>

#include <algorithm>
#include <functional>

#include "socket/impl.hpp"

namespace tapir {

sockaddr_in make_sockaddr(Ipv4Addr addr, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(addr.value);
  return sa;
}
Ipv4Addr sockaddr_addr(const sockaddr_in& sa) { return {ntohl(sa.sin_addr.s_addr)}; }
std::uint16_t sockaddr_port(const sockaddr_in& sa) { return ntohs(sa.sin_port); }

Sockets::Impl::Impl(ip::Ipv4Layer& ip_layer, udp::UdpLayer& udp_layer, tcp::TcpLayer& tcp_layer,
                    Rng& rng, const SocketConfig& config, const Instant& now_ref,
                    SocketStats& socket_stats)
    : ip(ip_layer),
      udp(udp_layer),
      tcp(tcp_layer),
      cfg(config),
      now(now_ref),
      stats(socket_stats),
      ports(config.ephemeral_first, config.ephemeral_last, rng) {
  udp.set_notify([this](int fd) { mark_changed(fd); });
  tcp.set_events([this](tcp::Connection& c, tcp::ConnEvent ev) { on_tcp_event(c, ev); });
  tcp.set_listener_events([this](tcp::Listener& l) { mark_changed(l.owner); });
}

Result<int> Sockets::Impl::new_entry(int type) {
  int fd;
  if (!free_fds.empty()) {
    std::pop_heap(free_fds.begin(), free_fds.end(), std::greater<>{});
    fd = free_fds.back();
    free_fds.pop_back();
  } else {
    if (slots.size() >= static_cast<std::size_t>(std::max(cfg.max_sockets, 0))) {
      return Errno::MFile;
    }
    fd = static_cast<int>(slots.size());
    slots.emplace_back();  // a deque: the other entries stay where they are
  }
  auto it = slots.begin() + fd;
  std::uint32_t gen = it->generation + 1;
  *it = Entry{};
  it->used = true;
  ++stats.opened;
  it->generation = gen;
  it->type = type;
  if (type == SOCK_DGRAM) {
    it->sndbuf = cfg.udp_sndbuf;
    it->udp = std::make_unique<udp::UdpEndpoint>();
    it->udp->rcvbuf = cfg.udp_rcvbuf;
    it->udp->owner = fd;
  }
  return fd;
}

Sockets::Impl::Entry* Sockets::Impl::get(int fd) {
  if (fd < 0 || static_cast<std::size_t>(fd) >= slots.size()) return nullptr;
  auto& e = slots[static_cast<std::size_t>(fd)];
  return e.used ? &e : nullptr;
}

void Sockets::Impl::mark_changed(int fd) {
  if (fd < 0) return;
  auto i = static_cast<std::size_t>(fd);
  if (i >= changed_flag.size()) changed_flag.resize(i + 1);
  if (changed_flag[i]) return;
  changed_flag[i] = true;
  changed.push_back(fd);
}

bool Sockets::Impl::local_address_ok(Ipv4Addr a) const {
  // Linux inet_bind: the wildcard, one of our addresses, or (datagram sockets) a
  // broadcast or multicast address; anything else is EADDRNOTAVAIL.
  return a.is_unspecified() || ip.is_local(a) || a.is_multicast() || a.is_broadcast() ||
         ip.address().directed_broadcast() == a;
}

Errno Sockets::Impl::bind_to(int fd, Entry& e, Ipv4Addr addr, std::uint16_t port) {
  socket::Reservation r{proto(e), addr, port, e.reuse_addr, false, false, owner_id(fd)};
  auto got = ports.reserve(r);
  if (!got) return got.error();
  e.bound = true;
  e.bound_addr = addr;
  e.bound_port = *got;
  if (e.udp) {
    e.udp->local_addr = addr;
    e.udp->local_port = *got;
    udp.attach(e.udp.get());
  }
  return Errno::Ok;
}

Errno Sockets::Impl::autobind(int fd, Entry& e) {
  if (e.bound) return Errno::Ok;
  if (!cfg.autobind) return Errno::Inval;
  return bind_to(fd, e, Ipv4Addr::any(), 0);
}

Sockets::Sockets(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sockets::~Sockets() = default;

Result<int> Sockets::socket(int domain, int type, int protocol) {
  if (domain != AF_INET) return Errno::AfNoSupport;
  int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (base != SOCK_DGRAM && base != SOCK_STREAM) {
    // Linux: a type it does not know at all is EINVAL; a known type no AF_INET protocol
    // offers here (SOCK_RAW, SOCK_SEQPACKET, ...) is EPROTONOSUPPORT.
    return base <= 0 || base > SOCK_PACKET ? Errno::Inval : Errno::ProtoNoSupport;
  }
  int want = base == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
  if (protocol != 0 && protocol != want) return Errno::ProtoNoSupport;
  auto fd = impl_->new_entry(base);
  if (!fd) return fd;
  impl_->slots[static_cast<std::size_t>(*fd)].nonblocking = (type & SOCK_NONBLOCK) != 0;
  return fd;
}

Errno Sockets::bind(int fd, const sockaddr_in& addr) {
  auto& s = *impl_;
  auto* e = s.get(fd);
  if (!e) return Errno::BadF;
  if (addr.sin_family != AF_INET) return Errno::AfNoSupport;
  if (e->bound) return Errno::Inval;  // Linux: a second bind is EINVAL
  Ipv4Addr a = sockaddr_addr(addr);
  if (!s.local_address_ok(a)) return Errno::AddrNotAvail;
  return s.bind_to(fd, *e, a, sockaddr_port(addr));
}

Errno Sockets::connect(int fd, const sockaddr_in& addr) {
  auto& s = *impl_;
  auto* e = s.get(fd);
  if (!e) return Errno::BadF;
  return e->type == SOCK_STREAM ? s.tcp_connect(fd, *e, addr) : s.udp_connect(fd, *e, addr);
}

Errno Sockets::listen(int fd, int backlog) {
  auto* e = impl_->get(fd);
  if (!e) return Errno::BadF;
  if (e->type != SOCK_STREAM) return Errno::OpNotSupp;  // listen() is for stream sockets
  return impl_->tcp_listen(fd, *e, backlog);
}

Result<int> Sockets::accept(int fd, sockaddr_in* peer) {
  auto* e = impl_->get(fd);
  if (!e) return Errno::BadF;
  if (e->type != SOCK_STREAM) return Errno::OpNotSupp;
  auto r = impl_->tcp_accept(*e, peer);
  if (r) ++impl_->stats.accepted;
  return r;
}

Result<std::size_t> Sockets::send(int fd, Bytes data, int flags) {
  return sendto(fd, data, flags, nullptr);
}

Result<std::size_t> Sockets::sendto(int fd, Bytes data, int, const sockaddr_in* to) {
  auto& s = *impl_;
  auto* e = s.get(fd);
  if (!e) return Errno::BadF;
  if (e->type == SOCK_STREAM) {
    // Linux ignores the destination of sendto() on a stream socket.
    (void)to;
    auto r = s.tcp_send(*e, data);
    if (r) s.stats.stream_bytes_sent += *r;
    return r;
  }
  auto r = s.udp_sendto(fd, *e, data, to);
  if (r) ++s.stats.datagrams_sent;
  return r;
}

Result<std::size_t> Sockets::recv(int fd, MutBytes buf, int flags) {
  return recvfrom(fd, buf, flags, nullptr);
}

Result<std::size_t> Sockets::recvfrom(int fd, MutBytes buf, int flags, sockaddr_in* from) {
  auto& s = *impl_;
  auto* e = s.get(fd);
  if (!e) return Errno::BadF;
  if (e->type == SOCK_STREAM) {
    auto r = s.tcp_recv(*e, buf, flags);
    if (r && from && e->conn)
      *from = make_sockaddr(e->conn->id().remote_addr, e->conn->id().remote_port);
    if (r && !(flags & MSG_PEEK)) s.stats.stream_bytes_received += *r;
    return r;
  }
  auto r = s.udp_recvfrom(*e, buf, flags, from);
  if (r && !(flags & MSG_PEEK)) ++s.stats.datagrams_received;
  return r;
}

Errno Sockets::shutdown(int fd, int how) {
  auto& s = *impl_;
  auto* e = s.get(fd);
  if (!e) return Errno::BadF;
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return Errno::Inval;
  if (e->type == SOCK_STREAM) {
    auto err = s.tcp_shutdown(fd, *e, how);
    s.mark_changed(fd);
    return err;
  }
  // Linux: shutdown() on a datagram socket that is not connected is ENOTCONN.
  if (e->udp && !e->udp->connected) return Errno::NotConn;
  if (how != SHUT_WR) e->shut_rd = true;
  if (how != SHUT_RD) e->shut_wr = true;
  s.mark_changed(fd);
  return Errno::Ok;
}

Errno Sockets::close(int fd) {
  auto& s = *impl_;
  auto* e = s.get(fd);
  if (!e) return Errno::BadF;
  if (e->udp) {
    for (auto g : e->udp->groups) s.ip.leave_group(g, s.now);
    if (e->bound) s.udp.detach(e->udp.get());
  }
  if (e->type == SOCK_STREAM) s.tcp_close(fd, *e);
  if (e->bound) s.ports.release(s.proto(*e), e->bound_port, s.owner_id(fd));
  e->udp.reset();
  e->used = false;
  s.free_fds.push_back(fd);
  std::push_heap(s.free_fds.begin(), s.free_fds.end(), std::greater<>{});
  ++s.stats.closed;
  s.mark_changed(fd);
  return Errno::Ok;
}

Result<sockaddr_in> Sockets::getsockname(int fd) {
  auto* e = impl_->get(fd);
  if (!e) return Errno::BadF;
  Ipv4Addr a = e->udp ? e->udp->local_addr : e->conn ? e->conn->id().local_addr : e->bound_addr;
  return make_sockaddr(a, e->bound_port);
}

Result<sockaddr_in> Sockets::getpeername(int fd) {
  auto* e = impl_->get(fd);
  if (!e) return Errno::BadF;
  if (e->conn && e->conn->established_once()) {
    return make_sockaddr(e->conn->id().remote_addr, e->conn->id().remote_port);
  }
  if (!e->udp || !e->udp->connected) return Errno::NotConn;
  return make_sockaddr(e->udp->remote_addr, e->udp->remote_port);
}

Result<int> Sockets::fcntl(int fd, int cmd, int arg) {
  auto* e = impl_->get(fd);
  if (!e) return Errno::BadF;
  switch (cmd) {
    case F_GETFL:
      return O_RDWR | (e->nonblocking ? O_NONBLOCK : 0);
    case F_SETFL:
      e->nonblocking = (arg & O_NONBLOCK) != 0;
      return 0;
    default:
      return Errno::Inval;
  }
}

short Sockets::readiness(int fd) {
  auto* e = impl_->get(fd);
  if (!e) return POLLNVAL;
  return e->type == SOCK_STREAM ? impl_->tcp_readiness(*e) : impl_->udp_readiness(*e);
}

int Sockets::poll(pollfd* fds, std::size_t n) {
  int ready = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (fds[i].fd < 0) {  // POSIX: negative descriptors are ignored
      fds[i].revents = 0;
      continue;
    }
    short r = readiness(fds[i].fd);
    // POLLERR, POLLHUP and POLLNVAL are reported whether asked for or not.
    fds[i].revents = static_cast<short>(r & (fds[i].events | POLLERR | POLLHUP | POLLNVAL));
    if (fds[i].revents) ++ready;
  }
  return ready;
}

std::vector<int> Sockets::take_changed() {
  std::vector<int> out;
  take_changed(out);
  return out;
}

void Sockets::take_changed(std::vector<int>& out) {
  auto& s = *impl_;
  out.clear();
  out.swap(s.changed);
  for (int fd : out) s.changed_flag[static_cast<std::size_t>(fd)] = false;
}

bool Sockets::is_nonblocking(int fd) {
  auto* e = impl_->get(fd);
  return e && e->nonblocking;
}
Duration Sockets::recv_timeout(int fd) {
  auto* e = impl_->get(fd);
  return e ? e->rcvtimeo : Duration{0};
}
Duration Sockets::send_timeout(int fd) {
  auto* e = impl_->get(fd);
  return e ? e->sndtimeo : Duration{0};
}

std::vector<SocketInfo> Sockets::table() {
  std::vector<SocketInfo> rows;
  auto& s = *impl_;
  for (std::size_t i = 0; i < s.slots.size(); ++i) {
    const auto& e = s.slots[i];
    if (!e.used) continue;
    SocketInfo r;
    r.fd = static_cast<int>(i);
    r.type = e.type;
    if (e.udp) {
      r.state = e.udp->connected ? "ESTAB" : "UNCONN";
      r.local_addr = e.udp->local_addr;
      r.local_port = e.bound_port;
      r.peer_addr = e.udp->remote_addr;
      r.peer_port = e.udp->remote_port;
      r.recv_q = e.udp->rx_bytes;
    } else if (e.listener) {
      // As `ss -l`: Recv-Q is the accept queue, Send-Q the backlog.
      r.state = "LISTEN";
      r.local_addr = e.listener->addr;
      r.local_port = e.listener->port;
      r.recv_q = e.listener->accept_queue.size();
      r.send_q = e.listener->backlog;
    } else if (e.conn) {
      const auto& c = *e.conn;
      r.state = std::string(tcp::to_string(c.state()));
      r.local_addr = c.id().local_addr;
      r.local_port = c.id().local_port;
      r.peer_addr = c.id().remote_addr;
      r.peer_port = c.id().remote_port;
      r.recv_q = c.recv_queue();
      r.send_q = c.send_queue();
      r.rtt = c.srtt();
      r.rto = c.rto();
      r.cwnd = c.cwnd();
      r.congestion = std::string(c.congestion().name());
    } else {
      r.state = "CLOSED";
      r.local_addr = e.bound_addr;
      r.local_port = e.bound_port;
    }
    rows.push_back(r);
  }
  return rows;
}

}  // namespace tapir
