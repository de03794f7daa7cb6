// DNS message codec (RFC 1035 §4.1).
#include "wire/dns.hpp"

#include <cctype>

namespace tapir::wire {

namespace {

constexpr std::uint16_t kFlagQr = 0x8000;
constexpr std::uint16_t kFlagAa = 0x0400;
constexpr std::uint16_t kFlagTc = 0x0200;
constexpr std::uint16_t kFlagRd = 0x0100;
constexpr std::uint16_t kFlagRa = 0x0080;

std::string_view strip_dot(std::string_view n) {
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);
  return n;
}

// Reads the name at `off` into `out`; returns the offset just past it in the message
// (past the first pointer when it is compressed).
Result<std::size_t, ParseError> read_name(Bytes msg, std::size_t off, std::string& out) {
  out.clear();
  std::size_t wire_len = 1;  // the root label
  std::optional<std::size_t> end;
  int jumps = 0;
  std::size_t pos = off;
  for (;;) {
    if (pos >= msg.size()) return ParseError::Truncated;
    std::uint8_t len = load_u8(msg, pos);
    if ((len & 0xc0) == 0xc0) {
      // RFC 1035 §4.1.4: a pointer, 14 bits of offset from the start of the message.
      if (pos + 2 > msg.size()) return ParseError::Truncated;
      std::size_t target = load_be16(msg, pos) & 0x3fffu;
      if (!end) end = pos + 2;
      // Only backwards, and a bounded number of times: a pointer loop is malformed.
      if (target >= pos || ++jumps > dns::kMaxPointers) return ParseError::BadOption;
      pos = target;
      continue;
    }
    // RFC 1035 §4.1.4: the 0x40 and 0x80 label types are reserved.
    if (len & 0xc0) return ParseError::BadOption;
    if (len == 0) break;
    if (pos + 1 + len > msg.size()) return ParseError::Truncated;
    wire_len += 1u + len;
    if (wire_len > dns::kMaxName) return ParseError::BadOption;
    if (!out.empty()) out += '.';
    for (std::size_t i = 0; i < len; ++i) out += static_cast<char>(load_u8(msg, pos + 1 + i));
    pos += 1u + len;
  }
  return end.value_or(pos + 1);
}

Result<std::size_t, ParseError> read_question(Bytes msg, std::size_t off, DnsQuestion& q) {
  auto next = read_name(msg, off, q.name);
  if (!next) return next.error();
  if (*next + 4 > msg.size()) return ParseError::Truncated;
  q.type = load_be16(msg, *next);
  q.klass = load_be16(msg, *next + 2);
  return *next + 4;
}

Result<std::size_t, ParseError> read_record(Bytes msg, std::size_t off, DnsRecord& r) {
  auto next = read_name(msg, off, r.name);
  if (!next) return next.error();
  std::size_t p = *next;
  // RFC 1035 §4.1.3: TYPE, CLASS, TTL, RDLENGTH, then RDATA.
  if (p + 10 > msg.size()) return ParseError::Truncated;
  r.type = load_be16(msg, p);
  r.klass = load_be16(msg, p + 2);
  r.ttl = load_be32(msg, p + 4);
  std::size_t rdlen = load_be16(msg, p + 8);
  p += 10;
  if (p + rdlen > msg.size()) return ParseError::Truncated;
  if (r.type == dns::kTypeA && r.klass == dns::kClassIn) {
    if (rdlen != 4) return ParseError::BadTotalLen;  // RFC 1035 §3.4.1: a 32-bit address
    r.a = Ipv4Addr{load_be32(msg, p)};
  } else if (r.type == dns::kTypeCname) {
    // RFC 1035 §3.3.1: the canonical name, which may be compressed into the message.
    std::string target;
    auto end = read_name(msg, p, target);
    if (!end) return end.error();
    if (*end > p + rdlen) return ParseError::Truncated;
    r.cname = std::move(target);
  } else {
    r.rdata.assign(msg.begin() + static_cast<std::ptrdiff_t>(p),
                   msg.begin() + static_cast<std::ptrdiff_t>(p + rdlen));
  }
  return p + rdlen;
}

void put16(std::vector<std::byte>& out, std::uint16_t v) {
  out.push_back(std::byte(v >> 8));
  out.push_back(std::byte(v & 0xff));
}

void put_name(std::vector<std::byte>& out, std::string_view name) {
  name = strip_dot(name);
  while (!name.empty()) {
    auto dot = name.find('.');
    auto label = name.substr(0, dot);
    out.push_back(std::byte(label.size()));
    for (char c : label) out.push_back(std::byte(static_cast<unsigned char>(c)));
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  out.push_back(std::byte{0});
}

void put_record(std::vector<std::byte>& out, const DnsRecord& r) {
  put_name(out, r.name);
  put16(out, r.type);
  put16(out, r.klass);
  put16(out, static_cast<std::uint16_t>(r.ttl >> 16));
  put16(out, static_cast<std::uint16_t>(r.ttl & 0xffff));
  std::vector<std::byte> rdata;
  if (r.a) {
    for (int i = 0; i < 4; ++i) rdata.push_back(std::byte(r.a->octet(i)));
  } else if (r.cname) {
    put_name(rdata, *r.cname);
  } else {
    rdata = r.rdata;
  }
  put16(out, static_cast<std::uint16_t>(rdata.size()));
  out.insert(out.end(), rdata.begin(), rdata.end());
}

}  // namespace

Result<DnsMessage, ParseError> DnsMessage::parse(Bytes msg) {
  if (msg.size() < dns::kHeaderLen) return ParseError::Truncated;
  DnsMessage m;
  m.id = load_be16(msg, 0);
  std::uint16_t flags = load_be16(msg, 2);
  m.response = flags & kFlagQr;
  m.opcode = static_cast<std::uint8_t>((flags >> 11) & 0x0f);
  m.authoritative = flags & kFlagAa;
  m.truncated = flags & kFlagTc;
  m.recursion_desired = flags & kFlagRd;
  m.recursion_available = flags & kFlagRa;
  m.rcode = static_cast<dns::Rcode>(flags & 0x0f);
  std::size_t counts[4] = {load_be16(msg, 4), load_be16(msg, 6), load_be16(msg, 8),
                           load_be16(msg, 10)};
  std::size_t off = dns::kHeaderLen;
  for (std::size_t i = 0; i < counts[0]; ++i) {
    auto next = read_question(msg, off, m.questions.emplace_back());
    if (!next) return next.error();
    off = *next;
  }
  std::vector<DnsRecord>* sections[3] = {&m.answers, &m.authority, &m.additional};
  for (int s = 0; s < 3; ++s) {
    for (std::size_t i = 0; i < counts[s + 1]; ++i) {
      auto next = read_record(msg, off, sections[s]->emplace_back());
      if (!next) return next.error();
      off = *next;
    }
  }
  return m;
}

std::vector<std::byte> DnsMessage::emit() const {
  std::vector<std::byte> out;
  out.reserve(dns::kMaxUdpLen);
  put16(out, id);
  std::uint16_t flags = static_cast<std::uint16_t>(
      (response ? kFlagQr : 0) | ((opcode & 0x0f) << 11) | (authoritative ? kFlagAa : 0) |
      (truncated ? kFlagTc : 0) | (recursion_desired ? kFlagRd : 0) |
      (recursion_available ? kFlagRa : 0) | (static_cast<std::uint16_t>(rcode) & 0x0f));
  put16(out, flags);
  put16(out, static_cast<std::uint16_t>(questions.size()));
  put16(out, static_cast<std::uint16_t>(answers.size()));
  put16(out, static_cast<std::uint16_t>(authority.size()));
  put16(out, static_cast<std::uint16_t>(additional.size()));
  for (const auto& q : questions) {
    put_name(out, q.name);
    put16(out, q.type);
    put16(out, q.klass);
  }
  for (const auto* sec : {&answers, &authority, &additional}) {
    for (const auto& r : *sec) put_record(out, r);
  }
  return out;
}

DnsMessage dns_query(std::uint16_t id, std::string_view name, std::uint16_t type) {
  DnsMessage m;
  m.id = id;
  m.recursion_desired = true;
  m.questions.push_back({std::string(strip_dot(name)), type, dns::kClassIn});
  return m;
}

bool dns_valid_name(std::string_view name) {
  name = strip_dot(name);
  if (name.empty()) return false;
  if (name.size() + 2 > dns::kMaxName) return false;  // length octets + root label
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (++label > dns::kMaxLabel) {
      return false;
    }
  }
  return label > 0;
}

bool dns_name_equal(std::string_view a, std::string_view b) {
  a = strip_dot(a);
  b = strip_dot(b);
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace tapir::wire
