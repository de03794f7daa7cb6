// The blocking facade (include/tapir/bsd.hpp) with real threads: blocking calls, the
// timeouts that bound them, the flags that skip them, and a close from another thread.
// Each test finishes well under a second; nothing sleeps to synchronise.
#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "app/runtime.hpp"
#include "pair.hpp"

using namespace tapir;
using namespace tapir::test;
using Wall = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string recv_str(int fd, sockaddr_in* from = nullptr, int flags = 0) {
  char buf[2048];
  socklen_t len = sizeof(sockaddr_in);
  auto n =
      bsd::recvfrom(fd, buf, sizeof buf, flags, from ? sa(*from) : nullptr, from ? &len : nullptr);
  if (n < 0) return "errno " + std::to_string(errno);
  return std::string(buf, static_cast<std::size_t>(n));
}

// Free of Catch2 assertions, which are not thread-safe: for use in helper threads.
bool try_set_rcvtimeo(int fd, milliseconds ms) {
  timeval tv{static_cast<time_t>(ms.count() / 1000),
             static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
  return bsd::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
}

void set_rcvtimeo(int fd, milliseconds ms) { REQUIRE(try_set_rcvtimeo(fd, ms)); }

// How many threads are blocked in a facade call on `rt` (waiting, its mutex released).
std::size_t blocked_threads(Runtime& rt) {
  std::lock_guard lk(rt.impl().mu);
  return rt.impl().waiters;
}

// An echo server on B:7 in its own thread, answering `count` datagrams.
std::thread echo_server(Runtime& rt, int count) {
  int fd;
  {
    bsd::ScopedUse use(rt);
    fd = udp_bound(7);
  }
  return std::thread([&rt, fd, count] {
    bsd::ScopedUse use(rt);
    char buf[2048];
    for (int i = 0; i < count; ++i) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      auto n = bsd::recvfrom(fd, buf, sizeof buf, 0, sa(from), &len);
      if (n < 0) break;
      bsd::sendto(fd, buf, static_cast<size_t>(n), 0, sa(from), len);
    }
    bsd::close(fd);
  });
}

}  // namespace

TEST_CASE("bsd: a blocking recvfrom returns the datagram a sender thread sends", "[bsd][udp]") {
  RuntimePair p;
  auto server = echo_server(p.b, 1);
  bsd::ScopedUse use(p.a);
  int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  set_rcvtimeo(fd, milliseconds(900));  // a bound on failure, not the expected path
  REQUIRE(send_str(fd, "ping", kIpB, 7) == 4);
  sockaddr_in from{};
  CHECK(recv_str(fd, &from) == "ping");  // blocks for the round trip (ARP included)
  CHECK(sockaddr_addr(from) == kIpB);
  CHECK(sockaddr_port(from) == 7);
  server.join();
  CHECK(bsd::close(fd) == 0);
}

TEST_CASE("bsd: many threads on two runtimes exchange datagrams concurrently",
          "[bsd][udp][threads]") {
  RuntimePair p;
  constexpr int kClients = 4;
  constexpr int kEach = 25;
  auto server = echo_server(p.b, kClients * kEach);
  std::atomic<int> echoed{0};
  std::vector<std::thread> clients;
  clients.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      bsd::ScopedUse use(p.a);
      int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
      if (fd < 0 || !try_set_rcvtimeo(fd, milliseconds(900))) return;  // counted by `echoed`
      for (int i = 0; i < kEach; ++i) {
        std::string msg = "client " + std::to_string(c) + " #" + std::to_string(i);
        if (send_str(fd, msg, kIpB, 7) < 0) break;
        if (recv_str(fd) == msg) ++echoed;
      }
      bsd::close(fd);
    });
  }
  for (auto& t : clients) t.join();
  server.join();
  CHECK(echoed == kClients * kEach);
}

TEST_CASE("bsd: SO_RCVTIMEO bounds a blocking recv, which then fails with EAGAIN",
          "[bsd][udp][timeout]") {
  RuntimePair p;
  bsd::ScopedUse use(p.a);
  int fd = udp_bound(5000);
  set_rcvtimeo(fd, milliseconds(100));
  auto start = Wall::now();
  char buf[8];
  CHECK(bsd::recv(fd, buf, sizeof buf, 0) == -1);
  CHECK(errno == EAGAIN);
  auto waited = Wall::now() - start;
  CHECK(waited >= milliseconds(100));
  CHECK(waited < milliseconds(3000));  // bounded: the timeout, not for ever
  timeval tv{};
  socklen_t len = sizeof tv;
  REQUIRE(bsd::getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0);
  CHECK(tv.tv_usec == 100000);
}

TEST_CASE("bsd: MSG_DONTWAIT and O_NONBLOCK never wait", "[bsd][udp][nonblock]") {
  RuntimePair p;
  bsd::ScopedUse use(p.a);
  int fd = udp_bound(5000);
  set_rcvtimeo(fd, milliseconds(5000));  // a wait, had there been one, would take 5 s
  char buf[8];
  auto start = Wall::now();
  CHECK(bsd::recv(fd, buf, sizeof buf, MSG_DONTWAIT) == -1);
  CHECK(errno == EAGAIN);
  int flags = bsd::fcntl(fd, F_GETFL);
  REQUIRE(flags >= 0);
  CHECK((flags & O_NONBLOCK) == 0);
  REQUIRE(bsd::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0);
  CHECK((bsd::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
  sockaddr_in from{};
  socklen_t len = sizeof from;
  CHECK(bsd::recvfrom(fd, buf, sizeof buf, 0, sa(from), &len) == -1);
  CHECK(errno == EAGAIN);
  CHECK(Wall::now() - start < milliseconds(2500));
  CHECK(bsd::fcntl(fd, F_DUPFD, 0) == -1);
  CHECK(errno == EINVAL);
  int nb = bsd::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  CHECK(bsd::recv(nb, buf, sizeof buf, 0) == -1);
  CHECK(errno == EAGAIN);
}

TEST_CASE("bsd: poll waits until readable or its timeout", "[bsd][poll]") {
  RuntimePair p;
  int server;
  {
    bsd::ScopedUse use(p.b);
    server = udp_bound(9);
  }
  bsd::ScopedUse use(p.b);
  pollfd pfd{server, POLLIN, 0};
  auto start = Wall::now();
  CHECK(bsd::poll(&pfd, 1, 50) == 0);
  CHECK(Wall::now() - start >= milliseconds(50));
  CHECK(pfd.revents == 0);
  CHECK(bsd::poll(&pfd, 1, 0) == 0);

  std::thread sender([&] {
    bsd::ScopedUse use_a(p.a);
    int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
    send_str(fd, "wake", kIpB, 9);
    bsd::close(fd);
  });
  pollfd both[2] = {{server, POLLIN | POLLOUT, 0}, {-1, POLLIN, 7}};
  CHECK(bsd::poll(both, 2, 0) == 1);  // writable at once
  pfd.revents = 0;
  CHECK(bsd::poll(&pfd, 1, 900) == 1);  // then readable, once the datagram is in
  CHECK(pfd.revents == POLLIN);
  CHECK(both[1].revents == 0);  // negative descriptors are ignored
  sender.join();
  CHECK(recv_str(server) == "wake");
  pollfd bad{4242, POLLIN, 0};
  CHECK(bsd::poll(&bad, 1, -1) == 1);
  CHECK(bad.revents == POLLNVAL);
  CHECK(bsd::poll(nullptr, 1, 0) == -1);
  CHECK(errno == EFAULT);
}

TEST_CASE("bsd: select reports readable descriptors and honours its timeout", "[bsd][select]") {
  RuntimePair p;
  bsd::ScopedUse use(p.b);
  int quiet = udp_bound(10);
  int busy = udp_bound(11);
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(quiet, &rd);
  FD_SET(busy, &rd);
  timeval tv{0, 50000};
  auto start = Wall::now();
  CHECK(bsd::select(std::max(quiet, busy) + 1, &rd, nullptr, nullptr, &tv) == 0);
  CHECK(Wall::now() - start >= milliseconds(50));
  CHECK(tv.tv_sec == 0);
  CHECK(tv.tv_usec == 0);
  CHECK_FALSE(FD_ISSET(quiet, &rd));

  std::thread sender([&] {
    bsd::ScopedUse use_a(p.a);
    int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
    send_str(fd, "for busy", kIpB, 11);
    bsd::close(fd);
  });
  FD_ZERO(&rd);
  FD_SET(quiet, &rd);
  FD_SET(busy, &rd);
  fd_set wr;
  FD_ZERO(&wr);
  CHECK(bsd::select(std::max(quiet, busy) + 1, &rd, &wr, nullptr, nullptr) == 1);  // blocks
  CHECK(FD_ISSET(busy, &rd));
  CHECK_FALSE(FD_ISSET(quiet, &rd));
  sender.join();

  FD_ZERO(&wr);
  FD_SET(quiet, &wr);
  timeval zero{0, 0};
  CHECK(bsd::select(quiet + 1, nullptr, &wr, nullptr, &zero) == 1);
  FD_SET(200, &wr);
  CHECK(bsd::select(201, nullptr, &wr, nullptr, &zero) == -1);
  CHECK(errno == EBADF);
  CHECK(bsd::select(-1, nullptr, nullptr, nullptr, &zero) == -1);
  CHECK(errno == EINVAL);
  timeval bad{0, 2000000};
  CHECK(bsd::select(1, nullptr, nullptr, nullptr, &bad) == -1);
  CHECK(errno == EINVAL);
}

TEST_CASE("bsd: close from another thread wakes a blocked recv with EBADF",
          "[bsd][close][threads]") {
  RuntimePair p;
  bsd::ScopedUse use(p.a);
  int fd = udp_bound(6000);
  std::atomic<int> result{0};
  std::atomic<int> err{0};
  std::atomic<bool> returned{false};
  std::thread blocked([&] {
    bsd::ScopedUse use_a(p.a);
    char buf[8];
    result = static_cast<int>(bsd::recv(fd, buf, sizeof buf, 0));  // no timeout: for ever
    err = errno;
    returned = true;
  });
  while (blocked_threads(p.a) == 0 && !returned) std::this_thread::yield();
  if (returned) {
    blocked.join();
    FAIL("recv returned without blocking, errno " << err);
  }
  REQUIRE(bsd::close(fd) == 0);  // the reader is inside recv, waiting
  blocked.join();
  CHECK(result == -1);
  CHECK(err == EBADF);
  // The descriptor number may be reused at once; the new socket is a different one.
  int again = bsd::socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(again >= 0);
}

TEST_CASE("bsd: a blocked recv sees EBADF even when its number is reused meanwhile",
          "[bsd][close][threads]") {
  RuntimePair p;
  bsd::ScopedUse use(p.a);
  int fd = udp_bound(6001);
  set_rcvtimeo(fd, milliseconds(900));
  std::atomic<int> err{0};
  std::atomic<bool> returned{false};
  std::thread blocked([&] {
    bsd::ScopedUse use_a(p.a);
    char buf[8];
    if (bsd::recv(fd, buf, sizeof buf, 0) < 0) err = errno;
    returned = true;
  });
  // Close only once recv is really blocked: closed and reused before recv began, the
  // number would name the new socket, and recv would rightly wait on that one instead.
  while (blocked_threads(p.a) == 0 && !returned) std::this_thread::yield();
  if (returned) {
    blocked.join();
    FAIL("recv returned without blocking, errno " << err);
  }
  REQUIRE(bsd::close(fd) == 0);
  int reused = bsd::socket(AF_INET, SOCK_DGRAM, 0);
  blocked.join();
  CHECK(err == EBADF);
  CHECK(bsd::close(reused) == 0);
}

TEST_CASE("bsd: argument errors as Linux reports them", "[bsd][errno]") {
  RuntimePair p;
  bsd::ScopedUse use(p.a);
  int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  auto to = addr_of(kIpB, 7);
  char buf[4] = {};
  SECTION("null addresses and buffers are EFAULT") {
    CHECK(bsd::bind(fd, nullptr, sizeof to) == -1);
    CHECK(errno == EFAULT);
    CHECK(bsd::connect(fd, nullptr, sizeof to) == -1);
    CHECK(errno == EFAULT);
    CHECK(bsd::sendto(fd, nullptr, 4, 0, sa(to), sizeof to) == -1);
    CHECK(errno == EFAULT);
    CHECK(bsd::recv(fd, nullptr, 4, MSG_DONTWAIT) == -1);
    CHECK(errno == EFAULT);
    sockaddr_in out{};
    CHECK(bsd::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, sa(out), nullptr) == -1);
    CHECK(errno == EFAULT);
    CHECK(bsd::getsockname(fd, nullptr, nullptr) == -1);
    CHECK(errno == EFAULT);
    CHECK(bsd::getsockopt(fd, SOL_SOCKET, SO_TYPE, nullptr, nullptr) == -1);
    CHECK(errno == EFAULT);
    CHECK(bsd::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, nullptr, 4) == -1);
    CHECK(errno == EFAULT);
  }
  SECTION("a short sockaddr is EINVAL") {
    CHECK(bsd::bind(fd, sa(to), sizeof to - 1) == -1);
    CHECK(errno == EINVAL);
    CHECK(bsd::sendto(fd, buf, sizeof buf, 0, sa(to), 4) == -1);
    CHECK(errno == EINVAL);
    CHECK(bsd::connect(fd, sa(to), 8) == -1);
    CHECK(errno == EINVAL);
  }
  SECTION("core errors come through errno") {
    CHECK(bsd::send(fd, buf, sizeof buf, 0) == -1);
    CHECK(errno == EDESTADDRREQ);
    CHECK(bsd::close(777) == -1);
    CHECK(errno == EBADF);
    CHECK(bsd::socket(AF_INET6, SOCK_DGRAM, 0) == -1);
    CHECK(errno == EAFNOSUPPORT);
    CHECK(bsd::listen(fd, 1) == -1);
    CHECK(errno == EOPNOTSUPP);
  }
  SECTION("addresses are copied out truncated, with their real length") {
    auto any = addr_of(Ipv4Addr::any(), 4321);
    REQUIRE(bsd::bind(fd, sa(any), sizeof any) == 0);
    sockaddr_in name{};
    socklen_t len = 64;
    REQUIRE(bsd::getsockname(fd, sa(name), &len) == 0);
    CHECK(len == sizeof(sockaddr_in));
    CHECK(sockaddr_port(name) == 4321);
    sockaddr_in small{};
    len = 4;  // family and port only
    REQUIRE(bsd::getsockname(fd, sa(small), &len) == 0);
    CHECK(len == sizeof(sockaddr_in));
    CHECK(sockaddr_port(small) == 4321);
    CHECK(small.sin_addr.s_addr == 0);
    CHECK(bsd::getpeername(fd, sa(name), &len) == -1);
    CHECK(errno == ENOTCONN);
  }
  SECTION("connect with AF_UNSPEC dissolves the association") {
    REQUIRE(bsd::connect(fd, sa(to), sizeof to) == 0);
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    CHECK(bsd::connect(fd, &unspec, sizeof(sa_family_t)) == 0);
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    CHECK(bsd::getpeername(fd, sa(peer), &len) == -1);
    CHECK(errno == ENOTCONN);
  }
}

TEST_CASE("bsd: without a runtime every call fails with ENETDOWN", "[bsd][errno]") {
  std::thread t([] {
    // No ScopedUse here, and no process-wide runtime outside a test that sets one.
    REQUIRE(bsd::current() == nullptr);
    CHECK(bsd::socket(AF_INET, SOCK_DGRAM, 0) == -1);
    CHECK(errno == ENETDOWN);
  });
  t.join();
  RuntimePair p;
  bsd::use(p.a);
  CHECK(bsd::current() == &p.a);
  {
    bsd::ScopedUse use(p.b);
    CHECK(bsd::current() == &p.b);
  }
  CHECK(bsd::current() == &p.a);
  // ~Runtime clears the process-wide runtime it was.
}

TEST_CASE("bsd: with_stack and stats run under the runtime mutex", "[bsd][runtime]") {
  RuntimePair p;
  auto server = echo_server(p.b, 1);
  bsd::ScopedUse use(p.a);
  int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
  set_rcvtimeo(fd, milliseconds(900));
  REQUIRE(send_str(fd, "x", kIpB, 7) == 1);
  CHECK(recv_str(fd) == "x");
  server.join();
  CHECK(p.a.stats().udp.tx_datagrams == 1);
  CHECK(p.b.stats().udp.rx_delivered == 1);
  std::size_t rows = 0;
  p.a.with_stack([&](Stack& s) { rows = s.sockets().table().size(); });
  CHECK(rows == 1);
}
