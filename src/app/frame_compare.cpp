#include "app/frame_compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "wire/arp.hpp"
#include "wire/format.hpp"

namespace tapir::app {

namespace {

constexpr std::string_view kAbsent = "(absent)";

std::string hex(Bytes b) {
  std::string s;
  s.reserve(b.size() * 2);
  for (auto x : b) fmt::format_to(std::back_inserter(s), "{:02x}", std::to_integer<unsigned>(x));
  return s;
}

// Where the innermost header ends: returns {data, trailer}. Mirrors what the verbose decode
// itemises; anything it cannot decode is left to the verbose decode's error line.
std::pair<Bytes, Bytes> data_and_trailer(Bytes frame) {
  auto eth = wire::EthernetView::checked(frame);
  if (!eth) return {};
  Bytes body = eth->payload();
  if (eth->ethertype() == wire::EtherType::Arp) {
    if (body.size() < wire::ArpRepr::kLen) return {};
    return {Bytes{}, body.subspan(wire::ArpRepr::kLen)};
  }
  if (eth->ethertype() != wire::EtherType::Ipv4) return {body, Bytes{}};
  auto ip = wire::Ipv4View::checked(body);
  if (!ip) return {};
  Bytes trailer = body.subspan(ip->total_len());
  Bytes payload = ip->payload();
  if (ip->frag_offset() != 0) return {payload, trailer};
  std::size_t header = 0;
  switch (ip->protocol()) {
    case wire::IpProto::Icmp:
    case wire::IpProto::Udp:
      header = 8;  // RFC 792 / RFC 768: both headers are 8 octets
      break;
    case wire::IpProto::Tcp:
      // RFC 9293 §3.1: data offset in 32-bit words.
      if (payload.size() >= 13) header = std::size_t{load_u8(payload, 12)} / 16 * 4;
      break;
    default:
      break;
  }
  if (header > payload.size()) header = payload.size();
  return {payload.subspan(header), trailer};
}

// "0x1234 (ok)" -> "ok"
std::string_view verdict(std::string_view checksum_value) {
  auto open = checksum_value.find('(');
  if (open == std::string_view::npos) return checksum_value;
  return checksum_value.substr(open);
}

bool is_checksum(std::string_view name) {
  return name.size() >= 9 && name.substr(name.size() - 9) == ".checksum";
}

// "56 octets; octet 12 = 0x41" for the first octet where the two differ.
std::pair<std::string, std::string> describe_data_diff(Bytes e, Bytes a) {
  std::size_t i = 0;
  while (i < e.size() && i < a.size() && e[i] == a[i]) ++i;
  auto at = [&](Bytes b) {
    if (i >= b.size()) return fmt::format("{} octets", b.size());
    return fmt::format("{} octets; octet {} = 0x{:02x}", b.size(), i,
                       std::to_integer<unsigned>(b[i]));
  };
  return {at(e), at(a)};
}

struct Keyed {
  std::string key;  // name, or name#2 for its second appearance
  const FrameField* field;
};

std::vector<Keyed> keyed(const std::vector<FrameField>& fields) {
  std::map<std::string, int> seen;
  std::vector<Keyed> out;
  for (const auto& f : fields) {
    int n = ++seen[f.name];
    out.push_back({n == 1 ? f.name : fmt::format("{}#{}", f.name, n), &f});
  }
  return out;
}

}  // namespace

std::vector<FrameField> frame_fields(Bytes frame) {
  std::vector<FrameField> out;
  const std::string verbose = wire::format_frame_verbose(frame);
  std::string_view rest = verbose;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    auto line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty()) continue;
    auto colon = line.find(": ");
    if (colon == std::string_view::npos) {
      out.push_back({std::string(line), ""});
    } else {
      out.push_back({std::string(line.substr(0, colon)), std::string(line.substr(colon + 2))});
    }
  }
  auto [data, trailer] = data_and_trailer(frame);
  if (!data.empty()) out.push_back({"data", hex(data)});
  if (!trailer.empty()) out.push_back({"eth.trailer", hex(trailer)});
  return out;
}

std::vector<FieldDiff> compare_frames(Bytes expected, Bytes actual,
                                      const std::function<bool(std::string_view)>& ignored) {
  const bool same_bytes =
      std::equal(expected.begin(), expected.end(), actual.begin(), actual.end());
  if (same_bytes) return {};
  const auto fe = frame_fields(expected);
  const auto fa = frame_fields(actual);
  const auto ke = keyed(fe);
  const auto ka = keyed(fa);
  std::map<std::string, const FrameField*> actual_by_key;
  for (const auto& k : ka) actual_by_key[k.key] = k.field;
  std::map<std::string, const FrameField*> expected_by_key;
  for (const auto& k : ke) expected_by_key[k.key] = k.field;

  // Pairs in the expected frame's order, then fields only the actual frame has.
  struct Pair {
    std::string_view name;
    const FrameField* e;
    const FrameField* a;
  };
  std::vector<Pair> pairs;
  for (const auto& k : ke) {
    auto it = actual_by_key.find(k.key);
    pairs.push_back({k.field->name, k.field, it == actual_by_key.end() ? nullptr : it->second});
  }
  for (const auto& k : ka) {
    if (!expected_by_key.contains(k.key)) pairs.push_back({k.field->name, nullptr, k.field});
  }

  bool ignored_differs = false;
  for (const auto& p : pairs) {
    const bool differ = !p.e || !p.a || p.e->value != p.a->value;
    if (differ && ignored && ignored(p.name)) ignored_differs = true;
  }
  std::vector<FieldDiff> diffs;
  for (const auto& p : pairs) {
    if (ignored && ignored(p.name)) continue;
    if (p.e && p.a) {
      if (p.e->value == p.a->value) continue;
      if (ignored_differs && is_checksum(p.name) && verdict(p.e->value) == verdict(p.a->value)) {
        continue;
      }
      if (p.name == "data" || p.name == "eth.trailer") {
        auto e = bytes_from_hex(p.e->value);
        auto a = bytes_from_hex(p.a->value);
        auto [de, da] = describe_data_diff(e, a);
        diffs.push_back({std::string(p.name), de, da});
        continue;
      }
      diffs.push_back({std::string(p.name), p.e->value, p.a->value});
    } else {
      diffs.push_back({std::string(p.name), p.e ? p.e->value : std::string(kAbsent),
                       p.a ? p.a->value : std::string(kAbsent)});
    }
  }
  if (diffs.empty() && !ignored_differs) {
    // Every decoded field agrees yet the octets do not: name the first differing octet.
    auto [de, da] = describe_data_diff(expected, actual);
    diffs.push_back({"octets", de, da});
  }
  return diffs;
}

}  // namespace tapir::app
