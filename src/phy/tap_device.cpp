#include "phy/tap_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>

#include "phy/common.hpp"
#include "util/log.hpp"

namespace tapir::phy {

namespace {

constexpr const char* kTunPath = "/dev/net/tun";
// An 802.1Q tag the kernel may forward; the stack counts such frames (rx_drop_vlan), so the
// receive buffer has room for them rather than reporting them as device errors.
constexpr std::size_t kVlanTagLen = 4;

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
  open_tun();
  try {
    configure_link(cfg.mtu);
    // One spare byte per rx slot: a read() that fills it was longer than any legal frame.
    rx_.allocate(cfg.rx_batch, max_frame_len(mtu_) + kVlanTagLen + 1);
    tx_.allocate(cfg.tx_batch, max_frame_len(mtu_));
  } catch (...) {
    ::close(fd_);
    throw;
  }
  SPDLOG_LOGGER_DEBUG(phy_log(), "{} {} (fd {}, mtu {}, rx batch {}, tx batch {})", name_,
                      created_ ? "created" : "attached", fd_, mtu_, rx_.slots, tx_.slots);
}

TapDevice::~TapDevice() {
  flush(Instant{});
  ::close(fd_);
}

void TapDevice::open_tun() {
  fd_ = ::open(kTunPath, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    fail(std::string("open ") + kTunPath, err, open_hint(err));
  }
  // Attaching to an existing persistent TAP and creating one are the same TUNSETIFF call;
  // whether the name existed beforehand tells the two apart.
  const bool existed = ::if_nametoindex(name_.c_str()) != 0;
  ifreq ifr = make_ifreq(name_);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (::ioctl(fd_, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    fail("ioctl TUNSETIFF " + name_, err, tunsetiff_hint(err, name_, existed));
  }
  name_ = std::string(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ));
  created_ = !existed;
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
  if (rx_.next == rx_.count) refill_rx();
  if (rx_.next == rx_.count) return std::nullopt;
  const std::size_t i = rx_.next++;
  ++stats_.rx_frames;
  return Bytes(rx_.slot(i).first(rx_.len[i]));
}

void TapDevice::refill_rx() {
  rx_.count = rx_.next = 0;
  while (rx_.count < rx_.slots) {
    MutBytes slot = rx_.slot(rx_.count);
    const ssize_t n = ::read(fd_, slot.data(), slot.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      ++stats_.rx_errors;
      phy_log()->error("{} read: {}", name_, std::strerror(errno));
      return;
    }
    if (static_cast<std::size_t>(n) >= slot.size()) {
      ++stats_.rx_errors;
      SPDLOG_LOGGER_DEBUG(phy_log(), "{} read: frame longer than {} octets dropped", name_,
                          slot.size() - 1);
      continue;
    }
    rx_.len[rx_.count++] = static_cast<std::size_t>(n);
  }
}

Errno TapDevice::transmit(Bytes frame, Instant now) {
  if (frame.size() > tx_.stride) {
    ++stats_.tx_errors;
    return Errno::MsgSize;
  }
  MutBytes slot = tx_.slot(tx_.count);
  std::copy(frame.begin(), frame.end(), slot.begin());
  tx_.len[tx_.count++] = frame.size();
  if (tx_.count == tx_.slots) flush(now);
  return Errno::Ok;
}

void TapDevice::flush(Instant /*now*/) {
  for (std::size_t i = 0; i < tx_.count; ++i) write_frame(tx_.slot(i).first(tx_.len[i]));
  tx_.count = 0;
}

void TapDevice::write_frame(Bytes frame) {
  for (;;) {
    const ssize_t n = ::write(fd_, frame.data(), frame.size());
    if (n == static_cast<ssize_t>(frame.size())) {
      ++stats_.tx_frames;
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    // Never block on a full kernel queue: the frame is lost as if on a congested wire.
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      ++stats_.tx_dropped;
      SPDLOG_LOGGER_DEBUG(phy_log(), "{} write: {}; frame dropped", name_, std::strerror(errno));
      return;
    }
    ++stats_.tx_errors;
    if (n < 0) {
      phy_log()->error("{} write: {}", name_, std::strerror(errno));
    } else {
      phy_log()->error("{} write: short write {} of {} octets", name_, n, frame.size());
    }
    return;
  }
}

}  // namespace tapir::phy
