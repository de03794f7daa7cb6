// The Internet checksum's speed (src/util/checksum.*, RFC 1071): internet_checksum() over
// buffers of the sizes a stack sums (an IPv4 header, a small segment, a full-sized
// segment, a jumbo frame, a 64 KiB superframe), from an aligned and from an odd address.
// docs/hot-path.md has the before/after figures of its optimisation.
//
//   checksum_bench [MIB_PER_CASE [SIZE]]   (default 256 MiB summed per size and alignment;
//                                         SIZE: only buffers of that many octets)
//
// Wall-clock figures move with the machine's load; for repeatable numbers count
// instructions instead:
//   valgrind --tool=callgrind --callgrind-out-file=cg.out build/bench/checksum_bench 1 1460
//   callgrind_annotate --inclusive=yes cg.out | grep internet_checksum
// (instructions per call: that count over the calls, 1 MiB / 1460 per alignment).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "util/checksum.hpp"

namespace {

constexpr std::size_t kSizes[] = {20, 64, 576, 1460, 1500, 9000, 65535};

double run_case(const std::vector<std::byte>& buf, std::size_t offset, std::size_t len,
                std::size_t total_bytes, std::uint32_t& sink) {
  const tapir::Bytes data = tapir::Bytes(buf).subspan(offset, len);
  const std::size_t calls = std::max<std::size_t>(1, total_bytes / len);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < calls; ++i) sink += tapir::internet_checksum(data);
  const auto end = std::chrono::steady_clock::now();
  const double ns = std::chrono::duration<double, std::nano>(end - start).count();
  return ns / static_cast<double>(calls);
}

// A positive number from argv, or 0 when it is not one.
std::size_t positive(const char* arg) {
  char* end = nullptr;
  const long v = std::strtol(arg, &end, 10);
  return end == arg || *end != '\0' || v <= 0 ? 0 : static_cast<std::size_t>(v);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mib = 256;
  std::size_t only = 0;
  if (argc > 1) mib = positive(argv[1]);
  if (argc > 2) only = positive(argv[2]);
  if (argc > 3 || mib == 0 || (argc > 2 && (only == 0 || only > 65535))) {
    std::fprintf(stderr, "usage: %s [MIB_PER_CASE [SIZE]]  (default 256; SIZE 1 to 65535)\n",
                 argv[0]);
    return 2;
  }
  // Deterministic contents: the sum's speed does not depend on them, its value does.
  std::vector<std::byte> buf(65535 + 8);
  std::uint32_t x = 0x12345678;
  for (auto& b : buf) {
    x = x * 1664525u + 1013904223u;
    b = std::byte(x >> 24);
  }
  std::uint32_t sink = 0;
  std::printf("%8s %8s %12s %10s\n", "bytes", "offset", "ns/call", "GB/s");
  for (std::size_t len : kSizes) {
    if (only != 0 && len != only) continue;
    for (std::size_t offset : {0, 1}) {
      const double ns = run_case(buf, offset, len, mib << 20, sink);
      std::printf("%8zu %8zu %12.1f %10.2f\n", len, offset, ns, static_cast<double>(len) / ns);
    }
  }
  std::printf("(checksums xor: %08x)\n", static_cast<unsigned>(sink));
  return 0;
}
