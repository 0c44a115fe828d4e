#include "model/json_writer.h"

#include <cstdio>

namespace tornado::viz {

void JsonWriter::separate(std::string_view key) {
  if (!first_.empty()) {
    if (!first_.back()) out_ << ',';
    first_.back() = false;
  }
  if (!key.empty()) {
    string(key);
    out_ << ':';
  }
}

void JsonWriter::string(std::string_view text) {
  out_ << '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out_ << "\\\"";
        break;
      case '\\':
        out_ << "\\\\";
        break;
      case '\n':
        out_ << "\\n";
        break;
      case '\t':
        out_ << "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out_ << buf;
        } else {
          out_ << c;
        }
    }
  }
  out_ << '"';
}

void JsonWriter::begin_object(std::string_view key) {
  separate(key);
  out_ << '{';
  first_.push_back(true);
}

void JsonWriter::end_object() {
  first_.pop_back();
  out_ << '}';
}

void JsonWriter::begin_array(std::string_view key) {
  separate(key);
  out_ << '[';
  first_.push_back(true);
}

void JsonWriter::end_array() {
  first_.pop_back();
  out_ << ']';
}

void JsonWriter::field(std::string_view key, std::string_view value) {
  separate(key);
  string(value);
}

void JsonWriter::field(std::string_view key, std::uint64_t value) {
  separate(key);
  out_ << value;
}

void JsonWriter::field(std::string_view key, std::int64_t value) {
  separate(key);
  out_ << value;
}

void JsonWriter::field(std::string_view key, bool value) {
  separate(key);
  out_ << (value ? "true" : "false");
}

void JsonWriter::field(std::string_view key, double value) {
  separate(key);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", value);
  out_ << buf;
}

void JsonWriter::element(std::uint64_t value) {
  separate({});
  out_ << value;
}

}  // namespace tornado::viz
