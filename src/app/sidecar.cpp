#include "app/sidecar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "wire/dns.hpp"

namespace tapir::app {

namespace {

constexpr std::string_view kKeys[] = {"mac",          "ip",     "gateway",           "mtu",
                                      "seed",         "peer",   "services",          "client",
                                      "clock_origin", "ignore", "time_tolerance_ms", "description",
                                      "recorded"};
constexpr std::string_view kClientForm =
    "'resolve NAME via ADDR [at start|SECONDS] [timeout MS] [attempts N] "
    "[expect ADDR,...|EAI_NAME]'";
constexpr std::string_view kRequired[] = {"mac", "ip", "seed", "peer"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string> split_list(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    auto comma = v.find(',');
    auto item = trim(v.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

std::vector<std::string_view> split_words(std::string_view v) {
  std::vector<std::string_view> out;
  while (!v.empty()) {
    auto end = v.find_first_of(" \t");
    if (end != 0) out.push_back(v.substr(0, end));
    if (end == std::string_view::npos) break;
    v.remove_prefix(end + 1);
  }
  return out;
}

bool parse_u64(std::string_view v, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && p == v.data() + v.size() && !v.empty();
}

// "1767000000.000123" (seconds, up to 6 fraction digits) -> microseconds.
std::optional<std::int64_t> parse_seconds_us(std::string_view v) {
  auto dot = v.find('.');
  std::uint64_t sec = 0;
  if (!parse_u64(v.substr(0, dot), sec) || sec > 9'000'000'000ULL) return std::nullopt;
  std::int64_t us = static_cast<std::int64_t>(sec) * 1'000'000;
  if (dot == std::string_view::npos) return us;
  auto frac = v.substr(dot + 1);
  if (frac.empty() || frac.size() > 6) return std::nullopt;
  std::uint64_t f = 0;
  if (!parse_u64(frac, f)) return std::nullopt;
  for (std::size_t i = frac.size(); i < 6; ++i) f *= 10;
  return us + static_cast<std::int64_t>(f);
}

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

class Parser {
 public:
  Parser(const std::string& path) : path_(path) { s_.path = path; }

  void line(std::size_t n, std::string_view raw) {
    line_ = n;
    auto text = trim(raw);
    if (text.empty() || text.front() == '#') return;
    auto eq = text.find('=');
    if (eq == std::string_view::npos) {
      fail(fmt::format("expected 'key = value', got '{}'", text));
    }
    key_ = std::string(trim(text.substr(0, eq)));
    auto value = trim(text.substr(eq + 1));
    // '#' starts a trailing comment, except in the free-text keys.
    if (key_ != "description" && key_ != "recorded") {
      value = trim(value.substr(0, value.find('#')));
    }
    if (std::find(std::begin(kKeys), std::end(kKeys), key_) == std::end(kKeys)) {
      fail(fmt::format("unknown key '{}' (known keys: {})", key_, fmt::join(kKeys, ", ")));
    }
    if (std::find(seen_.begin(), seen_.end(), key_) != seen_.end()) {
      fail(fmt::format("key '{}' given twice", key_));
    }
    seen_.push_back(key_);
    assign(value);
  }

  Sidecar finish() {
    for (auto k : kRequired) {
      if (std::find(seen_.begin(), seen_.end(), k) == seen_.end()) {
        throw SidecarError(fmt::format("{}: missing key '{}'", path_, k));
      }
    }
    if (s_.config.gateway && !s_.config.address.contains(*s_.config.gateway)) {
      throw SidecarError(fmt::format("{}: gateway {} is not on {}", path_,
                                     s_.config.gateway->to_string(),
                                     s_.config.address.to_string()));
    }
    return std::move(s_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw SidecarError(fmt::format("{}:{}: {}", path_, line_, what));
  }
  [[noreturn]] void bad(std::string_view value, std::string_view expected) const {
    fail(fmt::format("{}: invalid value '{}': expected {}", key_, value, expected));
  }

  void assign(std::string_view v) {
    auto& c = s_.config;
    if (key_ == "mac" || key_ == "peer") {
      auto m = MacAddr::parse(v);
      if (!m) bad(v, "a MAC like 02:00:00:00:00:02");
      (key_ == "mac" ? c.mac : s_.peer) = *m;
    } else if (key_ == "ip") {
      auto a = Ipv4Cidr::parse(v);
      if (!a || a->prefix_len == 0) bad(v, "an address with prefix length, like 10.0.0.2/24");
      c.address = *a;
    } else if (key_ == "gateway") {
      auto a = Ipv4Addr::parse(v);
      if (!a) bad(v, "an IPv4 address, like 10.0.0.1");
      c.gateway = *a;
    } else if (key_ == "mtu") {
      std::uint64_t mtu = 0;
      // RFC 791: every host must accept 576-octet datagrams; 9000 is the TAP's jumbo limit.
      if (!parse_u64(v, mtu) || mtu < 576 || mtu > 9000) bad(v, "a number from 576 to 9000");
      c.mtu = mtu;
    } else if (key_ == "seed") {
      if (!parse_u64(v, c.seed)) bad(v, "an unsigned 64-bit number");
    } else if (key_ == "services") {
      s_.services = split_list(v);
      for (const auto& name : s_.services) {
        if (!std::all_of(name.begin(), name.end(), [](char ch) { return is_name_char(ch); })) {
          bad(name, "a comma-separated list of service names, like echo,discard");
        }
      }
    } else if (key_ == "client") {
      s_.client = parse_client(v);
    } else if (key_ == "clock_origin") {
      s_.clock_origin_us = parse_seconds_us(v);
      if (!s_.clock_origin_us) bad(v, "seconds since 1970 with up to 6 decimals");
    } else if (key_ == "ignore") {
      s_.ignore = split_list(v);
      for (const auto& f : s_.ignore) {
        if (!is_ignorable_field(f)) {
          bad(f, "field names like ipv4.id, tcp.seq, time or data (see docs/replay.md)");
        }
      }
    } else if (key_ == "time_tolerance_ms") {
      std::uint64_t ms = 0;
      if (!parse_u64(v, ms) || ms > 60'000) bad(v, "milliseconds from 0 to 60000");
      s_.time_tolerance = std::chrono::milliseconds(ms);
    } else if (key_ == "description") {
      s_.description = std::string(v);
    } else if (key_ == "recorded") {
      s_.recorded = std::string(v);
    }
  }

  ClientSpec parse_client(std::string_view v) const {
    auto w = split_words(v);
    if (w.size() < 4 || w[0] != "resolve" || w[2] != "via") bad(v, kClientForm);
    ClientSpec c;
    if (!wire::dns_valid_name(w[1])) bad(w[1], "a host name to resolve, like tapir.test");
    c.name = std::string(w[1]);
    auto ns = Ipv4Addr::parse(w[3]);
    if (!ns) bad(w[3], "the nameserver's IPv4 address, like 10.0.0.1");
    c.nameserver = *ns;
    std::vector<std::string_view> options;
    for (std::size_t i = 4; i < w.size(); i += 2) {
      const auto opt = w[i];
      if (std::find(options.begin(), options.end(), opt) != options.end()) {
        fail(fmt::format("{}: '{}' given twice", key_, opt));
      }
      options.push_back(opt);
      if (i + 1 == w.size()) bad(v, fmt::format("a value after '{}' in {}", opt, kClientForm));
      const auto val = w[i + 1];
      std::uint64_t n = 0;
      if (opt == "at") {
        if (val == "start") continue;
        auto us = parse_seconds_us(val);
        if (!us) bad(val, "'at start' or 'at SECONDS' (since clock_origin, up to 6 decimals)");
        c.at = Instant::from_micros(*us);
      } else if (opt == "timeout") {
        if (!parse_u64(val, n) || n < 1 || n > 600'000) bad(val, "milliseconds from 1 to 600000");
        c.timeout = std::chrono::milliseconds(n);
      } else if (opt == "attempts") {
        if (!parse_u64(val, n) || n < 1 || n > 100) bad(val, "a number of queries from 1 to 100");
        c.attempts = static_cast<int>(n);
      } else if (opt == "expect") {
        c.expect = parse_expect(val);
      } else {
        bad(opt, fmt::format("one of at, timeout, attempts, expect in {}", kClientForm));
      }
    }
    return c;
  }

  dns::Answer parse_expect(std::string_view val) const {
    if (auto e = dns::eai_from_name(val)) return *e;
    std::vector<Ipv4Addr> addrs;
    for (const auto& item : split_list(val)) {
      auto a = Ipv4Addr::parse(item);
      if (!a)
        bad(val, "addresses like 10.0.0.42,10.0.0.43 (no spaces) or an error like EAI_NONAME");
      addrs.push_back(*a);
    }
    if (addrs.empty()) bad(val, "addresses like 10.0.0.42,10.0.0.43 or an error like EAI_NONAME");
    return addrs;
  }

  std::string path_;
  std::size_t line_ = 0;
  std::string key_;
  std::vector<std::string> seen_;
  Sidecar s_;
};

}  // namespace

std::string ClientSpec::what() const {
  return fmt::format("resolve {} via {}", name, nameserver.to_string());
}

std::string ClientSpec::to_string() const {
  std::string out = what();
  if (at) {
    const auto us = at->micros();
    out += fmt::format(" at {}.{:06}", us / 1'000'000, us % 1'000'000);
  } else {
    out += " at start";
  }
  if (timeout != dns::kDefaultTimeout) {
    out += fmt::format(" timeout {}",
                       std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
  }
  if (attempts != dns::kDefaultAttempts) out += fmt::format(" attempts {}", attempts);
  if (expect) {
    if (*expect) {
      std::vector<std::string> addrs;
      for (auto a : **expect) addrs.push_back(a.to_string());
      out += fmt::format(" expect {}", fmt::join(addrs, ","));
    } else {
      out += fmt::format(" expect {}", dns::eai_name(expect->error()));
    }
  }
  return out;
}

bool Sidecar::ignores(std::string_view field) const {
  return std::find(ignore.begin(), ignore.end(), field) != ignore.end();
}

bool is_ignorable_field(std::string_view name) {
  if (name == "time" || name == "data" || name == "eth.trailer") return true;
  static constexpr std::string_view kLayers[] = {"eth.", "arp.", "ipv4.", "icmp.", "udp.", "tcp."};
  for (auto layer : kLayers) {
    if (name.size() > layer.size() && name.substr(0, layer.size()) == layer) {
      auto field = name.substr(layer.size());
      return std::all_of(field.begin(), field.end(), [](char c) { return is_name_char(c); });
    }
  }
  return false;
}

Sidecar parse_sidecar(std::string_view text, const std::string& path) {
  Parser p(path);
  std::size_t n = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    p.line(++n, text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return p.finish();
}

Sidecar load_sidecar(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw SidecarError(fmt::format(
        "{}: cannot open sidecar: {} (every NAME.pcap needs NAME.sidecar beside it; see "
        "docs/replay.md)",
        path, std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_sidecar(ss.str(), path);
}

std::string sidecar_path_for(const std::string& capture_path) {
  auto slash = capture_path.rfind('/');
  auto dot = capture_path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return capture_path + ".sidecar";
  }
  return capture_path.substr(0, dot) + ".sidecar";
}

std::string format_sidecar(const Sidecar& s) {
  std::string out;
  auto put = [&](std::string_view k, const std::string& v) {
    out += fmt::format("{} = {}\n", k, v);
  };
  if (!s.description.empty()) put("description", s.description);
  if (!s.recorded.empty()) put("recorded", s.recorded);
  put("mac", s.config.mac.to_string());
  put("ip", s.config.address.to_string());
  if (s.config.gateway) put("gateway", s.config.gateway->to_string());
  if (s.config.mtu != 0) put("mtu", std::to_string(s.config.mtu));
  put("seed", std::to_string(s.config.seed));
  put("peer", s.peer.to_string());
  if (!s.services.empty()) put("services", fmt::format("{}", fmt::join(s.services, ",")));
  if (s.client) put("client", s.client->to_string());
  if (s.clock_origin_us) {
    put("clock_origin",
        fmt::format("{}.{:06}", *s.clock_origin_us / 1'000'000, *s.clock_origin_us % 1'000'000));
  }
  if (!s.ignore.empty()) put("ignore", fmt::format("{}", fmt::join(s.ignore, ", ")));
  if (s.time_tolerance != std::chrono::milliseconds(50)) {
    put("time_tolerance_ms",
        std::to_string(
            std::chrono::duration_cast<std::chrono::milliseconds>(s.time_tolerance).count()));
  }
  return out;
}

}  // namespace tapir::app
