#include "support/tso_device.hpp"

#include <algorithm>

#include "util/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace tapir::test {

namespace {

// RFC 1071 §4.1: the end-around carry.
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kPsh = 0x08;
constexpr std::uint8_t kCwr = 0x80;

}  // namespace

std::vector<Frame> segment_superframe(Bytes frame, const phy::GsoInfo& gso) {
  const std::size_t ip_off = wire::EthernetView::kHeaderLen;
  const std::size_t th = gso.csum_start;  // the TCP header
  const std::size_t payload = frame.size() - gso.header_len;
  const std::uint16_t id0 = load_be16(frame, ip_off + wire::ipv4_field::kIdent.off);
  const std::uint32_t seq0 = load_be32(frame, th + wire::tcp_field::kSeq.off);
  const std::uint16_t pseudo = load_be16(frame, th + gso.csum_offset);
  const auto whole_len = static_cast<std::uint16_t>(frame.size() - th);
  std::vector<Frame> out;
  for (std::size_t off = 0, i = 0; off < payload; off += gso.segment_size, ++i) {
    const std::size_t len = std::min<std::size_t>(gso.segment_size, payload - off);
    const bool last = off + len == payload;
    Frame seg(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(gso.header_len));
    seg.insert(seg.end(), frame.begin() + static_cast<std::ptrdiff_t>(gso.header_len + off),
               frame.begin() + static_cast<std::ptrdiff_t>(gso.header_len + off + len));
    auto ip = wire::Ipv4Packet<MutBytes>::unchecked(MutBytes(seg).subspan(ip_off));
    ip.set_total_len(static_cast<std::uint16_t>(seg.size() - ip_off));
    ip.set_ident(static_cast<std::uint16_t>(id0 + i));
    ip.fill_checksum();
    store_be32(seg, th + wire::tcp_field::kSeq.off, seq0 + static_cast<std::uint32_t>(off));
    std::uint8_t flags = load_u8(seg, th + wire::tcp_field::kFlags.off);
    if (!last) flags = static_cast<std::uint8_t>(flags & ~(kFin | kPsh));
    if (i > 0) flags = static_cast<std::uint8_t>(flags & ~kCwr);
    store_u8(seg, th + wire::tcp_field::kFlags.off, flags);
    // The pseudo-header sum moves from the superframe's TCP length to this segment's (one's
    // complement: add the complement of the old length and the new one); then the checksum
    // runs from csum_start over the segment, that sum included, as NEEDS_CSUM asks.
    const auto seg_len = static_cast<std::uint16_t>(seg.size() - th);
    const std::uint16_t adjusted =
        fold(std::uint32_t{pseudo} + static_cast<std::uint16_t>(~whole_len) + seg_len);
    store_be16(seg, th + gso.csum_offset, adjusted);
    store_be16(seg, th + gso.csum_offset, internet_checksum(Bytes(seg).subspan(th)));
    out.push_back(std::move(seg));
  }
  return out;
}

phy::DeviceCaps SegmentingDevice::caps() const {
  phy::DeviceCaps c = inner_.caps();
  c.tso_max = tso_max_;
  return c;
}

Errno SegmentingDevice::transmit(Bytes frame, Instant now) {
  if (record_) sent_.push_back({Frame(frame.begin(), frame.end()), false, false});
  return inner_.transmit(frame, now);
}

Errno SegmentingDevice::transmit_gso(Bytes frame, const phy::GsoInfo& gso, Instant now) {
  if (tso_max_ == 0 || refuse_) return Errno::OpNotSupp;
  if (frame.size() > tso_max_) return Errno::MsgSize;
  const std::size_t index = superframe_count_++;
  auto segments = segment_superframe(frame, gso);
  if (record_) superframes_.push_back({Frame(frame.begin(), frame.end()), gso, segments.size()});
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (drop_ && drop_(index, i)) {
      ++dropped_;
      continue;
    }
    if (record_) sent_.push_back({segments[i], true, i + 1 == segments.size()});
    (void)inner_.transmit(Bytes(segments[i]), now);
  }
  return Errno::Ok;
}

}  // namespace tapir::test
