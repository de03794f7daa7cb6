// `tapir ping HOST`: ICMP echo from tapir's own stack, with iputils-like output.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <vector>

#include "app/commands.hpp"
#include "app/session.hpp"

namespace tapir::app {

namespace {
std::vector<FlagSpec> ping_specs() {
  auto specs = stack_flag_specs();
  specs.insert(specs.begin(),
               {
                   {"-c", "COUNT", "stop after COUNT echo requests (default: until interrupted)"},
                   {"-i", "SECONDS", "wait SECONDS between requests (default 1; at least 0.001)"},
                   {"-s", "BYTES", "data bytes per request (default 56; at most 65507)"},
                   {"-W", "SECONDS", "time to wait for the last reply (default 2)"},
               });
  return specs;
}

double parse_seconds(std::string_view flag, std::string_view v, double min, double max) {
  std::string s(v);
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(d) || d < min || d > max) {
    throw UsageError(std::string(flag) + ": invalid value '" + s + "': expected seconds from " +
                     std::to_string(min).substr(0, 5) + " to " + std::to_string(max).substr(0, 7));
  }
  return d;
}

Duration seconds(double s) { return Duration(static_cast<std::int64_t>(s * 1e6)); }
}  // namespace

int cmd_ping(int argc, char** argv) {
  auto specs = ping_specs();
  Args args(specs, argc, argv, 2);
  if (args.has("--help")) {
    std::fputs(
        usage_text("ping", "[OPTIONS] HOST",
                   "Sends ICMP echo requests from tapir's stack and prints the replies, like\n"
                   "iputils ping. Exit code 0 if any reply came back, 1 if none did.",
                   specs)
            .c_str(),
        stdout);
    return 0;
  }
  if (args.positional().size() != 1) throw UsageError("expected one HOST (a dotted-quad address)");
  Ipv4Addr host = parse_ipv4_flag("HOST", args.positional()[0]);
  std::uint64_t count = args.has("-c") ? parse_uint_flag("-c", *args.get("-c"), 1, 1000000000) : 0;
  Duration interval =
      seconds(args.has("-i") ? parse_seconds("-i", *args.get("-i"), 0.001, 3600) : 1.0);
  std::size_t size = args.has("-s") ? parse_uint_flag("-s", *args.get("-s"), 0, 65507) : 56;
  Duration wait = seconds(args.has("-W") ? parse_seconds("-W", *args.get("-W"), 0.001, 3600) : 2.0);

  Session s(args);
  auto& stack = *s.stack;
  const std::uint16_t ident = static_cast<std::uint16_t>(s.setup.config.seed * 2654435761u >> 16);
  std::vector<std::byte> data(size);
  for (std::size_t i = 0; i < size; ++i) data[i] = std::byte(static_cast<std::uint8_t>(i));
  std::vector<std::optional<Instant>> sent_at;
  std::vector<double> rtts;
  std::uint64_t received = 0;
  Instant start = s.clock.now();
  Instant next_send = start;
  std::optional<Instant> last_sent;
  std::uint64_t failed_seen = 0;

  std::printf("PING %s (%s) %zu(%zu) bytes of data.\n", host.to_string().c_str(),
              host.to_string().c_str(), size, size + 28);
  std::fflush(stdout);
  stack.on_ping_reply([&](const PingReply& r, Instant now) {
    if (r.ident != ident || r.from != host || r.seq == 0 || r.seq > sent_at.size()) return;
    auto& t = sent_at[r.seq - 1];
    if (!t) return;  // a duplicate
    double ms = static_cast<double>((now - *t).count()) / 1000.0;
    t.reset();
    rtts.push_back(ms);
    ++received;
    std::printf("%zu bytes from %s: icmp_seq=%u ttl=%u time=%.3f ms\n", r.data_len + 8,
                r.from.to_string().c_str(), r.seq, r.ttl, ms);
    std::fflush(stdout);
  });
  s.loop->on_tick([&](Instant now) -> std::optional<Instant> {
    // iputils prints "Destination Host Unreachable" when ARP gives up on the host.
    if (stack.stats().arp.resolve_failed > failed_seen) {
      failed_seen = stack.stats().arp.resolve_failed;
      std::printf("From %s icmp_seq=%zu Destination Host Unreachable\n",
                  s.setup.config.address.addr.to_string().c_str(), sent_at.size());
      std::fflush(stdout);
    }
    bool all_sent = count && sent_at.size() >= count;
    if (!all_sent && now >= next_send) {
      auto seq = static_cast<std::uint16_t>(sent_at.size() + 1);
      sent_at.emplace_back(now);
      (void)stack.send_ping(host, ident, seq, data, now);
      last_sent = now;
      next_send = now + interval;
      all_sent = count && sent_at.size() >= count;
    }
    if (all_sent && (received == sent_at.size() || now >= *last_sent + wait)) {
      s.loop->stop();
      return std::nullopt;
    }
    return all_sent ? *last_sent + wait : next_send;
  });
  s.loop->run();

  double total_ms = static_cast<double>((s.clock.now() - start).count()) / 1000.0;
  std::size_t transmitted = sent_at.size();
  std::printf("\n--- %s ping statistics ---\n", host.to_string().c_str());
  std::printf("%zu packets transmitted, %lu received, %.0f%% packet loss, time %.0fms\n",
              transmitted, static_cast<unsigned long>(received),
              transmitted ? 100.0 * static_cast<double>(transmitted - received) /
                                static_cast<double>(transmitted)
                          : 0.0,
              total_ms);
  if (!rtts.empty()) {
    double mn = rtts[0], mx = rtts[0], sum = 0, sum2 = 0;
    for (double r : rtts) {
      mn = std::min(mn, r);
      mx = std::max(mx, r);
      sum += r;
      sum2 += r * r;
    }
    double avg = sum / static_cast<double>(rtts.size());
    // iputils' mdev: sqrt(mean of squares - square of mean).
    double mdev = std::sqrt(std::max(0.0, sum2 / static_cast<double>(rtts.size()) - avg * avg));
    std::printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", mn, avg, mx, mdev);
  }
  return received > 0 ? 0 : 1;
}

}  // namespace tapir::app
