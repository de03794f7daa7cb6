// getaddrinfo/getnameinfo and the DNS stub resolver (RFC 1035 §4, §7) over tapir::bsd.
#include "tapir/resolver.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tapir/bsd.hpp"
#include "tapir/socket.hpp"
#include "wire/dns.hpp"

namespace tapir {

namespace {

constexpr Ipv4Addr kLoopback = Ipv4Addr::from_octets(127, 0, 0, 1);
// RFC 1034 §3.6.2 asks resolvers to guard against CNAME loops; 8 links is plenty.
constexpr int kMaxCnameChain = 8;

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

// One DNS exchange's outcome, before mapping to EAI_*.
Result<std::vector<Ipv4Addr>, int> answer_of(const wire::DnsMessage& m, std::string_view qname) {
  // RFC 1035 §4.1.1: TC set means the answer did not fit; a stub over UDP cannot use it.
  if (m.truncated) return EAI_FAIL;
  switch (m.rcode) {
    case wire::dns::Rcode::NoError:
      break;
    case wire::dns::Rcode::NxDomain:
      return EAI_NONAME;
    case wire::dns::Rcode::ServFail:
      return EAI_AGAIN;
    default:
      return EAI_FAIL;
  }
  // RFC 1034 §3.6.2 / §5.2.2: the answer may start with CNAMEs from the name asked for;
  // follow them inside the answer section, then take the A records of the final name.
  std::string name(qname);
  for (int hop = 0; hop <= kMaxCnameChain; ++hop) {
    auto cname = std::find_if(m.answers.begin(), m.answers.end(), [&](const auto& r) {
      return r.cname && wire::dns_name_equal(r.name, name);
    });
    if (cname == m.answers.end()) break;
    if (hop == kMaxCnameChain) return EAI_FAIL;
    name = *cname->cname;
  }
  std::vector<Ipv4Addr> out;
  for (const auto& r : m.answers) {
    if (r.a && wire::dns_name_equal(r.name, name)) out.push_back(*r.a);
  }
  if (out.empty()) return EAI_NONAME;
  return out;
}

// The response is ours: a response, our ID, and our one question (RFC 1035 §7.3).
bool matches_query(const wire::DnsMessage& m, std::uint16_t id, std::string_view qname) {
  return m.response && m.id == id && m.questions.size() == 1 &&
         wire::dns_name_equal(m.questions[0].name, qname) &&
         m.questions[0].type == wire::dns::kTypeA && m.questions[0].klass == wire::dns::kClassIn;
}

void set_timeout(int fd, std::chrono::steady_clock::duration left) {
  auto us = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::microseconds>(left).count());
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  bsd::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Sends the query and waits up to `timeout` for its answer. nullopt: no answer in time.
std::optional<Result<std::vector<Ipv4Addr>, int>> exchange(int fd, std::uint16_t id,
                                                           std::string_view name,
                                                           Duration timeout) {
  auto query = wire::dns_query(id, name).emit();
  if (bsd::send(fd, query.data(), query.size(), 0) < 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::byte> buf(65535);
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return std::nullopt;
    set_timeout(fd, left);
    auto n = bsd::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      // EAGAIN: the attempt timed out; ECONNREFUSED: the nameserver's port is closed.
      return std::nullopt;
    }
    auto m = wire::DnsMessage::parse(Bytes(buf).first(static_cast<std::size_t>(n)));
    if (!m) return Result<std::vector<Ipv4Addr>, int>(EAI_FAIL);
    // RFC 1035 §7.3: a response that is not for our query is discarded; keep waiting.
    if (!matches_query(*m, id, name)) continue;
    return answer_of(*m, name);
  }
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

std::uint16_t Resolver::next_id() {
  // RFC 5452 §4.3: an unpredictable ID makes off-path spoofing harder (seeded here, so
  // runs are reproducible; the seed is the caller's choice).
  std::lock_guard lk(rng_mutex_);
  return static_cast<std::uint16_t>(rng_.next_u32());
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

Result<std::vector<Ipv4Addr>, int> Resolver::resolve(std::string_view name) {
  if (auto a = Ipv4Addr::parse(name)) return std::vector<Ipv4Addr>{*a};
  if (auto h = from_hosts(name)) return *h;
  return query_dns(name);
}

Result<std::vector<Ipv4Addr>, int> Resolver::query_dns(std::string_view name) {
  if (!cfg_.nameserver || !wire::dns_valid_name(name)) return EAI_NONAME;
  int fd = bsd::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return EAI_SYSTEM;
  // Connected, so that only the nameserver's datagrams arrive and its ICMP port
  // unreachable surfaces as ECONNREFUSED instead of a silent timeout.
  auto ns = make_sockaddr(*cfg_.nameserver, cfg_.port);
  if (bsd::connect(fd, reinterpret_cast<const sockaddr*>(&ns), sizeof ns) < 0) {
    int e = errno;
    bsd::close(fd);
    errno = e;
    return EAI_SYSTEM;
  }
  std::optional<Result<std::vector<Ipv4Addr>, int>> got;
  for (int attempt = 0; attempt < std::max(1, cfg_.attempts) && !got; ++attempt) {
    got = exchange(fd, next_id(), name, cfg_.timeout);
  }
  bsd::close(fd);
  if (!got) return EAI_AGAIN;
  return *got;
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
