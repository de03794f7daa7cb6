// Out-of-line parts of the Ethernet, ARP, IPv4 and ICMP codecs.
#include <algorithm>
#include <cstring>

#include "wire/arp.hpp"
#include "wire/icmpv4.hpp"
#include "wire/ipv4.hpp"

namespace tapir::wire {

std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::Truncated:
      return "truncated";
    case ParseError::BadVersion:
      return "bad_version";
    case ParseError::BadHeaderLen:
      return "bad_header_len";
    case ParseError::BadTotalLen:
      return "bad_total_len";
    case ParseError::BadChecksum:
      return "bad_checksum";
    case ParseError::BadOption:
      return "bad_option";
    case ParseError::BadFlags:
      return "bad_flags";
    case ParseError::BadPort:
      return "bad_port";
    case ParseError::BadAddress:
      return "bad_address";
    case ParseError::Unsupported:
      return "unsupported";
  }
  return "unknown";
}

// ---- ARP (RFC 826) ----

Result<ArpRepr, ParseError> ArpRepr::parse(Bytes b) {
  if (b.size() < arp_field::kOper.end()) return ParseError::Truncated;
  // RFC 826 "Packet Reception": only the (Ethernet, IPv4) pair is handled by this host.
  if (load_be16(b, arp_field::kHtype.off) != kHtypeEthernet ||
      load_be16(b, arp_field::kPtype.off) != static_cast<std::uint16_t>(EtherType::Ipv4) ||
      load_u8(b, arp_field::kHlen.off) != 6 || load_u8(b, arp_field::kPlen.off) != 4) {
    return ParseError::Unsupported;
  }
  if (b.size() < kLen) return ParseError::Truncated;
  auto op = load_be16(b, arp_field::kOper.off);
  if (op != 1 && op != 2) return ParseError::BadFlags;
  ArpRepr r;
  r.op = ArpOp{op};
  for (std::size_t i = 0; i < 6; ++i) {
    r.sender_mac.octets[i] = load_u8(b, arp_field::kSha.off + i);
    r.target_mac.octets[i] = load_u8(b, arp_field::kTha.off + i);
  }
  r.sender_ip = {load_be32(b, arp_field::kSpa.off)};
  r.target_ip = {load_be32(b, arp_field::kTpa.off)};
  return r;
}

void ArpRepr::emit(MutBytes out) const {
  store_be16(out, arp_field::kHtype.off, kHtypeEthernet);
  store_be16(out, arp_field::kPtype.off, static_cast<std::uint16_t>(EtherType::Ipv4));
  store_u8(out, arp_field::kHlen.off, 6);
  store_u8(out, arp_field::kPlen.off, 4);
  store_be16(out, arp_field::kOper.off, static_cast<std::uint16_t>(op));
  for (std::size_t i = 0; i < 6; ++i) {
    store_u8(out, arp_field::kSha.off + i, sender_mac.octets[i]);
    store_u8(out, arp_field::kTha.off + i, target_mac.octets[i]);
  }
  store_be32(out, arp_field::kSpa.off, sender_ip.value);
  store_be32(out, arp_field::kTpa.off, target_ip.value);
}

// ---- IPv4 (RFC 791) ----

Result<bool, ParseError> validate_ipv4_options(Bytes o) {
  std::size_t i = 0;
  while (i < o.size()) {
    auto kind = load_u8(o, i);
    if (kind == ipv4_option::kEnd) break;  // the rest is padding
    if (kind == ipv4_option::kNop) {
      ++i;
      continue;
    }
    if (i + 2 > o.size()) return ParseError::BadOption;
    auto len = load_u8(o, i + 1);
    if (len < 2 || i + len > o.size()) return ParseError::BadOption;
    i += len;
  }
  return true;
}

Result<Ipv4Repr, ParseError> Ipv4Repr::parse(const Ipv4View& p, ChecksumMode mode) {
  if (mode == ChecksumMode::Verify && !p.verify_checksum()) return ParseError::BadChecksum;
  if (auto ok = validate_ipv4_options(p.options()); !ok) return ok.error();
  Ipv4Repr r;
  r.src = p.src();
  r.dst = p.dst();
  r.protocol = p.protocol();
  r.ttl = p.ttl();
  r.tos = p.tos();
  r.ident = p.ident();
  r.dont_frag = p.dont_frag();
  r.more_frags = p.more_frags();
  r.frag_offset = p.frag_offset();
  r.payload_len = static_cast<std::uint16_t>(p.total_len() - p.header_len());
  auto opts = p.options();
  std::copy(opts.begin(), opts.end(), r.options.begin());
  r.options_len = static_cast<std::uint8_t>(opts.size());
  return r;
}

void Ipv4Repr::emit(MutBytes out) const {
  auto p = Ipv4Packet<MutBytes>::unchecked(out.first(header_len()));
  p.set_ver_ihl(header_len());
  p.set_tos(tos);
  p.set_total_len(static_cast<std::uint16_t>(total_len()));
  p.set_ident(ident);
  p.set_flags_frag(dont_frag, more_frags, frag_offset);
  p.set_ttl(ttl);
  p.set_protocol(protocol);
  p.set_src(src);
  p.set_dst(dst);
  std::copy_n(options.begin(), options_len, out.begin() + Ipv4View::kMinHeaderLen);
  p.fill_checksum();
}

// ---- ICMPv4 (RFC 792) ----

Result<Icmpv4Repr, ParseError> Icmpv4Repr::parse(Bytes msg, ChecksumMode mode) {
  if (msg.size() < kHeaderLen) return ParseError::Truncated;
  // RFC 792: the checksum covers the whole ICMP message, starting with the type.
  if (mode == ChecksumMode::Verify && internet_checksum(msg) != 0) return ParseError::BadChecksum;
  Icmpv4Repr r;
  r.type = load_u8(msg, 0);
  r.code = load_u8(msg, 1);
  r.rest = load_be32(msg, 4);
  r.data = msg.subspan(kHeaderLen);
  return r;
}

void Icmpv4Repr::emit(MutBytes out) const {
  store_u8(out, 0, type);
  store_u8(out, 1, code);
  store_be16(out, 2, 0);
  store_be32(out, 4, rest);
  if (!data.empty()) std::memmove(out.data() + kHeaderLen, data.data(), data.size());
  store_be16(out, 2, internet_checksum(out.first(buffer_len())));
}

}  // namespace tapir::wire
