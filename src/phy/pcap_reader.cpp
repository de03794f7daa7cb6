#include "phy/pcap_reader.hpp"

#include <pcap/pcap.h>

#include <algorithm>

namespace tapir::phy {

namespace {

// libpcap's messages are one line already; make sure of it, since callers print them as one.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw CaptureError(path + ": " + one_line(problem));
}

class Handle {
 public:
  explicit Handle(pcap_t* p) : p_(p) {}
  ~Handle() { ::pcap_close(p_); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  pcap_t* get() const { return p_; }

 private:
  pcap_t* p_;
};

}  // namespace

Capture read_capture(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* raw =
      ::pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err);
  if (raw == nullptr) {
    std::string e = err;
    // libpcap prefixes "PATH: " to some messages (a missing file); do not name it twice.
    if (e.rfind(path + ": ", 0) == 0) e = e.substr(path.size() + 2);
    fail(path, "cannot read capture: " + e);
  }
  Handle h(raw);
  Capture cap;
  cap.path = path;
  cap.link_type = ::pcap_datalink(h.get());
  if (cap.link_type != DLT_EN10MB) {
    const char* name = ::pcap_datalink_val_to_name(cap.link_type);
    fail(path, "link type " + std::to_string(cap.link_type) + " (" + (name ? name : "unknown") +
                   ") is not Ethernet (EN10MB); tapir reads Ethernet captures only");
  }
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  for (;;) {
    const int r = ::pcap_next_ex(h.get(), &hdr, &data);
    if (r == PCAP_ERROR_BREAK) break;  // end of file
    if (r != 1) {
      fail(path, "frame " + std::to_string(cap.records.size() + 1) + ": " + ::pcap_geterr(h.get()));
    }
    CaptureRecord rec;
    rec.time_us = static_cast<std::int64_t>(hdr->ts.tv_sec) * 1'000'000 + hdr->ts.tv_usec;
    rec.orig_len = hdr->len;
    const auto* b = reinterpret_cast<const std::byte*>(data);
    rec.bytes.assign(b, b + hdr->caplen);
    cap.records.push_back(std::move(rec));
  }
  return cap;
}

}  // namespace tapir::phy
