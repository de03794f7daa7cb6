// The blocking face of tapir's sockets: the Berkeley calls with their exact signatures
// and semantics, for application threads. A program written against Linux sockets ports
// by including this header and calling tapir::bsd::socket() instead of ::socket() (or
// `using namespace tapir::bsd;`).
//
//   tapir::Runtime rt(device, config);   // the stack's loop now runs in its own thread
//   tapir::bsd::use(rt);                 // the runtime these calls act on
//   int fd = tapir::bsd::socket(AF_INET, SOCK_DGRAM, 0);
//   tapir::bsd::recvfrom(fd, buf, sizeof buf, 0, nullptr, nullptr);  // blocks
//
// Semantics, as on Linux: every call returns -1 and sets errno on error. recvfrom/recv,
// accept, connect (stream sockets), send (when the send buffer is full), poll and select
// block until done; SO_RCVTIMEO / SO_SNDTIMEO bound the wait (expiry: EAGAIN, or
// EINPROGRESS for connect); O_NONBLOCK and MSG_DONTWAIT never wait (EAGAIN). A socket
// closed by another thread wakes the threads blocked on it with EBADF. Argument errors:
// a null address, buffer or option pointer is EFAULT, a sockaddr length other than that
// of sockaddr_in is EINVAL. Without a current runtime every call fails with ENETDOWN.
//
// Thread safety: the protocol core (Stack, Sockets) is single-threaded and deterministic.
// A Runtime runs it in one loop thread; every facade call, from any thread, takes the
// runtime's one mutex around its calls into the core, and waits on the runtime's
// condition variable (released while waiting), which the loop notifies after every
// poll. So any number of application threads may call these functions concurrently, on
// the same or different descriptors. Runtime::with_stack() gives the same guarantee to
// code that needs the Stack itself. A Runtime must outlive every thread that uses it.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "tapir/device.hpp"
#include "tapir/stack.hpp"
#include "tapir/stack_config.hpp"
#include "tapir/stats.hpp"

namespace tapir {

// Owns the loop thread of one stack: it waits in ppoll(2) on the device's fd (when it has
// one) and an eventfd, until a frame arrives, an application call wakes it (wake()), or
// the stack's next deadline; then, under the runtime mutex, it polls the stack and
// notifies every waiting application thread.
//
// Devices without an fd (MemoryWire, test devices) cannot wake the loop by themselves:
// the loop then wakes only on wake() and on deadlines, so whoever delivers a frame to
// such a device must call wake() on the runtime that owns it (LockedDevice below does).
class Runtime {
 public:
  // Runs a stack on `device`, which must outlive the Runtime. Starts the loop thread.
  Runtime(phy::Device& device, const StackConfig& config);
  // Same, owning the device.
  Runtime(std::unique_ptr<phy::Device> device, const StackConfig& config);
  // Stops and joins the loop thread; if this is the current runtime, there is none after.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Makes the loop poll the stack now (thread safe, never blocks).
  void wake();
  // Runs f(stack) under the runtime mutex, then wakes the loop (f may have queued
  // output or changed deadlines). For setup and inspection from application threads.
  void with_stack(const std::function<void(Stack&)>& f);
  // A copy of the stack's counters, taken under the mutex.
  Stats stats();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// A decorator that lets a device without an fd be shared by two runtimes' threads (the
// two ends of a MemoryWire): every call into the inner device holds `wire_mutex` (one
// mutex for both ends, since each end's transmit writes the other's queue), and each
// frame transmitted wakes the peer's runtime. This is how MemoryWire delivery wakes the
// peer (see Runtime).
//
// The peer is woken under `wire_mutex`, so once stop_waking() has returned no thread is
// still waking it: call it on both ends before either runtime is destroyed, since the
// other runtime's loop may transmit (a retransmission, an ARP reply) until it stops.
class LockedDevice final : public phy::Device {
 public:
  LockedDevice(phy::Device& inner, std::mutex& wire_mutex) : inner_(inner), mutex_(wire_mutex) {}
  // The runtime to wake after each transmitted frame (the one owning the other end).
  void wake_on_transmit(Runtime& peer);
  // Wakes no one any more; returns once no transmit is waking the peer.
  void stop_waking();

  phy::DeviceCaps caps() const override;
  std::optional<Bytes> receive(Instant now) override;
  Errno transmit(Bytes frame, Instant now) override;
  void flush(Instant now) override;
  std::optional<Instant> next_deadline() const override;

 private:
  phy::Device& inner_;
  std::mutex& mutex_;
  Runtime* peer_ = nullptr;       // guarded by mutex_
  std::vector<std::byte> frame_;  // the frame last received, copied out under the lock
};

namespace bsd {

// Selects the runtime every call below acts on (process-wide).
void use(Runtime& rt);
// The runtime of the calling thread: its ScopedUse if one is active, else the
// process-wide one; nullptr when neither is set.
Runtime* current();

// Within its scope, the calling thread's calls act on `rt` instead of the process-wide
// runtime: a process may run several stacks (two runtimes joined by a MemoryWire in
// tests, a client and a server in one demo), each thread talking to one of them.
class ScopedUse {
 public:
  explicit ScopedUse(Runtime& rt);
  ~ScopedUse();
  ScopedUse(const ScopedUse&) = delete;
  ScopedUse& operator=(const ScopedUse&) = delete;

 private:
  Runtime* previous_;
};

int socket(int domain, int type, int protocol);
int bind(int fd, const sockaddr* addr, socklen_t addrlen);
int connect(int fd, const sockaddr* addr, socklen_t addrlen);
int listen(int fd, int backlog);
int accept(int fd, sockaddr* addr, socklen_t* addrlen);
ssize_t send(int fd, const void* buf, size_t len, int flags);
ssize_t recv(int fd, void* buf, size_t len, int flags);
ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to, socklen_t tolen);
ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from, socklen_t* fromlen);
int shutdown(int fd, int how);
int close(int fd);
int getsockname(int fd, sockaddr* addr, socklen_t* addrlen);
int getpeername(int fd, sockaddr* addr, socklen_t* addrlen);
int setsockopt(int fd, int level, int name, const void* value, socklen_t len);
int getsockopt(int fd, int level, int name, void* value, socklen_t* len);
// F_GETFL and F_SETFL (O_NONBLOCK); other commands are EINVAL.
int fcntl(int fd, int cmd, ...);
// timeout_ms < 0 waits for ever, 0 returns at once.
int poll(pollfd* fds, nfds_t nfds, int timeout_ms);
// Descriptors are tapir's, below nfds (at most FD_SETSIZE). timeout null waits for ever;
// on return it holds the time left, as Linux does.
int select(int nfds, fd_set* readfds, fd_set* writefds, fd_set* exceptfds, timeval* timeout);

}  // namespace bsd
}  // namespace tapir
