#include "phy/tap_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>

#include "phy/common.hpp"
#include "phy/vnet_header.hpp"
#include "util/log.hpp"

namespace tapir::phy {

namespace {

constexpr const char* kTunPath = "/dev/net/tun";
// An 802.1Q tag the kernel may forward; the stack counts such frames (rx_drop_vlan), so the
// receive buffer has room for them rather than reporting them as device errors.
constexpr std::size_t kVlanTagLen = 4;
// A superframe is one IPv4 datagram of at most 65535 octets (RFC 791 total length) behind
// the Ethernet header; the kernel never coalesces past it (tun's GSO limit is 64 KiB).
constexpr std::size_t kMaxSuperframe = 14 + 65535;

spdlog::logger* phy_log() {
  static spdlog::logger& l = log::get("phy");
  return &l;
}

// Setup failures carry three parts: the step, the kernel's reason and what to do next.
[[noreturn]] void fail(const std::string& step, int err, std::string_view hint) {
  std::string msg = step + ": " + std::strerror(err);
  if (!hint.empty()) msg += std::string("; ") + std::string(hint);
  throw DeviceError(msg);
}

std::string permission_hint() {
  return "run as root or grant CAP_NET_ADMIN (sudo setcap cap_net_admin+ep <binary>)";
}

std::string open_hint(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
      return permission_hint();
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return "load the tun module: modprobe tun (the device node is /dev/net/tun, char 10:200)";
    default:
      return {};
  }
}

std::string tunsetiff_hint(int err, const std::string& name, bool existed) {
  switch (err) {
    case EPERM:
    case EACCES:
      return permission_hint() +
             (existed ? "; a persistent " + name + " may also belong to another user or group"
                      : std::string());
    case EBUSY:
      return "another process holds " + name + "; stop it or pick another --tap name";
    case EINVAL:
      if (existed) return name + " exists but is not a single-queue TAP; pick another --tap name";
      return {};
    default:
      return {};
  }
}

// A socket used only as a handle for interface ioctls (flags, MTU) in this namespace.
class CtlSocket {
 public:
  CtlSocket() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fd_ = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      int err = errno;
      fail("socket for interface ioctls", err, open_hint(err));
    }
  }
  ~CtlSocket() { ::close(fd_); }
  CtlSocket(const CtlSocket&) = delete;
  CtlSocket& operator=(const CtlSocket&) = delete;
  int ioctl(unsigned long req, ifreq& ifr) const { return ::ioctl(fd_, req, &ifr) < 0 ? errno : 0; }

 private:
  int fd_ = -1;
};

ifreq make_ifreq(const std::string& name) {
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), std::size_t{IFNAMSIZ - 1}));
  return ifr;
}

}  // namespace

void TapDevice::validate_name(std::string_view name) {
  auto bad = [&](std::string_view why) {
    throw DeviceError("invalid TAP name '" + std::string(name) + "': " + std::string(why) +
                      "; pick a name like tap0");
  };
  if (name.empty()) bad("the name is empty");
  if (name.size() > IFNAMSIZ - 1) {
    bad("longer than " + std::to_string(IFNAMSIZ - 1) + " characters (IFNAMSIZ)");
  }
  if (name == "." || name == "..") bad("'.' and '..' are reserved");
  for (char c : name) {
    if (c == '/') bad("contains '/'");
    if (c == ':') bad("contains ':' (alias syntax)");
    if (std::isspace(static_cast<unsigned char>(c)) != 0) bad("contains whitespace");
  }
}

void TapDevice::Batch::allocate(std::size_t n, std::size_t bytes_each) {
  slots = n;
  stride = bytes_each;
  buf.assign(n * bytes_each, std::byte{0});
  len.assign(n, 0);
  count = next = 0;
}

TapDevice::TapDevice(TapConfig cfg) : name_(std::move(cfg.name)) {
  validate_name(name_);
  if (cfg.rx_batch == 0 || cfg.tx_batch == 0) {
    throw DeviceError("TAP " + name_ + ": rx_batch and tx_batch must be at least 1");
  }
  // Attaching to an existing persistent TAP and creating one are the same TUNSETIFF call;
  // whether the name existed beforehand tells the two apart.
  const bool existed = ::if_nametoindex(name_.c_str()) != 0;
  open_tun(cfg.offload, existed);
  if (cfg.offload && !enable_offload(cfg.offload_features)) {
    ::close(fd_);
    open_tun(false, existed);
  }
  try {
    configure_link(cfg.mtu);
    const std::size_t hdr = offload_ ? VnetHeader::kLen : 0;
    const std::size_t rx_frame = offload_ ? kMaxSuperframe : max_frame_len(mtu_);
    // One spare byte per rx slot: a read() that fills it was longer than any legal frame.
    rx_.allocate(cfg.rx_batch, hdr + rx_frame + kVlanTagLen + 1);
    rx_info_.assign(cfg.rx_batch, RxInfo{});
    tx_.allocate(cfg.tx_batch, hdr + max_frame_len(mtu_));
  } catch (...) {
    ::close(fd_);
    throw;
  }
  TAPIR_LOG_DEBUG(phy_log(), "{} {} (fd {}, mtu {}, rx batch {}, tx batch {}, offload {})", name_,
                  created_ ? "created" : "attached", fd_, mtu_, rx_.slots, tx_.slots,
                  offload_ ? "on" : "off");
}

TapDevice::~TapDevice() {
  flush(Instant{});
  ::close(fd_);
}

void TapDevice::open_tun(bool vnet_hdr, bool existed) {
  fd_ = ::open(kTunPath, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    fail(std::string("open ") + kTunPath, err, open_hint(err));
  }
  ifreq ifr = make_ifreq(name_);
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0));
  if (::ioctl(fd_, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    // A kernel without IFF_VNET_HDR answers EINVAL: the caller retries with plain frames.
    if (vnet_hdr && err == EINVAL) {
      phy_log()->info("{}: IFF_VNET_HDR refused ({}); using plain frames", name_,
                      std::strerror(err));
      open_tun(false, existed);
      return;
    }
    fail("ioctl TUNSETIFF " + name_, err, tunsetiff_hint(err, name_, existed));
  }
  offload_ = vnet_hdr;
  name_ = std::string(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));
  created_ = !existed;
}

bool TapDevice::enable_offload(unsigned features) {
  if (!offload_) return false;
  // The 10-byte legacy header (struct virtio_net_hdr): tapir negotiates no mergeable
  // buffers, so the 12-byte virtio 1.0 form would only add an unused num_buffers field.
  int hdr_len = static_cast<int>(VnetHeader::kLen);
  const char* step = "TUNSETVNETHDRSZ";
  bool ok = ::ioctl(fd_, TUNSETVNETHDRSZ, &hdr_len) == 0;
  if (ok) {
    step = "TUNSETOFFLOAD";
    ok = ::ioctl(fd_, TUNSETOFFLOAD, static_cast<unsigned long>(features)) == 0;
  }
  if (ok) return true;
  phy_log()->info("{}: {} refused ({}); offloads off, using plain frames", name_, step,
                  std::strerror(errno));
  offload_ = false;
  return false;
}

DeviceCaps TapDevice::caps() const {
  DeviceCaps c{.mtu = mtu_, .rx_batch = rx_.slots};
  if (offload_) {
    c.max_rx_frame = kMaxSuperframe;
    c.tso_max = kMaxSuperframe;
  }
  return c;
}

void TapDevice::configure_link(std::optional<std::size_t> want_mtu) {
  CtlSocket ctl;
  ifreq ifr = make_ifreq(name_);
  if (want_mtu) {
    ifr.ifr_mtu = static_cast<int>(*want_mtu);
    if (int err = ctl.ioctl(SIOCSIFMTU, ifr)) {
      fail("set MTU " + std::to_string(*want_mtu) + " on " + name_, err,
           err == EINVAL ? "a TAP accepts an MTU from 68 to 65521" : open_hint(err));
    }
  }
  if (int err = ctl.ioctl(SIOCGIFFLAGS, ifr)) fail("read flags of " + name_, err, open_hint(err));
  if ((ifr.ifr_flags & IFF_UP) == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (int err = ctl.ioctl(SIOCSIFFLAGS, ifr)) fail("bring up " + name_, err, open_hint(err));
  }
  if (int err = ctl.ioctl(SIOCGIFMTU, ifr)) fail("read MTU of " + name_, err, open_hint(err));
  mtu_ = static_cast<std::size_t>(ifr.ifr_mtu);
}

std::optional<Bytes> TapDevice::receive(Instant /*now*/) {
  // One read(2) per call, into the next slot in turn: nothing is read ahead, so a caller
  // that answers each frame before asking for the next (EventLoop) has its answer on the
  // wire before it reads again (docs/hot-path.md), and the read that finds the queue empty
  // is the one that ends a poll. A frame handed out stays valid for `slots` more calls.
  for (;;) {
    const std::size_t i = rx_.next;
    MutBytes slot = rx_.slot(i);
    const ssize_t n = ::read(fd_, slot.data(), slot.size());
    ++stats_.rx_reads;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ++stats_.rx_errors;
        phy_log()->error("{} read: {}", name_, std::strerror(errno));
      }
      return std::nullopt;
    }
    const auto len = static_cast<std::size_t>(n);
    if (len >= slot.size()) {
      ++stats_.rx_errors;
      TAPIR_LOG_DEBUG(phy_log(), "{} read: frame longer than {} octets dropped", name_,
                      slot.size() - 1);
      continue;
    }
    if (offload_ && !accept_vnet(slot.first(len), rx_info_[i])) continue;
    rx_.next = (i + 1) % rx_.slots;
    ++stats_.rx_frames;
    if (!offload_) return Bytes(slot.first(len));
    last_rx_ = rx_info_[i];
    return Bytes(slot.first(len)).subspan(VnetHeader::kLen);
  }
}

bool TapDevice::accept_vnet(Bytes slot, RxInfo& info) {
  auto h = VnetHeader::parse(slot);
  if (!h) {
    ++stats_.rx_errors;
    TAPIR_LOG_DEBUG(phy_log(), "{} read: virtio-net header {}; frame dropped", name_,
                    wire::to_string(h.error()));
    return false;
  }
  info.checksum_unverified = h->checksum_unverified();
  info.superframe = h->superframe();
  if (h->flags & VnetHeader::kNeedsCsum) ++stats_.rx_checksum_partial;
  if (info.superframe) ++stats_.rx_superframes;
  return true;
}

Errno TapDevice::transmit(Bytes frame, Instant now) {
  const std::size_t hdr = offload_ ? VnetHeader::kLen : 0;
  if (hdr + frame.size() > tx_.stride) {
    ++stats_.tx_errors;
    return Errno::MsgSize;
  }
  MutBytes slot = tx_.slot(tx_.count);
  // A plain frame under offload: gso_type NONE, checksums already complete.
  if (offload_) VnetHeader{}.emit(slot);
  // A frame the stack built in this slot (tx_slot()) is already in place.
  if (frame.data() != slot.data() + hdr) {
    std::copy(frame.begin(), frame.end(), slot.begin() + static_cast<std::ptrdiff_t>(hdr));
  }
  tx_.len[tx_.count++] = hdr + frame.size();
  if (tx_.count == tx_.slots) flush(now);
  return Errno::Ok;
}

MutBytes TapDevice::tx_slot(std::size_t len) {
  const std::size_t hdr = offload_ ? VnetHeader::kLen : 0;
  if (hdr + len > tx_.stride) return {};
  // transmit() writes the slots out as soon as the last one is taken, so one is free.
  return tx_.slot(tx_.count).subspan(hdr);
}

void TapDevice::flush(Instant /*now*/) {
  for (std::size_t i = 0; i < tx_.count; ++i) write_frame(tx_.slot(i).first(tx_.len[i]));
  tx_.count = 0;
}

Errno TapDevice::transmit_gso(Bytes frame, const GsoInfo& gso, Instant now) {
  if (!offload_) return Errno::OpNotSupp;
  if (frame.size() > kMaxSuperframe) {
    ++stats_.tx_errors;
    return Errno::MsgSize;
  }
  if (gso.segment_size == 0 || gso.header_len > frame.size() ||
      std::size_t{gso.csum_start} + gso.csum_offset + 2 > frame.size()) {
    return Errno::Inval;
  }
  // Frames transmitted earlier must reach the kernel first.
  flush(now);
  VnetHeader h;
  h.flags = VnetHeader::kNeedsCsum;
  h.gso_type = VnetHeader::kGsoTcpV4;
  h.hdr_len = gso.header_len;
  h.gso_size = gso.segment_size;
  h.csum_start = gso.csum_start;
  h.csum_offset = gso.csum_offset;
  std::array<std::byte, VnetHeader::kLen> raw{};
  h.emit(raw);
  std::array<iovec, 2> iov{iovec{raw.data(), raw.size()},
                           iovec{const_cast<std::byte*>(frame.data()), frame.size()}};
  if (writev_frame(iov.data(), 2, raw.size() + frame.size())) ++stats_.tx_superframes;
  return Errno::Ok;
}

void TapDevice::write_frame(Bytes frame) {
  iovec iov{const_cast<std::byte*>(frame.data()), frame.size()};
  (void)writev_frame(&iov, 1, frame.size());
}

bool TapDevice::writev_frame(const iovec* iov, int count, std::size_t len) {
  for (;;) {
    const ssize_t n = ::writev(fd_, iov, count);
    if (n == static_cast<ssize_t>(len)) {
      ++stats_.tx_frames;
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    // Never block on a full kernel queue: the frame is lost as if on a congested wire.
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      ++stats_.tx_dropped;
      TAPIR_LOG_DEBUG(phy_log(), "{} write: {}; frame dropped", name_, std::strerror(errno));
      return false;
    }
    ++stats_.tx_errors;
    if (n < 0) {
      phy_log()->error("{} write: {}", name_, std::strerror(errno));
    } else {
      phy_log()->error("{} write: short write {} of {} octets", name_, n, len);
    }
    return false;
  }
}

}  // namespace tapir::phy
