// URLs for the client: taking one apart, and following a Location header.
#include <charconv>

#include "http/client_state.h"
#include "http/text.h"

namespace tornado::detail {

namespace {

[[noreturn]] void bad_url(std::string_view url, const char* why) {
  throw ValueError("Unsupported URL " + printable(url) + ": " + why);
}

std::uint16_t parse_port(std::string_view url, std::string_view text) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    bad_url(url, "bad port");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

ParsedUrl parse_url(std::string_view url) {
  ParsedUrl parsed;
  std::string_view rest;
  if (url.size() > 7 && iequals(url.substr(0, 7), "http://")) {
    rest = url.substr(7);
  } else if (url.size() > 8 && iequals(url.substr(0, 8), "https://")) {
    rest = url.substr(8);
    parsed.https = true;
    parsed.port = 443;
  } else {
    bad_url(url, "only http:// and https:// are supported");
  }
  rest = rest.substr(0, rest.find('#'));
  std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  // Built by appending: insert(0, "/") draws a false -Wrestrict from GCC 12 at -O3.
  std::string_view path = slash == std::string_view::npos ? "/" : rest.substr(slash);
  parsed.target.clear();
  if (path.front() == '?') parsed.target.push_back('/');
  parsed.target.append(path);
  if (authority.find('@') != std::string_view::npos) bad_url(url, "credentials in URLs");
  parsed.host_header = std::string(authority);
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos) bad_url(url, "unclosed [");
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') bad_url(url, "junk after ]");
      parsed.port = parse_port(url, host.substr(close + 2));
    }
    host = host.substr(1, close - 1);
  } else if (std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    parsed.port = parse_port(url, host.substr(colon + 1));
    host = host.substr(0, colon);
  }
  if (host.empty()) bad_url(url, "no host");
  parsed.host = std::string(host);
  return parsed;
}

std::string resolve_location(std::string_view base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  ParsedUrl from = parse_url(base);
  std::string origin = (from.https ? "https:" : "http:");
  if (location.substr(0, 2) == "//") return origin + std::string(location);
  origin += "//" + from.host_header;
  if (!location.empty() && location.front() == '/') return origin + std::string(location);
  std::string path = from.target.substr(0, from.target.find('?'));
  return origin + path.substr(0, path.rfind('/') + 1) + std::string(location);
}

}  // namespace tornado::detail
