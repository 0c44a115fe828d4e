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

/// Decodes a trace that arrives in pieces (a live socket): feed() takes the
/// next bytes and decodes every record they complete; a record cut in two
/// waits for the rest. Like decode() it never throws on bad input: the first
/// problem sets trace().error (for good) and feed() returns false from then on.
class StreamDecoder {
 public:
  /// Records longer than this are refused as garbage (writers send ≤ 2.6 MiB).
  static constexpr std::uint32_t kMaxRecord = 64u << 20;

  bool feed(std::string_view bytes);
  /// The bytes ended: anything left over is reported as cut short.
  void finish();
  /// Header, strings, events (those not yet taken) and error so far.
  const Trace& trace() const noexcept { return trace_; }
  bool has_header() const noexcept { return header_done_; }
  bool failed() const noexcept { return !trace_.error.empty(); }
  /// Moves out the events decoded since the last call.
  std::vector<Event> take_events();
  /// Moves out the result (for decode()).
  Trace release() && { return std::move(trace_); }

 private:
  std::size_t parse(std::string_view data);
  Trace trace_;
  std::string pending_;         // bytes of a record (or header) not yet complete
  std::uint64_t consumed_ = 0;  // stream offset of pending_[0]
  bool header_done_ = false;
};

/// What a live reader answers to the header a traced program sends it:
/// "TORNRDR\n", then the newest format major and minor it reads (u16 each).
inline constexpr char kReaderMagic[8] = {'T', 'O', 'R', 'N', 'R', 'D', 'R', '\n'};
inline constexpr std::size_t kReaderHelloSize = 12;
std::string encode_reader_hello(std::uint16_t major = kFormatMajor,
                                std::uint16_t minor = kFormatMinor);
/// The versions in a reader's hello, or false if `bytes` is not one.
bool decode_reader_hello(std::string_view bytes, std::uint16_t& major, std::uint16_t& minor);
/// decode() of a file's contents; a file that cannot be read sets error.
Trace read_file(const std::string& path);

}  // namespace tornado::trace
