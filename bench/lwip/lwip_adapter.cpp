// lwip_adapter: Debian's lwIP 2.1.3 (liblwip-dev) on a TAP device, serving the services
// bench/run.sh measures, so the same netbench client drives tapir, the kernel and lwIP.
//
//   lwip_adapter TAP ADDR/PREFIX     e.g. lwip_adapter tap0 10.0.0.2/24
//
// Services: TCP echo (7), discard (9), chargen (19, RFC 864 as tapir sends it), UDP echo
// (7), and lwIP's own ICMP echo and ARP. Everything runs in this one thread with lwIP's
// raw (callback) API: one poll(2) loop reads frames from the TAP into pbufs, hands them to
// ethernet_input, and runs lwIP's timers. lwIP's tcpip thread is never started, so no
// mailbox or lock sits between the device and the stack (the same shape as tapir).
//
// The TAP netif is this file's own: Debian's build ships lwIP's unix tapif, but in its
// NO_SYS=0 configuration tapif_init starts a second thread that reads each frame into a
// stack buffer, copies it into a pbuf and passes it to another thread, which would measure
// a thread handoff per frame rather than lwIP.
//
// lwIP's options are the ones Debian compiled liblwip.so with (its lwipopts.h, taken
// through pkg-config): they cannot be changed here without rebuilding the library.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"
}

namespace {

// One read(2) returns one frame; VLAN-tagged frames are 4 bytes longer than 1514.
constexpr std::uint16_t kMaxFrame = 1518;
// Frames handled per wakeup before lwIP's timers get a turn.
constexpr int kBatch = 64;

int g_tap = -1;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "lwip_adapter: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

int open_tap(const char* name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die("open /dev/net/tun (load the tun module, run as root)");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0)
    die(std::string("TUNSETIFF ") + name + " (is the TAP free and of type tap?)");
  return fd;
}

// ---- the netif: frames out of lwIP go to the TAP with one writev(2) ----

err_t tap_linkoutput(netif*, pbuf* p) {
  if (p == nullptr) return ERR_ARG;
  std::array<iovec, 16> iov{};
  std::size_t n = 0;
  for (pbuf* q = p; q != nullptr && n < iov.size(); q = q->next) iov[n++] = {q->payload, q->len};
  ssize_t w = writev(g_tap, iov.data(), static_cast<int>(n));
  return w == static_cast<ssize_t>(p->tot_len) ? ERR_OK : ERR_IF;
}

err_t tap_netif_init(netif* nif) {
  nif->name[0] = 't';
  nif->name[1] = 'p';
  nif->output = etharp_output;
  nif->linkoutput = tap_linkoutput;
  nif->mtu = 1500;
  nif->hwaddr_len = ETH_HWADDR_LEN;
  // A locally administered unicast address (IEEE 802: bit 1 of the first octet set).
  const std::array<std::uint8_t, 6> mac{0x02, 0x00, 0x5e, 0x10, 0x00, 0x02};
  std::copy(mac.begin(), mac.end(), nif->hwaddr);
  nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  return ERR_OK;
}

// Reads every frame waiting on the TAP (up to kBatch) straight into pbufs.
void tap_input(netif* nif) {
  static pbuf* spare = nullptr;  // kept across calls: the read that finds EAGAIN wastes none
  for (int i = 0; i < kBatch; ++i) {
    // PBUF_RAM, not PBUF_POOL: Debian's liblwip0 2.1.3+dfsg1-2 sizes its pool buffers for
    // 592 bytes (memp.c) while pbuf_alloc assumes 1536 (pbuf.c), so a full-size frame in a
    // pool pbuf overruns the heap (the shipped tapif does exactly that). See bench/README.md.
    if (spare == nullptr) spare = pbuf_alloc(PBUF_RAW, kMaxFrame, PBUF_RAM);
    if (spare == nullptr) return;
    std::array<iovec, 4> iov{};
    int n = 0;
    for (pbuf* q = spare; q != nullptr && n < 4; q = q->next) iov[n++] = {q->payload, q->len};
    ssize_t r = readv(g_tap, iov.data(), n);
    if (r <= 0) {
      if (r < 0 && errno != EAGAIN && errno != EINTR) die("read from the TAP");
      return;
    }
    pbuf* p = spare;
    spare = nullptr;
    pbuf_realloc(p, static_cast<std::uint16_t>(r));
    if (nif->input(p, nif) != ERR_OK) pbuf_free(p);
  }
}

// ---- closing: tcp_close can fail for lack of memory; lwIP's poll callback retries ----

err_t retry_close(void*, tcp_pcb* pcb) {
  (void)tcp_close(pcb);  // on failure lwIP calls again at the next poll interval
  return ERR_OK;
}

// Detaches every callback (the connection's state is gone) and closes.
void close_conn(tcp_pcb* pcb) {
  tcp_arg(pcb, nullptr);
  tcp_recv(pcb, nullptr);
  tcp_sent(pcb, nullptr);
  tcp_err(pcb, nullptr);
  if (tcp_close(pcb) != ERR_OK) tcp_poll(pcb, retry_close, 2);
}

// ---- discard (RFC 863): open the window for what arrived, drop it ----

err_t discard_recv(void*, tcp_pcb* pcb, pbuf* p, err_t) {
  if (p == nullptr) {
    close_conn(pcb);
    return ERR_OK;
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

err_t discard_accept(void*, tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  tcp_recv(pcb, discard_recv);
  return ERR_OK;
}

// ---- echo (RFC 862) ----
// Received data waits in `pending` until it fits in the send buffer; the receive window
// is opened only for bytes queued for sending, so a client that does not read its echoes
// is held back by TCP's window instead of by this program's memory (as tapir's echo).

struct Echo {
  pbuf* pending = nullptr;
  bool peer_closed = false;
};

void echo_free(Echo* e) {
  if (e->pending != nullptr) pbuf_free(e->pending);
  delete e;
}

// Returns false when the connection was aborted (the pcb is gone).
bool echo_flush(tcp_pcb* pcb, Echo* e) {
  while (e->pending != nullptr) {
    pbuf* q = e->pending;
    if (q->len == 0) {  // an empty pbuf inside a chain: drop it, keep the rest
      e->pending = q->next;
      if (q->next != nullptr) pbuf_ref(q->next);
      pbuf_free(q);
      continue;
    }
    std::uint16_t n = std::min<std::uint16_t>(q->len, tcp_sndbuf(pcb));
    if (n == 0) break;
    err_t err = tcp_write(pcb, q->payload, n, TCP_WRITE_FLAG_COPY);
    if (err == ERR_MEM) break;
    if (err != ERR_OK) {
      tcp_arg(pcb, nullptr);
      echo_free(e);
      tcp_abort(pcb);
      return false;
    }
    tcp_recved(pcb, n);
    e->pending = pbuf_free_header(q, n);
  }
  if (e->pending == nullptr && e->peer_closed) {
    echo_free(e);
    close_conn(pcb);
    return true;
  }
  tcp_output(pcb);
  return true;
}

err_t echo_recv(void* arg, tcp_pcb* pcb, pbuf* p, err_t) {
  auto* e = static_cast<Echo*>(arg);
  if (p == nullptr)
    e->peer_closed = true;
  else if (e->pending == nullptr)
    e->pending = p;
  else
    pbuf_cat(e->pending, p);
  return echo_flush(pcb, e) ? ERR_OK : ERR_ABRT;
}

err_t echo_sent(void* arg, tcp_pcb* pcb, std::uint16_t) {
  return echo_flush(pcb, static_cast<Echo*>(arg)) ? ERR_OK : ERR_ABRT;
}

void echo_err(void* arg, err_t) {
  if (arg != nullptr) echo_free(static_cast<Echo*>(arg));  // lwIP has freed the pcb
}

err_t echo_accept(void*, tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  tcp_nagle_disable(pcb);  // answers go out at once, as tapir's and the kernel's servers
  tcp_arg(pcb, new Echo{});
  tcp_recv(pcb, echo_recv);
  tcp_sent(pcb, echo_sent);
  tcp_err(pcb, echo_err);
  return ERR_OK;
}

// ---- chargen (RFC 864) ----
// Line n holds 72 of the 95 printable characters (space first) starting one later than
// line n-1, line 0 starting with '!', each line ended by CRLF: the pattern repeats every
// 95 lines. tapir and netbench generate the same stream; netbench checks every byte.

constexpr std::size_t kChargenLine = 72;
constexpr std::size_t kChargenPeriod = 95 * (kChargenLine + 2);

// One period followed by enough of the next that any offset has 65535 bytes after it.
const std::vector<char>& chargen_text() {
  static const std::vector<char> text = [] {
    std::vector<char> t;
    while (t.size() < kChargenPeriod + 65535) {
      std::size_t line = (t.size() / (kChargenLine + 2)) % 95;
      for (std::size_t col = 0; col < kChargenLine; ++col)
        t.push_back(static_cast<char>(32 + (line + col + 1) % 95));
      t.push_back('\r');
      t.push_back('\n');
    }
    return t;
  }();
  return text;
}

struct Chargen {
  std::size_t offset = 0;  // position within the period of the next byte to queue
};

// Fills the send buffer; false when the connection was aborted.
bool chargen_fill(tcp_pcb* pcb, Chargen* c) {
  for (;;) {
    std::uint16_t n = tcp_sndbuf(pcb);
    if (n == 0) break;
    err_t err = tcp_write(pcb, chargen_text().data() + c->offset, n, TCP_WRITE_FLAG_COPY);
    if (err == ERR_MEM) break;  // the segment queue is full: wait for acknowledgements
    if (err != ERR_OK) {
      tcp_arg(pcb, nullptr);
      delete c;
      tcp_abort(pcb);
      return false;
    }
    c->offset = (c->offset + n) % kChargenPeriod;
  }
  tcp_output(pcb);
  return true;
}

err_t chargen_sent(void* arg, tcp_pcb* pcb, std::uint16_t) {
  return chargen_fill(pcb, static_cast<Chargen*>(arg)) ? ERR_OK : ERR_ABRT;
}

err_t chargen_recv(void* arg, tcp_pcb* pcb, pbuf* p, err_t) {
  if (p == nullptr) {  // RFC 864: the service sends until the user closes
    delete static_cast<Chargen*>(arg);
    close_conn(pcb);
    return ERR_OK;
  }
  tcp_recved(pcb, p->tot_len);  // anything the user sends is thrown away
  pbuf_free(p);
  return ERR_OK;
}

void chargen_err(void* arg, err_t) { delete static_cast<Chargen*>(arg); }

err_t chargen_accept(void*, tcp_pcb* pcb, err_t err) {
  if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
  auto* c = new Chargen{};
  tcp_arg(pcb, c);
  tcp_recv(pcb, chargen_recv);
  tcp_sent(pcb, chargen_sent);
  tcp_err(pcb, chargen_err);
  return chargen_fill(pcb, c) ? ERR_OK : ERR_ABRT;
}

// ---- UDP echo (RFC 862): the datagram goes back in the pbuf it arrived in ----

void udp_echo_recv(void*, udp_pcb* pcb, pbuf* p, const ip_addr_t* addr, std::uint16_t port) {
  udp_sendto(pcb, p, addr, port);
  pbuf_free(p);
}

void listen_tcp(std::uint16_t port, tcp_accept_fn accept) {
  tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == nullptr || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) die("tcp_bind");
  tcp_pcb* listener = tcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
  if (listener == nullptr) die("tcp_listen");
  tcp_accept(listener, accept);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: lwip_adapter TAP ADDR/PREFIX   (e.g. tap0 10.0.0.2/24)\n");
    return 2;
  }
  std::string cidr = argv[2];
  auto slash = cidr.find('/');
  long prefix =
      slash == std::string::npos ? 24 : std::strtol(cidr.c_str() + slash + 1, nullptr, 10);
  in_addr a{};
  if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1 || prefix < 1 || prefix > 32) {
    std::fprintf(stderr, "lwip_adapter: bad address %s (want A.B.C.D/N)\n", argv[2]);
    return 2;
  }
  g_tap = open_tap(argv[1]);

  lwip_init();
  ip4_addr_t ip, mask, gw;
  ip.addr = a.s_addr;  // both in network order
  mask.addr = htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
  gw.addr = 0;
  static netif nif;
  if (netif_add(&nif, &ip, &mask, &gw, nullptr, tap_netif_init, ethernet_input) == nullptr)
    die("netif_add");
  netif_set_default(&nif);
  netif_set_up(&nif);
  netif_set_link_up(&nif);

  listen_tcp(7, echo_accept);
  listen_tcp(9, discard_accept);
  listen_tcp(19, chargen_accept);
  udp_pcb* u = udp_new_ip_type(IPADDR_TYPE_V4);
  if (u == nullptr || udp_bind(u, IP4_ADDR_ANY, 7) != ERR_OK) die("udp_bind");
  udp_recv(u, udp_echo_recv, nullptr);

  std::printf("lwip %s serving on %s (echo, discard, chargen, udp echo, icmp echo)\n",
              LWIP_VERSION_STRING, argv[2]);
  std::fflush(stdout);

  pollfd pfd{g_tap, POLLIN, 0};
  for (;;) {
    std::uint32_t sleep_ms = sys_timeouts_sleeptime();
    int timeout = sleep_ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE
                      ? 1000
                      : static_cast<int>(std::min<std::uint32_t>(sleep_ms, 1000));
    if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) die("poll");
    if (pfd.revents & POLLIN) tap_input(&nif);
    sys_check_timeouts();
  }
}
