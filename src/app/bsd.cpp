// The blocking facade (include/tapir/bsd.hpp): argument checks as Linux makes them, one
// call into the non-blocking core under the runtime mutex, and the waiting that turns
// EAGAIN into blocking, bounded by SO_RCVTIMEO / SO_SNDTIMEO.
#include <fcntl.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>

#include "app/runtime.hpp"

namespace tapir::bsd {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

int fail(Errno e) {
  errno = static_cast<int>(e);
  return -1;
}

// One facade call: holds the runtime mutex; on exit pushes out whatever the call queued,
// wakes the threads waiting on the runtime (their sockets may have changed: a close, a
// multicast looped back) and the loop (deadlines may have changed: ARP started).
class Call {
 public:
  explicit Call(Runtime::Impl& rt) : rt_(rt), lk_(rt.mu) {}
  ~Call() {
    rt_.stack.flush();
    lk_.unlock();
    rt_.cv.notify_all();
    rt_.wake();
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  Sockets& so() { return rt_.stack.sockets(); }
  // Waits for a change; false once `deadline` has passed.
  bool wait(const std::optional<SteadyTime>& deadline) {
    ++rt_.waiters;
    bool in_time = true;
    if (!deadline) {
      rt_.cv.wait(lk_);
    } else {
      in_time = rt_.cv.wait_until(lk_, *deadline) == std::cv_status::no_timeout ||
                std::chrono::steady_clock::now() < *deadline;
    }
    --rt_.waiters;
    return in_time;
  }
  std::uint64_t closes(int fd) const { return rt_.closes(fd); }
  Runtime::Impl& rt() { return rt_; }

 private:
  Runtime::Impl& rt_;
  std::unique_lock<std::mutex> lk_;
};

Runtime::Impl* runtime() {
  auto* rt = current();
  return rt ? &rt->impl() : nullptr;
}

std::optional<SteadyTime> deadline_after(Duration timeout) {
  if (timeout.count() <= 0) return std::nullopt;  // zero: wait for ever (SO_RCVTIMEO)
  return std::chrono::steady_clock::now() + timeout;
}

// A sockaddr the caller passes in: null is EFAULT, a length other than sockaddr_in's
// EINVAL (Linux checks addrlen < sizeof(sockaddr_in); longer is accepted and truncated).
Errno read_addr(const sockaddr* addr, socklen_t len, sockaddr_in& out) {
  if (!addr) return Errno::Fault;
  if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return Errno::Inval;
  std::memcpy(&out, addr, sizeof out);
  return Errno::Ok;
}

// A sockaddr returned to the caller: copies at most *len octets and stores the real length.
void write_addr(const sockaddr_in& sin, sockaddr* addr, socklen_t* len) {
  if (!addr || !len) return;
  auto n = std::min<std::size_t>(*len, sizeof sin);
  std::memcpy(addr, &sin, n);
  *len = sizeof sin;
}

bool is_stream(Sockets& so, int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  return so.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == Errno::Ok && type == SOCK_STREAM;
}

}  // namespace

int socket(int domain, int type, int protocol) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  Call c(*rt);
  auto fd = c.so().socket(domain, type, protocol);
  return fd ? *fd : fail(fd.error());
}

int bind(int fd, const sockaddr* addr, socklen_t addrlen) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  sockaddr_in sin;
  if (auto e = read_addr(addr, addrlen, sin); e != Errno::Ok) return fail(e);
  Call c(*rt);
  auto e = c.so().bind(fd, sin);
  return e == Errno::Ok ? 0 : fail(e);
}

int connect(int fd, const sockaddr* addr, socklen_t addrlen) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  sockaddr_in sin{};
  if (addr && addrlen >= static_cast<socklen_t>(sizeof(sa_family_t)) &&
      addr->sa_family == AF_UNSPEC) {
    sin.sin_family = AF_UNSPEC;  // Linux: dissolve the association; the length may be short
  } else if (auto e = read_addr(addr, addrlen, sin); e != Errno::Ok) {
    return fail(e);
  }
  Call c(*rt);
  auto& so = c.so();
  auto e = so.connect(fd, sin);
  if (e != Errno::InProgress || so.is_nonblocking(fd)) return e == Errno::Ok ? 0 : fail(e);
  // A stream connect blocks until the handshake ends; LINUX: bounded by SO_SNDTIMEO,
  // after which it reports EINPROGRESS and the handshake goes on.
  auto deadline = deadline_after(so.send_timeout(fd));
  auto closes = c.closes(fd);
  while (!(so.readiness(fd) & (POLLOUT | POLLERR | POLLHUP))) {
    if (!c.wait(deadline)) return fail(Errno::InProgress);
    if (c.closes(fd) != closes) return fail(Errno::BadF);
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (auto ge = so.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len); ge != Errno::Ok) {
    return fail(ge);
  }
  return err == 0 ? 0 : fail(Errno{err});
}

int listen(int fd, int backlog) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  Call c(*rt);
  auto e = c.so().listen(fd, backlog);
  return e == Errno::Ok ? 0 : fail(e);
}

int accept(int fd, sockaddr* addr, socklen_t* addrlen) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  if (addr && !addrlen) return fail(Errno::Fault);
  Call c(*rt);
  auto& so = c.so();
  auto deadline = deadline_after(so.recv_timeout(fd));
  bool nonblocking = so.is_nonblocking(fd);
  auto closes = c.closes(fd);
  for (;;) {
    sockaddr_in peer{};
    auto r = so.accept(fd, &peer);
    if (r) {
      write_addr(peer, addr, addrlen);
      return *r;
    }
    if (r.error() != Errno::Again || nonblocking) return fail(r.error());
    if (!c.wait(deadline)) return fail(Errno::Again);
    if (c.closes(fd) != closes) return fail(Errno::BadF);
  }
}

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  return sendto(fd, buf, len, flags, nullptr, 0);
}

ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to,
               socklen_t tolen) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  if (!buf && len > 0) return fail(Errno::Fault);
  sockaddr_in sin;
  if (to) {
    if (auto e = read_addr(to, tolen, sin); e != Errno::Ok) return fail(e);
  }
  Call c(*rt);
  auto& so = c.so();
  bool nonblocking = so.is_nonblocking(fd) || (flags & MSG_DONTWAIT);
  auto deadline = deadline_after(so.send_timeout(fd));
  bool stream = is_stream(so, fd);
  auto closes = c.closes(fd);
  const auto* data = static_cast<const std::byte*>(buf);
  std::size_t done = 0;
  for (;;) {
    auto r =
        so.sendto(fd, Bytes(data + done, len - done), flags & ~MSG_DONTWAIT, to ? &sin : nullptr);
    if (r) {
      done += *r;
      // A blocking stream send returns once everything is queued; a datagram is whole.
      if (!stream || done == len || nonblocking) return static_cast<ssize_t>(done);
      continue;
    }
    if (r.error() != Errno::Again || nonblocking) {
      return done > 0 ? static_cast<ssize_t>(done) : fail(r.error());
    }
    if (!c.wait(deadline)) return done > 0 ? static_cast<ssize_t>(done) : fail(Errno::Again);
    if (c.closes(fd) != closes) return fail(Errno::BadF);
  }
}

ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return recvfrom(fd, buf, len, flags, nullptr, nullptr);
}

ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from, socklen_t* fromlen) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  if ((!buf && len > 0) || (from && !fromlen)) return fail(Errno::Fault);
  Call c(*rt);
  auto& so = c.so();
  bool nonblocking = so.is_nonblocking(fd) || (flags & MSG_DONTWAIT);
  auto deadline = deadline_after(so.recv_timeout(fd));
  auto closes = c.closes(fd);
  for (;;) {
    sockaddr_in peer{};
    auto r =
        so.recvfrom(fd, MutBytes(static_cast<std::byte*>(buf), len), flags & ~MSG_DONTWAIT, &peer);
    if (r) {
      write_addr(peer, from, fromlen);
      return static_cast<ssize_t>(*r);
    }
    if (r.error() != Errno::Again || nonblocking) return fail(r.error());
    // LINUX: SO_RCVTIMEO expiry is EAGAIN (EWOULDBLOCK).
    if (!c.wait(deadline)) return fail(Errno::Again);
    if (c.closes(fd) != closes) return fail(Errno::BadF);
  }
}

int shutdown(int fd, int how) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  Call c(*rt);
  auto e = c.so().shutdown(fd, how);
  return e == Errno::Ok ? 0 : fail(e);
}

int close(int fd) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  Call c(*rt);
  auto e = c.so().close(fd);
  if (e != Errno::Ok) return fail(e);
  ++c.rt().close_count[fd];  // Call's destructor notifies the waiters
  return 0;
}

int getsockname(int fd, sockaddr* addr, socklen_t* addrlen) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  if (!addr || !addrlen) return fail(Errno::Fault);
  Call c(*rt);
  auto r = c.so().getsockname(fd);
  if (!r) return fail(r.error());
  write_addr(*r, addr, addrlen);
  return 0;
}

int getpeername(int fd, sockaddr* addr, socklen_t* addrlen) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  if (!addr || !addrlen) return fail(Errno::Fault);
  Call c(*rt);
  auto r = c.so().getpeername(fd);
  if (!r) return fail(r.error());
  write_addr(*r, addr, addrlen);
  return 0;
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  if (!value && len > 0) return fail(Errno::Fault);
  Call c(*rt);
  auto e = c.so().setsockopt(fd, level, name, value, len);
  return e == Errno::Ok ? 0 : fail(e);
}

int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  if (!value || !len) return fail(Errno::Fault);
  Call c(*rt);
  auto e = c.so().getsockopt(fd, level, name, value, len);
  return e == Errno::Ok ? 0 : fail(e);
}

int fcntl(int fd, int cmd, ...) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  int arg = 0;
  if (cmd == F_SETFL) {
    va_list ap;
    va_start(ap, cmd);
    arg = va_arg(ap, int);
    va_end(ap);
  }
  Call c(*rt);
  auto r = c.so().fcntl(fd, cmd, arg);
  return r ? *r : fail(r.error());
}

int poll(pollfd* fds, nfds_t nfds, int timeout_ms) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  if (!fds && nfds > 0) return fail(Errno::Fault);
  std::optional<SteadyTime> deadline;
  if (timeout_ms >= 0) {
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  Call c(*rt);
  for (;;) {
    int n = c.so().poll(fds, nfds);
    if (n > 0 || timeout_ms == 0) return n;
    if (!c.wait(deadline)) return c.so().poll(fds, nfds);
  }
}

int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout) {
  auto* rt = runtime();
  if (!rt) return fail(Errno::NetDown);
  if (nfds < 0 || nfds > FD_SETSIZE) return fail(Errno::Inval);
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_usec < 0 || timeout->tv_usec >= 1000000)) {
    return fail(Errno::Inval);
  }
  std::vector<int> fds;
  for (int fd = 0; fd < nfds; ++fd) {
    if ((readfds && FD_ISSET(fd, readfds)) || (writefds && FD_ISSET(fd, writefds)) ||
        (exceptfds && FD_ISSET(fd, exceptfds))) {
      fds.push_back(fd);
    }
  }
  std::optional<SteadyTime> deadline;
  if (timeout) {
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout->tv_sec) +
               std::chrono::microseconds(timeout->tv_usec);
  }
  bool zero = timeout && timeout->tv_sec == 0 && timeout->tv_usec == 0;
  Call c(*rt);
  auto& so = c.so();
  for (int fd : fds) {
    if (so.readiness(fd) & POLLNVAL) return fail(Errno::BadF);
  }
  // Linux select: readable on data, end of stream, hang-up or error; writable on room
  // or error; exceptional on urgent data.
  auto scan = [&](bool write_back) {
    int count = 0;
    for (int fd : fds) {
      short r = so.readiness(fd);
      bool rd = readfds && FD_ISSET(fd, readfds) && (r & (POLLIN | POLLHUP | POLLERR));
      bool wr = writefds && FD_ISSET(fd, writefds) && (r & (POLLOUT | POLLERR));
      bool ex = exceptfds && FD_ISSET(fd, exceptfds) && (r & POLLPRI);
      count += rd + wr + ex;
      if (write_back) {
        if (readfds && !rd) FD_CLR(fd, readfds);
        if (writefds && !wr) FD_CLR(fd, writefds);
        if (exceptfds && !ex) FD_CLR(fd, exceptfds);
      }
    }
    return count;
  };
  for (;;) {
    bool expired = false;
    if (scan(false) == 0 && !zero) expired = !c.wait(deadline);
    if (!expired && scan(false) == 0 && !zero) continue;
    int n = scan(true);
    if (timeout) {
      auto left = deadline ? std::max(std::chrono::steady_clock::duration::zero(),
                                      *deadline - std::chrono::steady_clock::now())
                           : std::chrono::steady_clock::duration::zero();
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
      timeout->tv_sec = static_cast<time_t>(us / 1000000);
      timeout->tv_usec = static_cast<suseconds_t>(us % 1000000);
    }
    return n;
  }
}

}  // namespace tapir::bsd
