#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "wire/tcp.hpp"
#include "wire_test_util.hpp"

using namespace tapir;
using namespace tapir::wire;
using namespace tapir::wire::test;

namespace {

std::vector<std::byte> segment(std::string_view frame_hex) {
  auto f = hex(frame_hex);
  return copy(l4_of(f));
}

// The captured SYN: 10.0.0.1:51000 > 10.0.0.2:80, options mss 1460, sackOK, TS, nop, ws 10.
TcpRepr syn_repr() {
  TcpRepr r;
  r.src_port = 51000;
  r.dst_port = 80;
  r.seq = 3449586823;
  r.flags = {.syn = true};
  r.window = 64240;
  r.mss = 1460;
  r.window_scale = 10;
  r.sack_permitted = true;
  r.timestamps = std::pair{2834351324u, 0u};
  return r;
}

// Builds a segment from 10.0.0.1:1000 to 10.0.0.2:2000 with the given flags byte and
// option octets, with a valid checksum, so that only the part under test can fail.
std::vector<std::byte> build(std::uint8_t flags, std::string_view opts_hex = "",
                             std::size_t payload_len = 0) {
  auto opts = opts_hex.empty() ? std::vector<std::byte>{} : hex(opts_hex);
  std::vector<std::byte> b(20 + opts.size() + payload_len);
  auto p = TcpPacket<MutBytes>::unchecked(b);
  p.set_src_port(1000);
  p.set_dst_port(2000);
  p.set_seq_number(1);
  p.set_header_len(20 + opts.size());
  store_u8(b, tcp_field::kFlags.off, flags);
  p.set_window(1024);
  std::copy(opts.begin(), opts.end(), b.begin() + 20);
  p.fill_checksum(kA, kB);
  return b;
}

Result<TcpRepr, ParseError> parse(const std::vector<std::byte>& b,
                                  ChecksumMode mode = ChecksumMode::Verify) {
  auto v = TcpView::checked(b);
  if (!v) return v.error();
  return TcpRepr::parse(*v, kA, kB, mode);
}

constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kAck = 0x10;

}  // namespace

TEST_CASE("TCP: deconstruct a captured SYN", "[wire][tcp]") {
  auto b = segment(fixtures::kTcpSyn);
  auto p = TcpView::checked(b);
  REQUIRE(p);
  CHECK(p->src_port() == 51000);
  CHECK(p->dst_port() == 80);
  CHECK(p->seq_number() == 3449586823u);
  CHECK(p->ack_number() == 0);
  CHECK(p->header_len() == 40);
  CHECK(p->reserved() == 0);
  CHECK(p->flags() == TcpFlags{.syn = true});
  CHECK(p->window() == 64240);
  CHECK(p->checksum() == 0xb18f);
  CHECK(p->urgent() == 0);
  CHECK(to_hex(p->options()) ==
        "020405b4"
        "0402080a"
        "a8f0c4dc"
        "00000000"
        "0103030a");
  CHECK(p->payload().empty());
  CHECK(p->verify_checksum(kA, kB));
  CHECK_FALSE(p->verify_checksum(kA, kC));
}

TEST_CASE("TCP: deconstruct a captured data segment", "[wire][tcp]") {
  auto b = segment(fixtures::kTcpClientData);
  auto p = TcpView::checked(b);
  REQUIRE(p);
  CHECK(p->flags() == TcpFlags{.psh = true, .ack = true});
  CHECK(p->seq_number() == 3449586824u);
  CHECK(p->ack_number() == 1554343286u);
  CHECK(p->header_len() == 32);
  CHECK(to_hex(p->payload()) == to_hex(as_bytes("GET / HTTP/1.0\n")));
}

TEST_CASE("TCP: construct a SYN with the setters", "[wire][tcp]") {
  auto expected = segment(fixtures::kTcpSyn);
  std::vector<std::byte> b(40);
  auto p = TcpPacket<MutBytes>::unchecked(b);
  p.set_src_port(51000);
  p.set_dst_port(80);
  p.set_seq_number(3449586823u);
  p.set_ack_number(0);
  p.set_header_len(40);
  p.set_flags({.syn = true});
  p.set_window(64240);
  p.set_urgent(0);
  auto opts = hex("020405b4 0402080a a8f0c4dc 00000000 0103030a");
  std::copy(opts.begin(), opts.end(), b.begin() + 20);
  p.fill_checksum(kA, kB);
  CHECK(to_hex(b) == to_hex(expected));
}

TEST_CASE("TCP: parse a captured SYN with every option Linux sends", "[wire][tcp][options]") {
  auto r = parse(segment(fixtures::kTcpSyn));
  REQUIRE(r);
  CHECK(*r == syn_repr());
  CHECK(r->mss == 1460);
  CHECK(r->window_scale == 10);
  CHECK(r->sack_permitted);
  CHECK(r->timestamps == std::pair{2834351324u, 0u});
  CHECK(r->sack_count == 0);
  CHECK(r->payload.empty());
  CHECK(r->raw_options_len == 20);
}

TEST_CASE("TCP: emit a SYN built by code in Linux's option layout", "[wire][tcp][options]") {
  auto r = syn_repr();
  REQUIRE(r.header_len() == 40);
  std::vector<std::byte> b(r.buffer_len());
  r.emit(b, kA, kB);
  CHECK(to_hex(b) == to_hex(segment(fixtures::kTcpSyn)));
}

TEST_CASE("TCP: canonical layouts match every captured Linux option set", "[wire][tcp][options]") {
  // Parse, forget the raw octets, emit: the canonical layout must equal what Linux sent.
  for (auto [name, frame_hex] : {std::pair{"syn", fixtures::kTcpSyn},
                                 {"syn-ack", fixtures::kTcpSynAck},
                                 {"ack ts", fixtures::kTcpAck},
                                 {"data", fixtures::kTcpServerData},
                                 {"syn no ts", fixtures::kTcpSynNoTs},
                                 {"syn no ts no sack", fixtures::kTcpSynNoTsNoSack},
                                 {"syn mss sack", fixtures::kTcpSynMssSack},
                                 {"syn-ack mss sack", fixtures::kTcpSynAckMssSack},
                                 {"sack 1", fixtures::kTcpSack1},
                                 {"sack 2", fixtures::kTcpSack2},
                                 {"sack 3", fixtures::kTcpSack3},
                                 {"sack 4", fixtures::kTcpSack4}}) {
    INFO(name);
    auto f = hex(frame_hex);
    auto src = Ipv4Addr{load_be32(f, 26)};
    auto dst = Ipv4Addr{load_be32(f, 30)};
    auto b = copy(l4_of(f));
    auto r = TcpRepr::parse(*TcpView::checked(b), src, dst);
    REQUIRE(r);
    r->raw_options_len = 0;
    std::vector<std::byte> out(r->buffer_len());
    r->emit(out, src, dst);
    CHECK(to_hex(out) == to_hex(b));
  }
}

TEST_CASE("TCP: parse captured SACK blocks, 1 to 4", "[wire][tcp][options][rfc2018]") {
  // B acknowledges 1011 while holding [1021,1031), [1041,1051), ...; the newest block first.
  const std::array<SackBlock, 4> newest_first = {
      SackBlock{1081, 1091}, {1061, 1071}, {1041, 1051}, {1021, 1031}};
  auto frames = {fixtures::kTcpSack1, fixtures::kTcpSack2, fixtures::kTcpSack3,
                 fixtures::kTcpSack4};
  std::size_t n = 1;
  for (auto frame_hex : frames) {
    INFO("blocks=" << n);
    auto f = hex(frame_hex);
    auto b = copy(l4_of(f));
    auto r = TcpRepr::parse(*TcpView::checked(b), kB, kC);
    REQUIRE(r);
    CHECK(r->ack == 1011);
    CHECK(r->flags == TcpFlags{.ack = true});
    REQUIRE(r->sack_count == n);
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(r->sack[i] == newest_first[4 - n + i]);
    }
    CHECK_FALSE(r->timestamps);
    ++n;
  }
}

TEST_CASE("TCP: emit SACK blocks", "[wire][tcp][options][rfc2018]") {
  TcpRepr r;
  r.src_port = 1000;
  r.dst_port = 2000;
  r.flags = {.ack = true};
  r.sack = {SackBlock{10, 20}, {30, 40}, {50, 60}, {70, 80}};
  SECTION("four blocks fit without timestamps") {
    r.sack_count = 4;
    CHECK(r.options_len() == 36);
    std::vector<std::byte> b(r.buffer_len());
    r.emit(b, kA, kB);
    CHECK(to_hex(TcpView::checked(b)->options()) ==
          "0101"
          "0522"
          "0000000a00000014"
          "0000001e00000028"
          "000000320000003c"
          "0000004600000050");
    CHECK(*parse(b) == r);
  }
  SECTION("with timestamps only the three newest fit (RFC 2018 §3)") {
    r.sack_count = 4;
    r.timestamps = std::pair{7u, 9u};
    CHECK(r.options_len() == 40);
    std::vector<std::byte> b(r.buffer_len());
    r.emit(b, kA, kB);
    auto back = parse(b);
    REQUIRE(back);
    CHECK(back->sack_count == 3);
    CHECK(back->sack[2] == SackBlock{50, 60});
    CHECK(back->timestamps == std::pair{7u, 9u});
  }
}

TEST_CASE("TCP: options_len() for each canonical option group", "[wire][tcp][options]") {
  TcpRepr r;
  CHECK(r.options_len() == 0);
  r.mss = 536;
  CHECK(r.options_len() == 4);
  r.window_scale = 7;
  CHECK(r.options_len() == 8);  // + NOP WS
  r.sack_permitted = true;
  CHECK(r.options_len() == 12);  // + NOP NOP SACK-Permitted
  r.timestamps = std::pair{1u, 2u};
  CHECK(r.options_len() == 20);  // SACK-Permitted now shares a word with Timestamps
  r.sack_permitted = false;
  CHECK(r.options_len() == 20);  // NOP NOP Timestamps
  CHECK(r.header_len() == 40);
}

TEST_CASE("TCP: a foreign option layout re-emits verbatim until a field changes",
          "[wire][tcp][options]") {
  // A Windows-style SYN: mss, nop, ws 8, nop, nop, sackOK -- not Linux's order.
  auto b = build(kSyn, "020405b4 01030308 01010402");
  auto r = parse(b);
  REQUIRE(r);
  CHECK(r->mss == 1460);
  CHECK(r->window_scale == 8);
  CHECK(r->sack_permitted);
  std::vector<std::byte> out(r->buffer_len());
  r->emit(out, kA, kB);
  CHECK(to_hex(out) == to_hex(b));

  r->window_scale = 9;
  std::vector<std::byte> changed(r->buffer_len());
  r->emit(changed, kA, kB);
  CHECK(to_hex(TcpView::checked(changed)->options()) ==
        "020405b4"
        "01010402"
        "01030309");
  CHECK(*parse(changed) == *r);
}

TEST_CASE("TCP: unknown option kinds are skipped but kept for re-emission",
          "[wire][tcp][options][rfc9293-3.1]") {
  // Kind 30 (MPTCP, 4 octets) and kind 254 (experimental, RFC 6994) between known ones.
  auto b = build(kSyn, "020405b4 1e040000 fe06abcd 1234 0000");
  auto r = parse(b);
  REQUIRE(r);
  CHECK(r->mss == 1460);
  CHECK_FALSE(r->window_scale);
  std::vector<std::byte> out(r->buffer_len());
  r->emit(out, kA, kB);
  CHECK(to_hex(out) == to_hex(b));
}

TEST_CASE("TCP: octets after End of Option List are padding", "[wire][tcp][options]") {
  auto b = build(kSyn, "020405b4 00 ff ff ff");
  auto r = parse(b);
  REQUIRE(r);
  CHECK(r->mss == 1460);
}

TEST_CASE("TCP: emit copies the payload after the header and checksums it", "[wire][tcp]") {
  auto expected = segment(fixtures::kTcpClientData);
  auto src = as_bytes("GET / HTTP/1.0\n");
  TcpRepr r;
  r.src_port = 51000;
  r.dst_port = 80;
  r.seq = 3449586824u;
  r.ack = 1554343286u;
  r.flags = {.psh = true, .ack = true};
  r.window = 63;
  r.timestamps = std::pair{2834351325u, 3057449322u};
  r.payload = src;
  std::vector<std::byte> b(r.buffer_len());
  r.emit(b, kA, kB);
  CHECK(to_hex(b) == to_hex(expected));
  SECTION("also when the payload already sits in place") {
    std::vector<std::byte> c(r.buffer_len());
    std::copy(src.begin(), src.end(), c.begin() + static_cast<std::ptrdiff_t>(r.header_len()));
    r.payload = Bytes(c).subspan(r.header_len());
    r.emit(c, kA, kB);
    CHECK(to_hex(c) == to_hex(expected));
  }
}

TEST_CASE("TCP: reserved bits survive a round trip", "[wire][tcp]") {
  auto b = build(kAck);
  store_u8(b, tcp_field::kOffset.off, 0x5a);
  TcpPacket<MutBytes>::unchecked(b).fill_checksum(kA, kB);
  auto r = parse(b);
  REQUIRE(r);
  CHECK(r->reserved == 0x0a);
  std::vector<std::byte> out(r->buffer_len());
  r->emit(out, kA, kB);
  CHECK(to_hex(out) == to_hex(b));
}

TEST_CASE("TCP: flags map to their wire bits", "[wire][tcp]") {
  CHECK(TcpFlags{.fin = true}.bits() == 0x01);
  CHECK(TcpFlags{.syn = true}.bits() == 0x02);
  CHECK(TcpFlags{.rst = true}.bits() == 0x04);
  CHECK(TcpFlags{.psh = true}.bits() == 0x08);
  CHECK(TcpFlags{.ack = true}.bits() == 0x10);
  CHECK(TcpFlags{.urg = true}.bits() == 0x20);
  CHECK(TcpFlags{.ece = true}.bits() == 0x40);
  CHECK(TcpFlags{.cwr = true}.bits() == 0x80);
  for (unsigned v = 0; v < 256; ++v) {
    CHECK(TcpFlags::from_bits(static_cast<std::uint8_t>(v)).bits() == v);
  }
}

TEST_CASE("TCP: checked() error branches", "[wire][tcp]") {
  auto b = segment(fixtures::kTcpSyn);
  SECTION("shorter than the fixed header is Truncated") {
    CHECK(error_of(TcpView::checked(Bytes(b).first(19))) == ParseError::Truncated);
  }
  SECTION("a data offset below 5 is BadHeaderLen") {
    store_u8(b, tcp_field::kOffset.off, 0x40);
    CHECK(error_of(TcpView::checked(b)) == ParseError::BadHeaderLen);
  }
  SECTION("a data offset beyond the segment is Truncated") {
    CHECK(error_of(TcpView::checked(Bytes(b).first(39))) == ParseError::Truncated);
  }
}

TEST_CASE("TCP: parse() rejects a bad checksum unless checksums are ignored", "[wire][tcp]") {
  auto b = segment(fixtures::kTcpSyn);
  store_u8(b, 14, 0x00);  // window changed, checksum not
  CHECK(error_of(parse(b)) == ParseError::BadChecksum);
  CHECK(parse(b, ChecksumMode::Ignore));
}

TEST_CASE("TCP: parse() rejects illegal flag combinations", "[wire][tcp][rfc9293-3.10.7]") {
  CHECK(error_of(parse(build(0x03))) == ParseError::BadFlags);  // SYN+FIN
  CHECK(error_of(parse(build(0x06))) == ParseError::BadFlags);  // SYN+RST
  CHECK(error_of(parse(build(0x00))) == ParseError::BadFlags);  // no flags at all
  CHECK(error_of(parse(build(0x13))) == ParseError::BadFlags);  // SYN+FIN+ACK
  CHECK(parse(build(0x01)));                                    // a bare FIN is legal
  CHECK(parse(build(0x04)));                                    // RST
  CHECK(parse(build(0x14)));                                    // RST+ACK
  CHECK(parse(build(0xc2)));                                    // SYN+ECE+CWR (RFC 3168)
}

TEST_CASE("TCP: parse() option error branches", "[wire][tcp][options]") {
  auto bad = [](std::string_view opts) { return error_of(parse(build(kSyn, opts))); };
  SECTION("a length below 2 is BadOption") {
    CHECK(bad("1e00 0000") == ParseError::BadOption);
    CHECK(bad("1e01 0000") == ParseError::BadOption);
  }
  SECTION("a missing length octet is BadOption") {
    CHECK(bad("010101 1e") == ParseError::BadOption);
  }
  SECTION("an option running past the header is BadOption") {
    CHECK(bad("0101 1e08") == ParseError::BadOption);
  }
  SECTION("a known kind with the wrong length is BadOption") {
    CHECK(bad("0203 05 00") == ParseError::BadOption);                   // MSS, 3
    CHECK(bad("0304 0700") == ParseError::BadOption);                    // window scale, 4
    CHECK(bad("0403 00 00") == ParseError::BadOption);                   // SACK-permitted, 3
    CHECK(bad("0808 000000000000 00000000") == ParseError::BadOption);   // timestamps, 8
    CHECK(bad("0502 0000") == ParseError::BadOption);                    // SACK with no block
    CHECK(bad("050b 0000000100000002 00 00") == ParseError::BadOption);  // 9 value octets
  }
  SECTION("five SACK blocks cannot fit and are BadOption") {
    // 2 + 5*8 = 42 octets do not fit in 40, so the length runs past the header.
    std::string opts = "052a";
    for (int i = 0; i < 9; ++i) opts += "00000001";
    opts += "0000";
    CHECK(bad(opts.substr(0, 80)) == ParseError::BadOption);
  }
}
