#include "app/control.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "app/args.hpp"
#include "app/json.hpp"
#include "tapir/socket.hpp"

namespace tapir::app {

namespace {

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// ss(8) spells the TCP states its own way; tapir's table follows it.
std::string ss_state(const SocketInfo& r) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"ESTABLISHED", "ESTAB"},     {"SYN-SENT", "SYN-SENT"},     {"SYN-RECEIVED", "SYN-RECV"},
      {"FIN-WAIT-1", "FIN-WAIT-1"}, {"FIN-WAIT-2", "FIN-WAIT-2"}, {"TIME-WAIT", "TIME-WAIT"},
      {"CLOSED", "CLOSE"},          {"CLOSE-WAIT", "CLOSE-WAIT"}, {"LAST-ACK", "LAST-ACK"},
      {"LISTEN", "LISTEN"},         {"CLOSING", "CLOSING"}};
  for (auto [rfc, ss] : kNames) {
    if (r.state == rfc) return ss;
  }
  return r.state;
}

std::string endpoint(Ipv4Addr a, std::uint16_t port) {
  return a.to_string() + ":" + (port ? std::to_string(port) : "*");
}

double ms(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

std::string render_ss(Stack& stack, bool info, bool json) {
  auto rows = stack.sockets().table();
  if (json) {
    JsonWriter j;
    j.begin_object().key("sockets").begin_array();
    for (const auto& r : rows) {
      j.begin_object();
      j.key("fd").value(r.fd);
      j.key("proto").value(r.type == SOCK_STREAM ? "tcp" : "udp");
      j.key("state").value(r.state);
      j.key("recv_q").value(static_cast<std::uint64_t>(r.recv_q));
      j.key("send_q").value(static_cast<std::uint64_t>(r.send_q));
      j.key("local").value(endpoint(r.local_addr, r.local_port));
      j.key("peer").value(endpoint(r.peer_addr, r.peer_port));
      if (r.rtt) j.key("rtt_ms").value(ms(*r.rtt));
      if (r.rto) j.key("rto_ms").value(ms(*r.rto));
      if (r.cwnd) j.key("cwnd").value(static_cast<std::uint64_t>(*r.cwnd));
      if (!r.congestion.empty()) j.key("congestion").value(r.congestion);
      j.end_object();
    }
    j.end_array().end_object();
    return j.str() + "\n";
  }
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-5s %-10s %6s %6s %-21s %-21s\n", "Netid", "State", "Recv-Q",
                "Send-Q", "Local Address:Port", "Peer Address:Port");
  out += line;
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%-5s %-10s %6zu %6zu %-21s %-21s\n",
                  r.type == SOCK_STREAM ? "tcp" : "udp", ss_state(r).c_str(), r.recv_q, r.send_q,
                  endpoint(r.local_addr, r.local_port).c_str(),
                  endpoint(r.peer_addr, r.peer_port).c_str());
    out += line;
    if (info && r.type == SOCK_STREAM && r.rto) {
      // As Linux's `ss -i`, the congestion control first.
      std::snprintf(line, sizeof line, "\t %s rtt:%.3fms rto:%.0fms cwnd:%zu\n",
                    r.congestion.c_str(), r.rtt ? ms(*r.rtt) : 0.0, ms(*r.rto), r.cwnd.value_or(0));
      out += line;
    }
  }
  return out;
}

std::string render_stats(Stack& stack, bool json) {
  std::string out;
  JsonWriter j;
  std::string group;
  if (json) j.begin_object();
  visit_counters(stack.stats(), [&](std::string_view g, std::string_view name,
                                    std::string_view help, std::uint64_t v) {
    if (g != group) {
      if (json) {
        if (!group.empty()) j.end_object();
        j.key(g).begin_object();
      } else {
        out += std::string(g) + ":\n";
      }
      group = g;
    }
    if (json) {
      j.key(name).value(v);
    } else {
      out +=
          "    " + std::to_string(v) + " " + std::string(help) + "  (" + std::string(name) + ")\n";
    }
  });
  if (json) {
    if (!group.empty()) j.end_object();
    j.end_object();
    return j.str() + "\n";
  }
  return out;
}

std::string render_arp(Stack& stack, bool json) {
  auto now = stack.now();
  auto rows = stack.neighbors(now);
  if (json) {
    JsonWriter j;
    j.begin_object().key("neighbors").begin_array();
    for (const auto& n : rows) {
      j.begin_object();
      j.key("ip").value(n.ip.to_string());
      if (n.mac)
        j.key("lladdr").value(n.mac->to_string());
      else
        j.key("lladdr").null();
      j.key("state").value(n.mac ? "REACHABLE" : "INCOMPLETE");
      j.key("expires_in_s").value(ms(n.expires_in) / 1000.0);
      j.key("pending").value(static_cast<std::uint64_t>(n.pending));
      j.end_object();
    }
    j.end_array().end_object();
    return j.str() + "\n";
  }
  std::string out;
  for (const auto& n : rows) {
    // As `ip neigh`: "10.0.0.1 dev tap0 lladdr 52:54:00:12:34:56 REACHABLE".
    out += n.ip.to_string();
    if (n.mac) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " lladdr %s REACHABLE (expires in %.0fs)",
                    n.mac->to_string().c_str(), ms(n.expires_in) / 1000.0);
      out += buf;
    } else {
      out += " INCOMPLETE (" + std::to_string(n.pending) + " packets waiting)";
    }
    out += "\n";
  }
  return out;
}

sockaddr_un unix_addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) {
    throw std::runtime_error("control socket path too long (max " +
                             std::to_string(sizeof a.sun_path - 1) + " characters): " + path);
  }
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

}  // namespace

std::string default_control_path(std::string_view tap_name) {
  return "/run/tapir/" + std::string(tap_name) + ".sock";
}

std::string render_control(Stack& stack, std::string_view request) {
  auto w = words(request);
  bool json = std::find(w.begin(), w.end(), "--json") != w.end();
  bool info = std::find(w.begin(), w.end(), "-i") != w.end();
  if (w.empty()) return "error: empty request\n";
  if (w[0] == "ss") return render_ss(stack, info, json);
  if (w[0] == "stats") return render_stats(stack, json);
  if (w[0] == "arp") return render_arp(stack, json);
  return "error: unknown request '" + w[0] + "' (ss, stats, arp)\n";
}

ControlServer::ControlServer(std::string path, Stack& stack, EventLoop& loop)
    : path_(std::move(path)), stack_(stack), loop_(loop) {
  auto addr = unix_addr(path_);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("control socket: ") + std::strerror(errno));
  auto fail = [&](int err) {
    ::close(fd_);
    throw std::runtime_error("control socket " + path_ + ": " + std::strerror(err) +
                             " (is the directory writable? pass --control PATH to choose another)");
  };
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EADDRINUSE) fail(errno);
    // A socket file exists: refuse if a live tapir answers on it, else remove the stale one.
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(probe);
    if (live) {
      ::close(fd_);
      throw std::runtime_error(
          "control socket " + path_ +
          " belongs to a running tapir; stop it or pass another --control PATH");
    }
    ::unlink(path_.c_str());
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) fail(errno);
  }
  if (::listen(fd_, 16) != 0) fail(errno);
  loop_.watch(fd_, [this] { on_accept(); });
}

ControlServer::~ControlServer() {
  for (int c : clients_) {
    loop_.unwatch(c);
    ::close(c);
  }
  loop_.unwatch(fd_);
  ::close(fd_);
  ::unlink(path_.c_str());
}

void ControlServer::on_accept() {
  for (;;) {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return;
    clients_.push_back(c);
    loop_.watch(c, [this, c] { on_client(c); });
  }
}

void ControlServer::on_client(int fd) {
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  std::string answer =
      n > 0 ? render_control(stack_, std::string_view(buf, static_cast<std::size_t>(n)))
            : std::string("error: empty request\n");
  // The answer is small; a blocking write keeps the protocol simple.
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::size_t off = 0;
  while (off < answer.size()) {
    ssize_t w = ::write(fd, answer.data() + off, answer.size() - off);
    if (w <= 0) break;
    off += static_cast<std::size_t>(w);
  }
  loop_.unwatch(fd);
  ::close(fd);
  std::erase(clients_, fd);
}

namespace {

int control_command(std::string_view name, std::string_view description, int argc, char** argv,
                    bool has_info) {
  std::vector<FlagSpec> specs = {
      {"--control", "PATH",
       "the control socket of the running stack (default /run/tapir/tap0.sock)"},
      {"--tap", "NAME", "find the control socket of the stack on this TAP (default tap0)"},
      {"--json", "", "print JSON instead of a table"},
      {"--help", "", "show this help"},
  };
  if (has_info) {
    specs.insert(specs.begin() + 2, {"-i", "", "show TCP internals: congestion, rtt, rto, cwnd"});
  }
  Args args(specs, argc, argv, 2);
  if (args.has("--help")) {
    std::fputs(usage_text(name, "[OPTIONS]", description, specs).c_str(), stdout);
    return 0;
  }
  if (!args.positional().empty())
    throw UsageError("unexpected argument '" + args.positional()[0] + "'");
  std::string path = args.get_or("--control", default_control_path(args.get_or("--tap", "tap0")));
  std::string request(name);
  if (args.has("-i")) request += " -i";
  if (args.has("--json")) request += " --json";
  auto addr = unix_addr(path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot reach a running tapir at " + path + ": " + std::strerror(err) +
                             " (start `tapir serve`, or pass --control PATH)");
  }
  request += "\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    throw std::runtime_error("control socket " + path + ": write failed");
  }
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (answer.starts_with("error:")) {
    std::fputs(answer.c_str(), stderr);
    return 1;
  }
  std::fputs(answer.c_str(), stdout);
  return 0;
}

}  // namespace

int cmd_ss(int argc, char** argv) {
  return control_command("ss", "Prints the socket table of a running tapir, like `ss -tuan`.", argc,
                         argv, true);
}
int cmd_stats(int argc, char** argv) {
  return control_command("stats",
                         "Prints every counter of a running tapir, by layer, like `netstat -s`.",
                         argc, argv, false);
}
int cmd_arp(int argc, char** argv) {
  return control_command("arp", "Prints the neighbour cache of a running tapir, like `ip neigh`.",
                         argc, argv, false);
}

}  // namespace tapir::app
