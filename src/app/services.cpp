// ServiceHost and the services it can run (see services.hpp).
#include "app/services.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "app/args.hpp"
#include "util/log.hpp"

namespace tapir::app {

ServiceHost::~ServiceHost() {
  for (const auto& [fd, owner] : owners_) (void)stack_.sockets().close(fd);
  stack_.flush();
}

std::vector<std::string> ServiceHost::add(std::unique_ptr<Service> s) {
  auto lines = s->start(*this);
  if (!lines) {
    throw std::runtime_error(std::string(s->name()) +
                             ": cannot start: " + std::string(to_string(lines.error())) + " (" +
                             std::string(describe(lines.error())) + ")");
  }
  services_.push_back(std::move(s));
  return *lines;
}

Result<int> ServiceHost::open(Service& owner, int type, std::uint16_t port, std::string& where) {
  auto& so = sockets();
  auto fd = so.socket(AF_INET, type | SOCK_NONBLOCK, 0);
  if (!fd) return fd.error();
  Errno err = Errno::Ok;
  if (type == SOCK_STREAM) {
    int one = 1;
    (void)so.setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  err = so.bind(*fd, make_sockaddr(Ipv4Addr::any(), port));
  if (err == Errno::Ok && type == SOCK_STREAM) err = so.listen(*fd, 128);
  if (err != Errno::Ok) {
    (void)so.close(*fd);
    return err;
  }
  own(*fd, owner);
  where = std::string(type == SOCK_STREAM ? "tcp " : "udp ") +
          stack_.config().address.addr.to_string() + ":" + std::to_string(port);
  return *fd;
}

Errno ServiceHost::close(int fd) {
  owners_.erase(fd);
  return stack_.sockets().close(fd);
}

void ServiceHost::dispatch(Instant now) {
  // A service's calls can change readiness again (an accept, a reply that fills a
  // buffer): repeat, boundedly, until nothing changed.
  for (int round = 0; round < 16; ++round) {
    stack_.sockets().take_changed(changed_);
    if (changed_.empty()) break;
    for (int fd : changed_) {
      auto it = owners_.find(fd);
      if (it == owners_.end()) continue;  // closed meanwhile, or another app's
      it->second->on_ready(*this, fd, stack_.sockets().readiness(fd), now);
    }
  }
  for (auto& s : services_) {
    if (auto t = s->next_deadline(); t && *t <= now) s->on_timer(*this, now);
  }
  stack_.flush();
}

std::optional<Instant> ServiceHost::next_deadline() const {
  std::optional<Instant> t;
  for (const auto& s : services_) t = earliest(t, s->next_deadline());
  return t;
}

namespace {

class UdpEcho final : public Service {
 public:
  explicit UdpEcho(std::uint16_t port) : port_(port) {}
  std::string_view name() const override { return "echo"; }

  Result<std::vector<std::string>> start(ServiceHost& host) override {
    std::string where;
    auto fd = host.open(*this, SOCK_DGRAM, port_, where);
    if (!fd) return fd.error();
    return std::vector<std::string>{where};
  }

  void on_ready(ServiceHost& host, int fd, short revents, Instant) override {
    if (!(revents & (POLLIN | POLLERR))) return;
    auto& so = host.sockets();
    // RFC 862 §"UDP Based Echo Service": the data of each datagram received is sent
    // back in an answering datagram, to its source.
    for (;;) {
      sockaddr_in from{};
      auto n = so.recvfrom(fd, MutBytes(buf_), 0, &from);
      if (!n) {
        if (n.error() == Errno::Again) return;
        continue;  // an asynchronous error (ICMP) reported once: go on reading
      }
      if (auto sent = so.sendto(fd, Bytes(buf_).first(*n), 0, &from); !sent) {
        TAPIR_LOG_DEBUG(&log::get("app"), "echo: reply to {}:{} failed: {}",
                        sockaddr_addr(from).to_string(), sockaddr_port(from),
                        to_string(sent.error()));
      }
    }
  }

 private:
  std::uint16_t port_;
  std::array<std::byte, 65535> buf_{};
};

}  // namespace

std::unique_ptr<Service> make_udp_echo(std::uint16_t port) {
  return std::make_unique<UdpEcho>(port);
}

const std::vector<ServiceInfo>& service_catalog() {
  static const std::vector<ServiceInfo> catalog = {
      {"echo", "RFC 862 echo on TCP and UDP port 7"},
      {"discard", "RFC 863 discard on TCP and UDP port 9"},
      {"daytime", "RFC 867 daytime on TCP and UDP port 13"},
      {"chargen", "RFC 864 character generator on TCP and UDP port 19"},
      {"http", "HTTP/1.1 static files from --http-root on TCP port 80"},
  };
  return catalog;
}

std::vector<std::string> parse_services_flag(std::string_view value) {
  std::vector<std::string> names;
  std::string valid;
  for (const auto& s : service_catalog())
    valid += (valid.empty() ? "" : ", ") + std::string(s.name);
  while (!value.empty()) {
    auto comma = value.find(',');
    auto name = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    const auto& cat = service_catalog();
    if (std::none_of(cat.begin(), cat.end(), [&](const auto& s) { return s.name == name; })) {
      throw UsageError("--services: unknown service '" + std::string(name) +
                       "': expected a comma-separated list of " + valid);
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
  }
  return names;
}

std::vector<std::string> start_services(ServiceHost& host, const std::vector<std::string>& names,
                                        const ServiceOptions& options) {
  std::vector<std::string> lines;
  for (const auto& name : names) {
    const auto& cat = service_catalog();
    auto it = std::find_if(cat.begin(), cat.end(), [&](const auto& s) { return s.name == name; });
    if (it == cat.end()) continue;  // parse_services_flag() has rejected it already
    for (auto& service : make_inet_service(name, options)) {
      for (const auto& where : host.add(std::move(service))) {
        lines.emplace_back("tapir: ");
        lines.back().append(name).append(" listening on ").append(where);
      }
    }
  }
  return lines;
}

}  // namespace tapir::app
