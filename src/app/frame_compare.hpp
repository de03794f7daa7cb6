// Field-by-field comparison of two Ethernet frames, for replay's diffs. A frame's fields are
// the lines of wire::format_frame_verbose ("ipv4.ttl: 64"), so a diff speaks the names
// `tapir decode -v` prints, plus two that the verbose decode does not itemise:
//
//   data          the octets after the innermost decoded header (ICMP data, UDP/TCP payload,
//                 a later fragment's contents, an unknown EtherType's payload)
//   eth.trailer   octets after the IP datagram or ARP message (Ethernet padding)
//
// Repeated fields (tcp.option, ipv4.option) are matched by their order of appearance.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tapir/bytes.hpp"

namespace tapir::app {

struct FrameField {
  std::string name;
  std::string value;
};

struct FieldDiff {
  std::string field;
  std::string expected;  // "(absent)" when the field is only in the actual frame
  std::string actual;    // "(absent)" when the field is only in the expected frame
};

// Every field of the frame in decode order; a frame that does not decode ends with an
// "error" field naming the layer and the reason.
std::vector<FrameField> frame_fields(Bytes frame);

// Empty when `actual` matches `expected`: equal byte for byte, or equal in every field that
// `ignored` does not name. Checksums cover other fields, so when an ignored field differs
// the checksums are compared by verdict (ok/bad) only; every field they cover is compared
// on its own anyway.
std::vector<FieldDiff> compare_frames(Bytes expected, Bytes actual,
                                      const std::function<bool(std::string_view)>& ignored);

}  // namespace tapir::app
