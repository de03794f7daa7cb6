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
//   netbench hold HOST N [SRC,...]       open N echo connections (from the source addresses
//                                        in turn), verify each, report, hold
//   netbench tap-in  TAP SECONDS plain|vnet   the raw TAP limit into a stack (below)
//   netbench tap-out TAP SECONDS plain|vnet   the raw TAP limit out of a stack
//
// Each measurement prints one JSON object on stdout: {"test":..., "value":..., "unit":...,
// "p50_us":..., "p99_us":...}. Every test is bounded in time and verifies its data.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
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
        std::fprintf(stderr, "netbench: chargen pattern broken near byte %" PRIu64 "\n",
                     got + done);
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

// Opens connections [first, first + n) to the echo service, each from the next of `from`
// (none: the kernel picks), and checks one echoed octet on each.
std::vector<int> open_held(const char* host, int first, int n,
                           const std::vector<sockaddr_in>& from) {
  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(n));
  for (int i = first; i < first + n; ++i) {
    if (from.empty()) {
      fds.push_back(tcp_connect(host, 7));
    } else {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      int one = 1;
      // The port is chosen at connect(2) for the whole 4-tuple, not at bind(2).
      setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      const auto& src = from[static_cast<std::size_t>(i) % from.size()];
      if (bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) die("hold: bind");
      auto a = addr_of(host, 7);
      if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("hold: connect");
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fds.push_back(fd);
    }
    char b = static_cast<char>('a' + i % 26), r = 0;
    write_all(fds.back(), &b, 1);
    read_exact(fds.back(), &r, 1);
    if (r != b) die("hold: echo differs");
  }
  return fds;
}

// Holds n verified connections until stdin closes. Connections beyond one source
// address's ephemeral ports come from the comma-separated `sources` in turn; beyond this
// process's descriptor limit (RLIMIT_NOFILE, which an unprivileged sandbox cannot raise)
// they are split over child processes, each holding its share until stdin closes.
void hold(const char* host, int n, const char* sources) {
  std::vector<sockaddr_in> from;
  for (std::string s = sources ? sources : ""; !s.empty();) {
    auto comma = s.find(',');
    from.push_back(addr_of(s.substr(0, comma).c_str(), 0));
    s = comma == std::string::npos ? "" : s.substr(comma + 1);
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;  // the soft limit may rise to the hard one
  setrlimit(RLIMIT_NOFILE, &lim);
  const int per_process = static_cast<int>(std::min<rlim_t>(lim.rlim_max, 1 << 20)) - 64;
  if (per_process <= 0) die("hold: no descriptors to spare (RLIMIT_NOFILE)");
  auto t0 = Clock::now();
  int ready[2];
  if (pipe(ready) != 0) die("hold: pipe");
  std::vector<pid_t> children;
  for (int first = 0; first < n; first += per_process) {
    const int count = std::min(per_process, n - first);
    pid_t pid = fork();
    if (pid < 0) die("hold: fork");
    if (pid == 0) {
      close(ready[0]);
      auto fds = open_held(host, first, count, from);
      char ok = 'k';
      write_all(ready[1], &ok, 1);
      char c;
      (void)read(0, &c, 1);  // hold until stdin closes
      for (int fd : fds) close(fd);
      std::_Exit(0);
    }
    children.push_back(pid);
  }
  close(ready[1]);
  std::size_t done = 0;
  for (char c; done < children.size() && read(ready[0], &c, 1) == 1;) ++done;
  if (done < children.size()) die("hold: a connecting process failed");
  report("hold", n, "connections");
  std::fprintf(stderr, "netbench: %d connections open and verified in %.2f s (%zu processes)\n", n,
               secs_since(t0), children.size());
  char c;
  (void)read(0, &c, 1);  // hold until stdin closes; the children see the same end of file
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
}

// ---- the raw TAP limit: how fast a TAP moves TCP-sized frames with no stack at all ----
//
// tap-in: a kernel-side thread sends 64 KB TCP/IPv4 superframes on a packet socket with a
// virtio-net header (PACKET_VNET_HDR) into the TAP, as the kernel's TCP does; the kernel
// segments them to 1514-byte frames for a plain TAP (and computes their checksums), or
// hands them whole to a vnet TAP that offers TSO4. This program reads the TAP as a stack
// would. tap-out: this program writes frames (1514-byte, or 64 KB superframes with a vnet
// header) to the TAP as fast as the kernel takes them; a kernel-side thread counts them on
// a packet socket bound to the TAP (reading only their headers); the frames are addressed
// to a MAC the kernel does not own, so IPv4 drops them right after the packet socket.
// Both report TCP payload (1460 bytes per 1514-byte frame) in Gbit/s, the unit of the
// stream workloads. A window of 512 KiB between the two threads stands in for TCP's flow
// control, so neither side burns CPU on frames that would be dropped.

constexpr std::size_t kMss = 1460;
constexpr std::size_t kHeaders = 14 + 20 + 20;  // Ethernet, IPv4, TCP (no options)
constexpr std::size_t kSuperSegments = 44;      // 44 * 1460 + 40 fits an IPv4 datagram
constexpr std::uint64_t kWindow = std::uint64_t{512} * 1024;
constexpr std::array<std::uint8_t, 6> kDstMac{0x02, 0x00, 0x5e, 0x77, 0x00, 0x01};
constexpr std::array<std::uint8_t, 6> kSrcMac{0x02, 0x00, 0x5e, 0x77, 0x00, 0x02};

void put16(std::vector<char>& f, std::size_t at, std::uint16_t v) {
  f[at] = static_cast<char>(v >> 8);
  f[at + 1] = static_cast<char>(v & 0xff);
}

// An Ethernet + IPv4 + TCP frame carrying `payload` bytes from 10.9.0.2:5001 to
// 10.9.0.1:5002, IPv4 checksum set, TCP checksum left to the device (the partial sum of
// the pseudo-header, as a checksum-offloading sender leaves it).
std::vector<char> tcp_frame(std::size_t payload) {
  std::vector<char> f(kHeaders + payload, 'p');
  std::copy(kDstMac.begin(), kDstMac.end(), f.begin());
  std::copy(kSrcMac.begin(), kSrcMac.end(), f.begin() + 6);
  put16(f, 12, 0x0800);
  const std::uint8_t ip[20] = {0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 9, 0, 2, 10, 9, 0, 1};
  std::copy(ip, ip + 20, f.begin() + 14);
  put16(f, 16, static_cast<std::uint16_t>(40 + payload));
  std::uint32_t sum = 0;
  for (std::size_t i = 14; i < 34; i += 2)
    sum += static_cast<std::uint32_t>((static_cast<std::uint8_t>(f[i]) << 8) |
                                      static_cast<std::uint8_t>(f[i + 1]));
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(f, 24, static_cast<std::uint16_t>(~sum));
  put16(f, 34, 5001);
  put16(f, 36, 5002);
  f[46] = 0x50;  // data offset 5 words
  f[47] = 0x18;  // ACK|PSH
  put16(f, 48, 65535);
  std::uint32_t ps = 0x0a09 + 0x0002 + 0x0a09 + 0x0001 + 6 + 20 + payload;
  while (ps >> 16) ps = (ps & 0xffff) + (ps >> 16);
  put16(f, 50, static_cast<std::uint16_t>(ps));
  std::fill(f.begin() + 38, f.begin() + 46, 0);  // seq, ack
  return f;
}

// The virtio-net header (virtio spec §5.1.6, struct virtio_net_hdr without num_buffers) in
// host byte order, as a TAP and a packet socket use it on a little-endian host.
// <linux/virtio_net.h> does not compile as C++ (a field named `class`).
struct VnetHeader {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len;
  std::uint16_t gso_size;
  std::uint16_t csum_start;
  std::uint16_t csum_offset;
};
static_assert(sizeof(VnetHeader) == 10);
constexpr std::uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr std::uint8_t kGsoTcpv4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4

VnetHeader gso_header() {
  VnetHeader h{};
  h.flags = kNeedsCsum;
  h.gso_type = kGsoTcpv4;
  h.hdr_len = kHeaders;
  h.gso_size = kMss;
  h.csum_start = 34;
  h.csum_offset = 16;
  return h;
}

int open_tap(const char* name, bool vnet) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) die(std::string("TUNSETIFF ") + name);
  if (vnet) {
    int size = sizeof(VnetHeader);
    if (ioctl(fd, TUNSETVNETHDRSZ, &size) != 0) die("TUNSETVNETHDRSZ");
  }
  // Offloads outlive the file on a persistent TAP: a plain run after a vnet one must clear
  // them, or the kernel would keep handing it superframes.
  if (ioctl(fd, TUNSETOFFLOAD, vnet ? TUN_F_CSUM | TUN_F_TSO4 : 0) != 0) die("TUNSETOFFLOAD");
  return fd;
}

sockaddr_ll link_addr(const char* tap) {
  sockaddr_ll a{};
  a.sll_family = AF_PACKET;
  a.sll_protocol = htons(ETH_P_IP);
  a.sll_ifindex = static_cast<int>(if_nametoindex(tap));
  if (a.sll_ifindex == 0) die(std::string("no interface ") + tap);
  a.sll_halen = 6;
  std::copy(kDstMac.begin(), kDstMac.end(), a.sll_addr);
  return a;
}

// Waits while more than kWindow bytes are in flight from `sent` to `done`. Frames the
// kernel dropped never arrive: after 20 ms without progress they are written off.
void wait_window(std::uint64_t& sent, const std::atomic<std::uint64_t>& done,
                 const std::atomic<bool>& stop) {
  auto since = Clock::now();
  std::uint64_t seen = done.load(std::memory_order_acquire);
  while (sent - seen > kWindow && !stop.load(std::memory_order_relaxed)) {
    timespec ts{0, 20000};
    nanosleep(&ts, nullptr);
    std::uint64_t now = done.load(std::memory_order_acquire);
    if (now != seen) {
      seen = now;
      since = Clock::now();
    } else if (secs_since(since) > 0.02) {
      sent = seen;
    }
  }
}

// Frames from tcp_frame are recognised by their destination MAC and EtherType.
bool ours(const char* frame, std::size_t len) {
  return len >= kHeaders && std::memcmp(frame, kDstMac.data(), 6) == 0 && frame[12] == 0x08 &&
         frame[13] == 0x00;
}

void tap_in(const char* tap, double seconds, bool vnet) {
  int fd = open_tap(tap, vnet);
  std::atomic<std::uint64_t> got{0};
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    int ps = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: this socket receives nothing
    int one = 1;
    if (ps < 0 || setsockopt(ps, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0)
      die("packet socket with PACKET_VNET_HDR");
    sockaddr_ll to = link_addr(tap);
    VnetHeader h = gso_header();
    std::vector<char> frame = tcp_frame(kSuperSegments * kMss);
    iovec iov[2] = {{&h, sizeof h}, {frame.data(), frame.size()}};
    std::array<mmsghdr, 4> msgs{};
    for (auto& m : msgs) {
      m.msg_hdr.msg_name = &to;
      m.msg_hdr.msg_namelen = sizeof to;
      m.msg_hdr.msg_iov = iov;
      m.msg_hdr.msg_iovlen = 2;
    }
    std::uint64_t sent = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      wait_window(sent, got, stop);
      int n = sendmmsg(ps, msgs.data(), msgs.size(), 0);
      if (n < 0 && errno != ENOBUFS && errno != EAGAIN) die("sendmmsg on the packet socket");
      if (n > 0) sent += static_cast<std::uint64_t>(n) * kSuperSegments * kMss;
    }
    close(ps);
  });
  std::vector<char> buf(sizeof(VnetHeader) + 65536);
  const std::size_t skip = vnet ? sizeof(VnetHeader) : 0;
  std::uint64_t payload = 0, foreign = 0;
  pollfd pfd{fd, POLLIN, 0};
  auto t0 = Clock::now();
  while (secs_since(t0) < seconds) {
    ssize_t r = read(fd, buf.data(), buf.size());
    if (r < 0) {
      if (errno != EAGAIN && errno != EINTR) die("read from the TAP");
      poll(&pfd, 1, 10);
      continue;
    }
    std::size_t len = static_cast<std::size_t>(r);
    if (len >= skip + kHeaders && ours(buf.data() + skip, len - skip)) {
      payload += len - skip - kHeaders;
      got.store(payload, std::memory_order_release);
    } else {
      ++foreign;  // the kernel's own frames on the link (IPv6 router solicitations)
    }
  }
  double s = secs_since(t0);
  stop = true;
  sender.join();
  close(fd);
  if (payload == 0) {
    std::fprintf(stderr, "netbench: tap-in: no frame arrived (%llu foreign)\n",
                 static_cast<unsigned long long>(foreign));
    std::exit(1);
  }
  report(vnet ? "raw_tap_in_vnet" : "raw_tap_in", static_cast<double>(payload) * 8 / s / 1e9,
         "Gbit/s");
}

void tap_out(const char* tap, double seconds, bool vnet) {
  int fd = open_tap(tap, vnet);
  std::atomic<std::uint64_t> counted{0};
  std::atomic<bool> stop{false};
  int ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  int one = 1, big = 16 << 20;
  sockaddr_ll at = link_addr(tap);
  at.sll_protocol = htons(ETH_P_ALL);
  if (ps < 0 || setsockopt(ps, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0 ||
      setsockopt(ps, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0 ||
      bind(ps, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0)
    die("packet socket on " + std::string(tap));
  std::thread counter([&] {
    constexpr int kBatch = 64;
    std::array<std::array<char, 64>, kBatch> heads{};
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {heads[i].data(), heads[i].size()};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    pollfd pfd{ps, POLLIN, 0};
    std::uint64_t payload = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      // MSG_TRUNC: only the headers are copied, msg_len is the frame's full length.
      int n = recvmmsg(ps, msgs.data(), kBatch, MSG_TRUNC | MSG_DONTWAIT, nullptr);
      if (n <= 0) {
        poll(&pfd, 1, 10);
        continue;
      }
      for (int i = 0; i < n; ++i)
        if (ours(heads[i].data(), msgs[i].msg_len)) payload += msgs[i].msg_len - kHeaders;
      counted.store(payload, std::memory_order_release);
    }
  });
  std::vector<char> out;
  if (vnet) {
    VnetHeader h = gso_header();
    out.assign(reinterpret_cast<const char*>(&h), reinterpret_cast<const char*>(&h) + sizeof h);
  }
  std::vector<char> frame = tcp_frame(vnet ? kSuperSegments * kMss : kMss);
  out.insert(out.end(), frame.begin(), frame.end());
  const std::uint64_t per_write = frame.size() - kHeaders;
  std::uint64_t sent = 0;
  pollfd pfd{fd, POLLOUT, 0};
  auto t0 = Clock::now();
  while (secs_since(t0) < seconds) {
    wait_window(sent, counted, stop);
    if (write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size())) {
      sent += per_write;
    } else if (errno == EAGAIN || errno == ENOBUFS) {
      poll(&pfd, 1, 10);
    } else {
      die("write to the TAP");
    }
  }
  double s = secs_since(t0);
  std::uint64_t payload = counted.load(std::memory_order_acquire);
  stop = true;
  counter.join();
  close(ps);
  close(fd);
  if (payload == 0) {
    std::fprintf(stderr, "netbench: tap-out: the kernel counted no frame\n");
    std::exit(1);
  }
  report(vnet ? "raw_tap_out_vnet" : "raw_tap_out", static_cast<double>(payload) * 8 / s / 1e9,
         "Gbit/s");
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

// A command-line number; anything that is not one ends the program with the usage status.
double number(const char* s) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s || *end != '\0') {
    std::fprintf(stderr, "netbench: '%s' is not a number\n", s);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: netbench serve | stream-in|stream-out HOST BYTES | rr|crr|udp-rr HOST "
        "SECONDS [SIZE] | hold HOST N [SRC,...] | tap-in|tap-out TAP SECONDS plain|vnet\n");
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
    rr(host, number(argv[3]), argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 64);
  else if (cmd == "crr")
    crr(host, number(argv[3]));
  else if (cmd == "udp-rr")
    udp_rr(host, number(argv[3]), argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 64);
  else if (cmd == "hold")
    hold(host, static_cast<int>(number(argv[3])), argc > 4 ? argv[4] : nullptr);
  else if ((cmd == "tap-in" || cmd == "tap-out") && argc > 4) {
    std::string mode = argv[4];
    if (mode != "plain" && mode != "vnet") return 2;
    (cmd == "tap-in" ? tap_in : tap_out)(host, number(argv[3]), mode == "vnet");
  } else
    return 2;
  return 0;
}
