// The binary trace format (docs/trace-format.md specifies it byte by byte):
// what trace::start("file:PATH") writes, what tornado-trace and tornado-viz
// read. All integers are little-endian.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tornado/trace.h"

namespace tornado::trace {

inline constexpr char kMagic[8] = {'T', 'O', 'R', 'N', 'T', 'R', 'C', '\n'};
inline constexpr std::uint16_t kFormatMajor = 1;
inline constexpr std::uint16_t kFormatMinor = 1;

/// A record's type byte. Readers skip types they do not know.
enum class RecordType : std::uint8_t { strings = 'S', events = 'E', end = 'Z' };

struct FileHeader {
  std::uint16_t major = kFormatMajor;
  std::uint16_t minor = kFormatMinor;
  std::int64_t wall_offset_ns = 0;  // add to an event's ts_ns for Unix time in ns
  std::uint32_t pid = 0;
  std::string process;
  std::vector<std::pair<std::uint16_t, std::string>> kinds;  // the event-kind table
};

/// The header for this process, now.
FileHeader this_process_header();
std::string encode_header(const FileHeader& header);
void append_strings(std::string& out,
                    std::span<const std::pair<std::uint32_t, std::string>> strings);
void append_events(std::string& out, std::span<const Event> events);
void append_end(std::string& out);

/// A decoded trace. Decoding never throws on bad input: it stops at the first
/// problem, keeps everything before it and says where it stopped.
struct Trace {
  FileHeader header;
  std::unordered_map<std::uint32_t, std::string> strings;
  std::vector<Event> events;
  bool complete = false;           // the end record was seen
  std::string error;               // empty when the bytes were well formed
  std::uint64_t error_offset = 0;  // byte offset where decoding stopped
  /// The string for an id ("" for 0 or an unknown id).
  std::string_view string(std::uint32_t id) const;
};

Trace decode(std::string_view bytes);
/// decode() of a file's contents; a file that cannot be read sets error.
Trace read_file(const std::string& path);

}  // namespace tornado::trace
