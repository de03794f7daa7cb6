// A DNS stub resolver as a non-blocking state machine over the core socket API
// (include/tapir/socket.hpp), for code that runs in the stack's own thread: `tapir resolve`,
// replay (docs/replay.md, the sidecar's `client` key), and, inside a Runtime, the blocking
// Resolver (include/tapir/resolver.hpp). It asks one nameserver for a name's A records
// (RFC 1035 §4, §7): one question, recursion desired, a query ID drawn from the Rng passed
// in; the response's ID and question checked (§7.3); CNAME chains inside the answer
// followed (RFC 1034 §3.6.2). Each attempt waits `timeout`, then the query goes again with a
// fresh ID; after `attempts` unanswered queries the lookup ends with EAI_AGAIN.
//
// Like the stack it is sans-IO and deterministic: it learns the time only from the Instants
// passed in, draws randomness only from the Rng, and never waits. The caller loops:
//
//   client.start("host.test", now);
//   after every stack poll: client.step(now);   // and at client.next_deadline()
//   until client.done(): client.answer() holds the addresses or the EAI_* error
//
// Errors (as getaddrinfo(3)): EAI_NONAME (NXDOMAIN, no A record, a name that cannot be
// sent), EAI_AGAIN (no answer after every attempt, SERVFAIL, the nameserver's port closed),
// EAI_FAIL (a malformed or truncated answer, another RCODE, a CNAME chain too long),
// EAI_SYSTEM (the socket could not be opened: system_error() says why).
#pragma once

#include <netdb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tapir/address.hpp"
#include "tapir/random.hpp"
#include "tapir/result.hpp"
#include "tapir/socket.hpp"
#include "tapir/time.hpp"

namespace tapir::dns {

inline constexpr std::uint16_t kPort = 53;  // RFC 1035 §4.2.1
// RFC 1035 §4.2.1 leaves the retransmission interval to the resolver; 2 s and 3 attempts
// are close to glibc's resolv.conf defaults (5 s, 2 attempts).
inline constexpr Duration kDefaultTimeout = std::chrono::seconds(2);
inline constexpr int kDefaultAttempts = 3;

struct ClientConfig {
  Ipv4Addr nameserver;
  std::uint16_t port = kPort;
  Duration timeout = kDefaultTimeout;  // per attempt
  int attempts = kDefaultAttempts;     // queries sent before EAI_AGAIN (at least one)
};

// The addresses of a name, in the order of the answer, or an EAI_* error.
using Answer = Result<std::vector<Ipv4Addr>, int>;

class Client {
 public:
  // `sockets` and `rng` must outlive the client.
  Client(Sockets& sockets, Rng& rng, ClientConfig config);
  // Closes the socket of a lookup still running.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts looking up `name`: opens a UDP socket connected to the nameserver (so that only
  // its datagrams arrive, and its ICMP port unreachable surfaces as ECONNREFUSED) and sends
  // the first query. A name that cannot be sent ends the lookup at once (EAI_NONAME), and so
  // does a socket that cannot be opened (EAI_SYSTEM). Precondition: !running().
  void start(std::string_view name, Instant now);
  // Reads what arrived; when the attempt's deadline has passed, sends the query again with
  // a fresh ID or gives up. Call after every stack poll and at next_deadline().
  void step(Instant now);
  // When step() must run even if nothing arrives (the attempt's deadline); none when idle.
  std::optional<Instant> next_deadline() const;

  bool running() const { return state_ == State::Waiting; }
  // Finished since the last start().
  bool done() const { return state_ == State::Done; }
  // Precondition: done().
  const Answer& answer() const;
  // Why a lookup ended with EAI_SYSTEM (the socket call's error); Errno::Ok otherwise.
  Errno system_error() const { return system_error_; }
  // The socket while running (for poll(2)-style waiting), -1 otherwise.
  int fd() const { return fd_; }
  // Queries sent for the current lookup, and the ID of the last one.
  int queries_sent() const { return sent_; }
  std::uint16_t query_id() const { return id_; }

 private:
  enum class State { Idle, Waiting, Done };
  void next_attempt(Instant now);
  void finish(Answer a);

  Sockets& sockets_;
  Rng& rng_;
  ClientConfig cfg_;
  State state_ = State::Idle;
  std::string name_;
  int fd_ = -1;
  int sent_ = 0;
  std::uint16_t id_ = 0;
  Instant deadline_;
  std::optional<Answer> answer_;
  Errno system_error_ = Errno::Ok;
  std::vector<std::byte> buf_;
};

// "EAI_NONAME" for EAI_NONAME, and so on for the codes Client and getaddrinfo return;
// "EAI_?" for others.
std::string_view eai_name(int code);
// The inverse of eai_name(); nullopt for a name it does not give.
std::optional<int> eai_from_name(std::string_view name);
// "10.0.0.42" or "10.0.0.42, 10.0.0.43", or the error's eai_name().
std::string to_string(const Answer& a);
// Same addresses in the same order, or the same error.
bool same_answer(const Answer& a, const Answer& b);

}  // namespace tapir::dns
