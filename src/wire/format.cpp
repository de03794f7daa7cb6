// One-line and verbose decoders (see format.hpp). Everything here goes through the views'
// checked() and the reprs' parse(), so a hostile frame can only produce a "malformed" line.
#include "wire/format.hpp"

#include <iterator>

namespace tapir::wire {

namespace {

template <class... Args>
void append(std::string& s, fmt::format_string<Args...> f, Args&&... args) {
  fmt::format_to(std::back_inserter(s), f, std::forward<Args>(args)...);
}

std::string malformed(std::string_view layer, ParseError e) {
  return fmt::format("malformed {}: {}", layer, to_string(e));
}

std::string_view proto_name(IpProto p) {
  switch (p) {
    case IpProto::Icmp:
      return "ICMP";
    case IpProto::Igmp:
      return "IGMP";
    case IpProto::Tcp:
      return "TCP";
    case IpProto::Udp:
      return "UDP";
  }
  return "";
}

std::string_view known_ethertype_name(EtherType t) {
  switch (t) {
    case EtherType::Ipv4:
      return "IPv4";
    case EtherType::Arp:
      return "ARP";
    case EtherType::Vlan:
      return "802.1Q";
    case EtherType::Ipv6:
      return "IPv6";
  }
  return "";
}

std::string ethertype_name(EtherType t) {
  auto name = known_ethertype_name(t);
  if (!name.empty()) return std::string(name);
  return fmt::format("0x{:04x}", static_cast<std::uint16_t>(t));
}

// "6 (TCP)" when the number has a name, "47" otherwise.
std::string numbered(unsigned value, std::string_view name) {
  if (name.empty()) return std::to_string(value);
  return fmt::format("{} ({})", value, name);
}

std::string_view checksum_note(bool ok, ChecksumMode mode) {
  if (mode == ChecksumMode::Ignore) return "not checked";
  return ok ? "ok" : "bad";
}

// ---- IPv4 options (RFC 791 §3.1) ----

std::string ip_option_name(std::uint8_t kind) {
  switch (kind) {
    case ipv4_option::kEnd:
      return "EOL";
    case ipv4_option::kNop:
      return "NOP";
    case ipv4_option::kRecordRoute:
      return "RR";
    case ipv4_option::kTimestamp:
      return "TS";
    case ipv4_option::kLooseSourceRoute:
      return "LSRR";
    case ipv4_option::kStrictSourceRoute:
      return "SSRR";
    case ipv4_option::kRouterAlert:
      return "RA";
    default:
      return fmt::format("opt{}", kind);
  }
}

// Calls f(kind, option octets including kind and length) for each option; stops after End
// or at the first option whose length is broken (a repr built by code may hold one).
template <class F>
void walk_ip_options(Bytes o, F&& f) {
  std::size_t i = 0;
  while (i < o.size()) {
    auto kind = load_u8(o, i);
    std::size_t len = 1;
    if (kind != ipv4_option::kEnd && kind != ipv4_option::kNop) {
      if (i + 2 > o.size()) return;
      len = load_u8(o, i + 1);
      if (len < 2 || i + len > o.size()) return;
    }
    f(kind, o.subspan(i, len));
    if (kind == ipv4_option::kEnd) return;
    i += len;
  }
}

std::string ip_options_suffix(Bytes o) {
  if (o.empty()) return "";
  std::string names;
  walk_ip_options(o, [&](std::uint8_t kind, Bytes) {
    if (!names.empty()) names += ',';
    names += ip_option_name(kind);
  });
  return " [ipopts " + names + "]";
}

std::string ip_option_detail(std::uint8_t kind, Bytes opt) {
  std::string s = ip_option_name(kind);
  bool is_route = kind == ipv4_option::kRecordRoute || kind == ipv4_option::kLooseSourceRoute ||
                  kind == ipv4_option::kStrictSourceRoute;
  if (is_route && opt.size() >= 3) {
    // RFC 791 §3.1 record route: type, length, pointer, then the route data.
    append(s, " len={} ptr={}", opt.size(), load_u8(opt, 2));
    for (std::size_t i = 3; i + 4 <= opt.size(); i += 4) {
      append(s, " {}", Ipv4Addr{load_be32(opt, i)}.to_string());
    }
  } else if (opt.size() > 1) {
    append(s, " len={}", opt.size());
    for (std::size_t i = 2; i < opt.size(); ++i) append(s, " {:02x}", load_u8(opt, i));
  }
  return s;
}

// ---- ICMP (RFC 792) ----

std::string_view unreach_name(std::uint8_t code) {
  switch (code) {
    case icmp_unreach::kNet:
      return "net";
    case icmp_unreach::kHost:
      return "host";
    case icmp_unreach::kProtocol:
      return "protocol";
    case icmp_unreach::kPort:
      return "port";
    case icmp_unreach::kFragNeeded:
      return "frag-needed";
    case 5:
      return "source-route-failed";
    case 6:
      return "net-unknown";
    case 7:
      return "host-unknown";
    case 9:
      return "net-prohibited";
    case 10:
      return "host-prohibited";
    case 13:
      return "admin-prohibited";  // RFC 1812 §5.2.7.1
    default:
      return "";
  }
}

// The datagram an ICMP error quotes (RFC 792: its IP header and first 64 bits of data).
// It is cut short by design, so only the addresses and ports are read, each bounds-checked.
std::string quoted_datagram(Bytes d) {
  if (d.size() < Ipv4View::kMinHeaderLen || load_u8(d, 0) >> 4 != 4) return "";
  std::size_t hlen = static_cast<std::size_t>(load_u8(d, 0) & 0x0f) * 4;
  if (hlen < Ipv4View::kMinHeaderLen || hlen > d.size()) return "";
  auto src = Ipv4Addr{load_be32(d, ipv4_field::kSrc.off)}.to_string();
  auto dst = Ipv4Addr{load_be32(d, ipv4_field::kDst.off)}.to_string();
  auto proto = IpProto{load_u8(d, ipv4_field::kProto.off)};
  auto l4 = d.subspan(hlen);
  if ((proto == IpProto::Tcp || proto == IpProto::Udp) && l4.size() >= 4) {
    return fmt::format(" [{} {}:{} > {}:{}]", proto_name(proto), src, load_be16(l4, 0), dst,
                       load_be16(l4, 2));
  }
  if (proto == IpProto::Icmp) return fmt::format(" [ICMP {} > {}]", src, dst);
  return fmt::format(" [IPv4 {} > {} proto={}]", src, dst, static_cast<unsigned>(proto));
}

std::string time_exceeded_name(std::uint8_t code) {
  if (code == 0) return "time-exceeded ttl";
  if (code == 1) return "time-exceeded reassembly";
  return fmt::format("time-exceeded code={}", code);
}

std::string_view icmp_type_name(std::uint8_t type) {
  switch (type) {
    case icmp_type::kEchoReply:
      return "echo reply";
    case icmp_type::kDestUnreachable:
      return "unreachable";
    case icmp_type::kSourceQuench:
      return "source-quench";
    case icmp_type::kRedirect:
      return "redirect";
    case icmp_type::kEchoRequest:
      return "echo request";
    case icmp_type::kTimeExceeded:
      return "time-exceeded";
    case icmp_type::kParamProblem:
      return "param-problem";
    case icmp_type::kTimestamp:
      return "timestamp request";
    case icmp_type::kTimestampReply:
      return "timestamp reply";
    default:
      return "";
  }
}

// ---- TCP ----

std::string tcp_details(const TcpRepr& r) {
  std::string s = fmt::format("[{}] seq={}", to_string(r.flags), r.seq);
  if (r.flags.ack) append(s, " ack={}", r.ack);
  append(s, " win={}", r.window);
  if (r.flags.urg) append(s, " urg={}", r.urgent);
  if (r.mss) append(s, " mss={}", *r.mss);
  if (r.window_scale) append(s, " ws={}", *r.window_scale);
  if (r.sack_permitted) s += " sackOK";
  if (r.timestamps) append(s, " ts={}/{}", r.timestamps->first, r.timestamps->second);
  for (std::size_t i = 0; i < r.sack_count && i < r.sack.size(); ++i) {
    append(s, "{}{}:{}", i == 0 ? " sack=" : ",", r.sack[i].left, r.sack[i].right);
  }
  if (!r.payload.empty()) append(s, " len={}", r.payload.size());
  return s;
}

std::string tcp_option_detail(const TcpOptionView& o) {
  auto is = [&](std::size_t value_len) { return o.value.size() == value_len; };
  switch (o.kind) {
    case tcp_option::kEnd:
      return "eol";
    case tcp_option::kNop:
      return "nop";
    case tcp_option::kMss:
      if (is(2)) return fmt::format("mss {}", load_be16(o.value, 0));
      break;
    case tcp_option::kWindowScale:
      if (is(1)) return fmt::format("ws {}", load_u8(o.value, 0));
      break;
    case tcp_option::kSackPermitted:
      if (is(0)) return "sackOK";
      break;
    case tcp_option::kTimestamps:
      if (is(8)) return fmt::format("ts {}/{}", load_be32(o.value, 0), load_be32(o.value, 4));
      break;
    case tcp_option::kSack:
      if (!o.value.empty() && o.value.size() % 8 == 0) {
        std::string s = "sack";
        for (std::size_t i = 0; i + 8 <= o.value.size(); i += 8) {
          append(s, " {}:{}", load_be32(o.value, i), load_be32(o.value, i + 4));
        }
        return s;
      }
      break;
    default:
      break;
  }
  std::string s = fmt::format("kind={} len={}", o.kind, o.value.size() + 2);
  for (auto b : o.value) append(s, " {:02x}", std::to_integer<unsigned>(b));
  return s;
}

// ---- one line ----

struct L4Line {
  bool ok;
  std::string text;  // the decoded line, or "malformed <layer>: <reason>"
};

L4Line format_l4(const Ipv4View& v, ChecksumMode mode) {
  auto src = v.src();
  auto dst = v.dst();
  switch (v.protocol()) {
    case IpProto::Icmp: {
      auto r = Icmpv4Repr::parse(v.payload(), mode);
      if (!r) return {false, malformed("icmp", r.error())};
      return {true, format_icmp(*r, src, dst)};
    }
    case IpProto::Udp: {
      auto p = UdpView::checked(v.payload());
      if (!p) return {false, malformed("udp", p.error())};
      auto r = UdpRepr::parse(*p, src, dst, mode);
      if (!r) return {false, malformed("udp", r.error())};
      return {true, format_udp(*r, src, dst)};
    }
    case IpProto::Tcp: {
      auto p = TcpView::checked(v.payload());
      if (!p) return {false, malformed("tcp", p.error())};
      auto r = TcpRepr::parse(*p, src, dst, mode);
      if (!r) return {false, malformed("tcp", r.error())};
      return {true, format_tcp(*r, src, dst)};
    }
    default:
      return {true, fmt::format("IPv4 {} > {} proto={} len={}", src.to_string(), dst.to_string(),
                                static_cast<unsigned>(v.protocol()), v.payload().size())};
  }
}

std::string frag_line(const Ipv4View& v) {
  return fmt::format("IPv4 frag {} > {} proto={} id=0x{:04x} off={}{} len={}", v.src().to_string(),
                     v.dst().to_string(), static_cast<unsigned>(v.protocol()), v.ident(),
                     v.frag_offset(), v.more_frags() ? "+" : "", v.payload().size());
}

// ---- verbose ----

class Lines {
 public:
  template <class... Args>
  void field(std::string_view name, fmt::format_string<Args...> f, Args&&... args) {
    s_ += name;
    s_ += ": ";
    append(s_, f, std::forward<Args>(args)...);
    s_ += '\n';
  }
  void error(std::string_view layer, ParseError e) { field("error", "{}", malformed(layer, e)); }
  std::string take() { return std::move(s_); }

 private:
  std::string s_;
};

void verbose_tcp(Lines& out, Bytes seg, Ipv4Addr src, Ipv4Addr dst, ChecksumMode mode) {
  auto p = TcpView::checked(seg);
  if (!p) return out.error("tcp", p.error());
  out.field("tcp.src_port", "{}", p->src_port());
  out.field("tcp.dst_port", "{}", p->dst_port());
  out.field("tcp.seq", "{}", p->seq_number());
  out.field("tcp.ack", "{}", p->ack_number());
  out.field("tcp.header_len", "{}", p->header_len());
  out.field("tcp.reserved", "0x{:x}", p->reserved());
  out.field("tcp.flags", "[{}] (0x{:02x})", to_string(p->flags()), p->flags().bits());
  out.field("tcp.window", "{}", p->window());
  out.field("tcp.checksum", "0x{:04x} ({})", p->checksum(),
            checksum_note(p->verify_checksum(src, dst), mode));
  out.field("tcp.urgent", "{}", p->urgent());
  auto walked = for_each_tcp_option(p->options(), [&](const TcpOptionView& o) {
    out.field("tcp.option", "{}", tcp_option_detail(o));
  });
  (void)walked;  // a structural error is reported by parse() below
  out.field("tcp.payload_len", "{}", p->payload().size());
  auto r = TcpRepr::parse(*p, src, dst, mode);
  if (!r) out.error("tcp", r.error());
}

void verbose_udp(Lines& out, Bytes dgram, Ipv4Addr src, Ipv4Addr dst, ChecksumMode mode) {
  auto p = UdpView::checked(dgram);
  if (!p) return out.error("udp", p.error());
  out.field("udp.src_port", "{}", p->src_port());
  out.field("udp.dst_port", "{}", p->dst_port());
  out.field("udp.length", "{}", p->length());
  if (p->checksum() == 0) {
    out.field("udp.checksum", "0x0000 (none)");
  } else {
    out.field("udp.checksum", "0x{:04x} ({})", p->checksum(),
              checksum_note(p->verify_checksum(src, dst), mode));
  }
  out.field("udp.payload_len", "{}", p->payload().size());
  auto r = UdpRepr::parse(*p, src, dst, mode);
  if (!r) out.error("udp", r.error());
}

void verbose_icmp(Lines& out, Bytes msg, ChecksumMode mode) {
  if (msg.size() < Icmpv4Repr::kHeaderLen) return out.error("icmp", ParseError::Truncated);
  auto type = load_u8(msg, 0);
  auto code = load_u8(msg, 1);
  auto rest = load_be32(msg, 4);
  out.field("icmp.type", "{}", numbered(type, icmp_type_name(type)));
  if (type == icmp_type::kDestUnreachable) {
    out.field("icmp.code", "{}", numbered(code, unreach_name(code)));
  } else {
    out.field("icmp.code", "{}", code);
  }
  out.field("icmp.checksum", "0x{:04x} ({})", load_be16(msg, 2),
            checksum_note(internet_checksum(msg) == 0, mode));
  switch (type) {
    case icmp_type::kEchoRequest:
    case icmp_type::kEchoReply:
    case icmp_type::kTimestamp:
    case icmp_type::kTimestampReply:
      out.field("icmp.id", "{}", rest >> 16);
      out.field("icmp.seq", "{}", rest & 0xffff);
      break;
    case icmp_type::kDestUnreachable:
      if (code == icmp_unreach::kFragNeeded)
        out.field("icmp.next_hop_mtu", "{}", rest & 0xffff);
      else
        out.field("icmp.unused", "0x{:08x}", rest);
      break;
    case icmp_type::kParamProblem:
      out.field("icmp.pointer", "{}", rest >> 24);
      break;
    case icmp_type::kRedirect:
      out.field("icmp.gateway", "{}", Ipv4Addr{rest}.to_string());
      break;
    default:
      out.field("icmp.rest", "0x{:08x}", rest);
      break;
  }
  auto data = msg.subspan(Icmpv4Repr::kHeaderLen);
  out.field("icmp.data_len", "{}", data.size());
  auto r = Icmpv4Repr::parse(msg, mode);
  if (!r) return out.error("icmp", r.error());
  if (r->is_error()) {
    auto quoted = quoted_datagram(data);
    if (!quoted.empty()) out.field("icmp.quoted", "{}", quoted.substr(1));
  }
}

void verbose_ipv4(Lines& out, Bytes packet, ChecksumMode mode) {
  auto v = Ipv4View::checked(packet);
  if (!v) return out.error("ipv4", v.error());
  out.field("ipv4.version", "{}", v->version());
  out.field("ipv4.header_len", "{}", v->header_len());
  out.field("ipv4.tos", "0x{:02x}", v->tos());
  out.field("ipv4.total_len", "{}", v->total_len());
  out.field("ipv4.id", "0x{:04x}", v->ident());
  std::string flags;
  if (v->reserved_flag()) flags += "reserved,";
  if (v->dont_frag()) flags += "DF,";
  if (v->more_frags()) flags += "MF,";
  out.field("ipv4.flags", "{}", flags.empty() ? "none" : flags.substr(0, flags.size() - 1));
  out.field("ipv4.frag_offset", "{}", v->frag_offset());
  out.field("ipv4.ttl", "{}", v->ttl());
  out.field("ipv4.protocol", "{}",
            numbered(static_cast<unsigned>(v->protocol()), proto_name(v->protocol())));
  out.field("ipv4.checksum", "0x{:04x} ({})", v->checksum(),
            checksum_note(v->verify_checksum(), mode));
  out.field("ipv4.src", "{}", v->src().to_string());
  out.field("ipv4.dst", "{}", v->dst().to_string());
  walk_ip_options(v->options(), [&](std::uint8_t kind, Bytes opt) {
    out.field("ipv4.option", "{}", ip_option_detail(kind, opt));
  });
  auto ip = Ipv4Repr::parse(*v, mode);
  if (!ip) return out.error("ipv4", ip.error());
  if (v->frag_offset() != 0) {
    out.field("ipv4.fragment_data", "{} octets", v->payload().size());
    return;
  }
  // A first fragment cannot have its transport checksum verified: it covers the datagram.
  auto l4_mode = v->more_frags() ? ChecksumMode::Ignore : mode;
  switch (v->protocol()) {
    case IpProto::Icmp:
      return verbose_icmp(out, v->payload(), l4_mode);
    case IpProto::Udp:
      return verbose_udp(out, v->payload(), v->src(), v->dst(), l4_mode);
    case IpProto::Tcp:
      return verbose_tcp(out, v->payload(), v->src(), v->dst(), l4_mode);
    default:
      out.field("ipv4.payload_len", "{}", v->payload().size());
  }
}

void verbose_arp(Lines& out, Bytes b) {
  if (b.size() < arp_field::kOper.end()) return out.error("arp", ParseError::Truncated);
  out.field("arp.htype", "{}", load_be16(b, arp_field::kHtype.off));
  out.field("arp.ptype", "0x{:04x}", load_be16(b, arp_field::kPtype.off));
  out.field("arp.hlen", "{}", load_u8(b, arp_field::kHlen.off));
  out.field("arp.plen", "{}", load_u8(b, arp_field::kPlen.off));
  auto op = load_be16(b, arp_field::kOper.off);
  out.field("arp.op", "{}{}", op, op == 1 ? " (request)" : op == 2 ? " (reply)" : "");
  auto r = ArpRepr::parse(b);
  if (!r) return out.error("arp", r.error());
  out.field("arp.sender_mac", "{}", r->sender_mac.to_string());
  out.field("arp.sender_ip", "{}", r->sender_ip.to_string());
  out.field("arp.target_mac", "{}", r->target_mac.to_string());
  out.field("arp.target_ip", "{}", r->target_ip.to_string());
}

}  // namespace

std::string to_string(TcpFlags f) {
  if (f.none()) return "none";
  std::string s;
  if (f.fin) s += 'F';
  if (f.syn) s += 'S';
  if (f.rst) s += 'R';
  if (f.psh) s += 'P';
  if (f.ack) s += '.';
  if (f.urg) s += 'U';
  if (f.ece) s += 'E';
  if (f.cwr) s += 'W';
  return s;
}

std::string to_string(const TcpRepr& r) {
  return fmt::format("{} > {} {}", r.src_port, r.dst_port, tcp_details(r));
}

std::string format_tcp(const TcpRepr& r, Ipv4Addr src, Ipv4Addr dst) {
  return fmt::format("TCP {}:{} > {}:{} {}", src.to_string(), r.src_port, dst.to_string(),
                     r.dst_port, tcp_details(r));
}

std::string to_string(const UdpRepr& r) {
  return fmt::format("{} > {} len={}", r.src_port, r.dst_port, r.payload_len);
}

std::string format_udp(const UdpRepr& r, Ipv4Addr src, Ipv4Addr dst) {
  return fmt::format("UDP {}:{} > {}:{} len={}", src.to_string(), r.src_port, dst.to_string(),
                     r.dst_port, r.payload_len);
}

std::string to_string(const Icmpv4Repr& r) {
  switch (r.type) {
    case icmp_type::kEchoRequest:
    case icmp_type::kEchoReply:
      return fmt::format("{} id={} seq={} len={}", icmp_type_name(r.type), r.echo_ident(),
                         r.echo_seq(), r.data.size());
    case icmp_type::kTimestamp:
    case icmp_type::kTimestampReply:
      return fmt::format("{} id={} seq={}", icmp_type_name(r.type), r.echo_ident(), r.echo_seq());
    case icmp_type::kDestUnreachable: {
      auto name = unreach_name(r.code);
      std::string s = name.empty() ? fmt::format("unreachable code={}", r.code)
                                   : fmt::format("unreachable {}", name);
      // RFC 1191 §4: the next-hop MTU sits in the low 16 bits of the second word.
      if (r.code == icmp_unreach::kFragNeeded) append(s, " mtu={}", r.rest & 0xffff);
      return s + quoted_datagram(r.data);
    }
    case icmp_type::kTimeExceeded:
      return time_exceeded_name(r.code) + quoted_datagram(r.data);
    case icmp_type::kParamProblem:
      return fmt::format("param-problem ptr={}", r.rest >> 24) + quoted_datagram(r.data);
    case icmp_type::kRedirect:
      return fmt::format("redirect gw={}", Ipv4Addr{r.rest}.to_string()) + quoted_datagram(r.data);
    case icmp_type::kSourceQuench:
      return "source-quench" + quoted_datagram(r.data);
    default:
      return fmt::format("type={} code={} len={}", r.type, r.code, r.data.size());
  }
}

std::string format_icmp(const Icmpv4Repr& r, Ipv4Addr src, Ipv4Addr dst) {
  return fmt::format("ICMP {} > {} {}", src.to_string(), dst.to_string(), to_string(r));
}

std::string to_string(const ArpRepr& r) {
  switch (r.op) {
    case ArpOp::Request:
      return fmt::format("ARP who-has {} tell {}", r.target_ip.to_string(),
                         r.sender_ip.to_string());
    case ArpOp::Reply:
      return fmt::format("ARP reply {} is-at {}", r.sender_ip.to_string(),
                         r.sender_mac.to_string());
  }
  return fmt::format("ARP op={} {} > {}", static_cast<unsigned>(r.op), r.sender_ip.to_string(),
                     r.target_ip.to_string());
}

std::string to_string(const Ipv4Repr& r) {
  std::string s = fmt::format("IPv4 {} > {} proto={} ttl={} id=0x{:04x} len={}", r.src.to_string(),
                              r.dst.to_string(), static_cast<unsigned>(r.protocol), r.ttl, r.ident,
                              r.total_len());
  if (r.more_frags || r.frag_offset != 0) {
    append(s, " off={}{}", r.frag_offset, r.more_frags ? "+" : "");
  }
  return s + ip_options_suffix(r.option_bytes());
}

std::string to_string(const EthernetRepr& r) {
  return fmt::format("{} > {} type={}", r.src.to_string(), r.dst.to_string(),
                     ethertype_name(r.ethertype));
}

std::string format_ipv4(Bytes packet, ChecksumMode mode) {
  auto v = Ipv4View::checked(packet);
  if (!v) return malformed("ipv4", v.error());
  auto ip = Ipv4Repr::parse(*v, mode);
  if (!ip) return malformed("ipv4", ip.error());
  auto opts = ip_options_suffix(ip->option_bytes());
  if (v->frag_offset() != 0) return frag_line(*v) + opts;
  if (v->more_frags()) {
    // A first fragment: its transport checksum and lengths cover the whole datagram.
    auto l4 = format_l4(*v, ChecksumMode::Ignore);
    if (!l4.ok) return frag_line(*v) + opts;
    return fmt::format("{} [frag id=0x{:04x} off=0+]{}", l4.text, v->ident(), opts);
  }
  return format_l4(*v, mode).text + opts;
}

std::string format_frame(Bytes frame, ChecksumMode mode) {
  auto f = EthernetView::checked(frame);
  if (!f) return malformed("ethernet", f.error());
  switch (f->ethertype()) {
    case EtherType::Ipv4:
      return format_ipv4(f->payload(), mode);
    case EtherType::Arp: {
      auto r = ArpRepr::parse(f->payload());
      if (!r) return malformed("arp", r.error());
      return to_string(*r);
    }
    default:
      return fmt::format("ether {} > {} type={} len={}", f->src().to_string(), f->dst().to_string(),
                         ethertype_name(f->ethertype()), f->payload().size());
  }
}

std::string format_frame_verbose(Bytes frame, ChecksumMode mode) {
  Lines out;
  auto f = EthernetView::checked(frame);
  if (!f) {
    out.error("ethernet", f.error());
    return out.take();
  }
  out.field("eth.dst", "{}", f->dst().to_string());
  out.field("eth.src", "{}", f->src().to_string());
  auto type_name = known_ethertype_name(f->ethertype());
  out.field("eth.type", "0x{:04x}{}{}{}", static_cast<std::uint16_t>(f->ethertype()),
            type_name.empty() ? "" : " (", type_name, type_name.empty() ? "" : ")");
  switch (f->ethertype()) {
    case EtherType::Ipv4:
      verbose_ipv4(out, f->payload(), mode);
      break;
    case EtherType::Arp:
      verbose_arp(out, f->payload());
      break;
    default:
      out.field("eth.payload_len", "{}", f->payload().size());
      break;
  }
  return out.take();
}

}  // namespace tapir::wire
