// `tapir nc`: netcat over tapir's stack. TCP or UDP (-u), client (HOST PORT) or listener
// (-l PORT): stdin goes to the peer, the peer's data to stdout. On end of input the
// sending side is shut down (like `nc -N`) and the command ends when the peer has closed
// too (TCP), or after -w seconds without traffic (UDP).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "app/session.hpp"

namespace tapir::app {

namespace {

std::vector<FlagSpec> nc_specs() {
  auto specs = stack_flag_specs();
  specs.insert(specs.begin(),
               {
                   {"-l", "", "listen for one connection (or datagram peer) on PORT"},
                   {"-u", "", "UDP instead of TCP"},
                   {"-p", "PORT", "source port (client; default: ephemeral)"},
                   {"-w", "SECONDS", "quit after this long idle once input ended (default 2)"},
               });
  return specs;
}

bool write_all(int fd, Bytes b) {
  std::size_t off = 0;
  while (off < b.size()) {
    ssize_t n = ::write(fd, b.data() + off, b.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

class Netcat {
 public:
  Netcat(Session& s, bool udp, Duration idle)
      : s_(s), so_(s.stack->sockets()), udp_(udp), idle_(idle) {}

  int run_client(Ipv4Addr host, std::uint16_t port, std::uint16_t src_port) {
    fd_ = open_socket();
    if (src_port) bind_port(src_port);
    auto to = make_sockaddr(host, port);
    Errno err = so_.connect(fd_, to);
    if (err != Errno::Ok && err != Errno::InProgress) return fail_connect(host, port, err);
    peer_desc_ = host.to_string() + " port " + std::to_string(port);
    connected_ = udp_;
    return loop();
  }

  int run_listener(std::uint16_t port) {
    listen_fd_ = open_socket();
    bind_port(port);
    if (!udp_) {
      if (auto err = so_.listen(listen_fd_, 1); err != Errno::Ok)
        throw std::runtime_error("listen: " + std::string(describe(err)));
    } else {
      fd_ = listen_fd_;
    }
    std::fprintf(stderr, "tapir nc: listening on %s %s:%u\n", udp_ ? "udp" : "tcp",
                 s_.setup.config.address.addr.to_string().c_str(), port);
    return loop();
  }

 private:
  int open_socket() {
    auto fd = so_.socket(AF_INET, udp_ ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (!fd) throw std::runtime_error("socket: " + std::string(describe(fd.error())));
    return *fd;
  }
  void bind_port(std::uint16_t port) {
    int fd = listen_fd_ >= 0 ? listen_fd_ : fd_;
    auto addr = make_sockaddr(Ipv4Addr::any(), port);
    if (auto err = so_.bind(fd, addr); err != Errno::Ok) {
      throw std::runtime_error("bind to port " + std::to_string(port) + ": " +
                               std::string(describe(err)));
    }
  }
  int fail_connect(Ipv4Addr host, std::uint16_t port, Errno err) {
    std::fprintf(stderr, "tapir nc: connect to %s port %u (%s) failed: %s\n",
                 host.to_string().c_str(), port, udp_ ? "udp" : "tcp",
                 std::string(describe(err)).c_str());
    return 1;
  }

  int loop() {
    int rc = 0;
    s_.loop->watch(STDIN_FILENO, [this] { on_stdin(); });
    stdin_watched_ = true;
    s_.loop->on_tick([&](Instant now) -> std::optional<Instant> {
      if (!step(now, rc)) {
        s_.loop->stop();
        return std::nullopt;
      }
      if (stdin_eof_ && udp_) return last_activity_ + idle_;
      return std::nullopt;
    });
    last_activity_ = s_.clock.now();
    int sig = s_.loop->run();
    if (fd_ >= 0) (void)so_.close(fd_);
    if (listen_fd_ >= 0 && listen_fd_ != fd_) (void)so_.close(listen_fd_);
    s_.stack->poll(s_.clock.now());  // push out the FIN or RST of the close
    return sig ? 130 : rc;
  }

  // One iteration in the stack's thread. Returns false when the command is done.
  bool step(Instant now, int& rc) {
    if (!udp_ && listen_fd_ >= 0 && fd_ < 0) {
      sockaddr_in peer{};
      auto c = so_.accept(listen_fd_, &peer);
      if (!c) return true;
      fd_ = *c;
      connected_ = true;
      std::fprintf(stderr, "tapir nc: connection from %s:%u\n",
                   sockaddr_addr(peer).to_string().c_str(), sockaddr_port(peer));
    }
    if (fd_ < 0) return true;
    short r = so_.readiness(fd_);
    if (!connected_ && !udp_) {
      if (!(r & (POLLOUT | POLLERR | POLLHUP))) return true;
      int err = 0;
      socklen_t len = sizeof err;
      (void)so_.getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        std::fprintf(stderr, "tapir nc: connect to %s (tcp) failed: %s\n", peer_desc_.c_str(),
                     std::strerror(err));
        rc = 1;
        return false;
      }
      connected_ = true;
    }
    if (!pump_out(rc)) return false;
    if (!pump_in(now, rc)) return false;
    if (udp_ && stdin_eof_ && pending_.empty() && now >= last_activity_ + idle_) return false;
    return !(tcp_peer_done_ && stdin_eof_ && pending_.empty());
  }

  // stdin -> peer.
  bool pump_out(int& rc) {
    while (!pending_.empty()) {
      Result<std::size_t> n = Errno::Again;
      if (udp_ && !udp_peer_known()) return true;  // a UDP listener learns its peer first
      n = so_.send(fd_, Bytes(pending_), 0);
      if (!n) {
        if (n.error() == Errno::Again) return true;
        std::fprintf(stderr, "tapir nc: send: %s\n", std::string(describe(n.error())).c_str());
        rc = 1;
        return false;
      }
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(*n));
      if (udp_) pending_.clear();  // one datagram per read
    }
    if (!stdin_eof_ && !stdin_watched_) {
      s_.loop->watch(STDIN_FILENO, [this] { on_stdin(); });
      stdin_watched_ = true;
    }
    if (stdin_eof_ && !udp_ && !shut_wr_ && connected_) {
      shut_wr_ = true;
      (void)so_.shutdown(fd_, SHUT_WR);  // like nc -N: tell the peer we are done
    }
    return true;
  }

  bool udp_peer_known() { return so_.getpeername(fd_).has_value(); }

  // peer -> stdout.
  bool pump_in(Instant now, int& rc) {
    std::array<std::byte, 65536> buf;
    for (;;) {
      sockaddr_in from{};
      auto n = so_.recvfrom(fd_, MutBytes(buf), 0, &from);
      if (!n) {
        if (n.error() == Errno::Again) return true;
        std::fprintf(stderr, "tapir nc: %s\n", std::string(describe(n.error())).c_str());
        rc = 1;
        return false;
      }
      last_activity_ = now;
      if (udp_ && listen_fd_ >= 0 && !udp_peer_known()) (void)so_.connect(fd_, from);
      if (*n == 0 && !udp_) {
        tcp_peer_done_ = true;
        return true;
      }
      if (!write_all(STDOUT_FILENO, Bytes(buf).first(*n))) return false;
    }
  }

  void on_stdin() {
    if (!pending_.empty()) {
      s_.loop->unwatch(STDIN_FILENO);  // back-pressure: resume when the peer took it
      stdin_watched_ = false;
      return;
    }
    char buf[65536];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    last_activity_ = s_.clock.now();
    if (n <= 0) {
      stdin_eof_ = true;
      s_.loop->unwatch(STDIN_FILENO);
      stdin_watched_ = false;
      return;
    }
    pending_.assign(reinterpret_cast<std::byte*>(buf),
                    reinterpret_cast<std::byte*>(buf) + n);  // NOLINT
  }

  Session& s_;
  Sockets& so_;
  bool udp_;
  Duration idle_;
  int fd_ = -1;
  int listen_fd_ = -1;
  bool connected_ = false;
  bool stdin_eof_ = false;
  bool stdin_watched_ = false;
  bool shut_wr_ = false;
  bool tcp_peer_done_ = false;
  std::string peer_desc_;
  std::vector<std::byte> pending_;
  Instant last_activity_;
};

}  // namespace

int cmd_nc(int argc, char** argv) {
  auto specs = nc_specs();
  Args args(specs, argc, argv, 2);
  if (args.has("--help")) {
    std::fputs(
        usage_text(
            "nc", "[OPTIONS] HOST PORT | -l [OPTIONS] PORT",
            "Connects (or listens with -l) over tapir's stack, TCP or UDP (-u): stdin goes\n"
            "to the peer and the peer's data to stdout. End of input shuts down the sending\n"
            "side (like nc -N).",
            specs)
            .c_str(),
        stdout);
    return 0;
  }
  bool listen = args.has("-l");
  bool udp = args.has("-u");
  const auto& pos = args.positional();
  if (listen ? pos.size() != 1 : pos.size() != 2) {
    throw UsageError(listen ? "expected one PORT with -l" : "expected HOST PORT");
  }
  std::uint16_t port = static_cast<std::uint16_t>(parse_uint_flag("PORT", pos.back(), 1, 65535));
  std::uint16_t src =
      args.has("-p") ? static_cast<std::uint16_t>(parse_uint_flag("-p", *args.get("-p"), 1, 65535))
                     : 0;
  double w = 2;
  if (auto v = args.get("-w")) w = static_cast<double>(parse_uint_flag("-w", *v, 1, 86400));
  Ipv4Addr host;
  if (!listen) host = parse_ipv4_flag("HOST", pos[0]);
  Session s(args);
  Netcat nc(s, udp, Duration(static_cast<std::int64_t>(w * 1e6)));
  return listen ? nc.run_listener(port) : nc.run_client(host, port, src);
}

}  // namespace tapir::app
