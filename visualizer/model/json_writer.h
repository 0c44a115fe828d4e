// A minimal JSON writer: keys come out in the order they are written, so a
// dump is byte-for-byte stable and tests can compare dumps.
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

namespace tornado::viz {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}

  void begin_object(std::string_view key = {});
  void end_object();
  void begin_array(std::string_view key = {});
  void end_array();
  void field(std::string_view key, std::string_view value);
  void field(std::string_view key, const char* value) { field(key, std::string_view{value}); }
  void field(std::string_view key, std::uint64_t value);
  void field(std::string_view key, std::int64_t value);
  void field(std::string_view key, bool value);
  void field(std::string_view key, double value);
  /// An array element that is a plain number.
  void element(std::uint64_t value);

 private:
  void separate(std::string_view key);
  void string(std::string_view text);

  std::ostream& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
};

}  // namespace tornado::viz
