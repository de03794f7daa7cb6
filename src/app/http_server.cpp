#include "app/http_server.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

namespace tapir::app {

namespace fs = std::filesystem;

namespace {
// A Content-Length value: decimal digits only (RFC 9110 §8.6), nothing else.
std::optional<std::uint64_t> parse_decimal(std::string_view v) {
  std::uint64_t n = 0;
  const char* end = v.data() + v.size();
  auto [p, ec] = std::from_chars(v.data(), end, n);
  if (ec != std::errc{} || p != end) return std::nullopt;
  return n;
}

constexpr std::size_t kChunk = std::size_t{64} * 1024;

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}
}  // namespace

HttpServer::HttpServer(Sockets& sockets, HttpConfig cfg) : so_(sockets), cfg_(std::move(cfg)) {
  std::error_code ec;
  root_ = fs::canonical(cfg_.root, ec).string();
  if (ec) throw std::runtime_error("--http-root " + cfg_.root + ": " + ec.message());
  if (!fs::is_directory(root_))
    throw std::runtime_error("--http-root " + cfg_.root + ": not a directory");
}

HttpServer::~HttpServer() {
  for (auto& [fd, c] : conns_) {
    if (c.file >= 0) ::close(c.file);
    (void)so_.close(fd);
  }
  if (listen_fd_ >= 0) (void)so_.close(listen_fd_);
}

Errno HttpServer::start() {
  auto fd = so_.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (!fd) return fd.error();
  int one = 1;
  (void)so_.setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto addr = make_sockaddr(Ipv4Addr::any(), cfg_.port);
  if (auto err = so_.bind(*fd, addr); err != Errno::Ok) return (void)so_.close(*fd), err;
  if (auto err = so_.listen(*fd, 1024); err != Errno::Ok) return (void)so_.close(*fd), err;
  listen_fd_ = *fd;
  return Errno::Ok;
}

void HttpServer::on_event(int fd) {
  if (fd == listen_fd_) {
    accept_all();
    return;
  }
  auto it = conns_.find(fd);
  if (it != conns_.end()) on_conn(fd, it->second);
}

void HttpServer::accept_all() {
  for (;;) {
    auto fd = so_.accept(listen_fd_, nullptr);
    if (!fd) return;
    if (conns_.size() >= cfg_.max_connections) {
      (void)so_.close(*fd);
      continue;
    }
    ++stats_.connections;
    int one = 1;
    (void)so_.setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto& c = conns_[*fd];
    on_conn(*fd, c);
  }
}

void HttpServer::on_conn(int fd, Conn& c) {
  if (!read_in(fd, c)) return close_conn(fd);
  for (;;) {
    if (!write_out(fd, c)) return close_conn(fd);
    // The socket is full: the next readiness change (an ACK) brings us back.
    if (c.out_off < c.out.size() || c.file_left > 0) return;
    // The response is all queued; close() sends the FIN behind it.
    if (c.close_after) return close_conn(fd);
    next_requests(c);  // at most one response per call, so pipelined requests stay ordered
    if (c.out.empty() && c.file_left == 0) {
      if (c.peer_closed) close_conn(fd);
      return;  // no complete request yet
    }
  }
}

bool HttpServer::read_in(int fd, Conn& c) {
  char buf[16384];
  for (;;) {
    auto n = so_.recv(fd, as_writable_bytes(std::span(buf)), 0);
    if (!n) return n.error() == Errno::Again;
    if (*n == 0) {
      c.peer_closed = true;
      return true;
    }
    std::string_view got(buf, *n);
    if (c.discard_body) {
      std::size_t skip = std::min(c.discard_body, got.size());
      c.discard_body -= skip;
      got.remove_prefix(skip);
    }
    c.in.append(got);
    // Do not buffer without bound: a client that sends faster than we answer waits.
    if (c.in.size() > cfg_.max_head * 4) return true;
  }
}

bool HttpServer::write_out(int fd, Conn& c) {
  for (;;) {
    if (c.out_off == c.out.size() && c.file_left > 0) {
      // Refill from the file (pread: the offset is ours).
      c.out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, c.file_left)));
      ssize_t n = ::pread(c.file, c.out.data(), c.out.size(), static_cast<off_t>(c.file_off));
      if (n <= 0) return false;
      c.out.resize(static_cast<std::size_t>(n));
      c.out_off = 0;
      c.file_off += static_cast<std::uint64_t>(n);
      c.file_left -= static_cast<std::uint64_t>(n);
      if (c.file_left == 0) {
        ::close(c.file);
        c.file = -1;
      }
    }
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
      return true;
    }
    auto n = so_.send(fd, as_bytes(std::string_view(c.out).substr(c.out_off)), 0);
    if (!n) return n.error() == Errno::Again;
    c.out_off += *n;
    stats_.bytes_sent += *n;
  }
}

void HttpServer::next_requests(Conn& c) {
  if (c.discard_body) return;
  http::Request req;
  std::size_t used = 0;
  auto st = http::parse_request(c.in, cfg_.max_head, req, used);
  if (st == http::ParseStatus::Incomplete) return;
  ++stats_.requests;
  if (st == http::ParseStatus::TooLarge) return respond_status(c, 431, true);
  if (st == http::ParseStatus::Bad) return respond_status(c, 400, true);
  // The head, and the body octets already here, leave c.in once the request is answered.
  c.in.erase(0, answer(c, req, used));
}

std::size_t HttpServer::answer(Conn& c, const http::Request& req, std::size_t head_len) {
  std::size_t consumed = head_len;
  // RFC 9112 §6: a body is framed by Content-Length (Transfer-Encoding is not accepted).
  if (req.header("Transfer-Encoding")) {
    respond_status(c, 501, true);
    return consumed;
  }
  if (auto cl = req.header("Content-Length")) {
    const std::optional<std::uint64_t> parsed = parse_decimal(*cl);
    if (!parsed) {
      respond_status(c, 400, true);
      return consumed;
    }
    const std::uint64_t len = *parsed;
    if (len > cfg_.max_body) {
      respond_status(c, 413, true);
      return consumed;
    }
    std::size_t here = std::min<std::size_t>(static_cast<std::size_t>(len), c.in.size() - head_len);
    consumed += here;
    c.discard_body = static_cast<std::size_t>(len) - here;
  }
  c.close_after = !req.keep_alive();
  if (req.target.size() > cfg_.max_target) {
    respond_status(c, 414, true);
  } else if (req.method != "GET" && req.method != "HEAD") {
    respond_status(c, 405, c.close_after, "Allow: GET, HEAD\r\n");
  } else {
    respond_file(c, req);
  }
  return consumed;
}

void HttpServer::finish_head(Conn& c, int status, std::string_view type, std::uint64_t length,
                             bool close, std::string_view extra) {
  c.out += "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::reason_phrase(status)) +
           "\r\n";
  c.out += "Server: tapir\r\n";
  c.out += "Content-Type: " + std::string(type) + "\r\n";
  c.out += "Content-Length: " + std::to_string(length) + "\r\n";
  c.out += extra;
  if (close) c.out += "Connection: close\r\n";
  c.out += "\r\n";
  if (status < 300)
    ++stats_.responses_2xx;
  else if (status >= 400 && status < 500)
    ++stats_.responses_4xx;
}

void HttpServer::respond_status(Conn& c, int status, bool close, std::string_view extra_headers) {
  std::string body = std::to_string(status) + " " + std::string(http::reason_phrase(status)) + "\n";
  finish_head(c, status, "text/plain; charset=utf-8", body.size(), close, extra_headers);
  c.out += body;
  c.close_after = close;
}

void HttpServer::respond_file(Conn& c, const http::Request& req) {
  bool head = req.method == "HEAD";
  std::string_view target = req.target;
  target = target.substr(0, target.find_first_of("?#"));
  auto decoded = http::percent_decode(target);
  if (!decoded || decoded->empty() || (*decoded)[0] != '/')
    return respond_status(c, 400, c.close_after);
  // No segment may climb out of the root.
  fs::path rel = fs::path(*decoded).relative_path().lexically_normal();
  if (!rel.empty() && *rel.begin() == "..") return respond_status(c, 403, c.close_after);
  fs::path path = fs::path(root_) / rel;
  std::error_code ec;
  auto canon = fs::weakly_canonical(path, ec);
  if (ec || !canon.string().starts_with(root_)) return respond_status(c, 404, c.close_after);
  if (fs::is_directory(canon, ec)) {
    if (!decoded->ends_with('/')) {
      return respond_status(c, 301, c.close_after, "Location: " + *decoded + "/\r\n");
    }
    if (fs::exists(canon / "index.html", ec)) {
      canon /= "index.html";
    } else {
      // A generated listing.
      std::string body = "<!doctype html><title>Index of " + html_escape(*decoded) +
                         "</title><h1>Index of " + html_escape(*decoded) + "</h1><ul>\n";
      std::vector<std::string> names;
      for (const auto& e : fs::directory_iterator(canon, ec)) {
        names.push_back(e.path().filename().string() + (e.is_directory() ? "/" : ""));
      }
      std::sort(names.begin(), names.end());
      for (const auto& n : names)
        body += "<li><a href=\"" + html_escape(n) + "\">" + html_escape(n) + "</a>\n";
      body += "</ul>\n";
      finish_head(c, 200, "text/html; charset=utf-8", body.size(), c.close_after);
      if (!head) c.out += body;
      return;
    }
  }
  int file = ::open(canon.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (file < 0 || ::fstat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (file >= 0) ::close(file);
    return respond_status(c, 404, c.close_after);
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  finish_head(c, 200, http::content_type_for(canon.string()), size, c.close_after);
  if (head || size == 0) {
    ::close(file);
    return;
  }
  c.file = file;
  c.file_off = 0;
  c.file_left = size;
}

void HttpServer::close_conn(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (it->second.file >= 0) ::close(it->second.file);
  conns_.erase(it);
  (void)so_.close(fd);
  closed_.push_back(fd);
}

}  // namespace tapir::app
