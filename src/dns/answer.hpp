// What a datagram from the nameserver means for a query: the one reading of DNS responses
// that the stub resolver has (dns::Client, include/tapir/dns_client.hpp, and through it the
// blocking Resolver). Pure: bytes in, a decision out.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "tapir/dns_client.hpp"
#include "wire/dns.hpp"

namespace tapir::dns {

// RFC 1034 §3.6.2 asks resolvers to guard against CNAME loops; 8 links is plenty.
inline constexpr int kMaxCnameChain = 8;

// The query a stub resolver sends for `name`'s A records (RFC 1035 §4.1.1: one question,
// RD set), encoded. Precondition: wire::dns_valid_name(name).
std::vector<std::byte> encode_query(std::uint16_t id, std::string_view name);

// A datagram that arrived for the query (id, name): nullopt when it is not the response
// to it (RFC 1035 §7.3: discard it and keep waiting); otherwise the lookup's outcome. A
// datagram that does not parse is EAI_FAIL: it came from the nameserver (the socket is
// connected) and the exchange cannot go on.
std::optional<Answer> read_response(Bytes datagram, std::uint16_t id, std::string_view name);

// The outcome of a response already known to answer `name` (rcode, TC, answer section).
Answer answer_of(const wire::DnsMessage& m, std::string_view name);

// Is `m` the response to the query (id, name)? (RFC 1035 §7.3)
bool is_response_to(const wire::DnsMessage& m, std::uint16_t id, std::string_view name);

}  // namespace tapir::dns
