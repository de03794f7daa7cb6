// setsockopt / getsockopt at SOL_SOCKET, IPPROTO_TCP and IPPROTO_IP, with Linux's argument
// rules: an option value shorter than an int is EINVAL, an unknown option ENOPROTOOPT.
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/time.h>

#include <cstring>
#include <string_view>

#include "socket/impl.hpp"

namespace tapir {

namespace {
// Linux sock_setsockopt: SO_RCVBUF/SO_SNDBUF store twice the value asked for (the other
// half is bookkeeping overhead), clamped to rmem_max/wmem_max (212992) and to a minimum.
constexpr std::size_t kBufMax = 212992;
constexpr std::size_t kRcvBufMin = 2304;
constexpr std::size_t kSndBufMin = 4608;

std::size_t doubled_buf(int v, std::size_t min) {
  std::size_t want = v < 0 ? 0 : static_cast<std::size_t>(v);
  return std::max(std::min(want, kBufMax) * 2, min);
}

Result<int> int_value(const void* value, socklen_t len) {
  if (!value || len < static_cast<socklen_t>(sizeof(int))) return Errno::Inval;
  int v;
  std::memcpy(&v, value, sizeof v);
  return v;
}

Result<Duration> timeval_value(const void* value, socklen_t len) {
  if (!value || len < static_cast<socklen_t>(sizeof(timeval))) return Errno::Inval;
  timeval tv;
  std::memcpy(&tv, value, sizeof tv);
  if (tv.tv_sec < 0) return Duration{0};  // Linux: a negative timeout means none
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return Errno::Inval;
  return Duration(tv.tv_sec * 1000000 + tv.tv_usec);
}

// ip_mreq or ip_mreqn (Linux accepts both): the group is the first field of each.
Result<Ipv4Addr> group_value(const void* value, socklen_t len) {
  if (!value || len < static_cast<socklen_t>(sizeof(ip_mreq))) return Errno::Inval;
  ip_mreq m;
  std::memcpy(&m, value, sizeof m);
  return Ipv4Addr{ntohl(m.imr_multiaddr.s_addr)};
}

Errno put_int(void* value, socklen_t* len, int v) {
  if (!value || !len) return Errno::Inval;
  // Linux copies min(len, sizeof(int)) octets and reports the length it wrote.
  socklen_t n = std::min<socklen_t>(*len, sizeof(int));
  std::memcpy(value, &v, static_cast<std::size_t>(n));
  *len = n;
  return Errno::Ok;
}

// TCP_CONGESTION names. LINUX (do_tcp_setsockopt): at most TCP_CA_NAME_MAX - 1 octets,
// ending at the first NUL; an empty value is EINVAL and an unknown name ENOENT.
constexpr std::size_t kCaNameMax = 16;  // TCP_CA_NAME_MAX

Result<CongestionAlgorithm> congestion_value(const void* value, socklen_t len) {
  if (!value || len < 1) return Errno::Inval;
  const auto* p = static_cast<const char*>(value);
  std::size_t n = std::min<std::size_t>(len, kCaNameMax - 1);
  auto algo = congestion_from_name(std::string_view(p, ::strnlen(p, n)));
  if (!algo) return Errno::NoEnt;
  return *algo;
}

// LINUX (do_tcp_getsockopt): min(len, TCP_CA_NAME_MAX) octets of the NUL-padded name, and
// that length.
Errno put_name(void* value, socklen_t* len, std::string_view name) {
  if (!value || !len) return Errno::Inval;
  char buf[kCaNameMax] = {};
  std::memcpy(buf, name.data(), std::min(name.size(), kCaNameMax - 1));
  socklen_t n = std::min<socklen_t>(*len, kCaNameMax);
  std::memcpy(value, buf, n);
  *len = n;
  return Errno::Ok;
}

int secs(Duration set, Duration dflt) {
  Duration d = set == Duration::zero() ? dflt : set;
  return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

Errno put_timeval(void* value, socklen_t* len, Duration d) {
  if (!value || !len || *len < static_cast<socklen_t>(sizeof(timeval))) return Errno::Inval;
  timeval tv{static_cast<time_t>(d.count() / 1000000),
             static_cast<suseconds_t>(d.count() % 1000000)};
  std::memcpy(value, &tv, sizeof tv);
  *len = sizeof tv;
  return Errno::Ok;
}
}  // namespace

Errno Sockets::setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  auto& s = *impl_;
  auto* e = s.get(fd);
  if (!e) return Errno::BadF;
  auto* ep = e->udp.get();
  if (level == SOL_SOCKET) {
    if (name == SO_LINGER) {
      // struct linger; only {on, 0} changes anything here: close() then aborts with a RST
      // (RFC 9293 §3.10.5 ABORT). A positive linger time closes in the background, as a
      // non-blocking close() does on Linux.
      if (!value || len < static_cast<socklen_t>(sizeof(linger))) return Errno::Inval;
      linger l;
      std::memcpy(&l, value, sizeof l);
      e->linger_abort = l.l_onoff != 0 && l.l_linger == 0;
      return Errno::Ok;
    }
    if (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
      auto t = timeval_value(value, len);
      if (!t) return t.error();
      (name == SO_RCVTIMEO ? e->rcvtimeo : e->sndtimeo) = *t;
      return Errno::Ok;
    }
    auto v = int_value(value, len);
    if (!v) return v.error();
    switch (name) {
      case SO_REUSEADDR:
        e->reuse_addr = *v != 0;
        return Errno::Ok;
      case SO_BROADCAST:
        if (ep) ep->broadcast = *v != 0;
        return Errno::Ok;
      case SO_RCVBUF:
        if (ep) ep->rcvbuf = doubled_buf(*v, kRcvBufMin);
        if (!ep) e->rcvbuf = doubled_buf(*v, kRcvBufMin);  // TCP: used by the next connection
        return Errno::Ok;
      case SO_KEEPALIVE:
        if (e->type != SOCK_STREAM) return Errno::Ok;  // Linux accepts it and ignores it
        e->topts.keepalive = *v != 0;
        if (e->conn) {
          e->conn->set_options(e->topts, s.now);
          s.tcp.reschedule(*e->conn);  // the keep-alive timer starts or stops
        }
        return Errno::Ok;
      case SO_SNDBUF:
        e->sndbuf = doubled_buf(*v, kSndBufMin);
        return Errno::Ok;
      default:
        return Errno::NoProtoOpt;
    }
  }
  if (level == IPPROTO_TCP) {
    if (e->type != SOCK_STREAM) return Errno::NoProtoOpt;
    if (name == TCP_CONGESTION) {
      // Before connect or listen it applies to the connection (and to accepted ones); on
      // a live connection it switches the algorithm, keeping cwnd and ssthresh (LINUX).
      auto algo = congestion_value(value, len);
      if (!algo) return algo.error();
      e->topts.congestion = *algo;
      if (e->conn) {
        e->conn->set_options(e->topts, s.now);
        s.tcp.reschedule(*e->conn);  // set_options may arm the keep-alive timer
      }
      return Errno::Ok;
    }
    auto v = int_value(value, len);
    if (!v) return v.error();
    auto& o = e->topts;
    switch (name) {
      case TCP_NODELAY:
        o.nodelay = *v != 0;
        break;
      // Linux bounds: 1..32767 seconds, 1..127 probes.
      case TCP_KEEPIDLE:
        if (*v < 1 || *v > 32767) return Errno::Inval;
        o.keepalive_idle = std::chrono::seconds(*v);
        break;
      case TCP_KEEPINTVL:
        if (*v < 1 || *v > 32767) return Errno::Inval;
        o.keepalive_interval = std::chrono::seconds(*v);
        break;
      case TCP_KEEPCNT:
        if (*v < 1 || *v > 127) return Errno::Inval;
        o.keepalive_probes = static_cast<std::uint32_t>(*v);
        break;
      default:
        return Errno::NoProtoOpt;
    }
    if (e->conn) {
      e->conn->set_options(o, s.now);
      s.tcp.kick(*e->conn, s.now);  // TCP_NODELAY may release a held segment
    }
    return Errno::Ok;
  }
  if (level == IPPROTO_IP) {
    if (name == IP_ADD_MEMBERSHIP || name == IP_DROP_MEMBERSHIP) {
      if (!ep) return Errno::NoProtoOpt;
      auto g = group_value(value, len);
      if (!g) return g.error();
      return name == IP_ADD_MEMBERSHIP ? s.udp_join(*e, *g) : s.udp_leave(*e, *g);
    }
    // IP_MULTICAST_TTL and IP_MULTICAST_LOOP also take a single octet (Linux allows it).
    int v;
    if ((name == IP_MULTICAST_TTL || name == IP_MULTICAST_LOOP) && value && len == 1) {
      v = *static_cast<const unsigned char*>(value);
    } else {
      auto iv = int_value(value, len);
      if (!iv) return iv.error();
      v = *iv;
    }
    switch (name) {
      case IP_TTL:
        // Linux: -1 restores the default; 0 and values above 255 are EINVAL.
        if (v == -1)
          v = 0;
        else if (v < 1 || v > 255)
          return Errno::Inval;
        if (ep) ep->ttl = static_cast<std::uint8_t>(v);
        return Errno::Ok;
      case IP_MULTICAST_TTL:
        if (v == -1) v = 1;
        if (v < 0 || v > 255) return Errno::Inval;
        if (ep) ep->multicast_ttl = static_cast<std::uint8_t>(v);
        return Errno::Ok;
      case IP_MULTICAST_LOOP:
        if (ep) ep->multicast_loop = v != 0;
        return Errno::Ok;
      default:
        return Errno::NoProtoOpt;
    }
  }
  return Errno::NoProtoOpt;
}

Errno Sockets::getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  auto& s = *impl_;
  auto* e = s.get(fd);
  if (!e) return Errno::BadF;
  auto* ep = e->udp.get();
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_RCVTIMEO:
        return put_timeval(value, len, e->rcvtimeo);
      case SO_SNDTIMEO:
        return put_timeval(value, len, e->sndtimeo);
      case SO_REUSEADDR:
        return put_int(value, len, e->reuse_addr);
      case SO_BROADCAST:
        return put_int(value, len, ep && ep->broadcast);
      case SO_RCVBUF:
        return put_int(value, len,
                       static_cast<int>(ep          ? ep->rcvbuf
                                        : e->rcvbuf ? e->rcvbuf
                                                    : s.tcp.config().recv_buffer));
      case SO_KEEPALIVE:
        return put_int(value, len, e->topts.keepalive);
      case SO_SNDBUF:
        return put_int(value, len, static_cast<int>(e->sndbuf));
      case SO_TYPE:
        return put_int(value, len, e->type);
      case SO_ERROR: {
        // Reading SO_ERROR reports the pending error and clears it.
        Errno err = ep        ? std::exchange(ep->pending_error, Errno::Ok)
                    : e->conn ? e->conn->take_error()
                              : Errno::Ok;
        return put_int(value, len, static_cast<int>(err));
      }
      default:
        return Errno::NoProtoOpt;
    }
  }
  if (level == IPPROTO_TCP && e->type == SOCK_STREAM) {
    switch (name) {
      case TCP_NODELAY:
        return put_int(value, len, e->topts.nodelay);
      // A zero field means the stack's default (tcp::ConnOptions).
      case TCP_KEEPIDLE:
        return put_int(value, len, secs(e->topts.keepalive_idle, s.tcp.config().keepalive_idle));
      case TCP_KEEPINTVL:
        return put_int(value, len,
                       secs(e->topts.keepalive_interval, s.tcp.config().keepalive_interval));
      case TCP_KEEPCNT:
        return put_int(
            value, len,
            static_cast<int>(e->topts.keepalive_probes ? e->topts.keepalive_probes
                                                       : s.tcp.config().keepalive_probes));
      case TCP_MAXSEG:
        return put_int(value, len, e->conn ? e->conn->negotiated().smss : 536);
      case TCP_CONGESTION:
        return put_name(
            value, len,
            e->conn ? e->conn->congestion().name()
                    : congestion_name(e->topts.congestion.value_or(s.tcp.config().congestion)));
      default:
        return Errno::NoProtoOpt;
    }
  }
  if (level == IPPROTO_IP && ep) {
    switch (name) {
      case IP_TTL:
        return put_int(value, len, ep->ttl ? ep->ttl : s.ip_default_ttl());
      case IP_MULTICAST_TTL:
        return put_int(value, len, ep->multicast_ttl);
      case IP_MULTICAST_LOOP:
        return put_int(value, len, ep->multicast_loop);
      default:
        return Errno::NoProtoOpt;
    }
  }
  return Errno::NoProtoOpt;
}

}  // namespace tapir
