// The virtio-net header a TAP opened with IFF_VNET_HDR puts before every frame, in both
// directions (struct virtio_net_hdr in <linux/virtio_net.h>; virtio spec v1.1 §5.1.6). tapir
// uses the 10-byte legacy layout (set with TUNSETVNETHDRSZ), whose multi-byte fields are
// little-endian on the little-endian hosts tapir runs on (the tun driver's legacy rule).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tapir/bytes.hpp"
#include "tapir/result.hpp"
#include "wire/common.hpp"

namespace tapir::phy {

struct VnetHeader {
  static constexpr std::size_t kLen = 10;
  // flags
  static constexpr std::uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr std::uint8_t kDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
  // gso_type
  static constexpr std::uint8_t kGsoNone = 0;    // VIRTIO_NET_HDR_GSO_NONE
  static constexpr std::uint8_t kGsoTcpV4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4
  static constexpr std::uint8_t kGsoUdp = 3;     // VIRTIO_NET_HDR_GSO_UDP
  static constexpr std::uint8_t kGsoTcpV6 = 4;   // VIRTIO_NET_HDR_GSO_TCPV6
  static constexpr std::uint8_t kGsoEcn = 0x80;  // VIRTIO_NET_HDR_GSO_ECN (a flag bit)

  std::uint8_t flags = 0;
  std::uint8_t gso_type = kGsoNone;
  std::uint16_t hdr_len = 0;      // Ethernet + IP + TCP header bytes of a GSO frame
  std::uint16_t gso_size = 0;     // payload bytes per segment
  std::uint16_t csum_start = 0;   // where checksumming starts (from the Ethernet header)
  std::uint16_t csum_offset = 0;  // where the checksum goes, from csum_start

  // Truncated when `b` is shorter than kLen; Unsupported for a gso_type other than NONE or
  // TCPV4 (the only kinds TUNSETOFFLOAD with TUN_F_CSUM | TUN_F_TSO4 lets the kernel send).
  static Result<VnetHeader, wire::ParseError> parse(Bytes b);
  // Writes kLen bytes at the start of `out` (which must hold them).
  void emit(MutBytes out) const;

  bool checksum_unverified() const { return (flags & (kNeedsCsum | kDataValid)) != 0; }
  bool superframe() const { return (gso_type & ~kGsoEcn) != kGsoNone; }
};

}  // namespace tapir::phy
