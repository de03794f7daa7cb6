// The non-blocking DNS stub resolver (include/tapir/dns_client.hpp): one lookup at a time
// over a connected UDP socket of the core API, as a small state machine
// Idle -> Waiting -> Done, with the attempt's deadline as its only timer.
#include "tapir/dns_client.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "dns/answer.hpp"
#include "util/log.hpp"

namespace tapir::dns {

namespace {

spdlog::logger& logger() {
  static spdlog::logger& l = log::get("dns");
  return l;
}

// Room for any UDP datagram, so that an oversized answer is read whole (and then judged)
// rather than cut at the buffer.
constexpr std::size_t kDatagramMax = 65535;

constexpr std::pair<int, std::string_view> kEaiNames[] = {
    {EAI_NONAME, "EAI_NONAME"},     {EAI_AGAIN, "EAI_AGAIN"},   {EAI_FAIL, "EAI_FAIL"},
    {EAI_SYSTEM, "EAI_SYSTEM"},     {EAI_FAMILY, "EAI_FAMILY"}, {EAI_SOCKTYPE, "EAI_SOCKTYPE"},
    {EAI_SERVICE, "EAI_SERVICE"},   {EAI_MEMORY, "EAI_MEMORY"}, {EAI_OVERFLOW, "EAI_OVERFLOW"},
    {EAI_BADFLAGS, "EAI_BADFLAGS"},
};

}  // namespace

Client::Client(Sockets& sockets, Rng& rng, ClientConfig config)
    : sockets_(sockets), rng_(rng), cfg_(config) {}

Client::~Client() {
  if (fd_ >= 0) (void)sockets_.close(fd_);
}

void Client::start(std::string_view name, Instant now) {
  TAPIR_ASSERT(!running(), "dns::Client::start while a lookup is running");
  name_ = std::string(name);
  sent_ = 0;
  id_ = 0;
  answer_.reset();
  system_error_ = Errno::Ok;
  state_ = State::Waiting;
  if (!wire::dns_valid_name(name)) return finish(EAI_NONAME);
  auto fd = sockets_.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (!fd) {
    system_error_ = fd.error();
    return finish(EAI_SYSTEM);
  }
  fd_ = *fd;
  // Connected, so that the stack drops datagrams from anyone but the nameserver and its
  // ICMP port unreachable comes back as ECONNREFUSED (RFC 1122 §4.1.3.3).
  if (auto e = sockets_.connect(fd_, make_sockaddr(cfg_.nameserver, cfg_.port)); e != Errno::Ok) {
    system_error_ = e;
    return finish(EAI_SYSTEM);
  }
  if (buf_.empty()) buf_.resize(kDatagramMax);
  next_attempt(now);
}

void Client::next_attempt(Instant now) {
  while (sent_ < std::max(1, cfg_.attempts)) {
    ++sent_;
    // RFC 5452 §9.2: an unpredictable ID per query makes off-path spoofing harder. It comes
    // from the caller's Rng, so that a seeded run sends the same IDs again.
    id_ = static_cast<std::uint16_t>(rng_.next_u32());
    deadline_ = now + cfg_.timeout;
    const auto query = encode_query(id_, name_);
    auto n = sockets_.send(fd_, query, 0);
    if (n) {
      TAPIR_LOG_DEBUG(&logger(), "dns: query {} id={:#06x} to {} (attempt {} of {})", name_, id_,
                      cfg_.nameserver.to_string(), sent_, cfg_.attempts);
      return;
    }
    // A send that fails (the previous attempt's ICMP error, no route) ends this attempt.
    TAPIR_LOG_DEBUG(&logger(), "dns: query {} attempt {}: {}", name_, sent_, to_string(n.error()));
  }
  // RFC 1035 §7.2: having asked as often as it will, the resolver reports a temporary
  // failure; the name may well exist.
  finish(EAI_AGAIN);
}

void Client::step(Instant now) {
  if (!running()) return;
  for (;;) {
    auto n = sockets_.recv(fd_, buf_, 0);
    if (!n) {
      if (n.error() == Errno::Again) break;
      // ECONNREFUSED (the nameserver's port is closed) or an unreachable host: this attempt
      // cannot be answered; the next one goes now.
      TAPIR_LOG_DEBUG(&logger(), "dns: query {} id={:#06x}: {}", name_, id_, to_string(n.error()));
      next_attempt(now);
      if (!running()) return;
      continue;
    }
    auto got = read_response(Bytes(buf_).first(*n), id_, name_);
    if (!got) {
      TAPIR_LOG_DEBUG(&logger(), "dns: drop a datagram that does not answer {} id={:#06x}", name_,
                      id_);
      continue;
    }
    return finish(std::move(*got));
  }
  if (now >= deadline_) next_attempt(now);
}

std::optional<Instant> Client::next_deadline() const {
  if (!running()) return std::nullopt;
  return deadline_;
}

const Answer& Client::answer() const {
  TAPIR_ASSERT(done(), "dns::Client::answer before the lookup is done");
  return *answer_;
}

void Client::finish(Answer a) {
  if (fd_ >= 0) (void)sockets_.close(fd_);
  fd_ = -1;
  TAPIR_LOG_DEBUG(&logger(), "dns: {} -> {}", name_, to_string(a));
  answer_ = std::move(a);
  state_ = State::Done;
}

std::string_view eai_name(int code) {
  for (auto [c, n] : kEaiNames) {
    if (c == code) return n;
  }
  return "EAI_?";
}

std::optional<int> eai_from_name(std::string_view name) {
  for (auto [c, n] : kEaiNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

std::string to_string(const Answer& a) {
  if (!a) return std::string(eai_name(a.error()));
  std::string out;
  for (auto addr : *a) out += (out.empty() ? "" : ", ") + addr.to_string();
  return out;
}

bool same_answer(const Answer& a, const Answer& b) {
  if (a.has_value() != b.has_value()) return false;
  return a ? *a == *b : a.error() == b.error();
}

}  // namespace tapir::dns
