// tornado-trace: reads the binary trace files that trace::start("file:PATH")
// and TORNADO_TRACE=file:PATH write (docs/trace-format.md).
//
//   tornado-trace info FILE                                  what the file holds
//   tornado-trace dump FILE [--kind K[,K...]] [--object N]   one line per event
//   tornado-trace export --chrome FILE OUT.json              for Perfetto / chrome://tracing
//
// A file that was cut short or damaged is read up to the problem: the tool
// shows (or exports) what it could read, says where and why it stopped, and
// exits with status 1. Usage errors and files that cannot be opened exit 2.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chrome_export.h"
#include "tornado/errors.h"
#include "tornado/trace_file.h"
#include "tornado/trace_live.h"

namespace {

using tornado::trace::Event;
using tornado::trace::Kind;
using tornado::trace::Trace;

constexpr int kComplete = 0;  // read whole, end record present
constexpr int kPartial = 1;   // read up to a problem, or no end record
constexpr int kUsage = 2;     // bad arguments, unreadable or unwritable files

constexpr std::string_view kUsageText =
    "usage:\n"
    "  tornado-trace info FILE\n"
    "      the header, event counts by kind, drops, duration, completeness\n"
    "  tornado-trace dump FILE [--kind K[,K...]] [--object N]\n"
    "      one line per event, in file order: time since the first event (us),\n"
    "      kind, loop, object, name, a, b\n"
    "  tornado-trace record SPEC OUT [--wait SECONDS]\n"
    "      listens on SPEC (unix:PATH or tcp:HOST:PORT) for one program run\n"
    "      with TORNADO_TRACE=SPEC, saves its live trace to OUT until it exits\n"
    "      (waits 60 s for it unless told otherwise)\n"
    "  tornado-trace export --chrome FILE OUT.json\n"
    "      Chrome Trace Event JSON for ui.perfetto.dev or chrome://tracing\n"
    "      (OUT.json may be - for stdout)\n"
    "Exit status: 0 complete file; 1 file cut short or damaged (what could be\n"
    "read is still shown); 2 usage error or file not readable/writable.\n"
    "The format: docs/trace-format.md.\n";

int usage_error(const std::string& problem) {
  std::cerr << "tornado-trace: " << problem << " (see: tornado-trace help)\n";
  return kUsage;
}

// ---- Reading a file ----------------------------------------------------------

// The whole file (any kind that read(2) works on), or nullopt with `error` set.
std::optional<std::string> read_whole_file(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read " + path + ": " + std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

// A decoded file, and whether its header could be read (if not, there is
// nothing to show but the reason).
struct Loaded {
  std::uint64_t size = 0;
  Trace trace;
  bool header_ok = false;
};

// Decoding exactly the bytes the header claims is clean only if the header is.
bool header_readable(std::string_view bytes) {
  std::uint32_t size = 0;
  if (bytes.size() < 16) return false;
  std::memcpy(&size, bytes.data() + 12, sizeof size);
  return size <= bytes.size() && tornado::trace::decode(bytes.substr(0, size)).error.empty();
}

std::optional<Loaded> load(const std::string& path) {
  std::string error;
  std::optional<std::string> bytes = read_whole_file(path, error);
  if (!bytes) {
    std::cerr << "tornado-trace: " << error << "\n";
    return std::nullopt;
  }
  Loaded loaded;
  loaded.size = bytes->size();
  loaded.trace = tornado::trace::decode(*bytes);
  loaded.header_ok = header_readable(*bytes);
  return loaded;
}

// Why reading stopped short ("" for a complete file).
std::string stop_reason(const Loaded& f) {
  if (!f.trace.error.empty()) {
    return "stopped at byte " + std::to_string(f.trace.error_offset) + ": " + f.trace.error;
  }
  if (!f.trace.complete) {
    return "stopped at byte " + std::to_string(f.size) +
           ": no end record, so the trace was cut short (the program is still running, was "
           "killed, or never called trace::stop())";
  }
  return "";
}

// ---- Formatting ----------------------------------------------------------------

// Kind names as the file's own table gives them (a newer writer may know
// kinds this build does not), else as this build names them.
class KindNames {
 public:
  explicit KindNames(const Trace& trace) {
    for (const auto& [id, name] : trace.header.kinds) names_[id] = name;
  }
  std::string name(Kind kind) const {
    auto id = static_cast<std::uint16_t>(kind);
    if (auto it = names_.find(id); it != names_.end()) return it->second;
    std::string_view known = tornado::trace::kind_name(kind);
    return known != "unknown" ? std::string(known) : "kind#" + std::to_string(id);
  }
  std::optional<std::uint16_t> find(std::string_view name) const {
    for (const auto& [id, text] : names_) {
      if (text == name) return id;
    }
    for (std::uint16_t id = 1; id < 1024; ++id) {
      if (tornado::trace::kind_name(static_cast<Kind>(id)) == name) return id;
    }
    return std::nullopt;
  }
  std::string all() const {
    std::string list;
    for (const auto& [id, text] : names_) list += (list.empty() ? "" : ", ") + text;
    return list;
  }

 private:
  std::map<std::uint16_t, std::string> names_;
};

std::string format_duration(std::uint64_t ns) {
  char text[64];
  if (ns >= 1000000000) {
    std::snprintf(text, sizeof text, "%.3f s", static_cast<double>(ns) / 1e9);
  } else if (ns >= 1000000) {
    std::snprintf(text, sizeof text, "%.3f ms", static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.3f us", static_cast<double>(ns) / 1e3);
  }
  return text;
}

// "2024-05-01 12:00:00.123456 UTC" for nanoseconds since the Unix epoch.
std::string format_wall_clock(std::int64_t unix_ns) {
  std::time_t seconds = static_cast<std::time_t>(unix_ns / 1000000000);
  std::tm tm{};
  if (unix_ns < 0 || gmtime_r(&seconds, &tm) == nullptr) return "unknown";
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%s.%06lld UTC", date,
                static_cast<long long>(unix_ns % 1000000000 / 1000));
  return text;
}

// Control characters and quotes escaped, so one event stays one line.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::pair<std::uint64_t, std::uint64_t> time_range(const Trace& trace) {
  if (trace.events.empty()) return {0, 0};
  std::uint64_t first = UINT64_MAX, last = 0;
  for (const Event& e : trace.events) {
    first = std::min(first, e.ts_ns);
    last = std::max(last, e.ts_ns);
  }
  return {first, last};
}

bool parse_number(std::string_view text, std::uint64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

// ---- info ------------------------------------------------------------------------

void print_counts(const Trace& trace) {
  KindNames names(trace);
  std::map<std::uint16_t, std::uint64_t> counts;
  for (const Event& e : trace.events) ++counts[static_cast<std::uint16_t>(e.kind)];
  std::printf("events by kind:%s\n", counts.empty() ? " none" : "");
  for (const auto& [id, count] : counts) {
    std::printf("  %-26s %llu\n", names.name(static_cast<Kind>(id)).c_str(),
                static_cast<unsigned long long>(count));
  }
}

int cmd_info(const std::vector<std::string>& args) {
  if (args.size() != 1) return usage_error("info takes one FILE");
  std::optional<Loaded> f = load(args[0]);
  if (!f) return kUsage;
  const Trace& t = f->trace;
  std::printf("file:        %s (%llu bytes)\n", args[0].c_str(),
              static_cast<unsigned long long>(f->size));
  if (f->header_ok) {
    auto [first, last] = time_range(t);
    std::uint64_t dropped = 0, reports = 0;
    std::set<std::uint16_t> loops;
    for (const Event& e : t.events) {
      if (e.kind == Kind::events_dropped) {
        dropped += e.a;
        ++reports;
      }
      if (e.loop != 0) loops.insert(e.loop);
    }
    std::printf("format:      %u.%u\n", t.header.major, t.header.minor);
    std::printf("process:     %s (pid %u)\n", t.header.process.c_str(), t.header.pid);
    // Unsigned, so that a damaged offset wraps instead of overflowing.
    auto unix_ns =
        static_cast<std::int64_t>(first + static_cast<std::uint64_t>(t.header.wall_offset_ns));
    std::printf("started:     %s\n",
                t.events.empty() ? "no events" : format_wall_clock(unix_ns).c_str());
    std::printf("duration:    %s (first to last event)\n", format_duration(last - first).c_str());
    std::printf("events:      %zu on %zu loop(s), %zu strings\n", t.events.size(), loops.size(),
                t.strings.size());
    std::printf("dropped:     %llu events (%llu events_dropped reports)\n",
                static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(reports));
  }
  std::string reason = stop_reason(*f);
  std::printf("complete:    %s\n", reason.empty() ? "yes (end record present)" : "no");
  if (f->header_ok) print_counts(t);
  if (reason.empty()) return kComplete;
  std::printf("%s\n", reason.c_str());
  return kPartial;
}

// ---- dump ------------------------------------------------------------------------

struct DumpFilter {
  std::set<std::uint16_t> kinds;  // empty: all
  std::optional<std::uint64_t> object;
  bool keeps(const Event& e) const {
    if (!kinds.empty() && !kinds.contains(static_cast<std::uint16_t>(e.kind))) return false;
    return !object || e.object == *object;
  }
};

// Turns "--kind a,b" into kind ids; false (with a message) for unknown names.
bool parse_kinds(std::string_view list, const KindNames& names, DumpFilter& filter) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    std::optional<std::uint16_t> id = names.find(name);
    if (!id) {
      usage_error("unknown kind '" + std::string(name) + "'; kinds in this file: " + names.all());
      return false;
    }
    filter.kinds.insert(*id);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return true;
}

void print_event(const Event& e, std::uint64_t origin, const Trace& t, const KindNames& names) {
  double us = (static_cast<double>(e.ts_ns) - static_cast<double>(origin)) / 1e3;
  std::string name;
  if (e.name != 0) {
    std::string_view text = t.string(e.name);
    name = text.empty() && !t.strings.contains(e.name) ? " name=#" + std::to_string(e.name)
                                                       : " name=" + quoted(text);
  }
  std::printf("%14.3f  %-24s loop=%u object=%llu%s a=%llu b=%llu\n", us, names.name(e.kind).c_str(),
              e.loop, static_cast<unsigned long long>(e.object), name.c_str(),
              static_cast<unsigned long long>(e.a), static_cast<unsigned long long>(e.b));
}

int cmd_dump(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  std::string kinds;
  std::optional<std::uint64_t> object;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--kind" || args[i] == "--object") {
      if (i + 1 == args.size()) return usage_error(args[i] + " needs a value");
      const std::string& value = args[++i];
      if (args[i - 1] == "--kind") {
        kinds += (kinds.empty() ? "" : ",") + value;
      } else if (std::uint64_t n = 0; parse_number(value, n)) {
        object = n;
      } else {
        return usage_error("--object wants a number, not '" + value + "'");
      }
    } else if (args[i].starts_with("--")) {
      return usage_error("unknown option " + args[i]);
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.size() != 1) return usage_error("dump takes one FILE");
  std::optional<Loaded> f = load(files[0]);
  if (!f) return kUsage;
  KindNames names(f->trace);
  DumpFilter filter{{}, object};
  if (!parse_kinds(kinds, names, filter)) return kUsage;
  std::uint64_t origin = time_range(f->trace).first;
  for (const Event& e : f->trace.events) {
    if (filter.keeps(e)) print_event(e, origin, f->trace, names);
  }
  std::fflush(stdout);
  std::string reason = stop_reason(*f);
  if (reason.empty()) return kComplete;
  std::cerr << "tornado-trace: " << files[0] << ": " << reason << "\n";
  return kPartial;
}

// ---- export ----------------------------------------------------------------------

bool write_chrome_file(const Trace& trace, const std::string& out_path) {
  if (out_path == "-") {
    tornado::tools::write_chrome_json(trace, std::cout);
    std::cout.flush();
    return static_cast<bool>(std::cout);
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::cerr << "tornado-trace: cannot write " << out_path << ": " << std::strerror(errno) << "\n";
    return false;
  }
  tornado::tools::write_chrome_json(trace, out);
  out.close();
  if (!out) std::cerr << "tornado-trace: writing " << out_path << " failed\n";
  return static_cast<bool>(out);
}

int cmd_export(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  bool chrome = false;
  for (const std::string& arg : args) {
    if (arg == "--chrome") {
      chrome = true;
    } else if (arg.starts_with("--")) {
      return usage_error("unknown option " + arg + " (the one format is --chrome)");
    } else {
      paths.push_back(arg);
    }
  }
  if (!chrome) return usage_error("export needs a format: --chrome");
  if (paths.size() != 2) return usage_error("export --chrome takes FILE and OUT.json");
  std::optional<Loaded> f = load(paths[0]);
  if (!f) return kUsage;
  std::string reason = stop_reason(*f);
  if (!f->header_ok) {
    std::cerr << "tornado-trace: " << paths[0] << ": " << reason << "; nothing exported\n";
    return kPartial;
  }
  if (!write_chrome_file(f->trace, paths[1])) return kUsage;
  std::cerr << "tornado-trace: wrote " << f->trace.events.size() << " events to " << paths[1]
            << "\n";
  if (reason.empty()) return kComplete;
  std::cerr << "tornado-trace: " << paths[0] << ": " << reason << "\n";
  return kPartial;
}

// ---- record ------------------------------------------------------------------

int cmd_record(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  std::uint64_t wait_s = 60;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--wait") {
      if (i + 1 == args.size() || !parse_number(args[i + 1], wait_s)) {
        return usage_error("--wait wants a number of seconds");
      }
      ++i;
    } else {
      paths.push_back(args[i]);
    }
  }
  if (paths.size() != 2) return usage_error("record takes SPEC and OUT");
  std::ofstream out(paths[1], std::ios::binary | std::ios::trunc);
  if (!out) return usage_error("cannot write " + paths[1]);
  try {
    tornado::trace::LiveListener listener(paths[0]);
    listener.set_tap([&out](std::string_view bytes) {
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    });
    std::cerr << "tornado-trace: waiting for a program at " << listener.spec() << "\n";
    if (!listener.accept(std::chrono::seconds(wait_s))) {
      std::cerr << "tornado-trace: " << listener.error() << "\n";
      return kPartial;
    }
    std::uint64_t events = 0;
    while (listener.read(std::chrono::milliseconds(200))) {
      events += listener.decoder().take_events().size();
    }
    events += listener.decoder().take_events().size();
    const Trace& t = listener.decoder().trace();
    std::cerr << "tornado-trace: recorded " << events << " events from " << t.header.process
              << " (pid " << t.header.pid << ") into " << paths[1] << "\n";
    if (!t.complete) {
      std::cerr << "tornado-trace: the program's trace ended early"
                << (listener.error().empty() ? "" : ": " + listener.error()) << "\n";
      return kPartial;
    }
    return kComplete;
  } catch (const tornado::Error& e) {
    return usage_error(e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  if (args.empty()) {
    std::cerr << kUsageText;
    return kUsage;
  }
  std::string command = args.front();
  args.erase(args.begin());
  if (command == "info") return cmd_info(args);
  if (command == "dump") return cmd_dump(args);
  if (command == "export") return cmd_export(args);
  if (command == "record") return cmd_record(args);
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsageText;
    return kComplete;
  }
  return usage_error("unknown command '" + command + "'");
}
