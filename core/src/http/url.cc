// Percent-encoding and query strings (urllib.parse's unquote/quote/parse_qs).
#include "tornado/httputil.h"

namespace tornado {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string url_unescape(std::string_view text, bool plus) {
  std::string out;
  out.reserve(text.size());
  std::string_view special = plus ? "%+" : "%";
  while (!text.empty()) {
    // Copy the run up to the next escape at once: bodies can be megabytes.
    std::size_t i = text.find_first_of(special);
    out.append(text.substr(0, i));
    if (i == std::string_view::npos) break;
    if (text[i] == '+') {
      out += ' ';
      text.remove_prefix(i + 1);
    } else if (i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      text.remove_prefix(i + 3);
    } else {
      out += '%';
      text.remove_prefix(i + 1);
    }
  }
  return out;
}

std::string url_escape(std::string_view text, bool plus) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else if (c == ' ' && plus) {
      out += '+';
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

QueryArguments parse_qs_bytes(std::string_view query) {
  QueryArguments args;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    std::string name = url_unescape(part.substr(0, eq));
    std::string value =
        eq == std::string_view::npos ? std::string() : url_unescape(part.substr(eq + 1));
    args[std::move(name)].push_back(std::move(value));
  }
  return args;
}

}  // namespace tornado
