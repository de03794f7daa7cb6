// The classic inetd services as in-process apps over the core socket API, TCP and UDP
// where the RFC defines both: echo (RFC 862), discard (RFC 863), chargen (RFC 864) and
// daytime (RFC 867); and the HTTP server app (app/http_server.hpp) as a service.
#include <netinet/tcp.h>

#include <array>
#include <chrono>
#include <ctime>
#include <string>
#include <unordered_map>

#include "app/http_server.hpp"
#include "app/services.hpp"
#include "tapir/random.hpp"

namespace tapir::app {

namespace {

// RFC 864: the 95 printable ASCII characters, space first; line n starts one character
// later than line n-1, and line 0 starts with '!'.
constexpr std::size_t kChargenLine = 72;
char chargen_char(std::uint64_t line, std::size_t col) {
  return static_cast<char>(32 + (line + col + 1) % 95);
}

// The chargen stream repeats every 95 lines of 74 octets (72 characters and CRLF). The
// TCP service sends straight out of this text, the period repeated to more than 64 KiB, so
// that any position in the stream starts a long contiguous run and a send is one copy.
constexpr std::size_t kChargenPeriod = 95 * (kChargenLine + 2);
const std::string& chargen_text() {
  static const std::string text = [] {
    std::string s;
    for (std::uint64_t line = 0; s.size() < 65536 + kChargenPeriod; ++line) {
      for (std::size_t col = 0; col < kChargenLine; ++col) s += chargen_char(line, col);
      s += "\r\n";
    }
    return s;
  }();
  return text;
}

// RFC 867 leaves the format open and suggests "Weekday, Month Day, Year HH:MM:SS-ZONE".
// The app layer may read the wall clock; the protocol core never does.
std::string daytime_now() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &tm);
  return buf;
}

enum class Kind { Echo, Discard, Chargen, Daytime };

// One TCP listener and its connections for one of the four services.
class StreamService final : public Service {
 public:
  StreamService(Kind kind, std::uint16_t port, std::string_view name)
      : kind_(kind), port_(port), name_(name) {}
  std::string_view name() const override { return name_; }

  Result<std::vector<std::string>> start(ServiceHost& host) override {
    std::string where;
    auto fd = host.open(*this, SOCK_STREAM, port_, where);
    if (!fd) return fd.error();
    listener_ = *fd;
    return std::vector<std::string>{where};
  }

  void on_ready(ServiceHost& host, int fd, short, Instant) override {
    if (fd == listener_) return accept_all(host);
    auto it = conns_.find(fd);
    if (it != conns_.end() && !serve(host, fd, it->second)) {
      conns_.erase(it);
      (void)host.close(fd);
    }
  }

 private:
  struct Conn {
    std::string out;  // bytes owed to the peer
    std::size_t off = 0;
    std::uint64_t sent = 0;     // chargen: octets of the stream sent so far
    bool done_sending = false;  // daytime: the answer is queued
  };

  void accept_all(ServiceHost& host) {
    for (;;) {
      auto c = host.sockets().accept(listener_, nullptr);
      if (!c) return;
      host.own(*c, *this);
      auto& conn = conns_[*c];
      if (kind_ == Kind::Daytime) conn.out = daytime_now();
      if (!serve(host, *c, conn)) {
        conns_.erase(*c);
        (void)host.close(*c);
      }
    }
  }

  // Moves data for one connection; false when it is finished and should be closed.
  bool serve(ServiceHost& host, int fd, Conn& c) {
    auto& so = host.sockets();
    if (!flush(so, fd, c)) return false;
    if (kind_ == Kind::Daytime) return c.off < c.out.size();  // closed once the time is sent
    if (kind_ == Kind::Chargen) return send_chargen(so, fd, c);
    // Read what the peer sent. Echo reads only while nothing is owed, so a peer that does
    // not read its echoes is flow-controlled by TCP's window instead of by our memory.
    for (;;) {
      if (kind_ == Kind::Echo && c.off < c.out.size()) return true;
      // Discard throws the octets away in the socket layer (MSG_TRUNC): no copy.
      auto n = so.recv(fd, MutBytes(buf_), kind_ == Kind::Discard ? MSG_TRUNC : 0);
      if (!n) return n.error() == Errno::Again;
      if (*n == 0) return kind_ == Kind::Echo && c.off < c.out.size();  // peer closed
      if (kind_ == Kind::Echo) {
        c.out.assign(reinterpret_cast<const char*>(buf_.data()), *n);  // NOLINT
        c.off = 0;
        if (!flush(so, fd, c)) return false;
      }
    }
  }

  static bool flush(Sockets& so, int fd, Conn& c) {
    while (c.off < c.out.size()) {
      auto n = so.send(fd, as_bytes(std::string_view(c.out).substr(c.off)), 0);
      if (!n) return n.error() == Errno::Again;
      c.off += *n;
    }
    c.out.clear();
    c.off = 0;
    return true;
  }

  // Fills the send buffer from the chargen text until it is full (EAGAIN); what the peer
  // sends is discarded (RFC 864), and its close ends the service.
  bool send_chargen(Sockets& so, int fd, Conn& c) {
    const std::string& text = chargen_text();
    for (;;) {
      auto at = static_cast<std::size_t>(c.sent % kChargenPeriod);
      auto n = so.send(fd, as_bytes(std::string_view(text).substr(at)), 0);
      if (!n) {
        if (n.error() != Errno::Again) return false;
        break;
      }
      c.sent += *n;
    }
    for (;;) {
      auto n = so.recv(fd, MutBytes(buf_), 0);
      if (!n) return n.error() == Errno::Again;
      if (*n == 0) return false;  // the peer closed: so do we
    }
  }

  Kind kind_;
  std::uint16_t port_;
  std::string_view name_;
  int listener_ = -1;
  std::unordered_map<int, Conn> conns_;
  std::array<std::byte, 65536> buf_{};
};

// discard, chargen and daytime over UDP (echo over UDP is make_udp_echo()).
class DatagramService final : public Service {
 public:
  DatagramService(Kind kind, std::uint16_t port, std::string_view name, std::uint64_t seed)
      : kind_(kind), port_(port), name_(name), rng_(seed) {}
  std::string_view name() const override { return name_; }

  Result<std::vector<std::string>> start(ServiceHost& host) override {
    std::string where;
    auto fd = host.open(*this, SOCK_DGRAM, port_, where);
    if (!fd) return fd.error();
    return std::vector<std::string>{where};
  }

  void on_ready(ServiceHost& host, int fd, short, Instant) override {
    auto& so = host.sockets();
    for (;;) {
      sockaddr_in from{};
      auto n = so.recvfrom(fd, MutBytes(buf_), 0, &from);
      if (!n) {
        if (n.error() == Errno::Again) return;
        continue;
      }
      std::string reply;
      if (kind_ == Kind::Daytime) reply = daytime_now();
      if (kind_ == Kind::Chargen) {
        // RFC 864 (UDP): answer each datagram with 0 to 512 characters of the pattern.
        std::size_t len = rng_.below(513);
        for (std::size_t i = 0; i < len; ++i) reply += chargen_char(lines_, i % kChargenLine);
        ++lines_;
      }
      if (kind_ != Kind::Discard) (void)so.sendto(fd, as_bytes(reply), 0, &from);
    }
  }

 private:
  Kind kind_;
  std::uint16_t port_;
  std::string_view name_;
  SeededRng rng_;
  std::uint64_t lines_ = 0;
  std::array<std::byte, 65535> buf_{};
};

class HttpService final : public Service {
 public:
  explicit HttpService(HttpConfig cfg) : cfg_(std::move(cfg)) {}
  std::string_view name() const override { return "http"; }
  Result<std::vector<std::string>> start(ServiceHost& host) override {
    server_ = std::make_unique<HttpServer>(host.sockets(), cfg_);
    if (auto err = server_->start(); err != Errno::Ok) return err;
    host.own(server_->listener(), *this);
    return std::vector<std::string>{"tcp " + host.stack().config().address.addr.to_string() + ":" +
                                    std::to_string(cfg_.port) + " (root " + cfg_.root + ")"};
  }
  void on_ready(ServiceHost& host, int fd, short, Instant) override {
    server_->on_event(fd);
    // Claim connections the server accepted; release the ones it closed.
    server_->for_each_connection([&](int c) { host.own(c, *this); });
    for (int c : server_->take_closed()) host.disown(c);
  }

 private:
  HttpConfig cfg_;
  std::unique_ptr<HttpServer> server_;
};

constexpr std::uint16_t kEchoPort = 7, kDiscardPort = 9, kDaytimePort = 13, kChargenPort = 19;

}  // namespace

std::vector<std::unique_ptr<Service>> make_inet_service(std::string_view name,
                                                        const ServiceOptions& opt) {
  std::vector<std::unique_ptr<Service>> out;
  // UDP first: a port conflict there (the usual one) then leaves nothing half-started.
  auto both = [&](Kind k, std::uint16_t port, std::string_view n) {
    out.push_back(std::make_unique<DatagramService>(k, port, n, opt.seed));
    out.push_back(std::make_unique<StreamService>(k, port, n));
  };
  if (name == "echo") {
    out.push_back(make_udp_echo(kEchoPort));
    out.push_back(std::make_unique<StreamService>(Kind::Echo, kEchoPort, "echo"));
  } else if (name == "discard") {
    both(Kind::Discard, kDiscardPort, "discard");
  } else if (name == "chargen") {
    both(Kind::Chargen, kChargenPort, "chargen");
  } else if (name == "daytime") {
    both(Kind::Daytime, kDaytimePort, "daytime");
  } else if (name == "http") {
    out.push_back(
        std::make_unique<HttpService>(HttpConfig{.root = opt.http_root, .port = opt.http_port}));
  }
  return out;
}

}  // namespace tapir::app
