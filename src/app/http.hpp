// HTTP/1.1 message parsing shared by the server app and `tapir get` (RFC 9112 §2-§6):
// request and status lines, header fields, and the limits that turn abuse into 4xx.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tapir::app::http {

struct Header {
  std::string name;  // as received; compare with iequals
  std::string value;
};

struct Request {
  std::string method;
  std::string target;
  int version_minor = 1;  // HTTP/1.<minor>
  std::vector<Header> headers;
  std::optional<std::string> header(std::string_view name) const;
  bool keep_alive() const;  // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only if asked
};

struct Response {
  int status = 0;
  std::string reason;
  std::vector<Header> headers;
  std::optional<std::string> header(std::string_view name) const;
};

enum class ParseStatus { Incomplete, Done, Bad, TooLarge };

// Parses a request head (request line + fields + empty line) at the start of `buf`.
// On Done, `consumed` is the head's length.
ParseStatus parse_request(std::string_view buf, std::size_t max_head, Request& out,
                          std::size_t& consumed);
ParseStatus parse_response(std::string_view buf, std::size_t max_head, Response& out,
                           std::size_t& consumed);

bool iequals(std::string_view a, std::string_view b);
std::string_view reason_phrase(int status);
// Content-Type by file extension (RFC 6838 registered types for the common ones).
std::string_view content_type_for(std::string_view path);
// Decodes %XX escapes in a request path; nullopt on a bad escape or an encoded NUL.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace tapir::app::http
