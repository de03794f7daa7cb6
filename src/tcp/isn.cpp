// RFC 6528 ISNs and the SipHash-2-4 PRF behind them (see isn.hpp). SipHash is written
// from the paper's description; tests check it against the reference vectors.
#include "tcp/isn.hpp"

#include <array>
#include <bit>

#include "tapir/assert.hpp"

namespace tapir::tcp {

namespace {

// Little-endian 64-bit word from up to 8 bytes (SipHash reads the message this way).
std::uint64_t load_le(Bytes b) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < b.size(); ++i) v |= std::to_integer<std::uint64_t>(b[i]) << (8 * i);
  return v;
}

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  // SipRound, as the paper's Figure 2 defines it: add-rotate-xor on the four words.
  void round() {
    v0 += v1;
    v2 += v3;
    v1 = std::rotl(v1, 13);
    v3 = std::rotl(v3, 16);
    v1 ^= v0;
    v3 ^= v2;
    v0 = std::rotl(v0, 32);
    v2 += v1;
    v0 += v3;
    v1 = std::rotl(v1, 17);
    v3 = std::rotl(v3, 21);
    v1 ^= v2;
    v3 ^= v0;
    v2 = std::rotl(v2, 32);
  }
  // Compression: v3 ^= m, c = 2 SipRounds, v0 ^= m.
  void compress(std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

}  // namespace

SipKey SipKey::from_bytes(Bytes b16) {
  TAPIR_ASSERT(b16.size() == 16, "SipKey::from_bytes needs 16 bytes");
  if (b16.size() != 16) return {};
  return {load_le(b16.first(8)), load_le(b16.subspan(8, 8))};
}

std::uint64_t siphash24(const SipKey& key, Bytes data) {
  // Initialization: the key xored with the constants "somepseudorandomlygeneratedbytes".
  SipState s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
             key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
  const std::size_t full = data.size() / 8 * 8;
  for (std::size_t off = 0; off < full; off += 8) s.compress(load_le(data.subspan(off, 8)));
  // The last word: the 0..7 remaining bytes, with the length mod 256 in the top byte.
  const std::uint64_t last =
      load_le(data.subspan(full)) | (static_cast<std::uint64_t>(data.size() & 0xff) << 56);
  s.compress(last);
  // Finalization: v2 ^= 0xff, d = 4 SipRounds, output v0 ^ v1 ^ v2 ^ v3.
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

IsnGenerator::IsnGenerator(Rng& rng) : secret_{rng.next_u64(), rng.next_u64()} {}

namespace {
// The connection-id in network byte order, and `tag` after it when given (12 or 13 octets).
std::array<std::byte, 13> connection_id(Ipv4Addr local_ip, std::uint16_t local_port,
                                        Ipv4Addr remote_ip, std::uint16_t remote_port,
                                        std::byte tag) {
  std::array<std::byte, 13> id{};
  store_be32(id, 0, local_ip.value);
  store_be16(id, 4, local_port);
  store_be32(id, 6, remote_ip.value);
  store_be16(id, 10, remote_port);
  id[12] = tag;
  return id;
}
}  // namespace

SeqNum IsnGenerator::isn(Ipv4Addr local_ip, std::uint16_t local_port, Ipv4Addr remote_ip,
                         std::uint16_t remote_port, Instant now) const {
  // RFC 6528 §3: F(localip, localport, remoteip, remoteport, secretkey), the connection-id
  // in network byte order hashed under the secret key.
  const auto id = connection_id(local_ip, local_port, remote_ip, remote_port, std::byte{0});
  // The low 32 bits of a PRF's output are as unpredictable as any other 32.
  const auto f = static_cast<std::uint32_t>(siphash24(secret_, Bytes(id).first(12)));
  // RFC 6528 §3: "M is the 4 microsecond timer" (modulo 2^32, as the ISN space is).
  const auto m = static_cast<std::uint32_t>(now.micros() / 4);
  return SeqNum(m) + SeqLen(f);
}

std::uint32_t IsnGenerator::ts_offset(Ipv4Addr local_ip, std::uint16_t local_port,
                                      Ipv4Addr remote_ip, std::uint16_t remote_port) const {
  // RFC 7323 §5.4 (and §7.1): a per-connection offset keeps TSval from telling the host's
  // uptime. A 13th octet ("T") makes the PRF's input differ from the ISN's, so knowing one
  // connection's ISN and TSval reveals neither F nor the offset of another.
  const auto id = connection_id(local_ip, local_port, remote_ip, remote_port, std::byte{'T'});
  return static_cast<std::uint32_t>(siphash24(secret_, Bytes(id)));
}

}  // namespace tapir::tcp
