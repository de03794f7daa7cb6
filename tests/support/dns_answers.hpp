// Building blocks for the fake nameservers of the DNS tests (tests/unit/dns, tests/unit/bsd).
#pragma once

#include <string>
#include <utility>

#include "tapir/address.hpp"
#include "wire/dns.hpp"

namespace tapir::test {

// The response skeleton for query `q`: same ID and question, QR and RA set.
inline wire::DnsMessage response_to(const wire::DnsMessage& q) {
  wire::DnsMessage r = q;
  r.response = true;
  r.recursion_available = true;
  return r;
}

inline wire::DnsRecord a_record(std::string name, Ipv4Addr a) {
  return {std::move(name), wire::dns::kTypeA, wire::dns::kClassIn, 60, a};
}

}  // namespace tapir::test
