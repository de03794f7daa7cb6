// `tapir get URL`: an HTTP/1.1 GET over tapir's stack, the body to stdout, a progress bar
// on stderr when stderr is a terminal. Exit 0 for a 2xx answer, 1 otherwise.
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>

#include "app/commands.hpp"
#include "app/http.hpp"
#include "app/session.hpp"

namespace tapir::app {

namespace {

struct Url {
  Ipv4Addr host;
  std::string host_text;
  std::uint16_t port = 80;
  std::string path = "/";
};

Url parse_url(std::string_view s) {
  Url u;
  auto bad = [&](std::string_view why) {
    throw UsageError("URL '" + std::string(s) + "': " + std::string(why) +
                     " (expected http://ADDRESS[:PORT]/PATH, e.g. http://10.0.0.1/index.html)");
  };
  if (!s.starts_with("http://")) bad("only http:// is supported");
  auto rest = s.substr(7);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
  auto colon = authority.find(':');
  u.host_text = std::string(authority.substr(0, colon));
  auto a = Ipv4Addr::parse(u.host_text);
  if (!a) bad("the host must be a dotted-quad IPv4 address");
  u.host = *a;
  if (colon != std::string_view::npos) {
    auto p = authority.substr(colon + 1);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc{} || ptr != p.data() + p.size() || v == 0 || v > 65535) bad("bad port");
    u.port = static_cast<std::uint16_t>(v);
  }
  return u;
}

void progress(std::uint64_t got, std::optional<std::uint64_t> total) {
  if (!total || *total == 0) {
    std::fprintf(stderr, "\r%10llu bytes", static_cast<unsigned long long>(got));
  } else {
    int width = 40;
    int filled = static_cast<int>(static_cast<double>(got) / static_cast<double>(*total) * width);
    std::fprintf(stderr, "\r[%.*s%*s] %3d%% %llu/%llu", filled,
                 "########################################", width - filled, "",
                 static_cast<int>(100 * got / *total), static_cast<unsigned long long>(got),
                 static_cast<unsigned long long>(*total));
  }
  std::fflush(stderr);
}

}  // namespace

int cmd_get(int argc, char** argv) {
  const auto& specs = stack_flag_specs();
  Args args(specs, argc, argv, 2);
  if (args.has("--help")) {
    std::fputs(
        usage_text("get", "[OPTIONS] URL",
                   "Fetches URL with HTTP/1.1 GET over tapir's stack and writes the body to\n"
                   "stdout (a progress bar goes to stderr when it is a terminal).",
                   specs)
            .c_str(),
        stdout);
    return 0;
  }
  if (args.positional().size() != 1) throw UsageError("expected one URL");
  Url url = parse_url(args.positional()[0]);
  Session s(args);
  auto& so = s.stack->sockets();
  int fd = *so.socket(AF_INET, SOCK_STREAM, 0);
  auto to = make_sockaddr(url.host, url.port);
  if (auto err = so.connect(fd, to); err != Errno::InProgress && err != Errno::Ok) {
    std::fprintf(stderr, "tapir get: connect to %s:%u: %s\n", url.host_text.c_str(), url.port,
                 std::string(describe(err)).c_str());
    return 1;
  }
  std::string request = "GET " + url.path + " HTTP/1.1\r\nHost: " + url.host_text +
                        (url.port != 80 ? ":" + std::to_string(url.port) : "") +
                        "\r\nUser-Agent: tapir\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  std::string head;
  std::optional<http::Response> resp;
  std::optional<std::uint64_t> length;
  std::uint64_t body = 0;
  bool tty = ::isatty(STDERR_FILENO);
  int rc = 1;
  std::string error;
  s.loop->on_tick([&](Instant) -> std::optional<Instant> {
    short r = so.readiness(fd);
    if (r & POLLERR) {
      int err = 0;
      socklen_t len = sizeof err;
      (void)so.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      error =
          std::string("connect to ") + url.host_text + ": " + std::strerror(err ? err : ECONNRESET);
      s.loop->stop();
      return std::nullopt;
    }
    if (sent < request.size() && (r & POLLOUT)) {
      auto n = so.send(fd, as_bytes(std::string_view(request).substr(sent)), 0);
      if (n) sent += *n;
    }
    std::array<std::byte, 65536> buf;
    for (;;) {
      auto n = so.recv(fd, MutBytes(buf), 0);
      if (!n) {
        if (n.error() != Errno::Again) error = "receive: " + std::string(describe(n.error()));
        if (n.error() != Errno::Again) s.loop->stop();
        return std::nullopt;
      }
      if (*n == 0) {
        if (!resp)
          error = "connection closed before a response";
        else if (length && body < *length)
          error = "connection closed after " + std::to_string(body) + " of " +
                  std::to_string(*length) + " bytes";
        else
          rc = resp->status >= 200 && resp->status < 300 ? 0 : 1;
        s.loop->stop();
        return std::nullopt;
      }
      std::string_view data(reinterpret_cast<const char*>(buf.data()), *n);  // NOLINT
      if (!resp) {
        head.append(data);
        http::Response parsed;
        std::size_t used = 0;
        auto st = http::parse_response(head, 65536, parsed, used);
        if (st == http::ParseStatus::Incomplete) continue;
        if (st != http::ParseStatus::Done) {
          error = "malformed response head";
          s.loop->stop();
          return std::nullopt;
        }
        resp = parsed;
        if (auto cl = resp->header("Content-Length")) length = std::stoull(*cl);
        if (resp->status < 200 || resp->status >= 300) {
          std::fprintf(stderr, "tapir get: HTTP %d %s\n", resp->status, resp->reason.c_str());
        }
        data = std::string_view(head).substr(used);
        std::fwrite(data.data(), 1, data.size(), stdout);
        body += data.size();
      } else {
        std::fwrite(data.data(), 1, data.size(), stdout);
        body += data.size();
      }
      if (tty) progress(body, length);
      if (length && body >= *length) {
        rc = resp->status >= 200 && resp->status < 300 ? 0 : 1;
        s.loop->stop();
        return std::nullopt;
      }
    }
  });
  int sig = s.loop->run();
  std::fflush(stdout);
  if (tty) std::fputc('\n', stderr);
  (void)so.close(fd);
  s.stack->poll(s.clock.now());
  if (!error.empty()) {
    std::fprintf(stderr, "tapir get: %s\n", error.c_str());
    return 1;
  }
  return sig ? 130 : rc;
}

}  // namespace tapir::app
