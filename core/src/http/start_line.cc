// Request and status lines, the end of a head, Content-Length, reason phrases.
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "http/text.h"
#include "tornado/httputil.h"

namespace tornado {

namespace detail {

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace detail

namespace {

bool is_http_version(std::string_view v) noexcept {
  return v.size() == 8 && v.substr(0, 7) == "HTTP/1." && v[7] >= '0' && v[7] <= '9';
}

bool is_target_char(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

}  // namespace

RequestStartLine parse_request_start_line(std::string_view line) {
  std::size_t first = line.find(' ');
  std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
    throw HTTPInputError("Malformed HTTP request line: " + detail::printable(line));
  }
  std::string_view method = line.substr(0, first);
  std::string_view target = line.substr(first + 1, second - first - 1);
  std::string_view version = line.substr(second + 1);
  if (!is_valid_header_name(method) || target.empty() ||
      !std::all_of(target.begin(), target.end(), is_target_char)) {
    throw HTTPInputError("Malformed HTTP request line: " + detail::printable(line));
  }
  if (!is_http_version(version)) {
    throw HTTPInputError("Malformed HTTP version in HTTP request line: " +
                         detail::printable(version));
  }
  return {std::string(method), std::string(target), std::string(version)};
}

ResponseStartLine parse_response_start_line(std::string_view line) {
  if (line.size() < 12 || !is_http_version(line.substr(0, 8)) || line[8] != ' ' ||
      !std::all_of(line.begin() + 9, line.begin() + 12,
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      (line.size() > 12 && line[12] != ' ')) {
    throw HTTPInputError("Error parsing response start line: " + detail::printable(line));
  }
  int code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
  return {std::string(line.substr(0, 8)), code, std::string(reason)};
}

std::optional<std::size_t> find_header_end(std::string_view data) noexcept {
  // A blank line: "\n" followed by an optional "\r" and "\n" (Tornado's \r?\n\r?\n).
  for (std::size_t i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
    std::size_t j = i + 1;
    if (j < data.size() && data[j] == '\r') ++j;
    if (j < data.size() && data[j] == '\n') return j + 1;
  }
  return std::nullopt;
}

RequestHead parse_request_head(std::string_view head) {
  std::size_t eol = head.find('\n');
  if (eol == std::string_view::npos) throw HTTPInputError("Missing end of request line");
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return {parse_request_start_line(line), HTTPHeaders::parse(head.substr(eol + 1))};
}

std::optional<std::uint64_t> parse_content_length(const HTTPHeaders& headers) {
  auto values = headers.get_list("Content-Length");
  if (values.empty()) return std::nullopt;
  std::optional<std::uint64_t> length;
  for (const std::string& value : values) {
    // "5, 5" is one value sent twice (RFC 9110 §8.6): each piece must agree.
    std::string_view rest = value;
    while (true) {
      std::size_t comma = rest.find(',');
      std::string_view piece = detail::trim(rest.substr(0, comma));
      std::uint64_t n = 0;
      bool digits =
          !piece.empty() && piece.size() <= 19 &&
          std::all_of(piece.begin(), piece.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits)
        throw HTTPInputError("Only integer Content-Length is allowed: " + detail::printable(value));
      std::from_chars(piece.data(), piece.data() + piece.size(), n);
      if (length && *length != n) throw HTTPInputError("Multiple unequal Content-Lengths");
      length = n;
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  return length;
}

std::string_view reason_phrase(int code) noexcept {
  switch (code) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace tornado
