#include "tornado/trace_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tornado::trace {
namespace {

static_assert(sizeof(Event) == 40, "events are written as they are in memory");

template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86-64 and aarch64 are little-endian
  out.append(bytes, sizeof(T));
}

void put_record_header(std::string& out, RecordType type, std::uint32_t length) {
  put<std::uint8_t>(out, static_cast<std::uint8_t>(type));
  out.append(3, '\0');
  put<std::uint32_t>(out, length);
}

std::string process_name() {
  std::ifstream comm("/proc/self/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// Reads fixed-size values from a byte range, remembering how far it got.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  template <class T>
  bool get(T& value) {
    if (bytes_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool get_bytes(std::size_t n, std::string_view& out) {
    if (bytes_.size() - pos_ < n) return false;
    out = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  std::size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

bool fail(Trace& t, std::uint64_t offset, std::string why) {
  t.error = std::move(why);
  t.error_offset = offset;
  return false;
}

bool decode_header(Cursor& in, Trace& t) {
  std::string_view magic;
  if (!in.get_bytes(sizeof kMagic, magic) || magic != std::string_view(kMagic, sizeof kMagic)) {
    return fail(t, 0, "not a tornado trace (bad magic)");
  }
  FileHeader& h = t.header;
  std::uint32_t size = 0;
  if (!in.get(h.major) || !in.get(h.minor) || !in.get(size)) {
    return fail(t, in.pos(), "truncated header");
  }
  if (h.major > kFormatMajor) {
    return fail(t, 8,
                "trace format " + std::to_string(h.major) + "." + std::to_string(h.minor) +
                    " is newer than this reader's " + std::to_string(kFormatMajor) + "." +
                    std::to_string(kFormatMinor) + ": use a newer tornado-trace");
  }
  std::uint32_t name_len = 0;
  std::string_view name;
  std::uint16_t kinds = 0;
  if (!in.get(h.wall_offset_ns) || !in.get(h.pid) || !in.get(name_len) ||
      !in.get_bytes(name_len, name) || !in.get(kinds)) {
    return fail(t, in.pos(), "truncated header");
  }
  h.process = std::string(name);
  for (std::uint16_t i = 0; i < kinds; ++i) {
    std::uint16_t id = 0, len = 0;
    std::string_view text;
    if (!in.get(id) || !in.get(len) || !in.get_bytes(len, text)) {
      return fail(t, in.pos(), "truncated event-kind table");
    }
    h.kinds.emplace_back(id, std::string(text));
  }
  if (in.pos() != size) return fail(t, in.pos(), "header size does not match its contents");
  return true;
}

bool decode_strings(std::string_view payload, std::size_t base, Trace& t) {
  Cursor in(payload);
  while (!in.at_end()) {
    std::uint32_t id = 0, len = 0;
    std::string_view text;
    if (!in.get(id) || !in.get(len) || !in.get_bytes(len, text)) {
      return fail(t, base + in.pos(), "corrupt strings record");
    }
    t.strings[id] = std::string(text);
  }
  return true;
}

bool decode_events(std::string_view payload, std::size_t base, Trace& t) {
  if (payload.size() % sizeof(Event) != 0) {
    return fail(t, base, "events record length is not a multiple of 40");
  }
  std::size_t n = payload.size() / sizeof(Event);
  if (n == 0) return true;  // memcpy into an empty vector's null data() is undefined
  std::size_t old = t.events.size();
  t.events.resize(old + n);
  std::memcpy(t.events.data() + old, payload.data(), payload.size());
  return true;
}

}  // namespace

FileHeader this_process_header() {
  FileHeader h;
  auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  h.wall_offset_ns = wall.count() - static_cast<std::int64_t>(now_ns());
  h.pid = static_cast<std::uint32_t>(::getpid());
  h.process = process_name();
  for (std::uint16_t k = 1;; ++k) {
    std::string_view name = kind_name(static_cast<Kind>(k));
    if (name == "unknown") break;
    h.kinds.emplace_back(k, std::string(name));
  }
  return h;
}

std::string encode_header(const FileHeader& h) {
  std::string body;
  put(body, h.wall_offset_ns);
  put(body, h.pid);
  put(body, static_cast<std::uint32_t>(h.process.size()));
  body += h.process;
  put(body, static_cast<std::uint16_t>(h.kinds.size()));
  for (const auto& [id, name] : h.kinds) {
    put(body, id);
    put(body, static_cast<std::uint16_t>(name.size()));
    body += name;
  }
  std::string out(kMagic, sizeof kMagic);
  put(out, h.major);
  put(out, h.minor);
  put(out, static_cast<std::uint32_t>(out.size() + sizeof(std::uint32_t) + body.size()));
  return out + body;
}

void append_strings(std::string& out,
                    std::span<const std::pair<std::uint32_t, std::string>> strings) {
  std::size_t length = 0;
  for (const auto& s : strings) length += 8 + s.second.size();
  put_record_header(out, RecordType::strings, static_cast<std::uint32_t>(length));
  for (const auto& [id, text] : strings) {
    put(out, id);
    put(out, static_cast<std::uint32_t>(text.size()));
    out += text;
  }
}

void append_events(std::string& out, std::span<const Event> events) {
  put_record_header(out, RecordType::events, static_cast<std::uint32_t>(events.size_bytes()));
  out.append(reinterpret_cast<const char*>(events.data()), events.size_bytes());
}

void append_end(std::string& out) { put_record_header(out, RecordType::end, 0); }

std::string_view Trace::string(std::uint32_t id) const {
  auto it = strings.find(id);
  return it == strings.end() ? std::string_view() : std::string_view(it->second);
}

Trace decode(std::string_view bytes) {
  StreamDecoder decoder;
  decoder.feed(bytes);
  decoder.finish();
  return std::move(decoder).release();
}

// Decodes the header or the records that `data` holds whole; returns how many
// bytes that used. Offsets in errors count from the start of the stream.
std::size_t StreamDecoder::parse(std::string_view data) {
  std::size_t used = 0;
  if (!header_done_) {
    std::size_t prefix = std::min(data.size(), sizeof kMagic);
    if (data.substr(0, prefix) != std::string_view(kMagic, prefix)) {
      fail(trace_, consumed_, "not a tornado trace (bad magic)");
      return 0;
    }
    std::uint32_t size = 0;
    if (data.size() < sizeof kMagic + 8) return 0;
    std::memcpy(&size, data.data() + sizeof kMagic + 4, sizeof size);
    if (size > (1u << 20)) {
      fail(trace_, consumed_ + 12, "header size " + std::to_string(size) + " is implausible");
      return 0;
    }
    if (data.size() < size) return 0;
    Cursor in(data.substr(0, size));
    if (!decode_header(in, trace_)) return 0;
    header_done_ = true;
    used = size;
  }
  while (!trace_.complete && data.size() - used >= 8) {
    std::uint64_t start = consumed_ + used;
    std::uint32_t length = 0;
    std::memcpy(&length, data.data() + used + 4, sizeof length);
    if (length > kMaxRecord) {
      fail(trace_, start,
           "record of " + std::to_string(length) + " bytes is larger than any writer sends");
      return used;
    }
    if (data.size() - used - 8 < length) break;
    auto type = static_cast<RecordType>(static_cast<std::uint8_t>(data[used]));
    std::string_view payload = data.substr(used + 8, length);
    bool ok = true;
    if (type == RecordType::strings) ok = decode_strings(payload, start + 8, trace_);
    if (type == RecordType::events) ok = decode_events(payload, start + 8, trace_);
    if (type == RecordType::end) trace_.complete = true;  // other types: a newer minor's, skipped
    if (!ok) return used;
    used += 8 + length;
  }
  return used;
}

bool StreamDecoder::feed(std::string_view bytes) {
  if (failed() || trace_.complete) return !failed();
  // Decode straight from the caller's bytes when nothing is pending, so a
  // whole file is not copied first.
  std::string_view data = bytes;
  if (!pending_.empty()) {
    pending_.append(bytes);
    data = pending_;
  }
  std::size_t used = parse(data);
  consumed_ += used;
  std::string rest(data.substr(used));
  pending_ = std::move(rest);
  return !failed();
}

void StreamDecoder::finish() {
  if (failed() || trace_.complete || pending_.empty()) {
    if (!failed() && !header_done_) fail(trace_, 0, "not a tornado trace (bad magic)");
    return;
  }
  if (!header_done_) {
    Cursor in(pending_);
    decode_header(in, trace_);  // says what is missing
    if (!failed()) fail(trace_, consumed_ + in.pos(), "truncated header");
  } else if (pending_.size() < 8) {
    fail(trace_, consumed_, "truncated record header");
  } else {
    std::uint32_t length = 0;
    std::memcpy(&length, pending_.data() + 4, sizeof length);
    fail(trace_, consumed_, "truncated record (" + std::to_string(length) + " bytes announced)");
  }
}

std::vector<Event> StreamDecoder::take_events() {
  std::vector<Event> out;
  out.swap(trace_.events);
  return out;
}

std::string encode_reader_hello(std::uint16_t major, std::uint16_t minor) {
  std::string out(kReaderMagic, sizeof kReaderMagic);
  put(out, major);
  put(out, minor);
  return out;
}

bool decode_reader_hello(std::string_view bytes, std::uint16_t& major, std::uint16_t& minor) {
  Cursor in(bytes);
  std::string_view magic;
  return bytes.size() == kReaderHelloSize && in.get_bytes(sizeof kReaderMagic, magic) &&
         magic == std::string_view(kReaderMagic, sizeof kReaderMagic) && in.get(major) &&
         in.get(minor);
}

// Reads until EOF rather than trusting the size seek reports: a directory
// or a pipe has none, and sizing a buffer by it threw.
Trace read_file(const std::string& path) {
  Trace t;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    t.error = "cannot open " + path + ": " + std::strerror(errno);
    return t;
  }
  std::string bytes;
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      t.error = "cannot read " + path + ": " + std::strerror(errno);
      ::close(fd);
      return t;
    }
    bytes.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return decode(bytes);
}

}  // namespace tornado::trace
