// netbench: the kernel-side load generator of tapir's benchmarks, and the kernel-side
// reference servers. It talks plain Linux sockets, so the same client measures tapir (on
// a TAP) and the Linux kernel (over a veth pair) in one run.
//
//   netbench serve                       echo (7), discard (9), chargen (19) on TCP, echo on UDP 7
//   netbench stream-in  HOST BYTES       send BYTES to HOST:9 (discard): the stack receives
//   netbench stream-out HOST BYTES       read BYTES from HOST:19 (chargen), pattern checked
//   netbench rr   HOST SECONDS [SIZE]    one TCP connection, SIZE-byte request/response to :7
//   netbench crr  HOST SECONDS           connect, 64-byte request/response, close, repeat
//   netbench udp-rr HOST SECONDS [SIZE]  UDP request/response to :7
//   netbench hold HOST N                 open N echo connections, verify each, report, hold
//
// Each measurement prints one JSON object on stdout: {"test":..., "value":..., "unit":...,
// "p50_us":..., "p99_us":...}. Every test is bounded in time and verifies its data.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "netbench: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

sockaddr_in addr_of(const char* host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    std::fprintf(stderr, "netbench: bad address %s\n", host);
    std::exit(2);
  }
  return a;
}

int tcp_connect(const char* host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  auto a = addr_of(host, port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    die(std::string("connect ") + host);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void write_all(int fd, const char* p, std::size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) die("write");
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void read_exact(int fd, char* p, std::size_t n) {
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) die("read (peer closed or failed)");
    p += r;
    n -= static_cast<std::size_t>(r);
  }
}

double secs_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void report(const char* test, double value, const char* unit, std::vector<double> lat = {}) {
  std::printf("{\"test\":\"%s\",\"value\":%.4f,\"unit\":\"%s\"", test, value, unit);
  if (!lat.empty()) {
    std::sort(lat.begin(), lat.end());
    std::printf(",\"p50_us\":%.2f,\"p99_us\":%.2f", lat[lat.size() / 2],
                lat[lat.size() * 99 / 100]);
  }
  std::printf("}\n");
  std::fflush(stdout);
}

// RFC 864: line n is 72 of the 95 printable characters (space first) starting one later
// than line n-1; line 0 starts with '!'. One period is 95 lines of 74 octets.
std::string chargen_period() {
  std::string s;
  for (int n = 0; n < 95; ++n) {
    for (int i = 0; i < 72; ++i) s += static_cast<char>(32 + (n + i + 1) % 95);
    s += "\r\n";
  }
  return s;
}

void stream_in(const char* host, std::uint64_t bytes) {
  int fd = tcp_connect(host, 9);
  std::vector<char> buf(1 << 16, 'x');
  auto t0 = Clock::now();
  std::uint64_t left = bytes;
  while (left) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    write_all(fd, buf.data(), n);
    left -= n;
  }
  shutdown(fd, SHUT_WR);
  char c;
  (void)read(fd, &c, 1);  // the service closes once it has read everything
  double s = secs_since(t0);
  close(fd);
  report("stream_in", static_cast<double>(bytes) * 8 / s / 1e9, "Gbit/s");
}

void stream_out(const char* host, std::uint64_t bytes) {
  int fd = tcp_connect(host, 19);
  std::string period = chargen_period();
  std::string twice = period + period;
  std::vector<char> buf(1 << 16);
  auto t0 = Clock::now();
  std::uint64_t got = 0;
  while (got < bytes) {
    ssize_t r = read(fd, buf.data(),
                     static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), bytes - got)));
    if (r <= 0) die("read chargen");
    // Verify against the pattern: offset within the period, then compare (wrapping).
    std::size_t off = static_cast<std::size_t>(got % period.size());
    for (std::size_t done = 0; done < static_cast<std::size_t>(r);) {
      std::size_t n = std::min(static_cast<std::size_t>(r) - done, period.size());
      if (std::memcmp(buf.data() + done, twice.data() + (off + done) % period.size(), n) != 0) {
        std::fprintf(stderr, "netbench: chargen pattern broken near byte %llu\n",
                     static_cast<unsigned long long>(got + done));
        std::exit(1);
      }
      done += n;
    }
    got += static_cast<std::uint64_t>(r);
  }
  double s = secs_since(t0);
  close(fd);
  report("stream_out", static_cast<double>(bytes) * 8 / s / 1e9, "Gbit/s");
}

void rr(const char* host, double seconds, std::size_t size) {
  int fd = tcp_connect(host, 7);
  std::string req(size, 'r'), resp(size, 0);
  std::vector<double> lat;
  auto t0 = Clock::now();
  while (secs_since(t0) < seconds) {
    auto t = Clock::now();
    write_all(fd, req.data(), size);
    read_exact(fd, resp.data(), size);
    if (resp != req) die("rr: echo differs");
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  double s = secs_since(t0);
  close(fd);
  report("tcp_rr", static_cast<double>(lat.size()) / s / 1e3, "k/s", lat);
}

void crr(const char* host, double seconds) {
  std::string req(64, 'c'), resp(64, 0);
  std::vector<double> lat;
  auto t0 = Clock::now();
  while (secs_since(t0) < seconds) {
    auto t = Clock::now();
    int fd = tcp_connect(host, 7);
    write_all(fd, req.data(), req.size());
    read_exact(fd, resp.data(), resp.size());
    if (resp != req) die("crr: echo differs");
    close(fd);
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  report("tcp_crr", static_cast<double>(lat.size()) / secs_since(t0) / 1e3, "k/s", lat);
}

void udp_rr(const char* host, double seconds, std::size_t size) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  auto a = addr_of(host, 7);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("udp connect");
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req(size, 'u'), resp(size + 1, 0);
  std::vector<double> lat;
  std::size_t lost = 0;
  auto t0 = Clock::now();
  while (secs_since(t0) < seconds) {
    auto t = Clock::now();
    if (send(fd, req.data(), size, 0) != static_cast<ssize_t>(size)) die("udp send");
    ssize_t r = recv(fd, resp.data(), resp.size(), 0);
    if (r < 0) {
      ++lost;
      continue;
    }
    if (static_cast<std::size_t>(r) != size || resp.compare(0, size, req) != 0)
      die("udp_rr: echo differs");
    lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  report("udp_rr", static_cast<double>(lat.size()) / secs_since(t0) / 1e3, "k/s", lat);
  if (lost) std::fprintf(stderr, "netbench: udp_rr: %zu requests lost\n", lost);
}

void hold(const char* host, int n) {
  std::vector<int> fds;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    fds.push_back(tcp_connect(host, 7));
    char b = static_cast<char>('a' + i % 26), r = 0;
    write_all(fds.back(), &b, 1);
    read_exact(fds.back(), &r, 1);
    if (r != b) die("hold: echo differs");
  }
  report("hold", n, "connections");
  std::fprintf(stderr, "netbench: %d connections open and verified in %.2f s\n", n, secs_since(t0));
  char c;
  (void)read(0, &c, 1);  // hold until stdin closes
  for (int fd : fds) close(fd);
}

// ---- the kernel reference servers ----

void serve_stream(int port, int mode) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = addr_of("0.0.0.0", port);
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(ls, 4096) != 0)
    die("listen");
  for (;;) {
    int c = accept(ls, nullptr, nullptr);
    if (c < 0) continue;
    std::thread([c, mode] {
      std::vector<char> buf(1 << 16);
      if (mode == 19) {
        std::string p = chargen_period();
        std::string big;
        while (big.size() < (1 << 16)) big += p;
        std::size_t off = 0;
        for (;;) {
          std::size_t n = (1 << 16) - ((1 << 16) % p.size());
          ssize_t w = write(c, big.data() + off, n);
          if (w <= 0) break;
          off = (off + static_cast<std::size_t>(w)) % p.size();
        }
      } else {
        for (;;) {
          ssize_t r = read(c, buf.data(), buf.size());
          if (r <= 0) break;
          if (mode == 7) write_all(c, buf.data(), static_cast<std::size_t>(r));
        }
      }
      close(c);
    }).detach();
  }
}

void serve() {
  std::thread(serve_stream, 7, 7).detach();
  std::thread(serve_stream, 9, 9).detach();
  std::thread(serve_stream, 19, 19).detach();
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  auto a = addr_of("0.0.0.0", 7);
  if (bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind udp 7");
  std::printf("serving\n");
  std::fflush(stdout);
  std::vector<char> buf(65536);
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t r = recvfrom(u, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (r >= 0)
      sendto(u, buf.data(), static_cast<std::size_t>(r), 0, reinterpret_cast<sockaddr*>(&from),
             len);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: netbench serve | stream-in|stream-out HOST BYTES | rr|crr|udp-rr HOST "
                 "SECONDS [SIZE] | hold HOST N\n");
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "serve") serve();
  if (argc < 4) return 2;
  const char* host = argv[2];
  if (cmd == "stream-in")
    stream_in(host, std::strtoull(argv[3], nullptr, 10));
  else if (cmd == "stream-out")
    stream_out(host, std::strtoull(argv[3], nullptr, 10));
  else if (cmd == "rr")
    rr(host, std::atof(argv[3]), argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 64);
  else if (cmd == "crr")
    crr(host, std::atof(argv[3]));
  else if (cmd == "udp-rr")
    udp_rr(host, std::atof(argv[3]), argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 64);
  else if (cmd == "hold")
    hold(host, std::atoi(argv[3]));
  else
    return 2;
  return 0;
}
