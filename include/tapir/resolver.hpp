// Names for tapir's applications: getaddrinfo()/getnameinfo() with the glibc signatures
// and EAI_* errors, over the blocking facade (include/tapir/bsd.hpp, the calling
// thread's current Runtime). A name is looked up in this order:
//  1. numeric: a dotted quad ("10.0.0.1");
//  2. the hosts table: `localhost` (127.0.0.1) built in, plus a hosts(5) file when one is
//     configured (none by default);
//  3. DNS: the stub resolver of include/tapir/dns_client.hpp (RFC 1035 §4, §7), run on
//     the current Runtime's stack, asking the configured nameserver over tapir's UDP for
//     A records: one question, recursion desired, a random query ID, the response's ID
//     and question checked, CNAME chains inside the answer followed. Each attempt waits
//     `timeout`; after `attempts` unanswered queries: EAI_AGAIN.
// Errors: EAI_NONAME (NXDOMAIN, no A record, not numeric with AI_NUMERICHOST),
// EAI_AGAIN (timeout, SERVFAIL, nameserver unreachable), EAI_FAIL (malformed or
// truncated answer, other RCODEs), EAI_FAMILY, EAI_SOCKTYPE, EAI_SERVICE, EAI_OVERFLOW.
// Reverse lookups use the hosts table only (PTR queries are not implemented).
//
// Thread safety: a Resolver may be used by several threads at once.
#pragma once

#include <netdb.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tapir/address.hpp"
#include "tapir/dns_client.hpp"
#include "tapir/random.hpp"
#include "tapir/result.hpp"
#include "tapir/time.hpp"

namespace tapir {

struct ResolverConfig {
  std::optional<Ipv4Addr> nameserver;  // none: names outside the hosts table fail (EAI_NONAME)
  std::uint16_t port = dns::kPort;
  Duration timeout = dns::kDefaultTimeout;  // per attempt
  int attempts = dns::kDefaultAttempts;
  std::optional<std::string> hosts_path;  // a hosts(5) file; none by default
  std::uint64_t seed = 1;                 // query IDs
};

class Resolver {
 public:
  // Throws std::runtime_error when the hosts file cannot be read (setup error).
  explicit Resolver(ResolverConfig cfg);

  // glibc's getaddrinfo(3): IPv4 only (AF_UNSPEC or AF_INET), SOCK_DGRAM and/or
  // SOCK_STREAM, flags AI_PASSIVE, AI_NUMERICHOST, AI_NUMERICSERV, AI_CANONNAME.
  int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res);
  static void freeaddrinfo(addrinfo* res);
  // glibc's getnameinfo(3) for sockaddr_in: NI_NUMERICHOST, NI_NAMEREQD, NI_NUMERICSERV.
  int getnameinfo(const sockaddr* addr, socklen_t addrlen, char* host, socklen_t hostlen,
                  char* serv, socklen_t servlen, int flags);

  // Every IPv4 address of `name` (numeric, hosts table, then DNS), or an EAI_* error.
  Result<std::vector<Ipv4Addr>, int> resolve(std::string_view name);
  // The steps that need no network: a numeric name, then the hosts table; nullopt when
  // the name is in neither (`tapir resolve` then asks DNS with dns::Client itself).
  std::optional<std::vector<Ipv4Addr>> resolve_local(std::string_view name) const;
  // The DNS step alone (no numeric or hosts lookup): a dns::Client on the current
  // Runtime's stack, waited for in the calling thread.
  Result<std::vector<Ipv4Addr>, int> query_dns(std::string_view name);

 private:
  std::optional<std::vector<Ipv4Addr>> from_hosts(std::string_view name) const;

  ResolverConfig cfg_;
  std::vector<std::pair<Ipv4Addr, std::string>> hosts_;
  std::mutex rng_mutex_;
  SeededRng rng_;
};

}  // namespace tapir
