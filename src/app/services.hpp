// In-process services: small servers that run in the stack's own thread over the
// non-blocking core socket API (include/tapir/socket.hpp), driven by readiness.
//
// A ServiceHost owns the services and a table fd -> service. After every stack poll the
// event loop calls dispatch(), which takes Sockets::take_changed() and hands each
// descriptor to the service that owns it. A service may own any number of descriptors:
// it claims the ones it creates (a listener, a connection it accepted) with own() and
// gives them up with close(). Timers are deadlines (next_deadline / on_timer), like the
// rest of the stack.
//
// Services: echo, discard, chargen, daytime (TCP and UDP) and http (TCP).
// `tapir serve --services LIST` starts them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tapir/stack.hpp"

namespace tapir::app {

class ServiceHost;

class Service {
 public:
  virtual ~Service() = default;
  virtual std::string_view name() const = 0;
  // Opens the service's sockets (claiming them with host.own()). Returns one description
  // per socket it listens on, e.g. "udp 10.0.0.2:7"; an error is the failing call's Errno.
  virtual Result<std::vector<std::string>> start(ServiceHost& host) = 0;
  // `fd`, owned by this service, may have changed readiness; `revents` is its current
  // readiness (POLLIN, POLLOUT, POLLERR, POLLHUP).
  virtual void on_ready(ServiceHost& host, int fd, short revents, Instant now) = 0;
  virtual std::optional<Instant> next_deadline() const { return std::nullopt; }
  virtual void on_timer(ServiceHost& /*host*/, Instant /*now*/) {}
};

class ServiceHost {
 public:
  explicit ServiceHost(Stack& stack) : stack_(stack) {}
  // Closes every descriptor the services still own.
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // Starts `s` and keeps it. Returns its listen descriptions; throws std::runtime_error
  // (setup failure) naming the service and the errno when it cannot start.
  std::vector<std::string> add(std::unique_ptr<Service> s);

  Stack& stack() { return stack_; }
  Sockets& sockets() { return stack_.sockets(); }
  // Descriptor ownership: dispatch() routes `fd` to `owner` until close(fd).
  void own(int fd, Service& owner) { owners_[fd] = &owner; }
  // Forgets `fd` without closing it (the service closed it itself).
  void disown(int fd) { owners_.erase(fd); }
  Errno close(int fd);
  std::size_t owned() const { return owners_.size(); }
  // Opens a service socket on the wildcard address and `port` (SOCK_DGRAM bound; SOCK_STREAM
  // bound with SO_REUSEADDR and listening), owned by `owner`. Returns the descriptor and
  // sets `where` to "udp 10.0.0.2:7" / "tcp 10.0.0.2:7".
  Result<int> open(Service& owner, int type, std::uint16_t port, std::string& where);

  // Routes every changed descriptor to its owner (repeatedly, while services' own calls
  // change more), fires due service timers, then flushes what they sent.
  void dispatch(Instant now);
  std::optional<Instant> next_deadline() const;

 private:
  Stack& stack_;
  std::vector<std::unique_ptr<Service>> services_;
  std::unordered_map<int, Service*> owners_;
  std::vector<int> changed_;  // dispatch()'s list of changed descriptors, reused
};

// What services may be configured with (`tapir serve --http-root DIR`, --seed).
struct ServiceOptions {
  std::string http_root = ".";
  std::uint16_t http_port = 80;
  std::uint64_t seed = 1;  // UDP chargen's reply lengths
};

// The services `--services` knows, by name.
struct ServiceInfo {
  std::string_view name;
  std::string_view help;
};
const std::vector<ServiceInfo>& service_catalog();

// "echo" or "echo,discard" -> the names, in order, without duplicates. Throws UsageError
// naming the unknown service and the valid ones. An empty value is an empty list.
std::vector<std::string> parse_services_flag(std::string_view value);

// Creates the named services in `host`; returns "tapir: NAME listening on PROTO ADDR:PORT"
// lines, one per listening socket.
std::vector<std::string> start_services(ServiceHost& host, const std::vector<std::string>& names,
                                        const ServiceOptions& options = {});

// The service objects behind one catalog name (src/app/inet_services.cpp): echo, discard,
// chargen and daytime on TCP and UDP (RFC 862, 863, 864, 867), http on TCP.
std::vector<std::unique_ptr<Service>> make_inet_service(std::string_view name,
                                                        const ServiceOptions& options);

// RFC 862 echo over UDP: every datagram received on port `port` is sent back to its source.
std::unique_ptr<Service> make_udp_echo(std::uint16_t port = 7);

}  // namespace tapir::app
