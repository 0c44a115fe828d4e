// Byte-level helpers for the HTTP parsers (ASCII only: HTTP's syntax is).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace tornado::detail {

inline char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; }
inline char ascii_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? char(c - 32) : c; }

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// RFC 9110 tchar, as a table: every header name of every request goes through it.
inline constexpr auto kTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[static_cast<std::size_t>(c)] =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  }
  return table;
}();
inline bool is_token_char(char c) noexcept { return kTokenChars[static_cast<unsigned char>(c)]; }

// Strips HTTP whitespace (space and tab) from both ends.
inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// At most 64 bytes of peer input, control bytes escaped, for error messages.
std::string printable(std::string_view s);

}  // namespace tornado::detail
