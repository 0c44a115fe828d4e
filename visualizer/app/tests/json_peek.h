// Just enough JSON reading for the tests: the text of one member's value, so
// an assertion can look inside one panel's part of a --dump-state.
#pragma once

#include <string>
#include <string_view>

namespace tornado::viz::testing {

/// The value of the first member named `key` ("" if there is none): an
/// object or array with its brackets, or a scalar as written.
inline std::string member(std::string_view json, std::string_view key) {
  std::string needle = "\"" + std::string(key) + "\":";
  std::size_t at = json.find(needle);
  if (at == std::string_view::npos) return {};
  std::size_t begin = at + needle.size();
  while (begin < json.size() && json[begin] == ' ') ++begin;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = begin; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']') {
      if (depth == 0) return std::string(json.substr(begin, i - begin));
      if (--depth == 0) return std::string(json.substr(begin, i + 1 - begin));
    } else if (c == ',' && depth == 0) {
      return std::string(json.substr(begin, i - begin));
    }
  }
  return std::string(json.substr(begin));
}

}  // namespace tornado::viz::testing
