// Small out-of-line pieces of the public headers: assert failure, errno names, hex
// parsing, address parsing and printing.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tapir/address.hpp"
#include "tapir/assert.hpp"
#include "tapir/bytes.hpp"
#include "tapir/errno.hpp"

namespace tapir {

namespace detail {
void assert_fail(const char* expr, const char* msg, const char* file, int line) {
  std::fprintf(stderr, "tapir: assertion failed at %s:%d: %s (%s)\n", file, line, msg, expr);
  std::abort();
}
}  // namespace detail

std::string_view to_string(Errno e) {
  switch (e) {
#define TAPIR_ERRNO_CASE(name, sym) \
  case Errno::name:                 \
    return sym;
    TAPIR_ERRNO_CASE(Ok, "OK")
    TAPIR_ERRNO_CASE(Perm, "EPERM")
    TAPIR_ERRNO_CASE(NoEnt, "ENOENT")
    TAPIR_ERRNO_CASE(Intr, "EINTR")
    TAPIR_ERRNO_CASE(Io, "EIO")
    TAPIR_ERRNO_CASE(BadF, "EBADF")
    TAPIR_ERRNO_CASE(Again, "EAGAIN")
    TAPIR_ERRNO_CASE(NoMem, "ENOMEM")
    TAPIR_ERRNO_CASE(Acces, "EACCES")
    TAPIR_ERRNO_CASE(Fault, "EFAULT")
    TAPIR_ERRNO_CASE(Busy, "EBUSY")
    TAPIR_ERRNO_CASE(Exist, "EEXIST")
    TAPIR_ERRNO_CASE(NoDev, "ENODEV")
    TAPIR_ERRNO_CASE(Inval, "EINVAL")
    TAPIR_ERRNO_CASE(MFile, "EMFILE")
    TAPIR_ERRNO_CASE(NoSpc, "ENOSPC")
    TAPIR_ERRNO_CASE(Pipe, "EPIPE")
    TAPIR_ERRNO_CASE(NoSys, "ENOSYS")
    TAPIR_ERRNO_CASE(NotSock, "ENOTSOCK")
    TAPIR_ERRNO_CASE(DestAddrReq, "EDESTADDRREQ")
    TAPIR_ERRNO_CASE(MsgSize, "EMSGSIZE")
    TAPIR_ERRNO_CASE(ProtoType, "EPROTOTYPE")
    TAPIR_ERRNO_CASE(NoProtoOpt, "ENOPROTOOPT")
    TAPIR_ERRNO_CASE(ProtoNoSupport, "EPROTONOSUPPORT")
    TAPIR_ERRNO_CASE(SockTNoSupport, "ESOCKTNOSUPPORT")
    TAPIR_ERRNO_CASE(OpNotSupp, "EOPNOTSUPP")
    TAPIR_ERRNO_CASE(AfNoSupport, "EAFNOSUPPORT")
    TAPIR_ERRNO_CASE(AddrInUse, "EADDRINUSE")
    TAPIR_ERRNO_CASE(AddrNotAvail, "EADDRNOTAVAIL")
    TAPIR_ERRNO_CASE(NetDown, "ENETDOWN")
    TAPIR_ERRNO_CASE(NetUnreach, "ENETUNREACH")
    TAPIR_ERRNO_CASE(ConnAborted, "ECONNABORTED")
    TAPIR_ERRNO_CASE(ConnReset, "ECONNRESET")
    TAPIR_ERRNO_CASE(NoBufs, "ENOBUFS")
    TAPIR_ERRNO_CASE(IsConn, "EISCONN")
    TAPIR_ERRNO_CASE(NotConn, "ENOTCONN")
    TAPIR_ERRNO_CASE(Shutdown, "ESHUTDOWN")
    TAPIR_ERRNO_CASE(TimedOut, "ETIMEDOUT")
    TAPIR_ERRNO_CASE(ConnRefused, "ECONNREFUSED")
    TAPIR_ERRNO_CASE(HostDown, "EHOSTDOWN")
    TAPIR_ERRNO_CASE(HostUnreach, "EHOSTUNREACH")
    TAPIR_ERRNO_CASE(Already, "EALREADY")
    TAPIR_ERRNO_CASE(InProgress, "EINPROGRESS")
    TAPIR_ERRNO_CASE(ProtoErr, "EPROTO")
#undef TAPIR_ERRNO_CASE
  }
  return "E?";
}

std::string_view describe(Errno e) { return std::strerror(static_cast<int>(e)); }

std::vector<std::byte> bytes_from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ':') continue;
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      return {};
    if (high < 0) {
      high = v;
    } else {
      out.push_back(std::byte(static_cast<std::uint8_t>(high << 4 | v)));
      high = -1;
    }
  }
  if (high >= 0) return {};
  return out;
}

namespace {
// Parses a decimal number in [0, max] that fills `s` exactly.
std::optional<unsigned> parse_uint(std::string_view s, unsigned max) {
  unsigned v = 0;
  if (s.empty() || s.size() > 10) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}
}  // namespace

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view s) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    auto dot = s.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
    auto part = s.substr(0, dot);
    if (part.size() > 1 && part[0] == '0') return std::nullopt;  // no octal ambiguity
    auto v = parse_uint(part, 255);
    if (!v) return std::nullopt;
    value = value << 8 | *v;
    s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  }
  return Ipv4Addr{value};
}

std::string Ipv4Addr::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", octet(0), octet(1), octet(2), octet(3));
  return buf;
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto addr = Ipv4Addr::parse(s.substr(0, slash));
  auto len = parse_uint(s.substr(slash + 1), 32);
  if (!addr || !len) return std::nullopt;
  return Ipv4Cidr{*addr, static_cast<std::uint8_t>(*len)};
}

std::string Ipv4Cidr::to_string() const {
  return addr.to_string() + "/" + std::to_string(prefix_len);
}

std::optional<MacAddr> MacAddr::parse(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  MacAddr m;
  for (int i = 0; i < 6; ++i) {
    if (i > 0 && s[i * 3 - 1] != ':' && s[i * 3 - 1] != '-') return std::nullopt;
    unsigned v = 0;
    auto part = s.substr(static_cast<std::size_t>(i) * 3, 2);
    auto [p, ec] = std::from_chars(part.data(), part.data() + 2, v, 16);
    if (ec != std::errc{} || p != part.data() + 2) return std::nullopt;
    m.octets[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
  }
  return m;
}

std::string MacAddr::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", octets[0], octets[1], octets[2],
                octets[3], octets[4], octets[5]);
  return buf;
}

}  // namespace tapir
