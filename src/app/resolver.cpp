// getaddrinfo/getnameinfo over tapir::bsd; the DNS step is dns::Client
// (include/tapir/dns_client.hpp) run on the current Runtime's stack.
#include "tapir/resolver.hpp"

#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tapir/bsd.hpp"
#include "tapir/socket.hpp"
#include "time/steady_clock.hpp"
#include "wire/dns.hpp"

namespace tapir {

namespace {

constexpr Ipv4Addr kLoopback = Ipv4Addr::from_octets(127, 0, 0, 1);

// A few services(5) names for the in-process services and common peers.
constexpr std::pair<std::string_view, std::uint16_t> kServices[] = {
    {"echo", 7}, {"discard", 9}, {"daytime", 13}, {"chargen", 19}, {"domain", 53}, {"http", 80},
};

std::optional<std::uint16_t> service_port(std::string_view s, bool numeric_only) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!s.empty() && ec == std::errc{} && p == s.data() + s.size() && v <= 65535) {
    return static_cast<std::uint16_t>(v);
  }
  if (numeric_only) return std::nullopt;
  for (auto [name, port] : kServices) {
    if (name == s) return port;
  }
  return std::nullopt;
}

// The Resolver's one Rng, shared by the threads that resolve at the same time (each
// dns::Client draws from it under the runtime's mutex, but two threads may use two runtimes).
class LockedRng final : public Rng {
 public:
  LockedRng(Rng& inner, std::mutex& mu) : inner_(inner), mu_(mu) {}
  std::uint64_t next_u64() override {
    std::lock_guard lk(mu_);
    return inner_.next_u64();
  }

 private:
  Rng& inner_;
  std::mutex& mu_;
};

// Milliseconds for poll(2) until `deadline`, rounded up so that the wait never ends early.
int poll_timeout_ms(Instant deadline, Instant now) {
  const auto us = std::max<std::int64_t>(0, (deadline - now).count());
  return static_cast<int>(std::min<std::int64_t>((us + 999) / 1000, 3'600'000));
}

addrinfo* new_entry(Ipv4Addr a, std::uint16_t port, int socktype, const char* canon) {
  auto* ai = new addrinfo{};
  auto* sin = new sockaddr_in(make_sockaddr(a, port));
  ai->ai_family = AF_INET;
  ai->ai_socktype = socktype;
  ai->ai_protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
  ai->ai_addrlen = sizeof(sockaddr_in);
  ai->ai_addr = reinterpret_cast<sockaddr*>(sin);
  if (canon) ai->ai_canonname = ::strdup(canon);
  return ai;
}

int copy_out(std::string_view s, char* out, socklen_t len) {
  if (s.size() + 1 > len) return EAI_OVERFLOW;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return 0;
}

}  // namespace

Resolver::Resolver(ResolverConfig cfg) : cfg_(std::move(cfg)), rng_(cfg_.seed) {
  hosts_.emplace_back(kLoopback, "localhost");
  if (!cfg_.hosts_path) return;
  std::ifstream in(*cfg_.hosts_path);
  if (!in) {
    throw std::runtime_error("cannot read hosts file '" + *cfg_.hosts_path +
                             "': check the path and its permissions");
  }
  // hosts(5): an address, then the canonical name and aliases; '#' starts a comment.
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string addr, name;
    if (!(words >> addr)) continue;
    auto a = Ipv4Addr::parse(addr);
    if (!a) continue;  // IPv6 lines and garbage
    while (words >> name) hosts_.emplace_back(*a, name);
  }
}

std::optional<std::vector<Ipv4Addr>> Resolver::from_hosts(std::string_view name) const {
  std::vector<Ipv4Addr> out;
  for (const auto& [a, n] : hosts_) {
    if (wire::dns_name_equal(n, name) && std::find(out.begin(), out.end(), a) == out.end()) {
      out.push_back(a);
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<std::vector<Ipv4Addr>> Resolver::resolve_local(std::string_view name) const {
  if (auto a = Ipv4Addr::parse(name)) return std::vector<Ipv4Addr>{*a};
  return from_hosts(name);
}

Result<std::vector<Ipv4Addr>, int> Resolver::resolve(std::string_view name) {
  if (auto local = resolve_local(name)) return *local;
  return query_dns(name);
}

Result<std::vector<Ipv4Addr>, int> Resolver::query_dns(std::string_view name) {
  if (!cfg_.nameserver) return EAI_NONAME;
  Runtime* rt = bsd::current();
  if (!rt) {
    errno = ENETDOWN;  // as every facade call without a runtime
    return EAI_SYSTEM;
  }
  // The client runs inside the stack's thread discipline: every call into it is made under
  // the runtime's mutex (with_stack), and between calls this thread waits in bsd::poll on
  // the client's socket until something arrives or the attempt's deadline. The client's
  // Instants come from this clock; it never hands them to the stack.
  LockedRng ids(rng_, rng_mutex_);
  const dns::ClientConfig cc{.nameserver = *cfg_.nameserver,
                             .port = cfg_.port,
                             .timeout = cfg_.timeout,
                             .attempts = cfg_.attempts};
  SteadyClock clock;
  std::optional<dns::Client> client;
  std::optional<Instant> due;
  int fd = -1;
  rt->with_stack([&](Stack& s) {
    client.emplace(s.sockets(), ids, cc);
    client->start(name, clock.now());
    due = client->next_deadline();
    fd = client->fd();
  });
  while (due) {
    pollfd p{fd, POLLIN, 0};
    (void)bsd::poll(&p, 1, poll_timeout_ms(*due, clock.now()));
    rt->with_stack([&](Stack&) {
      client->step(clock.now());
      due = client->next_deadline();
    });
  }
  dns::Answer answer = client->answer();
  const Errno cause = client->system_error();
  rt->with_stack([&](Stack&) { client.reset(); });
  if (!answer && answer.error() == EAI_SYSTEM) errno = static_cast<int>(cause);
  return answer;
}

int Resolver::getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                          addrinfo** res) {
  if (!res) return EAI_SYSTEM;
  *res = nullptr;
  addrinfo h{};
  if (hints) h = *hints;
  if (!node && !service) return EAI_NONAME;
  if (h.ai_family != AF_UNSPEC && h.ai_family != AF_INET) return EAI_FAMILY;
  if (h.ai_socktype != 0 && h.ai_socktype != SOCK_DGRAM && h.ai_socktype != SOCK_STREAM) {
    return EAI_SOCKTYPE;
  }
  std::uint16_t port = 0;
  if (service) {
    auto p = service_port(service, h.ai_flags & AI_NUMERICSERV);
    if (!p) return (h.ai_flags & AI_NUMERICSERV) ? EAI_NONAME : EAI_SERVICE;
    port = *p;
  }
  std::vector<Ipv4Addr> addrs;
  if (!node) {
    // getaddrinfo(3): no node means the wildcard for AI_PASSIVE, else the loopback.
    addrs.push_back((h.ai_flags & AI_PASSIVE) ? Ipv4Addr::any() : kLoopback);
  } else if (auto a = Ipv4Addr::parse(node)) {
    addrs.push_back(*a);
  } else if (h.ai_flags & AI_NUMERICHOST) {
    return EAI_NONAME;
  } else {
    auto r = resolve(node);
    if (!r) return r.error();
    addrs = *r;
  }
  const char* canon = (h.ai_flags & AI_CANONNAME) && node ? node : nullptr;
  addrinfo head{};
  addrinfo* tail = &head;
  for (auto a : addrs) {
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      if (h.ai_socktype != 0 && h.ai_socktype != type) continue;
      tail->ai_next = new_entry(a, port, type, tail == &head ? canon : nullptr);
      tail = tail->ai_next;
    }
  }
  *res = head.ai_next;
  return 0;
}

void Resolver::freeaddrinfo(addrinfo* res) {
  while (res) {
    addrinfo* next = res->ai_next;
    delete reinterpret_cast<sockaddr_in*>(res->ai_addr);
    std::free(res->ai_canonname);
    delete res;
    res = next;
  }
}

int Resolver::getnameinfo(const sockaddr* addr, socklen_t addrlen, char* host, socklen_t hostlen,
                          char* serv, socklen_t servlen, int flags) {
  if (!addr || addrlen < static_cast<socklen_t>(sizeof(sockaddr_in)) ||
      addr->sa_family != AF_INET) {
    return EAI_FAMILY;
  }
  sockaddr_in sin;
  std::memcpy(&sin, addr, sizeof sin);
  if (host && hostlen > 0) {
    Ipv4Addr a = sockaddr_addr(sin);
    std::string name = a.to_string();
    if (!(flags & NI_NUMERICHOST)) {
      auto it =
          std::find_if(hosts_.begin(), hosts_.end(), [&](const auto& e) { return e.first == a; });
      if (it != hosts_.end()) {
        name = it->second;
      } else if (flags & NI_NAMEREQD) {
        return EAI_NONAME;
      }
    }
    if (int e = copy_out(name, host, hostlen); e != 0) return e;
  }
  if (serv && servlen > 0) {
    std::uint16_t port = sockaddr_port(sin);
    std::string s = std::to_string(port);
    if (!(flags & NI_NUMERICSERV)) {
      for (auto [n, p] : kServices) {
        if (p == port) s = n;
      }
    }
    if (int e = copy_out(s, serv, servlen); e != 0) return e;
  }
  return 0;
}

}  // namespace tapir
