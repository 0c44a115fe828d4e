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
  Trace t;
  Cursor in(bytes);
  if (!decode_header(in, t)) return t;
  while (!in.at_end()) {
    std::size_t start = in.pos();
    std::uint8_t type = 0;
    std::string_view pad, payload;
    std::uint32_t length = 0;
    if (!in.get(type) || !in.get_bytes(3, pad) || !in.get(length)) {
      fail(t, start, "truncated record header");
      return t;
    }
    if (!in.get_bytes(length, payload)) {
      fail(t, start, "truncated record (" + std::to_string(length) + " bytes announced)");
      return t;
    }
    std::size_t base = start + 8;
    bool ok = true;
    switch (static_cast<RecordType>(type)) {
      case RecordType::strings:
        ok = decode_strings(payload, base, t);
        break;
      case RecordType::events:
        ok = decode_events(payload, base, t);
        break;
      case RecordType::end:
        t.complete = true;
        return t;
      default:
        break;  // a newer minor version's record: skip it
    }
    if (!ok) return t;
  }
  return t;
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
