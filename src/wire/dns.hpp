// DNS messages (RFC 1035 §4), as a pure codec for the stub resolver: the header, the
// question section and resource records, with name compression (§4.1.4) followed on
// parse. emit() writes names uncompressed, which §4.1.4 allows.
//
//                                  1  1  1  1  1  1
//    0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//  |                      ID                       |
//  |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
//  |                    QDCOUNT                    |
//  |                    ANCOUNT                    |
//  |                    NSCOUNT                    |
//  |                    ARCOUNT                    |
//  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//
// Unlike the other codecs, names are decoded into std::string (a name may be spread over
// the message by pointers, so it cannot be a view). Reasons for rejection:
//  * Truncated:   the message ends inside the header, a name, a fixed field or RDATA, or
//                 holds fewer records than its counts say.
//  * BadOption:   a malformed name: a reserved label type (0x40/0x80), a compression
//                 pointer that does not point backwards or loops past kMaxPointers, or a
//                 name longer than 255 octets (§2.3.4).
//  * BadTotalLen: an A record whose RDLENGTH is not 4.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tapir/address.hpp"
#include "wire/common.hpp"

namespace tapir::wire {

namespace dns {
inline constexpr std::uint16_t kTypeA = 1;      // RFC 1035 §3.2.2
inline constexpr std::uint16_t kTypeCname = 5;  // RFC 1035 §3.2.2
inline constexpr std::uint16_t kClassIn = 1;    // RFC 1035 §3.2.4
inline constexpr std::size_t kHeaderLen = 12;
inline constexpr std::size_t kMaxName = 255;    // RFC 1035 §2.3.4, octets on the wire
inline constexpr std::size_t kMaxLabel = 63;    // RFC 1035 §2.3.4
inline constexpr std::size_t kMaxUdpLen = 512;  // RFC 1035 §2.3.4, §4.2.1
inline constexpr int kMaxPointers = 32;         // compression jumps followed per name
enum class Rcode : std::uint8_t {               // RFC 1035 §4.1.1
  NoError = 0,
  FormErr = 1,
  ServFail = 2,
  NxDomain = 3,
  NotImp = 4,
  Refused = 5,
};
}  // namespace dns

struct DnsQuestion {
  std::string name;  // "example.test" (no trailing dot; "" is the root)
  std::uint16_t type = dns::kTypeA;
  std::uint16_t klass = dns::kClassIn;
  friend bool operator==(const DnsQuestion&, const DnsQuestion&) = default;
};

struct DnsRecord {
  std::string name;
  std::uint16_t type = dns::kTypeA;
  std::uint16_t klass = dns::kClassIn;
  std::uint32_t ttl = 0;
  std::optional<Ipv4Addr> a;         // type A
  std::optional<std::string> cname;  // type CNAME (decompressed)
  std::vector<std::byte> rdata;      // other types, raw
  friend bool operator==(const DnsRecord&, const DnsRecord&) = default;
};

struct DnsMessage {
  std::uint16_t id = 0;
  bool response = false;  // QR
  std::uint8_t opcode = 0;
  bool authoritative = false;        // AA
  bool truncated = false;            // TC
  bool recursion_desired = false;    // RD
  bool recursion_available = false;  // RA
  dns::Rcode rcode = dns::Rcode::NoError;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authority;
  std::vector<DnsRecord> additional;

  static Result<DnsMessage, ParseError> parse(Bytes msg);
  // The encoded message (names uncompressed). Precondition: every name is valid_name().
  std::vector<std::byte> emit() const;
  friend bool operator==(const DnsMessage&, const DnsMessage&) = default;
};

// A query for one name (RFC 1035 §4.1.1: one question, RD set as a stub resolver asks).
DnsMessage dns_query(std::uint16_t id, std::string_view name, std::uint16_t type = dns::kTypeA);

// True when `name` can be sent: labels of 1..63 octets separated by dots, an optional
// trailing dot, at most 255 octets encoded (RFC 1035 §2.3.4).
bool dns_valid_name(std::string_view name);

// Case-insensitive name comparison (RFC 1035 §2.3.3), a trailing dot ignored.
bool dns_name_equal(std::string_view a, std::string_view b);

}  // namespace tapir::wire
