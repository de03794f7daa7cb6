// The stream-socket halves of the calls, over tcp::TcpLayer. Errors follow Linux:
// ENOTCONN for recv/shutdown before a connection (but EPIPE for send, as Linux's
// tcp_sendmsg gives), EISCONN/EALREADY on a second connect, EPIPE after shutdown(SHUT_WR),
// EINVAL for listen() on a connected socket.
#include <algorithm>
#include <cstring>

#include "socket/impl.hpp"

namespace tapir {

namespace {
bool wildcard_or_local(Ipv4Addr a) { return a.is_unspecified(); }
}  // namespace

Errno Sockets::Impl::tcp_connect(int fd, Entry& e, const sockaddr_in& to) {
  if (e.listener) return Errno::IsConn;
  if (e.conn) {
    auto st = e.conn->state();
    if (st == tcp::TcpState::SynSent || st == tcp::TcpState::SynReceived) return Errno::Already;
    if (st == tcp::TcpState::Closed && !e.conn->established_once()) {
      // A failed connect reports its error once (ECONNREFUSED, ETIMEDOUT), then the
      // socket may try again.
      Errno err = e.conn->take_error();
      e.conn.reset();
      if (err != Errno::Ok) return err;
    } else {
      return Errno::IsConn;
    }
  }
  if (to.sin_family != AF_INET) return Errno::AfNoSupport;
  Ipv4Addr dst = sockaddr_addr(to);
  std::uint16_t port = sockaddr_port(to);
  // RFC 1122 §4.2.3.10: no connection to a broadcast or multicast address.
  if (dst.is_broadcast() || dst.is_multicast() || ip.address().directed_broadcast() == dst ||
      dst.is_unspecified() || port == 0) {
    return dst.is_unspecified() || port == 0 ? Errno::ConnRefused : Errno::NetUnreach;
  }
  if (!ip.next_hop(dst)) return Errno::NetUnreach;
  if (!e.bound) {
    if (!cfg.autobind) return Errno::Inval;
    // RFC 6056: an ephemeral port whose 4-tuple is free (gVisor's PortTester idea).
    Ipv4Addr src = ip.address().addr;
    socket::Reservation r{socket::Proto::Tcp, Ipv4Addr::any(), 0, e.reuse_addr, false, false,
                          owner_id(fd)};
    auto got = ports.reserve(r, [&](std::uint16_t p) { return !tcp.in_use({src, p, dst, port}); });
    if (!got) return got.error();
    e.bound = true;
    e.bound_addr = Ipv4Addr::any();
    e.bound_port = *got;
  }
  Ipv4Addr local = wildcard_or_local(e.bound_addr) ? ip.address().addr : e.bound_addr;
  tcp::FourTuple id{local, e.bound_port, dst, port};
  if (tcp.in_use(id)) return Errno::AddrNotAvail;
  std::size_t sndbuf = e.sndbuf ? e.sndbuf : tcp.config().send_buffer;
  std::size_t rcvbuf = e.rcvbuf ? e.rcvbuf : tcp.config().recv_buffer;
  e.conn = tcp.connect(id, sndbuf, rcvbuf, e.topts, now);
  e.conn->owner = fd;
  e.conn->port_owner = owner_id(fd);
  e.connect_failed_reported = false;
  return Errno::InProgress;
}

Errno Sockets::Impl::tcp_listen(int fd, Entry& e, int backlog) {
  if (e.conn) return Errno::Inval;  // LINUX: listen() on a connected socket is EINVAL
  std::size_t bl =
      static_cast<std::size_t>(std::clamp(backlog, 1, static_cast<int>(tcp.config().max_backlog)));
  if (e.listener) {
    e.listener->backlog = bl;  // listen() again adjusts the backlog, as on Linux
    return Errno::Ok;
  }
  if (!e.bound) {
    if (auto err = bind_to(fd, e, Ipv4Addr::any(), 0); err != Errno::Ok) return err;
  }
  socket::Reservation probe{
      socket::Proto::Tcp, e.bound_addr, e.bound_port, e.reuse_addr, true, false, owner_id(fd)};
  if (ports.conflicts(probe)) return Errno::AddrInUse;  // another socket shares the port
  ports.update(socket::Proto::Tcp, e.bound_port, owner_id(fd), true, false);
  e.listener = tcp.listen(e.bound_addr, e.bound_port, bl, fd);
  return Errno::Ok;
}

Result<int> Sockets::Impl::tcp_accept(Entry& e, sockaddr_in* peer) {
  if (!e.listener) return Errno::Inval;  // Linux: accept() on a socket not listening
  if (e.listener->accept_queue.empty()) return Errno::Again;
  auto child = tcp.accept(*e.listener);
  auto fd = new_entry(SOCK_STREAM);
  if (!fd) {
    e.listener->accept_queue.push_front(child);
    return fd.error();
  }
  auto& n = slots[static_cast<std::size_t>(*fd)];
  n.conn = child;
  n.bound = true;
  n.bound_addr = child->id().local_addr;
  n.bound_port = child->id().local_port;
  n.topts = e.topts;  // accepted sockets inherit the listener's options (Linux)
  child->set_options(e.topts, now);
  tcp.reschedule(*child);  // an inherited SO_KEEPALIVE starts the keep-alive timer
  child->owner = *fd;
  if (peer) *peer = make_sockaddr(child->id().remote_addr, child->id().remote_port);
  return *fd;
}

Result<std::size_t> Sockets::Impl::tcp_send(Entry& e, Bytes data) {
  // LINUX (tcp_sendmsg -> sk_stream_wait_connect): a socket that is neither connected nor
  // connecting answers EPIPE, listening sockets included.
  if (!e.conn) return Errno::Pipe;
  auto& c = *e.conn;
  if (e.shut_wr) return Errno::Pipe;
  if (c.state() == tcp::TcpState::Closed) {
    Errno err = c.take_error();
    if (err != Errno::Ok) return err;
    return c.established_once() ? Errno::Pipe : Errno::NotConn;
  }
  if (!c.established_once()) return Errno::Again;  // still connecting
  auto r = c.send(data);
  tcp.kick(c, now);
  return r;
}

Result<std::size_t> Sockets::Impl::tcp_recv(Entry& e, MutBytes buf, int flags) {
  if (!e.conn) return Errno::NotConn;
  auto& c = *e.conn;
  if (!c.established_once()) {
    if (c.state() != tcp::TcpState::Closed) return Errno::Again;  // still connecting
    // A failed connect reports its error once (SO_ERROR or here), then ENOTCONN.
    Errno err = c.take_error();
    return err != Errno::Ok ? err : Errno::NotConn;
  }
  if (buf.empty() && !(flags & MSG_PEEK)) return std::size_t{0};
  // LINUX (tcp(7), MSG_TRUNC since 2.4): the octets are discarded, not copied to `buf`,
  // whose size still bounds how many; with MSG_PEEK they are only counted.
  auto r = c.recv(buf, (flags & MSG_PEEK) != 0, (flags & MSG_TRUNC) != 0);
  if (r && *r > 0) tcp.kick(c, now);  // a window update may be due
  return r;
}

Errno Sockets::Impl::tcp_shutdown(int fd, Entry& e, int how) {
  (void)fd;
  // LINUX (inet_shutdown): a socket that never connected, or whose connection is gone
  // (TCP_CLOSE), answers ENOTCONN.
  if (!e.conn || !e.conn->established_once() || e.conn->state() == tcp::TcpState::Closed) {
    return Errno::NotConn;
  }
  if (how != SHUT_WR) {
    e.shut_rd = true;
    e.conn->shutdown_read();
  }
  if (how != SHUT_RD) {
    e.shut_wr = true;
    (void)e.conn->shutdown_write();
    tcp.kick(*e.conn, now);
  }
  return Errno::Ok;
}

void Sockets::Impl::tcp_close(int fd, Entry& e) {
  if (e.listener) {
    tcp.unlisten(e.listener, now);
    e.listener = nullptr;
  }
  bool port_moves = false;
  if (e.conn) {
    auto c = e.conn;
    c->owner = -1;
    if (!c->gone()) {
      tcp.close(*c, e.linger_abort, now);
      // The connection keeps the port until it is really gone (after TIME-WAIT).
      port_moves = !c->gone() && c->port_owner == owner_id(fd);
    }
    e.conn.reset();
  }
  if (e.bound && !port_moves) ports.release(socket::Proto::Tcp, e.bound_port, owner_id(fd));
  e.bound = false;
}

void Sockets::Impl::on_tcp_event(tcp::Connection& c, tcp::ConnEvent ev) {
  switch (ev) {
    case tcp::ConnEvent::Changed:
      if (c.owner >= 0) mark_changed(c.owner);
      break;
    case tcp::ConnEvent::TimeWait:
      if (c.port_owner)
        ports.update(socket::Proto::Tcp, c.id().local_port, c.port_owner, false, true);
      break;
    case tcp::ConnEvent::Gone:
      if (c.owner >= 0) {
        mark_changed(c.owner);
      } else if (c.port_owner) {
        // The socket was closed earlier: the reservation it handed over ends now.
        ports.release(socket::Proto::Tcp, c.id().local_port, c.port_owner);
      }
      break;
  }
}

short Sockets::Impl::tcp_readiness(const Entry& e) const {
  if (e.listener) return e.listener->accept_queue.empty() ? 0 : (POLLIN | POLLRDNORM);
  if (!e.conn) return POLLOUT | POLLHUP;  // Linux: an unconnected stream socket polls as HUP
  const auto& c = *e.conn;
  short r = 0;
  const bool dead = c.state() == tcp::TcpState::Closed;
  const bool connecting = !c.established_once() && !dead;
  if (c.error() != Errno::Ok) r |= POLLERR;
  if (connecting) return r;  // LINUX (tcp_poll): nothing but errors until connected
  if (c.readable()) r |= POLLIN | POLLRDNORM;
  // LINUX (tcp_poll): writable with send space, and always once the sending side is shut
  // down or dead, so a writer wakes up to meet EPIPE or the error.
  if (c.writable() || e.shut_wr || c.write_closed() || dead) r |= POLLOUT | POLLWRNORM;
  if (dead || (c.peer_closed() && (c.write_closed() || e.shut_wr))) r |= POLLHUP;
  if (c.peer_closed() || dead) r |= POLLRDHUP;
  return r;
}

}  // namespace tapir
