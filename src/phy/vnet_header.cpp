#include "phy/vnet_header.hpp"

namespace tapir::phy {

namespace {

// Legacy virtio fields follow the host's byte order; tapir's hosts are little-endian.
std::uint16_t load_le16(Bytes b, std::size_t off) {
  return static_cast<std::uint16_t>(load_u8(b, off) | (load_u8(b, off + 1) << 8));
}

void store_le16(MutBytes b, std::size_t off, std::uint16_t v) {
  store_u8(b, off, static_cast<std::uint8_t>(v & 0xff));
  store_u8(b, off + 1, static_cast<std::uint8_t>(v >> 8));
}

}  // namespace

Result<VnetHeader, wire::ParseError> VnetHeader::parse(Bytes b) {
  if (b.size() < kLen) return wire::ParseError::Truncated;
  VnetHeader h;
  h.flags = load_u8(b, 0);
  h.gso_type = load_u8(b, 1);
  h.hdr_len = load_le16(b, 2);
  h.gso_size = load_le16(b, 4);
  h.csum_start = load_le16(b, 6);
  h.csum_offset = load_le16(b, 8);
  const std::uint8_t kind = h.gso_type & static_cast<std::uint8_t>(~kGsoEcn);
  if (kind != kGsoNone && kind != kGsoTcpV4) return wire::ParseError::Unsupported;
  return h;
}

void VnetHeader::emit(MutBytes out) const {
  store_u8(out, 0, flags);
  store_u8(out, 1, gso_type);
  store_le16(out, 2, hdr_len);
  store_le16(out, 4, gso_size);
  store_le16(out, 6, csum_start);
  store_le16(out, 8, csum_offset);
}

}  // namespace tapir::phy
