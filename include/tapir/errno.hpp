// Errno: every error the socket API and the devices report, with the value and meaning
// of the Linux errno of the same name (so programs ported from BSD sockets read the same).
#pragma once

#include <cerrno>
#include <string_view>

namespace tapir {

enum class Errno : int {
  Ok = 0,
  Perm = EPERM,
  NoEnt = ENOENT,
  Intr = EINTR,
  Io = EIO,
  BadF = EBADF,
  Again = EAGAIN,
  NoMem = ENOMEM,
  Acces = EACCES,
  Fault = EFAULT,
  Busy = EBUSY,
  Exist = EEXIST,
  NoDev = ENODEV,
  Inval = EINVAL,
  MFile = EMFILE,
  NoSpc = ENOSPC,
  Pipe = EPIPE,
  NoSys = ENOSYS,
  NotSock = ENOTSOCK,
  DestAddrReq = EDESTADDRREQ,
  MsgSize = EMSGSIZE,
  ProtoType = EPROTOTYPE,
  NoProtoOpt = ENOPROTOOPT,
  ProtoNoSupport = EPROTONOSUPPORT,
  SockTNoSupport = ESOCKTNOSUPPORT,
  OpNotSupp = EOPNOTSUPP,
  AfNoSupport = EAFNOSUPPORT,
  AddrInUse = EADDRINUSE,
  AddrNotAvail = EADDRNOTAVAIL,
  NetDown = ENETDOWN,
  NetUnreach = ENETUNREACH,
  ConnAborted = ECONNABORTED,
  ConnReset = ECONNRESET,
  NoBufs = ENOBUFS,
  IsConn = EISCONN,
  NotConn = ENOTCONN,
  Shutdown = ESHUTDOWN,
  TimedOut = ETIMEDOUT,
  ConnRefused = ECONNREFUSED,
  HostDown = EHOSTDOWN,
  HostUnreach = EHOSTUNREACH,
  Already = EALREADY,
  InProgress = EINPROGRESS,
  ProtoErr = EPROTO,
};

// The symbolic name, e.g. "EADDRINUSE" ("OK" for Errno::Ok).
std::string_view to_string(Errno e);
// The Linux strerror() text, e.g. "Address already in use".
std::string_view describe(Errno e);

}  // namespace tapir
