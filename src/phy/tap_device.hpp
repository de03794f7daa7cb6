// TapDevice: the one real device. It opens /dev/net/tun as a TAP (Ethernet frames, no
// packet-information prefix), non-blocking, attaches to or creates the named interface,
// brings it up and reads its MTU. Frames move in preallocated batches: receive() drains up
// to rx_batch frames per read() burst, transmit() copies into a tx slot and flush() writes
// the slots out, one write() per frame since a TAP takes exactly one frame per write.
// Together with src/app/, this is the only code that touches the OS (STYLE.md §0.1).
//
// With TapConfig::offload the TAP is opened with IFF_VNET_HDR and TUNSETOFFLOAD
// (TUN_F_CSUM | TUN_F_TSO4): every frame then carries a 10-byte virtio-net header
// (phy/vnet_header.hpp), the kernel may hand us checksum-partial frames and TCP superframes
// of up to 64 KiB, and transmit_gso() hands it superframes to segment. A kernel that
// refuses any of these ioctls gets plain frames instead (offload_active() false).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tapir/device.hpp"

namespace tapir::phy {

struct TapConfig {
  std::string name = "tap0";
  std::optional<std::size_t> mtu;  // when set, the interface MTU is changed before it is read
  std::size_t rx_batch = 64;       // frames read per burst of read() calls
  std::size_t tx_batch = 64;       // frames held until flush() writes them
  // Ask for checksum and TCP segmentation offload (see above); each rx slot then holds a
  // 64 KiB superframe, so the receive batch costs rx_batch * 64 KiB.
  bool offload = false;
  // The TUNSETOFFLOAD feature bits asked for (TUN_F_CSUM | TUN_F_TSO4). A bit the kernel does
  // not know makes it answer EINVAL, which is how tests exercise the fallback.
  unsigned offload_features = 0x01 | 0x02;
};

struct TapStats {
  std::uint64_t rx_frames = 0;       // frames handed to the stack
  std::uint64_t rx_reads = 0;        // read(2) calls, the empty one ending each batch included
  std::uint64_t tx_frames = 0;       // frames the kernel accepted
  std::uint64_t tx_dropped = 0;      // write() answered EAGAIN or ENOBUFS: the kernel queue is full
  std::uint64_t tx_errors = 0;       // frames refused for any other reason (too long, EIO, EINVAL)
  std::uint64_t rx_errors = 0;       // read() failures and frames longer than the receive buffer
  std::uint64_t rx_superframes = 0;  // offload: GSO frames longer than the MTU
  std::uint64_t rx_checksum_partial = 0;  // offload: frames whose transport checksum is unset
  std::uint64_t tx_superframes = 0;       // offload: superframes handed to the kernel to segment
};

class TapDevice final : public Device {
 public:
  // Throws DeviceError, with what failed and how to fix it, when the name is invalid or
  // /dev/net/tun, TUNSETIFF or an interface ioctl fails.
  explicit TapDevice(TapConfig cfg);
  ~TapDevice() override;
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;

  DeviceCaps caps() const override;
  std::optional<Bytes> receive(Instant now) override;
  RxInfo last_rx_info() const override { return last_rx_; }
  // Copies the frame into a tx slot, unless it was built in one (tx_slot()), and writes the
  // slots out once all are taken. MsgSize for a frame longer than max_frame_len(mtu); write
  // errors surface later, in stats().
  Errno transmit(Bytes frame, Instant now) override;
  // The next tx slot (after the virtio-net header under offload): a frame built there is
  // written out by flush() without the copy transmit() otherwise makes.
  MutBytes tx_slot(std::size_t len) override;
  void flush(Instant now) override;
  // Offload only: writes pending frames, then the superframe with a GSO header for the
  // kernel to cut into gso.segment_size pieces. OpNotSupp without offload, MsgSize above
  // caps().tso_max, Inval when the offsets fall outside the frame; write errors as transmit.
  Errno transmit_gso(Bytes frame, const GsoInfo& gso, Instant now) override;
  int wait_fd() const override { return fd_; }

  const TapStats& stats() const { return stats_; }
  // The kernel's name for the interface.
  const std::string& name() const { return name_; }
  // True when this device created the interface, false when it attached to an existing
  // (persistent) one; only a created, non-persistent TAP vanishes when the device closes.
  bool created() const { return created_; }
  // True when the kernel accepted IFF_VNET_HDR and the offloads (TapConfig::offload).
  bool offload_active() const { return offload_; }

  // Throws DeviceError when `name` cannot be an interface name: empty, longer than
  // IFNAMSIZ-1 (15) characters, "." or "..", or containing '/', ':' or whitespace.
  static void validate_name(std::string_view name);

 private:
  // Fixed-size frame slots in one allocation, made once at open: no allocation per frame.
  struct Batch {
    std::size_t slots = 0;
    std::size_t stride = 0;  // bytes per slot
    std::vector<std::byte> buf;
    std::vector<std::size_t> len;
    std::size_t count = 0;  // slots filled
    std::size_t next = 0;   // rx: the slot the next frame is read into
    void allocate(std::size_t n, std::size_t bytes_each);
    MutBytes slot(std::size_t i) { return MutBytes(buf).subspan(i * stride, stride); }
  };

  void open_tun(bool vnet_hdr, bool existed);
  bool enable_offload(unsigned features);
  void configure_link(std::optional<std::size_t> want_mtu);
  bool accept_vnet(Bytes slot, RxInfo& info);
  void write_frame(Bytes frame);
  // One write of `count` pieces totalling `len` octets; true when the kernel took it.
  bool writev_frame(const iovec* iov, int count, std::size_t len);

  std::string name_;
  int fd_ = -1;
  bool created_ = false;
  std::size_t mtu_ = 0;
  bool offload_ = false;
  Batch rx_;
  std::vector<RxInfo> rx_info_;  // per rx slot (offload only)
  RxInfo last_rx_;
  Batch tx_;
  TapStats stats_;
};

}  // namespace tapir::phy
