#include "app/http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tapir::app::http {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

namespace {
std::optional<std::string> find_header(const std::vector<Header>& hs, std::string_view name) {
  for (const auto& h : hs) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  // RFC 9110 §5.6.2 tchar.
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Splits the head into lines (CRLF; a bare LF is accepted, RFC 9112 §2.2) and parses the
// field lines after the first. Returns the first line.
ParseStatus split_head(std::string_view buf, std::size_t max_head, std::string_view& first,
                       std::vector<Header>& headers, std::size_t& consumed) {
  auto end = buf.find("\n\r\n");
  std::size_t head_len;
  if (end != std::string_view::npos) {
    head_len = end + 3;
  } else if ((end = buf.find("\n\n")) != std::string_view::npos) {
    head_len = end + 2;
  } else {
    return buf.size() > max_head ? ParseStatus::TooLarge : ParseStatus::Incomplete;
  }
  if (head_len > max_head) return ParseStatus::TooLarge;
  std::string_view head = buf.substr(0, head_len);
  bool first_line = true;
  while (!head.empty()) {
    auto nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first_line) {
      first = line;
      first_line = false;
      continue;
    }
    if (line.empty()) break;
    // RFC 9112 §5.1: no whitespace between the field name and the colon; no obs-fold.
    auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos || line[0] == ' ' || line[0] == '\t')
      return ParseStatus::Bad;
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) return ParseStatus::Bad;
    headers.push_back({std::string(name), std::string(trim(line.substr(colon + 1)))});
  }
  consumed = head_len;
  return ParseStatus::Done;
}

bool parse_version(std::string_view v, int& minor) {
  if (v.size() != 8 || !v.starts_with("HTTP/1.") || !std::isdigit(static_cast<unsigned char>(v[7])))
    return false;
  minor = v[7] - '0';
  return true;
}
}  // namespace

std::optional<std::string> Request::header(std::string_view name) const {
  return find_header(headers, name);
}
std::optional<std::string> Response::header(std::string_view name) const {
  return find_header(headers, name);
}

bool Request::keep_alive() const {
  auto c = header("Connection");
  if (version_minor >= 1) return !(c && iequals(*c, "close"));
  return c && iequals(*c, "keep-alive");
}

ParseStatus parse_request(std::string_view buf, std::size_t max_head, Request& out,
                          std::size_t& consumed) {
  // RFC 9112 §2.2: ignore at least one empty line before the request line.
  std::size_t skipped = 0;
  while (buf.starts_with("\r\n") || buf.starts_with("\n")) {
    std::size_t n = buf[0] == '\r' ? 2 : 1;
    buf.remove_prefix(n);
    skipped += n;
  }
  std::string_view first;
  out = Request{};
  auto st = split_head(buf, max_head, first, out.headers, consumed);
  if (st != ParseStatus::Done) return st;
  consumed += skipped;
  // RFC 9112 §3: method SP request-target SP HTTP-version.
  auto sp1 = first.find(' ');
  auto sp2 = first.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return ParseStatus::Bad;
  out.method = std::string(first.substr(0, sp1));
  out.target = std::string(first.substr(sp1 + 1, sp2 - sp1 - 1));
  if (out.method.empty() || !std::all_of(out.method.begin(), out.method.end(), is_token_char))
    return ParseStatus::Bad;
  if (out.target.empty() || out.target.find(' ') != std::string::npos) return ParseStatus::Bad;
  if (!parse_version(first.substr(sp2 + 1), out.version_minor)) return ParseStatus::Bad;
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400.
  if (out.version_minor >= 1 && !out.header("Host")) return ParseStatus::Bad;
  return ParseStatus::Done;
}

ParseStatus parse_response(std::string_view buf, std::size_t max_head, Response& out,
                           std::size_t& consumed) {
  std::string_view first;
  out = Response{};
  auto st = split_head(buf, max_head, first, out.headers, consumed);
  if (st != ParseStatus::Done) return st;
  // RFC 9112 §4: HTTP-version SP status-code SP [reason-phrase].
  int minor = 0;
  if (first.size() < 12 || !parse_version(first.substr(0, 8), minor) || first[8] != ' ')
    return ParseStatus::Bad;
  auto code = first.substr(9, 3);
  auto [p, ec] = std::from_chars(code.data(), code.data() + 3, out.status);
  if (ec != std::errc{} || p != code.data() + 3) return ParseStatus::Bad;
  out.reason = first.size() > 13 ? std::string(first.substr(13)) : "";
  return ParseStatus::Done;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string_view content_type_for(std::string_view path) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".css", "text/css"},
      {".js", "text/javascript"},
      {".json", "application/json"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".svg", "image/svg+xml"},
      {".ico", "image/vnd.microsoft.icon"},
      {".pdf", "application/pdf"},
      {".xml", "application/xml"},
      {".wasm", "application/wasm"},
      {".pcap", "application/vnd.tcpdump.pcap"},
  };
  auto dot = path.rfind('.');
  auto slash = path.rfind('/');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    auto ext = path.substr(dot);
    for (auto [e, t] : kTypes) {
      if (iequals(e, ext)) return t;
    }
  }
  return "application/octet-stream";
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int v = 0;
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc{} || p != s.data() + i + 3 || v == 0) return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

}  // namespace tapir::app::http
