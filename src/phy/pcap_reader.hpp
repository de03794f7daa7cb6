// Reading capture files (pcap, and pcapng through libpcap's reader) into memory, for
// `tapir replay` and `tapir decode`. Every problem with the file -- missing, not a capture,
// truncated mid-record, a corrupt record header, a link type other than Ethernet -- is one
// CaptureError whose message is a single line naming the file and the problem.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tapir/bytes.hpp"

namespace tapir::phy {

struct CaptureError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CaptureRecord {
  std::int64_t time_us = 0;      // microseconds since 1970 (nanosecond files are scaled)
  std::uint32_t orig_len = 0;    // the frame's length on the wire
  std::vector<std::byte> bytes;  // the captured octets (fewer than orig_len if cut by snaplen)
  bool complete() const { return bytes.size() == orig_len; }
};

struct Capture {
  std::string path;
  int link_type = 0;  // DLT_EN10MB (1) for every capture read_capture() returns
  std::vector<CaptureRecord> records;
};

// Reads the whole file. Throws CaptureError("FILE: problem") on any problem listed above.
Capture read_capture(const std::string& path);

}  // namespace tapir::phy
