// TCP codec (RFC 9293 §3.1, §3.2; RFC 7323; RFC 2018): parse and emit of TcpRepr.
#include "wire/tcp.hpp"

#include <algorithm>
#include <cstring>

namespace tapir::wire {

namespace {

// The option fields of a repr, decoded from (or compared against) an option list.
struct DecodedOptions {
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> timestamps;
  std::array<SackBlock, tcp_option::kMaxSackBlocks> sack{};
  std::uint8_t sack_count = 0;

  static DecodedOptions of(const TcpRepr& r) {
    return {r.mss, r.window_scale, r.sack_permitted, r.timestamps, r.sack, r.sack_count};
  }
  bool same_as(const TcpRepr& r) const {
    return mss == r.mss && window_scale == r.window_scale && sack_permitted == r.sack_permitted &&
           timestamps == r.timestamps && sack_count == r.sack_count &&
           std::equal(sack.begin(), sack.begin() + blocks(sack_count), r.sack.begin());
  }
  // A count set by code may exceed the array; only the array's blocks exist.
  static std::ptrdiff_t blocks(std::uint8_t count) {
    return static_cast<std::ptrdiff_t>(std::min<std::size_t>(count, tcp_option::kMaxSackBlocks));
  }
};

// A known kind must have its fixed length (RFC 9293 §3.2 MSS, RFC 7323 §2.2 and §3.2,
// RFC 2018 §2); SACK carries 1 to 4 blocks of 8 octets (RFC 2018 §3). A kind seen twice
// keeps its last value. Unknown kinds are skipped: RFC 9293 §3.1 (MUST-6) "ignore without
// error any TCP Option it does not implement", which their length octet makes possible.
Result<DecodedOptions, ParseError> decode_options(Bytes opts) {
  DecodedOptions d;
  bool bad = false;
  auto on_option = [&](const TcpOptionView& o) {
    auto want = [&](std::size_t total_len) {
      if (o.value.size() + 2 != total_len) bad = true;
      return !bad;
    };
    switch (o.kind) {
      case tcp_option::kMss:
        if (want(tcp_option::kMssLen)) d.mss = load_be16(o.value, 0);
        break;
      case tcp_option::kWindowScale:
        if (want(tcp_option::kWindowScaleLen)) d.window_scale = load_u8(o.value, 0);
        break;
      case tcp_option::kSackPermitted:
        if (want(tcp_option::kSackPermittedLen)) d.sack_permitted = true;
        break;
      case tcp_option::kTimestamps:
        if (want(tcp_option::kTimestampsLen)) {
          d.timestamps = std::pair{load_be32(o.value, 0), load_be32(o.value, 4)};
        }
        break;
      case tcp_option::kSack: {
        std::size_t n = o.value.size() / tcp_option::kSackBlockLen;
        if (o.value.size() % tcp_option::kSackBlockLen != 0 || n == 0 ||
            n > tcp_option::kMaxSackBlocks) {
          bad = true;
          break;
        }
        for (std::size_t i = 0; i < n; ++i) {
          auto off = i * tcp_option::kSackBlockLen;
          d.sack[i] = {load_be32(o.value, off), load_be32(o.value, off + 4)};
        }
        d.sack_count = static_cast<std::uint8_t>(n);
        break;
      }
      default:
        break;
    }
  };
  if (auto ok = for_each_tcp_option(opts, on_option); !ok) return ok.error();
  if (bad) return ParseError::BadOption;
  return d;
}

// Appends option octets into a fixed 40-octet area.
class OptionWriter {
 public:
  explicit OptionWriter(MutBytes out) : out_(out) {}
  std::size_t len() const { return len_; }
  std::size_t room() const { return out_.size() - len_; }
  void u8(std::uint8_t v) { store_u8(out_, len_++, v); }
  void u16(std::uint16_t v) {
    store_be16(out_, len_, v);
    len_ += 2;
  }
  void u32(std::uint32_t v) {
    store_be32(out_, len_, v);
    len_ += 4;
  }

 private:
  MutBytes out_;
  std::size_t len_ = 0;
};

// Linux's layout (net/ipv4/tcp_output.c writes options in this order), so that our SYNs
// carry the same bytes a Linux host sends. Every group is a multiple of 4 octets.
std::size_t write_canonical_options(const TcpRepr& r, MutBytes out) {
  OptionWriter w(out);
  if (r.mss) {
    w.u8(tcp_option::kMss);
    w.u8(tcp_option::kMssLen);
    w.u16(*r.mss);
  }
  if (r.timestamps) {
    if (r.sack_permitted) {
      w.u8(tcp_option::kSackPermitted);
      w.u8(tcp_option::kSackPermittedLen);
    } else {
      w.u8(tcp_option::kNop);
      w.u8(tcp_option::kNop);
    }
    w.u8(tcp_option::kTimestamps);
    w.u8(tcp_option::kTimestampsLen);
    w.u32(r.timestamps->first);
    w.u32(r.timestamps->second);
  }
  if (r.sack_permitted && !r.timestamps) {
    w.u8(tcp_option::kNop);
    w.u8(tcp_option::kNop);
    w.u8(tcp_option::kSackPermitted);
    w.u8(tcp_option::kSackPermittedLen);
  }
  if (r.window_scale) {
    w.u8(tcp_option::kNop);
    w.u8(tcp_option::kWindowScale);
    w.u8(tcp_option::kWindowScaleLen);
    w.u8(*r.window_scale);
  }
  // RFC 2018 §3: as many of the most recent blocks as fit; the first block is the newest.
  std::size_t blocks = std::min<std::size_t>(r.sack_count, tcp_option::kMaxSackBlocks);
  if (w.room() >= 4)
    blocks = std::min(blocks, (w.room() - 4) / tcp_option::kSackBlockLen);
  else
    blocks = 0;
  if (blocks > 0) {
    w.u8(tcp_option::kNop);
    w.u8(tcp_option::kNop);
    w.u8(tcp_option::kSack);
    w.u8(static_cast<std::uint8_t>(2 + blocks * tcp_option::kSackBlockLen));
    for (std::size_t i = 0; i < blocks; ++i) {
      w.u32(r.sack[i].left);
      w.u32(r.sack[i].right);
    }
  }
  return w.len();
}

// The raw bytes are only trusted while they are a whole header's worth (4-aligned) and
// still decode to the repr's option fields.
bool raw_options_current(const TcpRepr& r) {
  if (r.raw_options_len == 0 || r.raw_options_len % 4 != 0 ||
      r.raw_options_len > tcp_option::kMaxLen) {
    return false;
  }
  auto d = decode_options(r.raw_option_bytes());
  return d && d->same_as(r);
}

// The option octets emit() writes (see TcpRepr::options_len()); returns their count.
std::size_t write_options(const TcpRepr& r, std::array<std::byte, tcp_option::kMaxLen>& out) {
  if (!raw_options_current(r)) return write_canonical_options(r, out);
  std::copy_n(r.raw_options.begin(), r.raw_options_len, out.begin());
  return r.raw_options_len;
}

// Control-bit combinations that no state of RFC 9293 §3.10.7 accepts:
//  * SYN+FIN: a SYN opens a connection and a FIN only follows the user's CLOSE in a
//    synchronized state (RFC 9293 §3.10.4), so no conforming sender makes one. Only T/TCP
//    (RFC 1644, moved to Historic by RFC 6247) did; today it is a scanner's probe, and
//    Linux drops it too.
//  * SYN+RST: a reset is sent as <CTL=RST> or <CTL=RST,ACK> (RFC 9293 §3.5.2, §3.10.7.1),
//    never with SYN, and every state looks at RST before SYN, so the SYN cannot mean
//    anything; refusing the hybrid keeps a forged one from resetting a connection.
//  * No bits at all: ACK is set in every segment after the SYN (RFC 9293 §3.1 "Once a
//    connection is established, this is always sent"), and every state drops a segment
//    with none of SYN, ACK or RST (§3.10.7.2 "fourth", §3.10.7.3 "fifth", §3.10.7.4
//    "fifth ... if the ACK bit is off, drop the segment").
//    DEVIATION: in CLOSED, §3.10.7.1 would answer it with a RST; dropping it as
//    malformed only denies a "NULL scan" its answer.
bool flags_valid(TcpFlags f) {
  if (f.syn && f.fin) return false;
  if (f.syn && f.rst) return false;
  return !f.none();
}

}  // namespace

Result<TcpRepr, ParseError> TcpRepr::parse(const TcpView& p, Ipv4Addr src, Ipv4Addr dst,
                                           ChecksumMode mode) {
  // RFC 9293 §3.1 (MUST-2, MUST-3): the checksum is always present and always checked.
  if (mode == ChecksumMode::Verify && !p.verify_checksum(src, dst)) return ParseError::BadChecksum;
  if (!flags_valid(p.flags())) return ParseError::BadFlags;
  auto opts = decode_options(p.options());
  if (!opts) return opts.error();
  TcpRepr r;
  r.src_port = p.src_port();
  r.dst_port = p.dst_port();
  r.seq = p.seq_number();
  r.ack = p.ack_number();
  r.flags = p.flags();
  r.window = p.window();
  r.urgent = p.urgent();
  r.reserved = p.reserved();
  r.mss = opts->mss;
  r.window_scale = opts->window_scale;
  r.sack_permitted = opts->sack_permitted;
  r.timestamps = opts->timestamps;
  r.sack = opts->sack;
  r.sack_count = opts->sack_count;
  r.payload = p.payload();
  auto raw = p.options();
  std::copy(raw.begin(), raw.end(), r.raw_options.begin());
  r.raw_options_len = static_cast<std::uint8_t>(raw.size());
  return r;
}

std::size_t TcpRepr::options_len() const {
  std::array<std::byte, tcp_option::kMaxLen> scratch{};
  return write_options(*this, scratch);
}

void TcpRepr::emit(MutBytes out, Ipv4Addr src, Ipv4Addr dst) const {
  std::array<std::byte, tcp_option::kMaxLen> opts{};
  std::size_t opts_len = write_options(*this, opts);
  std::size_t hlen = TcpView::kMinHeaderLen + opts_len;
  std::size_t total = hlen + payload.size();
  TAPIR_ASSERT(out.size() >= total, "TcpRepr::emit: buffer shorter than the segment");
  // Move the payload first: it may overlap the header area when it came from this buffer.
  if (!payload.empty() && payload.data() != out.data() + hlen) {
    std::memmove(out.data() + hlen, payload.data(), payload.size());
  }
  auto p = TcpPacket<MutBytes>::unchecked(out.first(total));
  p.set_src_port(src_port);
  p.set_dst_port(dst_port);
  p.set_seq_number(seq);
  p.set_ack_number(ack);
  p.set_header_len(hlen, reserved);
  p.set_flags(flags);
  p.set_window(window);
  p.set_urgent(urgent);
  std::copy_n(opts.begin(), opts_len, out.begin() + TcpView::kMinHeaderLen);
  p.fill_checksum(src, dst);
}

bool operator==(const TcpRepr& a, const TcpRepr& b) {
  return a.src_port == b.src_port && a.dst_port == b.dst_port && a.seq == b.seq && a.ack == b.ack &&
         a.flags == b.flags && a.window == b.window && a.urgent == b.urgent &&
         a.reserved == b.reserved && DecodedOptions::of(a).same_as(b) &&
         std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
}

}  // namespace tapir::wire
