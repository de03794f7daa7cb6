// Reading a nameserver's response (RFC 1035 §4.1.1, §7.3; RFC 1034 §3.6.2, §5.2.2).
#include "dns/answer.hpp"

#include <algorithm>

namespace tapir::dns {

std::vector<std::byte> encode_query(std::uint16_t id, std::string_view name) {
  return wire::dns_query(id, name).emit();
}

bool is_response_to(const wire::DnsMessage& m, std::uint16_t id, std::string_view name) {
  // RFC 1035 §7.3: a datagram that is not a response, or answers another query (another
  // ID or question), is discarded; names compare case-insensitively (§2.3.3).
  return m.response && m.id == id && m.questions.size() == 1 &&
         wire::dns_name_equal(m.questions[0].name, name) &&
         m.questions[0].type == wire::dns::kTypeA && m.questions[0].klass == wire::dns::kClassIn;
}

Answer answer_of(const wire::DnsMessage& m, std::string_view name) {
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
  std::string target(name);
  for (int hop = 0; hop <= kMaxCnameChain; ++hop) {
    auto cname = std::find_if(m.answers.begin(), m.answers.end(), [&](const auto& r) {
      return r.cname && wire::dns_name_equal(r.name, target);
    });
    if (cname == m.answers.end()) break;
    if (hop == kMaxCnameChain) return EAI_FAIL;
    target = *cname->cname;
  }
  std::vector<Ipv4Addr> out;
  for (const auto& r : m.answers) {
    if (r.a && wire::dns_name_equal(r.name, target)) out.push_back(*r.a);
  }
  if (out.empty()) return EAI_NONAME;
  return out;
}

std::optional<Answer> read_response(Bytes datagram, std::uint16_t id, std::string_view name) {
  auto m = wire::DnsMessage::parse(datagram);
  if (!m) return Answer(EAI_FAIL);
  if (!is_response_to(*m, id, name)) return std::nullopt;
  return answer_of(*m, name);
}

}  // namespace tapir::dns
