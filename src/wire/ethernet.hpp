// Ethernet II framing (IEEE 802.3 with an EtherType, RFC 894).
//
//   0                   6                   12      14
//  +-------------------+-------------------+-------+---------------------------+
//  | destination MAC   | source MAC        | type  | payload (46..1500 octets) |
//  +-------------------+-------------------+-------+---------------------------+
//
// The FCS is stripped by the TAP driver and never seen here. Frames shorter than 60 octets
// are padded on the wire; receivers trim padding using the IP total length.
#pragma once

#include "tapir/address.hpp"
#include "wire/common.hpp"

namespace tapir::wire {

namespace eth_field {
inline constexpr Field kDst{0, 6};
inline constexpr Field kSrc{6, 6};
inline constexpr Field kEtherType{12, 2};
}  // namespace eth_field

template <ByteSpan S>
class EthernetFrame {
 public:
  static constexpr std::size_t kHeaderLen = eth_field::kEtherType.end();
  // RFC 894: the minimum frame without FCS is 60 octets; shorter frames get zero padding.
  static constexpr std::size_t kMinFrameLen = 60;

  static Result<EthernetFrame, ParseError> checked(S s) {
    if (s.size() < kHeaderLen) return ParseError::Truncated;
    return EthernetFrame(s);
  }
  static EthernetFrame unchecked(S s) { return EthernetFrame(s); }

  MacAddr dst() const { return load_mac(eth_field::kDst.off); }
  MacAddr src() const { return load_mac(eth_field::kSrc.off); }
  EtherType ethertype() const { return EtherType{load_be16(b_, eth_field::kEtherType.off)}; }
  S payload() const { return b_.subspan(kHeaderLen); }
  S bytes() const { return b_; }

  void set_dst(MacAddr m) requires WritableSpan<S> { store_mac(eth_field::kDst.off, m); }
  void set_src(MacAddr m) requires WritableSpan<S> { store_mac(eth_field::kSrc.off, m); }
  void set_ethertype(EtherType t) requires WritableSpan<S> {
    store_be16(b_, eth_field::kEtherType.off, static_cast<std::uint16_t>(t));
  }

 private:
  explicit EthernetFrame(S s) : b_(s) {}
  MacAddr load_mac(std::size_t off) const {
    MacAddr m;
    for (std::size_t i = 0; i < 6; ++i) m.octets[i] = load_u8(b_, off + i);
    return m;
  }
  void store_mac(std::size_t off, MacAddr m) requires WritableSpan<S> {
    for (std::size_t i = 0; i < 6; ++i) store_u8(b_, off + i, m.octets[i]);
  }
  S b_;
};
using EthernetView = EthernetFrame<Bytes>;

struct EthernetRepr {
  MacAddr dst;
  MacAddr src;
  EtherType ethertype = EtherType::Ipv4;

  static EthernetRepr parse(const EthernetView& f) { return {f.dst(), f.src(), f.ethertype()}; }
  static constexpr std::size_t header_len() { return EthernetView::kHeaderLen; }
  void emit(EthernetFrame<MutBytes>& f) const {
    f.set_dst(dst);
    f.set_src(src);
    f.set_ethertype(ethertype);
  }
  friend bool operator==(const EthernetRepr&, const EthernetRepr&) = default;
};

}  // namespace tapir::wire
