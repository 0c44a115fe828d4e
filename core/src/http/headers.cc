// HTTPHeaders: an ordered multi-map with case-insensitive names, and its
// strict parser.
#include <algorithm>

#include "http/text.h"
#include "tornado/httputil.h"

namespace tornado {

namespace {

// RFC 9110 field-value: no CR, LF or NUL (other controls pass, as Tornado).
bool is_valid_value(std::string_view value) noexcept {
  // One pass; find_first_of would search the three bytes once per character.
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

void check_field(std::string_view name, std::string_view value) {
  if (!is_valid_header_name(name)) {
    throw HTTPInputError("Invalid header name: " + detail::printable(name));
  }
  if (!is_valid_value(value)) {
    throw HTTPInputError("Invalid header value for " + std::string(name));
  }
}

}  // namespace

bool is_valid_header_name(std::string_view name) noexcept {
  return !name.empty() && std::all_of(name.begin(), name.end(), detail::is_token_char);
}

std::string normalize_header_name(std::string_view name) {
  std::string out(name);
  bool start = true;
  for (char& c : out) {
    c = start ? detail::ascii_upper(c) : detail::ascii_lower(c);
    start = c == '-';
  }
  return out;
}

HTTPHeaders::HTTPHeaders(std::initializer_list<Field> fields) {
  for (const auto& [name, value] : fields) add(name, value);
}

HTTPHeaders HTTPHeaders::parse(std::string_view block) {
  HTTPHeaders headers;
  // At most one field per line: one allocation instead of one per doubling.
  headers.fields_.reserve(static_cast<std::size_t>(std::count(block.begin(), block.end(), '\n')));
  while (!block.empty()) {
    std::size_t eol = block.find('\n');
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      // obs-fold: the line continues the previous value.
      if (headers.empty()) throw HTTPInputError("First header line cannot start with whitespace");
      std::string_view more = detail::trim(line);
      if (!is_valid_value(more)) throw HTTPInputError("Invalid header continuation");
      headers.fields_.back().second.append(" ").append(more);
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      throw HTTPInputError("No colon in header line: " + detail::printable(line));
    }
    headers.add(line.substr(0, colon), detail::trim(line.substr(colon + 1)));
  }
  return headers;
}

void HTTPHeaders::add(std::string_view name, std::string_view value) {
  check_field(name, value);
  fields_.emplace_back(normalize_header_name(name), std::string(value));
}

void HTTPHeaders::set(std::string_view name, std::string_view value) {
  check_field(name, value);
  for (auto it = fields_.begin(); it != fields_.end(); ++it) {
    if (detail::iequals(it->first, name)) {
      it->second = value;
      fields_.erase(std::remove_if(it + 1, fields_.end(),
                                   [&](const Field& f) { return detail::iequals(f.first, name); }),
                    fields_.end());
      return;
    }
  }
  fields_.emplace_back(normalize_header_name(name), std::string(value));
}

std::size_t HTTPHeaders::remove(std::string_view name) {
  return std::erase_if(fields_, [&](const Field& f) { return detail::iequals(f.first, name); });
}

std::optional<std::string> HTTPHeaders::get(std::string_view name) const {
  std::optional<std::string> joined;
  for (const auto& [key, value] : fields_) {
    if (!detail::iequals(key, name)) continue;
    if (joined) {
      joined->append(",").append(value);
    } else {
      joined = value;
    }
  }
  return joined;
}

std::string HTTPHeaders::get(std::string_view name, std::string_view fallback) const {
  auto value = get(name);
  return value ? std::move(*value) : std::string(fallback);
}

std::optional<std::string_view> HTTPHeaders::get_first(std::string_view name) const {
  for (const auto& [key, value] : fields_) {
    if (detail::iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::vector<std::string> HTTPHeaders::get_list(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : fields_) {
    if (detail::iequals(key, name)) values.push_back(value);
  }
  return values;
}

bool HTTPHeaders::contains(std::string_view name) const { return get_first(name).has_value(); }

std::string HTTPHeaders::to_wire() const {
  std::string out;
  for (const auto& [name, value] : fields_)
    out.append(name).append(": ").append(value).append("\r\n");
  return out;
}

}  // namespace tornado
