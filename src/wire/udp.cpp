// UDP codec (RFC 768): parse and emit of UdpRepr.
#include "wire/udp.hpp"

namespace tapir::wire {

Result<UdpRepr, ParseError> UdpRepr::parse(const UdpView& p, Ipv4Addr src, Ipv4Addr dst,
                                           ChecksumMode mode) {
  // RFC 768 / RFC 1122 §4.1.3.4: a present checksum is verified; zero means none was sent.
  if (mode == ChecksumMode::Verify && !p.verify_checksum(src, dst)) return ParseError::BadChecksum;
  // Port 0 is reserved (IANA) and never bound, so nothing can receive the datagram.
  if (p.dst_port() == 0) return ParseError::BadPort;
  UdpRepr r;
  r.src_port = p.src_port();
  r.dst_port = p.dst_port();
  r.payload_len = static_cast<std::uint16_t>(p.length() - UdpView::kHeaderLen);
  r.has_checksum = p.checksum() != 0;
  return r;
}

void UdpRepr::emit(MutBytes out, Ipv4Addr src, Ipv4Addr dst) const {
  TAPIR_ASSERT(out.size() >= buffer_len(), "UdpRepr::emit: buffer shorter than the datagram");
  TAPIR_ASSERT(buffer_len() <= 0xffff, "UdpRepr::emit: datagram longer than the length field");
  auto p = UdpPacket<MutBytes>::unchecked(out.first(buffer_len()));
  p.set_src_port(src_port);
  p.set_dst_port(dst_port);
  p.set_length(static_cast<std::uint16_t>(buffer_len()));
  if (has_checksum) {
    p.fill_checksum(src, dst);
  } else {
    p.set_checksum(0);
  }
}

}  // namespace tapir::wire
