// The HTTP/1.1 server app (`--services http`): static files from a directory over the
// core socket API, in the stack's own thread. GET and HEAD, persistent connections and
// pipelined requests (RFC 9112 §9.3), Content-Length, Content-Type by extension,
// directory index, and 400/403/404/405/413/431/505 answers. Files are streamed in chunks
// as the send buffer drains, so a 50 MB file costs 64 KiB of memory per connection.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "app/http.hpp"
#include "tapir/socket.hpp"

namespace tapir::app {

struct HttpConfig {
  std::string root = ".";
  std::uint16_t port = 80;
  std::size_t max_head = 8192;  // request line + fields; more is 431
  std::size_t max_body =
      std::size_t{1024} * 1024;   // request bodies are read and discarded; more is 413
  std::size_t max_target = 4096;  // longer targets are 414
  std::size_t max_connections = 4096;
};

struct HttpStats {
  std::uint64_t connections = 0;
  std::uint64_t requests = 0;
  std::uint64_t responses_2xx = 0;
  std::uint64_t responses_4xx = 0;
  std::uint64_t bytes_sent = 0;
};

class HttpServer {
 public:
  HttpServer(Sockets& sockets, HttpConfig cfg);
  ~HttpServer();
  // Listens on cfg.port. Errors as bind()/listen() give them.
  Errno start();
  int listener() const { return listen_fd_; }
  bool owns(int fd) const { return fd == listen_fd_ || conns_.contains(fd); }
  // Handles a readiness change on one of its descriptors.
  void on_event(int fd);
  const HttpStats& stats() const { return stats_; }
  template <class F>
  void for_each_connection(F&& f) const {
    for (const auto& [fd, _] : conns_) f(fd);
  }
  // Descriptors closed since the last call (so a ServiceHost can forget them).
  std::vector<int> take_closed() { return std::exchange(closed_, {}); }

 private:
  struct Conn {
    std::string in;
    std::string out;
    std::size_t out_off = 0;
    int file = -1;
    std::uint64_t file_off = 0;
    std::uint64_t file_left = 0;
    std::size_t discard_body = 0;  // request body octets still to skip
    bool close_after = false;
    bool peer_closed = false;
  };
  void accept_all();
  void on_conn(int fd, Conn& c);
  bool read_in(int fd, Conn& c);
  bool write_out(int fd, Conn& c);
  void next_requests(Conn& c);
  // Responds to one parsed request whose head is c.in's first `head_len` octets; returns
  // how many octets of c.in it used (the head, and the body octets already received).
  std::size_t answer(Conn& c, const http::Request& req, std::size_t head_len);
  void respond_file(Conn& c, const http::Request& req);
  void respond_status(Conn& c, int status, bool close, std::string_view extra_headers = {});
  void finish_head(Conn& c, int status, std::string_view type, std::uint64_t length, bool close,
                   std::string_view extra = {});
  void close_conn(int fd);

  Sockets& so_;
  HttpConfig cfg_;
  std::string root_;  // canonical
  int listen_fd_ = -1;
  std::unordered_map<int, Conn> conns_;
  std::vector<int> closed_;
  HttpStats stats_;
};

}  // namespace tapir::app
