// Specification of trace_file.h: the binary trace format (encoding, decoding,
// and what a reader does with a damaged, cut or newer file), and the file
// transport that writes it: trace::start("file:PATH") and TORNADO_TRACE.
#include "tornado/trace_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support.h"
#include "tornado/ioloop.h"
#include "tornado/log.h"
#include "tornado/trace.h"

extern char** environ;

namespace tornado {
namespace {

using namespace std::chrono_literals;
using trace::Event;
using trace::Kind;
using trace::Trace;

// ---- Helpers ----------------------------------------------------------------

// A fresh directory under /tmp, removed with everything in it.

// Stops tracing when the test ends, however it ends.
struct StopTracingAtExit {
  StopTracingAtExit() = default;
  ~StopTracingAtExit() { trace::stop(); }
  StopTracingAtExit(const StopTracingAtExit&) = delete;
  StopTracingAtExit& operator=(const StopTracingAtExit&) = delete;
};

// Collects log lines and restores the previous sink on exit.
class CapturedLog {
 public:
  CapturedLog() {
    previous_ = log::set_sink([this](log::Level level, std::string_view message) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(level, message);
    });
  }
  ~CapturedLog() { log::set_sink(std::move(previous_)); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::vector<std::pair<log::Level, std::string>> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  log::Sink previous_;
  std::mutex mutex_;
  std::vector<std::pair<log::Level, std::string>> lines_;
};

std::size_t open_fds() {
  return static_cast<std::size_t>(std::distance(
      std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

Event make_event(std::uint64_t ts, Kind kind, std::uint16_t loop, std::uint32_t name,
                 std::uint64_t object, std::uint64_t a, std::uint64_t b) {
  return Event{ts, kind, loop, name, object, a, b};
}

bool same_event(const Event& x, const Event& y) {
  return x.ts_ns == y.ts_ns && x.kind == y.kind && x.loop == y.loop && x.name == y.name &&
         x.object == y.object && x.a == y.a && x.b == y.b;
}

trace::FileHeader small_header() {
  trace::FileHeader h;
  h.wall_offset_ns = -1234567890123;
  h.pid = 4242;
  h.process = "small";
  h.kinds = {{1, "loop_started"}, {7, "callback_started"}, {10, "timer_fired"}};
  return h;
}

// A small valid file, and what a reader must have seen by the end of each
// record: the offsets where records end, with the events and strings before.
struct SmallFile {
  std::string bytes;
  std::size_t header_size = 0;
  struct Boundary {
    std::size_t offset;
    std::size_t events;
    std::size_t strings;
  };
  std::vector<Boundary> boundaries;  // after each record but the end record
  std::vector<Event> events;
};

SmallFile small_file() {
  SmallFile f;
  f.bytes = trace::encode_header(small_header());
  f.header_size = f.bytes.size();
  f.boundaries.push_back({f.bytes.size(), 0, 0});
  f.events = {make_event(100, Kind::loop_started, 1, 0, 0, 0, 0),
              make_event(150, Kind::callback_started, 1, 1, 9, 0, 0),
              make_event(175, Kind::timer_fired, 1, 2, 10, 3, 4),
              make_event(200, Kind::callback_started, 2, 3, 11, 5, 6),
              make_event(250, Kind::timer_fired, 2, 1, 12, 7, 8)};
  std::vector<std::pair<std::uint32_t, std::string>> first = {{1, "tick at main.cc:9"},
                                                              {2, "greeting"}};
  std::vector<std::pair<std::uint32_t, std::string>> second = {{3, "late at main.cc:20"}};
  auto events = std::span<const Event>(f.events);
  trace::append_strings(f.bytes, first);
  f.boundaries.push_back({f.bytes.size(), 0, 2});
  trace::append_events(f.bytes, events.subspan(0, 3));
  f.boundaries.push_back({f.bytes.size(), 3, 2});
  trace::append_strings(f.bytes, second);
  f.boundaries.push_back({f.bytes.size(), 3, 3});
  trace::append_events(f.bytes, events.subspan(3));
  f.boundaries.push_back({f.bytes.size(), 5, 3});
  trace::append_end(f.bytes);
  return f;
}

void put_u32(std::string& bytes, std::size_t offset, std::uint32_t value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// The string ids each strings record of a file carries, in file order: what
// the decoder folds into one map, counted record by record.
std::vector<std::uint32_t> string_ids_in_records(std::string_view bytes) {
  std::vector<std::uint32_t> ids;
  std::uint32_t header_size = 0;
  std::memcpy(&header_size, bytes.data() + 12, 4);
  std::size_t pos = header_size;
  while (pos + 8 <= bytes.size()) {
    char type = bytes[pos];
    std::uint32_t length = 0;
    std::memcpy(&length, bytes.data() + pos + 4, 4);
    std::string_view payload = bytes.substr(pos + 8, length);
    for (std::size_t at = 0; type == 'S' && at + 8 <= payload.size();) {
      std::uint32_t id = 0, len = 0;
      std::memcpy(&id, payload.data() + at, 4);
      std::memcpy(&len, payload.data() + at + 4, 4);
      ids.push_back(id);
      at += 8 + len;
    }
    pos += 8 + length;
  }
  return ids;
}

std::size_t count(const Trace& t, Kind kind) {
  return static_cast<std::size_t>(std::count_if(t.events.begin(), t.events.end(),
                                                [&](const Event& e) { return e.kind == kind; }));
}

// Every event's name is 0 or an id the file gave a string for.
void expect_names_resolve(const Trace& t) {
  for (const Event& e : t.events) {
    if (e.name != 0) {
      EXPECT_TRUE(t.strings.contains(e.name))
          << trace::kind_name(e.kind) << " names string " << e.name << ", which the file lacks";
    }
  }
}

// A loop that runs two callbacks and a timer, then stops; a watchdog timer
// stops it after 10 s so a bug fails the test instead of hanging it.
// Returns how many of the three ran.
int run_small_loop() {
  IOLoop loop;
  int ran = 0;
  loop.add_callback(named("first", [&] { ++ran; }));
  loop.add_callback(named("second", [&] { ++ran; }));
  loop.call_later(2ms, named("later", [&] {
                    ++ran;
                    loop.stop();
                  }));
  auto watchdog = loop.call_later(10s, named("watchdog", [&] { loop.stop(); }));
  loop.start();
  loop.remove_timeout(watchdog);
  return ran;
}

// The child of the TORNADO_TRACE tests: its exit status (-1 if it had to be
// killed) and what it wrote to stderr.
struct ChildResult {
  int status = -1;
  std::string err;
};

// This environment with TORNADO_TRACE set to `spec`.
std::vector<std::string> environment_with_trace(const std::string& spec) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("TORNADO_TRACE=")) env.emplace_back(*e);
  }
  env.push_back("TORNADO_TRACE=" + spec);
  return env;
}

// Waits for `pid`, killing it after 40 s so a hang fails the test.
int wait_bounded(pid_t pid) {
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + 40s;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "the child did not exit within 40 s";
      return -1;
    }
    std::this_thread::sleep_for(10ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs this test binary again with only `test` selected and TORNADO_TRACE set
// to `spec`; its stdout is discarded, its stderr kept.
ChildResult run_self(const std::string& test, const std::string& spec,
                     const test_support::TempDir& dir) {
  std::vector<std::string> env_strings = environment_with_trace(spec);
  std::vector<char*> env;
  for (std::string& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=" + test;
  std::vector<char*> argv = {exe.data(), filter.data(), nullptr};
  std::string err_path = dir.file("child.stderr");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    ADD_FAILURE() << "posix_spawn failed: " << std::strerror(spawned);
    return {};
  }
  ChildResult result;
  result.status = wait_bounded(pid);
  result.err = read_bytes(err_path);
  return result;
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// ---- Encoding and decoding ----------------------------------------------------

TEST(TraceFile, RoundTripKeepsHeaderStringsAndEvents) {
  SmallFile f = small_file();
  Trace t = trace::decode(f.bytes);

  EXPECT_EQ(t.error, "");
  EXPECT_TRUE(t.complete);
  trace::FileHeader want = small_header();
  EXPECT_EQ(t.header.major, trace::kFormatMajor);
  EXPECT_EQ(t.header.minor, trace::kFormatMinor);
  EXPECT_EQ(t.header.wall_offset_ns, want.wall_offset_ns);
  EXPECT_EQ(t.header.pid, want.pid);
  EXPECT_EQ(t.header.process, want.process);
  EXPECT_EQ(t.header.kinds, want.kinds);
  EXPECT_EQ(t.strings.size(), 3u);
  EXPECT_EQ(t.string(1), "tick at main.cc:9");
  EXPECT_EQ(t.string(2), "greeting");
  EXPECT_EQ(t.string(3), "late at main.cc:20");
  EXPECT_EQ(t.string(0), "");
  EXPECT_EQ(t.string(99), "");
  ASSERT_EQ(t.events.size(), f.events.size());
  for (std::size_t i = 0; i < f.events.size(); ++i) {
    EXPECT_TRUE(same_event(t.events[i], f.events[i])) << "event #" << i;
  }
}

TEST(TraceFile, HeaderLaysOutMagicVersionSizeThenFields) {
  std::string bytes = trace::encode_header(small_header());
  std::uint16_t major = 0, minor = 0;
  std::uint32_t size = 0, pid = 0, name_len = 0;
  std::int64_t wall = 0;
  std::memcpy(&major, bytes.data() + 8, 2);
  std::memcpy(&minor, bytes.data() + 10, 2);
  std::memcpy(&size, bytes.data() + 12, 4);
  std::memcpy(&wall, bytes.data() + 16, 8);
  std::memcpy(&pid, bytes.data() + 24, 4);
  std::memcpy(&name_len, bytes.data() + 28, 4);

  EXPECT_EQ(bytes.substr(0, 8), std::string("TORNTRC\n"));
  EXPECT_EQ(major, trace::kFormatMajor);
  EXPECT_EQ(minor, trace::kFormatMinor);
  EXPECT_EQ(size, bytes.size());
  EXPECT_EQ(wall, -1234567890123);
  EXPECT_EQ(pid, 4242u);
  EXPECT_EQ(bytes.substr(32, name_len), "small");
}

TEST(TraceFile, ThisProcessHeaderNamesEveryKindAndThisProcess) {
  trace::FileHeader h = trace::this_process_header();

  EXPECT_EQ(h.pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_FALSE(h.process.empty());
  ASSERT_GE(h.kinds.size(), static_cast<std::size_t>(Kind::events_dropped));
  std::uint16_t expected_id = 1;
  for (const auto& [id, name] : h.kinds) {
    EXPECT_EQ(id, expected_id++) << "every kind, in order, from 1";
    EXPECT_EQ(name, trace::kind_name(static_cast<Kind>(id)));
  }
}

TEST(TraceFile, EveryTruncationKeepsTheCompleteRecordsBeforeTheCut) {
  SmallFile f = small_file();

  for (std::size_t cut = 0; cut < f.bytes.size(); ++cut) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut) + " of " + std::to_string(f.bytes.size()));
    Trace t = trace::decode(std::string_view(f.bytes).substr(0, cut));
    EXPECT_FALSE(t.complete);
    if (cut < f.header_size) {
      EXPECT_NE(t.error, "");
      EXPECT_LE(t.error_offset, cut);
      EXPECT_TRUE(t.events.empty());
      continue;
    }
    // The last record boundary at or before the cut.
    SmallFile::Boundary kept = f.boundaries.front();
    for (const SmallFile::Boundary& b : f.boundaries) {
      if (b.offset <= cut) kept = b;
    }
    if (kept.offset == cut) {
      EXPECT_EQ(t.error, "") << "a cut between records is well formed, only incomplete";
    } else {
      EXPECT_NE(t.error, "");
      EXPECT_EQ(t.error_offset, kept.offset) << "reported at the start of the cut record";
    }
    EXPECT_LE(t.error_offset, cut);
    ASSERT_EQ(t.events.size(), kept.events);
    for (std::size_t i = 0; i < kept.events; ++i) {
      EXPECT_TRUE(same_event(t.events[i], f.events[i])) << "event #" << i;
    }
    EXPECT_EQ(t.strings.size(), kept.strings);
  }
}

TEST(TraceFile, CorruptRecordLengthStopsThereKeepingWhatCameBefore) {
  SmallFile f = small_file();
  std::size_t second_events_record = f.boundaries[3].offset;  // after the second strings record
  put_u32(f.bytes, second_events_record + 4, 0x7fffffff);

  Trace t = trace::decode(f.bytes);

  EXPECT_FALSE(t.complete);
  // No writer sends a 2 GiB record: refused at once, not awaited as truncated.
  EXPECT_NE(t.error.find("larger than any writer sends"), std::string::npos) << t.error;
  EXPECT_EQ(t.error_offset, second_events_record);
  EXPECT_EQ(t.events.size(), 3u);
  EXPECT_EQ(t.strings.size(), 3u);
}

TEST(TraceFile, EventsRecordNotAMultipleOf40BytesIsCorrupt) {
  std::string bytes = trace::encode_header(small_header());
  std::size_t record = bytes.size();
  Event e = make_event(1, Kind::loop_started, 1, 0, 0, 0, 0);
  trace::append_events(bytes, std::span<const Event>(&e, 1));
  put_u32(bytes, record + 4, 39);
  bytes.resize(record + 8 + 39);
  trace::append_end(bytes);

  Trace t = trace::decode(bytes);

  EXPECT_FALSE(t.complete);
  EXPECT_NE(t.error.find("multiple of 40"), std::string::npos) << t.error;
  EXPECT_EQ(t.error_offset, record + 8);
  EXPECT_TRUE(t.events.empty());
}

TEST(TraceFile, EmptyEventsRecordIsWellFormed) {
  std::string bytes = trace::encode_header(small_header());
  trace::append_events(bytes, std::span<const Event>());
  trace::append_end(bytes);

  Trace t = trace::decode(bytes);

  EXPECT_EQ(t.error, "");
  EXPECT_TRUE(t.complete);
  EXPECT_TRUE(t.events.empty());
}

TEST(TraceFile, BadMagicIsNotATrace) {
  SmallFile f = small_file();
  f.bytes[0] = 'X';

  Trace t = trace::decode(f.bytes);

  EXPECT_NE(t.error.find("bad magic"), std::string::npos) << t.error;
  EXPECT_EQ(t.error_offset, 0u);
  EXPECT_TRUE(t.events.empty());
}

TEST(TraceFile, NewerMajorVersionIsRefusedNamingBothVersions) {
  trace::FileHeader h = small_header();
  h.major = static_cast<std::uint16_t>(trace::kFormatMajor + 1);
  h.minor = 3;
  std::string bytes = trace::encode_header(h);
  Event e = make_event(1, Kind::loop_started, 1, 0, 0, 0, 0);
  trace::append_events(bytes, std::span<const Event>(&e, 1));
  trace::append_end(bytes);

  Trace t = trace::decode(bytes);

  std::string theirs = std::to_string(trace::kFormatMajor + 1) + ".3";
  std::string ours =
      std::to_string(trace::kFormatMajor) + "." + std::to_string(trace::kFormatMinor);
  EXPECT_NE(t.error.find(theirs), std::string::npos) << t.error;
  EXPECT_NE(t.error.find(ours), std::string::npos) << t.error;
  EXPECT_NE(t.error.find("newer"), std::string::npos) << t.error;
  EXPECT_FALSE(t.complete);
  EXPECT_TRUE(t.events.empty());
}

TEST(TraceFile, NewerMinorVersionsUnknownRecordTypeIsSkipped) {
  trace::FileHeader h = small_header();
  h.minor = static_cast<std::uint16_t>(trace::kFormatMinor + 1);
  std::string bytes = trace::encode_header(h);
  Event first = make_event(1, Kind::loop_started, 1, 0, 0, 0, 0);
  Event second = make_event(2, Kind::timer_fired, 1, 0, 5, 0, 0);
  trace::append_events(bytes, std::span<const Event>(&first, 1));
  std::string payload = "eleven byte";
  std::string future_record(8, '\0');  // type 'Q', 3 pad bytes, u32 length
  future_record[0] = 'Q';
  put_u32(future_record, 4, static_cast<std::uint32_t>(payload.size()));
  bytes += future_record + payload;
  trace::append_events(bytes, std::span<const Event>(&second, 1));
  trace::append_end(bytes);

  Trace t = trace::decode(bytes);

  EXPECT_EQ(t.error, "");
  EXPECT_TRUE(t.complete);
  EXPECT_EQ(t.header.minor, trace::kFormatMinor + 1);
  ASSERT_EQ(t.events.size(), 2u);
  EXPECT_TRUE(same_event(t.events[0], first));
  EXPECT_TRUE(same_event(t.events[1], second));
}

TEST(TraceFile, ReadFileOfAMissingFileOrADirectoryReportsWhy) {
  test_support::TempDir dir;

  Trace missing = trace::read_file(dir.file("nothing-here.trace"));
  Trace directory = trace::read_file(dir.file(""));

  EXPECT_NE(missing.error.find("cannot open"), std::string::npos) << missing.error;
  EXPECT_NE(missing.error.find("No such file"), std::string::npos) << missing.error;
  EXPECT_NE(directory.error.find("cannot read"), std::string::npos) << directory.error;
  EXPECT_TRUE(missing.events.empty());
  EXPECT_TRUE(directory.events.empty());
}

// ---- StreamDecoder: a trace that arrives in pieces ---------------------------------

TEST(StreamDecoder, ByteAtATimeDecodesExactlyWhatDecodeDoes) {
  SmallFile f = small_file();
  trace::StreamDecoder decoder;
  std::vector<Event> events;
  for (char c : f.bytes) {
    ASSERT_TRUE(decoder.feed(std::string_view(&c, 1))) << decoder.trace().error;
    for (const Event& e : decoder.take_events()) events.push_back(e);
  }
  decoder.finish();

  Trace whole = trace::decode(f.bytes);
  EXPECT_EQ(decoder.trace().error, "");
  EXPECT_TRUE(decoder.trace().complete);
  EXPECT_EQ(decoder.trace().strings, whole.strings);
  ASSERT_EQ(events.size(), whole.events.size());
  EXPECT_EQ(std::memcmp(events.data(), whole.events.data(), events.size() * sizeof(Event)), 0);
}

TEST(StreamDecoder, ARecordCutInTwoWaitsForItsSecondHalf) {
  SmallFile f = small_file();
  std::size_t middle = f.boundaries[2].offset - 20;  // inside the first events record
  trace::StreamDecoder decoder;

  ASSERT_TRUE(decoder.feed(std::string_view(f.bytes).substr(0, middle)));
  EXPECT_TRUE(decoder.has_header());
  EXPECT_EQ(decoder.take_events().size(), 0u) << "nothing of a record until it is whole";
  EXPECT_EQ(decoder.trace().strings.size(), 2u);

  ASSERT_TRUE(decoder.feed(std::string_view(f.bytes).substr(middle)));
  EXPECT_EQ(decoder.take_events().size(), 5u);
  EXPECT_TRUE(decoder.trace().complete);
}

TEST(StreamDecoder, GarbageFailsOnItsFirstBytesWithoutWaitingForMore) {
  trace::StreamDecoder decoder;
  EXPECT_FALSE(decoder.feed("GET / HTTP/1.1\r\n"));
  EXPECT_NE(decoder.trace().error.find("bad magic"), std::string::npos) << decoder.trace().error;
  EXPECT_FALSE(decoder.feed(trace::encode_header(small_header()))) << "a failure is final";
}

TEST(StreamDecoder, ARecordLongerThanAnyWriterSendsIsGarbage) {
  std::string bytes = trace::encode_header(small_header());
  std::size_t record = bytes.size();
  bytes += std::string("E\0\0\0", 4);
  bytes.append(4, '\0');
  put_u32(bytes, record + 4, trace::StreamDecoder::kMaxRecord + 1);
  trace::StreamDecoder decoder;

  EXPECT_FALSE(decoder.feed(bytes));
  EXPECT_EQ(decoder.trace().error_offset, record);
}

TEST(StreamDecoder, EndingMidRecordReportsWhereTheCutRecordBegan) {
  SmallFile f = small_file();
  std::size_t cut = f.boundaries[3].offset + 12;
  trace::StreamDecoder decoder;
  decoder.feed(std::string_view(f.bytes).substr(0, cut));
  decoder.finish();
  EXPECT_NE(decoder.trace().error.find("truncated record"), std::string::npos)
      << decoder.trace().error;
  EXPECT_EQ(decoder.trace().error_offset, f.boundaries[3].offset);
  EXPECT_EQ(decoder.trace().events.size(), 3u);
}

TEST(ReaderHello, RoundTripsAndRejectsAnythingElse) {
  std::uint16_t major = 0, minor = 0;
  EXPECT_TRUE(trace::decode_reader_hello(trace::encode_reader_hello(3, 4), major, minor));
  EXPECT_EQ(major, 3);
  EXPECT_EQ(minor, 4);
  EXPECT_FALSE(trace::decode_reader_hello("TORNRDR\n", major, minor)) << "too short";
  EXPECT_FALSE(trace::decode_reader_hello("HELLO THERE!", major, minor));
}

// ---- trace::start("file:PATH") ---------------------------------------------------

TEST(TraceStart, RecordsALoopIntoACompleteFileWithNamesResolvable) {
  test_support::TempDir dir;
  std::string path = dir.file("loop.trace");
  std::size_t fds_before = open_fds();
  StopTracingAtExit stop_tracing;

  ASSERT_TRUE(trace::start("file:" + path));
  EXPECT_TRUE(trace::enabled());
  int ran = run_small_loop();
  trace::stop();

  EXPECT_FALSE(trace::enabled());
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(open_fds(), fds_before) << "stop() closes the file";
  Trace t = trace::read_file(path);
  EXPECT_EQ(t.error, "");
  EXPECT_TRUE(t.complete);
  EXPECT_EQ(t.header.pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(t.header.kinds, trace::this_process_header().kinds);
  EXPECT_EQ(count(t, Kind::loop_started), 1u);
  EXPECT_EQ(count(t, Kind::loop_stopped), 1u);
  EXPECT_EQ(count(t, Kind::timer_fired), 1u);
  EXPECT_EQ(count(t, Kind::timer_cancelled), 1u);
  EXPECT_EQ(count(t, Kind::callback_started), count(t, Kind::callback_finished));
  std::map<std::string, int> started;
  for (const Event& e : t.events) {
    if (e.kind == Kind::callback_started) ++started[std::string(t.string(e.name))];
  }
  int ours = 0;
  for (const auto& [name, n] : started) {
    if (name.starts_with("first at trace_file_test.cc:") ||
        name.starts_with("second at trace_file_test.cc:") ||
        name.starts_with("later at trace_file_test.cc:")) {
      ours += n;
    }
  }
  EXPECT_EQ(ours, 3);
  expect_names_resolve(t);
}

TEST(TraceStart, SendsEachStringOnce) {
  test_support::TempDir dir;
  std::string path = dir.file("strings.trace");
  StopTracingAtExit stop_tracing;
  trace::intern("interned before start");

  ASSERT_TRUE(trace::start("file:" + path));
  {
    // Names that first appear over ~30 ms, so they reach the file in several
    // of the sink thread's passes.
    IOLoop loop;
    int step = 0;
    std::function<void()> next = [&] {
      if (++step == 6) return loop.stop();
      loop.call_later(5ms, named("step " + std::to_string(step), next));
    };
    loop.add_callback(next);
    auto watchdog = loop.call_later(10s, [&] { loop.stop(); });
    loop.start();
    loop.remove_timeout(watchdog);
    EXPECT_EQ(step, 6);
  }
  trace::stop();

  std::string bytes = read_bytes(path);
  Trace t = trace::decode(bytes);
  ASSERT_EQ(t.error, "");
  EXPECT_TRUE(t.complete);
  std::vector<std::uint32_t> ids = string_ids_in_records(bytes);
  std::map<std::uint32_t, int> times;
  for (std::uint32_t id : ids) ++times[id];
  for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << "string " << id << " sent " << n << " times";
  EXPECT_EQ(times.size(), t.strings.size());
  for (int step = 1; step <= 5; ++step) {
    std::string label = "step " + std::to_string(step) + " at trace_file_test.cc:";
    bool found = std::any_of(t.strings.begin(), t.strings.end(),
                             [&](const auto& s) { return s.second.starts_with(label); });
    EXPECT_TRUE(found) << label;
  }
  bool early = std::any_of(t.strings.begin(), t.strings.end(),
                           [](const auto& s) { return s.second == "interned before start"; });
  EXPECT_TRUE(early) << "strings interned before start() are in the file too";
  expect_names_resolve(t);
}

TEST(TraceStart, BadSpecReturnsFalseLogsOneErrorAndLeavesTracingOff) {
  test_support::TempDir dir;
  for (std::string spec : {std::string("bogus"), std::string("file:"), std::string("unix:"),
                           std::string("tcp:127.0.0.1"), std::string("tcp:example.com:80"),
                           std::string("tcp:127.0.0.1:99999"), "unix:" + std::string(200, 'x'),
                           "file:" + dir.file("no-such-dir/x.trace")}) {
    SCOPED_TRACE(spec);
    CapturedLog log;

    EXPECT_FALSE(trace::start(spec));

    EXPECT_FALSE(trace::enabled());
    auto lines = log.lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].first, log::Level::error);
    EXPECT_NE(lines[0].second.find("trace:"), std::string::npos) << lines[0].second;
    EXPECT_NE(lines[0].second.find("untraced"), std::string::npos) << lines[0].second;
  }
}

TEST(TraceStart, StartingAgainCompletesTheFirstFile) {
  test_support::TempDir dir;
  StopTracingAtExit stop_tracing;

  ASSERT_TRUE(trace::start("file:" + dir.file("one.trace")));
  EXPECT_EQ(run_small_loop(), 3);
  ASSERT_TRUE(trace::start("file:" + dir.file("two.trace")));
  EXPECT_EQ(run_small_loop(), 3);
  trace::stop();

  Trace one = trace::read_file(dir.file("one.trace"));
  Trace two = trace::read_file(dir.file("two.trace"));
  EXPECT_TRUE(one.complete) << one.error;
  EXPECT_TRUE(two.complete) << two.error;
  EXPECT_EQ(count(one, Kind::loop_started), 1u);
  EXPECT_EQ(count(two, Kind::loop_started), 1u);
}

// One thread emits as fast as it can while the sink thread drains every 5 ms,
// so its ring overflows: every event is either in the file or counted by an
// events_dropped report, in order.
TEST(TraceStart, EveryEmittedEventIsWrittenOrCountedAsDropped) {
  constexpr std::uint64_t kEmitted = 2'000'000;
  constexpr std::uint16_t kLoop = 4321;  // marks this test's events
  test_support::TempDir dir;
  std::string path = dir.file("drops.trace");
  StopTracingAtExit stop_tracing;

  ASSERT_TRUE(trace::start("file:" + path));
  std::thread emitter([] {
    for (std::uint64_t i = 1; i <= kEmitted; ++i) {
      trace::emit(Kind::future_created, kLoop, i);
    }
  });
  emitter.join();
  trace::stop();

  Trace t = trace::read_file(path);
  ASSERT_EQ(t.error, "");
  ASSERT_TRUE(t.complete);
  std::uint64_t written = 0, dropped = 0, reports = 0;
  std::uint64_t next = 1;  // the object the next written event must carry
  for (const Event& e : t.events) {
    if (e.loop != kLoop) continue;
    if (e.kind == Kind::events_dropped) {
      ++reports;
      EXPECT_GT(e.a, 0u);
      EXPECT_LE(e.ts_ns, e.b) << "first lost at or before last lost";
      dropped += e.a;
      next += e.a;
    } else {
      ASSERT_EQ(e.object, next) << "events are written in order; gaps are reported";
      ++written;
      ++next;
    }
  }
  EXPECT_EQ(written + dropped, kEmitted)
      << written << " written, " << dropped << " dropped in " << reports << " reports";
}

// ---- TORNADO_TRACE --------------------------------------------------------------------

// The program the TORNADO_TRACE tests run in a child process: this test
// binary again, filtered to this test, with the variable set. It knows
// nothing of tracing; run with the rest of the suite it is a plain loop test.
TEST(TraceEnvironmentChild, RunsASmallLoop) { EXPECT_EQ(run_small_loop(), 3); }

// Re-running this binary (rather than building a helper program) keeps the
// child's code beside the test that reads its trace, and the child is the
// same sanitized build.
TEST(TraceEnvironment, TracesAChildProcessWithNoCodeChange) {
  test_support::TempDir dir;
  std::string path = dir.file("child.trace");

  ChildResult child = run_self("TraceEnvironmentChild.RunsASmallLoop", "file:" + path, dir);

  EXPECT_EQ(child.status, 0) << child.err;
  EXPECT_EQ(child.err, "");
  Trace t = trace::read_file(path);
  EXPECT_EQ(t.error, "");
  EXPECT_TRUE(t.complete) << "the file is completed at exit";
  EXPECT_NE(t.header.pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(count(t, Kind::loop_started), 1u);
  int ours = 0;
  for (const Event& e : t.events) {
    if (e.kind == Kind::callback_started &&
        t.string(e.name).starts_with("later at trace_file_test.cc:")) {
      ++ours;
    }
  }
  EXPECT_EQ(ours, 1);
  expect_names_resolve(t);
}

TEST(TraceEnvironment, BogusSpecPrintsOneErrorLineAndTheChildStillRuns) {
  test_support::TempDir dir;

  ChildResult child = run_self("TraceEnvironmentChild.RunsASmallLoop", "bogus", dir);

  EXPECT_EQ(child.status, 0) << child.err;
  EXPECT_EQ(count_lines(child.err), 1u) << child.err;
  EXPECT_NE(child.err.find("\"bogus\""), std::string::npos) << child.err;
  EXPECT_NE(child.err.find("untraced"), std::string::npos) << child.err;
}

}  // namespace
}  // namespace tornado
