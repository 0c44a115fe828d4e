// Live traces: TORNADO_TRACE=unix:PATH / tcp:HOST:PORT, the reader's
// LiveListener, the late-attach snapshot, and readers that stall, vanish or
// misbehave. Every reader here is a real socket; the program is this process.
#include "tornado/trace_live.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support.h"
#include "tornado/errors.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/locks.h"
#include "tornado/queues.h"
#include "tornado/testing.h"
#include "tornado/trace.h"
#include "tornado/trace_file.h"

namespace tornado {
namespace {

using namespace std::chrono_literals;
using test_support::TempDir;
using trace::Event;
using trace::Kind;
using trace::LiveListener;

// Stops tracing however a test ends, so the next test starts untraced.
struct StopTracing {
  ~StopTracing() { trace::stop(); }
};

// Reads until `done(decoder)` or the deadline; the events read so far are
// appended to `events`.
template <class Pred>
bool read_until(LiveListener& reader, std::vector<Event>& events, Pred done,
                std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    bool alive = reader.read(20ms);
    for (const Event& e : reader.decoder().take_events()) events.push_back(e);
    if (done(events)) return true;
    if (!alive) return false;
  }
  return false;
}

bool has(const std::vector<Event>& events, Kind kind, std::uint16_t loop = 0) {
  for (const Event& e : events) {
    if (e.kind == kind && (loop == 0 || e.loop == loop)) return true;
  }
  return false;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Runs `n` callbacks on `loop`, one scheduling the next.
void run_chain(IOLoop& loop, int n) {
  int left = n;
  std::function<void()> step = [&] {
    if (--left > 0) {
      loop.add_callback(step);
    } else {
      loop.stop();
    }
  };
  loop.add_callback(step);
  loop.start();
}

// Points tracing at `reader` and waits until the program streams to it.
::testing::AssertionResult attached(LiveListener& reader) {
  if (!trace::start(reader.spec())) return ::testing::AssertionFailure() << "start() failed";
  if (!reader.accept(5s)) return ::testing::AssertionFailure() << reader.error();
  if (!eventually([] { return trace::enabled(); })) {
    return ::testing::AssertionFailure() << "tracing never turned on";
  }
  return ::testing::AssertionSuccess();
}

// ---- LiveListener and the handshake -------------------------------------------

TEST(LiveTrace, ProgramDialsAUnixListenerAndStreamsItsHeaderThenEvents) {
  TempDir dir;
  LiveListener reader("unix:" + dir.file("viz.sock"));
  StopTracing stop;
  ASSERT_TRUE(attached(reader));
  EXPECT_EQ(reader.decoder().trace().header.pid, static_cast<std::uint32_t>(::getpid()));

  testing::CurrentLoop loop;
  run_chain(loop, 10);
  trace::stop();

  std::vector<Event> events;
  EXPECT_FALSE(read_until(reader, events, [](const auto&) { return false; }))
      << "stop() ends the stream";
  EXPECT_TRUE(reader.decoder().trace().complete) << reader.error();
  int finished = 0;
  for (const Event& e : events)
    finished += e.kind == Kind::callback_finished && e.loop == loop.id();
  EXPECT_EQ(finished, 10);
}

TEST(LiveTrace, TcpLoopbackWorksTheSameWithAPortChosenByTheListener) {
  LiveListener reader("tcp:127.0.0.1:0");
  ASSERT_TRUE(reader.spec().starts_with("tcp:127.0.0.1:")) << reader.spec();
  EXPECT_NE(reader.spec(), "tcp:127.0.0.1:0");
  StopTracing stop;
  ASSERT_TRUE(trace::start(reader.spec()));
  ASSERT_TRUE(reader.accept(5s)) << reader.error();

  testing::CurrentLoop loop;
  ASSERT_TRUE(eventually([] { return trace::enabled(); }));
  run_chain(loop, 3);
  trace::stop();

  std::vector<Event> events;
  read_until(reader, events, [](const auto&) { return false; });
  EXPECT_TRUE(reader.decoder().trace().complete) << reader.error();
  EXPECT_TRUE(has(events, Kind::callback_finished, loop.id()));
}

TEST(LiveListener, RefusesToListenOnABadSpecSayingWhy) {
  for (std::string spec : {"file:/tmp/x", "bogus", "tcp:nowhere:1", "unix:"}) {
    SCOPED_TRACE(spec);
    try {
      LiveListener reader(spec);
      ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cannot listen on"), std::string::npos) << e.what();
    }
  }
}

// A raw client that connects to `reader` and sends `bytes` as its "header".
void send_as_program(const LiveListener& reader, const std::string& path,
                     const std::string& bytes) {
  (void)reader;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strncpy(un.sun_path, path.c_str(), sizeof un.sun_path - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
  ::shutdown(fd, SHUT_WR);
  std::this_thread::sleep_for(10ms);
  ::close(fd);
}

TEST(LiveListener, RefusesAProgramWritingANewerMajorVersionNamingBothVersions) {
  TempDir dir;
  std::string path = dir.file("viz.sock");
  LiveListener reader("unix:" + path);
  trace::FileHeader newer = trace::this_process_header();
  newer.major = trace::kFormatMajor + 1;
  std::thread program([&] { send_as_program(reader, path, trace::encode_header(newer)); });

  EXPECT_FALSE(reader.accept(5s));
  program.join();

  std::string theirs = std::to_string(trace::kFormatMajor + 1) + ".";
  std::string ours =
      std::to_string(trace::kFormatMajor) + "." + std::to_string(trace::kFormatMinor);
  EXPECT_NE(reader.error().find(theirs), std::string::npos) << reader.error();
  EXPECT_NE(reader.error().find(ours), std::string::npos) << reader.error();
  EXPECT_FALSE(reader.connected());
}

TEST(LiveListener, RefusesGarbageInsteadOfAHeader) {
  TempDir dir;
  std::string path = dir.file("viz.sock");
  LiveListener reader("unix:" + path);
  std::thread program([&] { send_as_program(reader, path, "GET / HTTP/1.1\r\n\r\n"); });

  EXPECT_FALSE(reader.accept(5s));
  program.join();
  EXPECT_NE(reader.error().find("bad magic"), std::string::npos) << reader.error();
}

// A reader written by hand: accepts, reads the header, answers with `hello`.
struct RawReader {
  explicit RawReader(const std::string& socket_path) : path(socket_path) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strncpy(un.sun_path, path.c_str(), sizeof un.sun_path - 1);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
    EXPECT_EQ(::listen(fd, 4), 0);
  }
  ~RawReader() {
    if (conn >= 0) ::close(conn);
    ::close(fd);
  }
  // Accepts, waits for the whole header, sends `hello`; returns the header.
  trace::FileHeader accept_and_answer(const std::string& hello) {
    conn = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    timeval tv{5, 0};
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    trace::StreamDecoder decoder;
    char buf[4096];
    while (!decoder.has_header() && !decoder.failed()) {
      ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) break;
      decoder.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    ::send(conn, hello.data(), hello.size(), MSG_NOSIGNAL);
    return decoder.trace().header;
  }
  // True once the program has closed the connection (within 5 s).
  bool closed_by_program() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return false;  // timed out
    }
  }
  std::string path;
  int fd = -1;
  int conn = -1;
};

TEST(LiveTrace, AReaderOfAnOlderMajorVersionIsRefusedWithBothVersionsLogged) {
  TempDir dir;
  RawReader reader(dir.file("old.sock"));
  testing::LogCapture log;
  StopTracing stop;
  ASSERT_TRUE(trace::start("unix:" + reader.path));

  trace::FileHeader header = reader.accept_and_answer(trace::encode_reader_hello(0, 7));

  EXPECT_EQ(header.major, trace::kFormatMajor);
  EXPECT_TRUE(reader.closed_by_program());
  EXPECT_FALSE(trace::enabled());
  ASSERT_TRUE(eventually([&] { return log.contains("reads trace format up to 0.7"); }))
      << log.text();
  std::string ours =
      std::to_string(trace::kFormatMajor) + "." + std::to_string(trace::kFormatMinor);
  EXPECT_TRUE(log.contains("this program writes " + ours)) << log.text();
}

TEST(LiveTrace, AReaderThatAnswersWithGarbageIsDropped) {
  TempDir dir;
  RawReader reader(dir.file("garbage.sock"));
  testing::LogCapture log;
  StopTracing stop;
  ASSERT_TRUE(trace::start("unix:" + reader.path));

  reader.accept_and_answer("HELLO THERE!");

  EXPECT_TRUE(reader.closed_by_program());
  EXPECT_FALSE(trace::enabled());
  EXPECT_TRUE(eventually([&] { return log.contains("garbage instead of a reader hello"); }))
      << log.text();
}

// ---- Dropping and re-attaching --------------------------------------------------

TEST(LiveTrace, AReaderThatSendsBytesMidStreamIsDroppedAndAnotherMayAttach) {
  TempDir dir;
  LiveListener reader("unix:" + dir.file("viz.sock"));
  testing::LogCapture log;
  StopTracing stop;
  ASSERT_TRUE(attached(reader));

  ASSERT_EQ(::send(reader.connection_fd(), "junk", 4, MSG_NOSIGNAL), 4);

  ASSERT_TRUE(eventually([] { return !trace::enabled(); })) << "the program stops tracing";
  EXPECT_TRUE(log.contains("sent unexpected bytes")) << log.text();
  testing::CurrentLoop loop;
  run_chain(loop, 100);  // the program carries on, untraced

  ASSERT_TRUE(reader.accept(5s)) << "the program dials again: " << reader.error();
  ASSERT_TRUE(eventually([] { return trace::enabled(); }));
  run_chain(loop, 5);
  std::vector<Event> events;
  EXPECT_TRUE(read_until(reader, events, [&](const auto& seen) {
    return has(seen, Kind::callback_finished, loop.id());
  }));
}

TEST(LiveTrace, AReaderThatHangsUpIsDroppedAndTheNextOneGetsAFreshHeaderAndSnapshot) {
  TempDir dir;
  LiveListener reader("unix:" + dir.file("viz.sock"));
  StopTracing stop;
  ASSERT_TRUE(attached(reader));

  reader.disconnect();
  ASSERT_TRUE(eventually([] { return !trace::enabled(); }));

  testing::CurrentLoop loop;
  loop.call_later(60s, [] {});
  ASSERT_TRUE(reader.accept(5s)) << reader.error();
  EXPECT_EQ(reader.decoder().trace().header.pid, static_cast<std::uint32_t>(::getpid()));
  ASSERT_TRUE(eventually([] { return trace::enabled(); }));
  run_chain(loop, 2);
  std::vector<Event> events;
  ASSERT_TRUE(read_until(
      reader, events, [&](const auto& seen) { return has(seen, Kind::snapshot_end, loop.id()); }));
  EXPECT_TRUE(has(events, Kind::snapshot_timer, loop.id()));
}

// ---- The late-attach snapshot -----------------------------------------------------

// A program with state worth seeing, all made while nobody was tracing: a
// lock held with two waiters, a queue with three items, an event with one
// waiter, a pending timer and a registered pipe.
struct BusyProgram {
  IOLoop* loop = nullptr;
  std::atomic<bool> ready{false};
  std::atomic<bool> may_exit{false};  // the loop outlives every add_callback to it
  int pipe_fds[2] = {-1, -1};
  std::thread thread;
  std::uint16_t loop_id = 0;

  BusyProgram() {
    EXPECT_EQ(::pipe(pipe_fds), 0);
    thread = std::thread([this] { run(); });
    EXPECT_TRUE(eventually([this] { return ready.load(); }));
  }
  ~BusyProgram() {
    loop->add_callback([l = loop] { l->stop(); });  // (it may have stopped already)
    may_exit = true;
    thread.join();
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
  }

  static Future<void> hold(Lock& lock, tornado::Event& release) {
    auto guard = co_await lock.acquire();
    co_await release.wait();
  }
  static Future<void> wait_for(Lock& lock) { auto guard = co_await lock.acquire(); }

  void run() {
    testing::CurrentLoop own;
    loop = &own;
    loop_id = own.id();
    Lock lock("db");
    tornado::Event release("release");
    Queue<int> jobs(0, "jobs");
    jobs.put_nowait(1);
    jobs.put_nowait(2);
    jobs.put_nowait(3);
    Future<void> holder = hold(lock, release);
    Future<void> first = wait_for(lock);
    Future<void> second = wait_for(lock);
    own.call_later(3600s, [] {});
    own.add_handler(
        pipe_fds[0], [](int, std::uint32_t) {}, IOLoop::READ);
    int stream_pipe[2];
    EXPECT_EQ(::pipe2(stream_pipe, O_NONBLOCK | O_CLOEXEC), 0);
    auto writer = std::make_shared<PipeIOStream>(stream_pipe[1]);
    auto reader = std::make_shared<PipeIOStream>(stream_pipe[0]);
    (void)writer->write(std::string(100, 'x'));  // sent inline: 100 bytes wait in the pipe
    own.add_callback([this] { ready = true; });
    own.start();
    release.set();  // let the coroutines finish before their objects go
    testing::run_one_iteration(own);
    testing::run_one_iteration(own);
    testing::run_one_iteration(own);
    own.remove_handler(pipe_fds[0]);
    writer->close();
    reader->close();
    while (!may_exit) std::this_thread::sleep_for(1ms);
  }
};

std::map<Kind, std::vector<Event>> snapshot_of(const std::vector<Event>& events,
                                               std::uint16_t loop) {
  std::map<Kind, std::vector<Event>> out;
  bool inside = false;
  for (const Event& e : events) {
    if (e.loop != loop) continue;
    if (e.kind == Kind::snapshot_begin) inside = true;
    if (inside) out[e.kind].push_back(e);
    if (e.kind == Kind::snapshot_end) break;
  }
  return out;
}

TEST(LiveTrace, AReaderThatAttachesLateFirstReceivesEveryLiveObjectTimerFdAndWaiter) {
  TempDir dir;
  std::string path = dir.file("late.sock");
  StopTracing stop;
  ASSERT_TRUE(trace::start("unix:" + path));  // nobody listens yet: the program runs untraced
  BusyProgram program;
  EXPECT_FALSE(trace::enabled());

  LiveListener reader("unix:" + path);
  ASSERT_TRUE(reader.accept(5s)) << reader.error();
  std::vector<Event> events;
  ASSERT_TRUE(read_until(reader, events, [&](const auto& seen) {
    return has(seen, Kind::snapshot_end, program.loop_id);
  })) << reader.error();

  auto snap = snapshot_of(events, program.loop_id);
  const trace::Trace& t = reader.decoder().trace();
  ASSERT_EQ(snap[Kind::snapshot_begin].size(), 1u);
  EXPECT_EQ(events.front().kind, Kind::snapshot_begin)
      << "the loop's earlier events are not sent: the snapshot stands for them; first: "
      << trace::kind_name(events.front().kind) << " of loop " << events.front().loop;

  ASSERT_EQ(snap[Kind::snapshot_timer].size(), 1u);
  EXPECT_GT(snap[Kind::snapshot_timer][0].a, trace::now_ns() + 3000'000'000'000ull)
      << "deadline about an hour from now";
  EXPECT_EQ(snap[Kind::snapshot_timer][0].b, 0u) << "not cancelled";

  ASSERT_EQ(snap[Kind::snapshot_handler].size(), 1u);
  EXPECT_EQ(snap[Kind::snapshot_handler][0].object,
            static_cast<std::uint64_t>(program.pipe_fds[0]));
  EXPECT_EQ(snap[Kind::snapshot_handler][0].a, IOLoop::READ | IOLoop::ERROR)
      << "as registered: the loop always listens for errors";

  std::map<std::string, Event> syncs;
  for (const Event& e : snap[Kind::snapshot_sync]) syncs[std::string(t.string(e.name))] = e;
  ASSERT_TRUE(syncs.contains("Lock 'db'"));
  ASSERT_TRUE(syncs.contains("Queue 'jobs'"));
  ASSERT_TRUE(syncs.contains("Event 'release'"));
  EXPECT_EQ(syncs["Lock 'db'"].a, static_cast<std::uint64_t>(trace::SyncKind::lock));
  EXPECT_EQ(syncs["Lock 'db'"].b, 0u) << "held";
  EXPECT_EQ(syncs["Queue 'jobs'"].b, 3u);
  EXPECT_EQ(syncs["Event 'release'"].b, 0u);

  ASSERT_EQ(snap[Kind::snapshot_stream].size(), 2u) << "the two pipe streams";
  EXPECT_NE(snap[Kind::snapshot_stream][0].object, 0u);
  EXPECT_NE(t.string(snap[Kind::snapshot_stream][0].name).find("Pipe"), std::string_view::npos)
      << t.string(snap[Kind::snapshot_stream][0].name);

  std::vector<Event> lock_waiters, event_waiters;
  for (const Event& e : snap[Kind::snapshot_waiter]) {
    if (e.object == syncs["Lock 'db'"].object) lock_waiters.push_back(e);
    if (e.object == syncs["Event 'release'"].object) event_waiters.push_back(e);
  }
  ASSERT_EQ(lock_waiters.size(), 2u);
  EXPECT_LT(lock_waiters[0].a, lock_waiters[1].a) << "oldest first";
  EXPECT_NE(t.string(lock_waiters[0].name).find("trace_live_test.cc"), std::string_view::npos)
      << t.string(lock_waiters[0].name);
  ASSERT_EQ(event_waiters.size(), 1u);
  EXPECT_EQ(event_waiters[0].b, static_cast<std::uint64_t>(trace::WaitKind::set));

  // What follows refers to the snapshot's ids: wake the lock's waiters and
  // the stream names the same waiter ids.
  program.loop->add_callback([&program] { program.loop->stop(); });
  std::vector<Event> after;
  ASSERT_TRUE(read_until(reader, after, [&](const auto& seen) {
    int woken = 0;
    for (const Event& e : seen) woken += e.kind == Kind::waiter_woken;
    return woken >= 3;
  })) << reader.error();
  std::vector<std::uint64_t> woken;
  for (const Event& e : after) {
    if (e.kind == Kind::waiter_woken && e.object == syncs["Lock 'db'"].object) woken.push_back(e.a);
  }
  ASSERT_EQ(woken.size(), 2u);
  EXPECT_EQ(woken[0], lock_waiters[0].a);
  EXPECT_EQ(woken[1], lock_waiters[1].a);
}

// Callbacks the trace shows finishing on `loop`, and events it reports lost
// (drops are counted in events, of any kind).
struct Accounted {
  std::uint64_t finished = 0, dropped = 0;
};
Accounted account(const std::vector<Event>& events, std::uint16_t loop) {
  Accounted seen;
  for (const Event& e : events) {
    if (e.kind == Kind::events_dropped) seen.dropped += e.a;
    if (e.kind == Kind::callback_finished && e.loop == loop) ++seen.finished;
  }
  return seen;
}

// ---- A stalled reader never blocks the loop ----------------------------------------

TEST(LiveTrace, AReaderThatStallsFiveSecondsNeverSlowsTheLoopAndTheTraceCountsTheDrops) {
  constexpr int kCallbacks = 1'000'000;
  TempDir dir;
  LiveListener reader("unix:" + dir.file("stall.sock"));
  std::atomic<std::size_t> received{0};
  reader.set_tap([&](std::string_view bytes) { received += bytes.size(); });
  StopTracing stop;
  ASSERT_TRUE(attached(reader));

  // The reader reads nothing for 5 s, and for as long after that as the loop
  // still runs: if the loop waited for it, neither would ever finish.
  std::atomic<bool> loop_done{false}, resumed{false}, caught_up{false};
  std::vector<Event> events;
  std::thread reader_thread([&] {
    auto stall_until = std::chrono::steady_clock::now() + 5s;
    auto give_up = std::chrono::steady_clock::now() + 45s;
    while ((std::chrono::steady_clock::now() < stall_until || !loop_done) &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(10ms);
    }
    resumed = true;
    // Counted in bytes, not events: a read can end inside a record of
    // several MiB and decode nothing yet while the backlog still flows.
    std::size_t before = received;
    while (reader.read(100ms)) {
      std::vector<Event> more = reader.decoder().take_events();
      if (received == before && received > 0) caught_up = true;  // a quiet 100 ms: all read
      before = received;
      events.insert(events.end(), more.begin(), more.end());
    }
    for (const Event& e : reader.decoder().take_events()) events.push_back(e);
  });

  testing::CurrentLoop loop;
  auto started = std::chrono::steady_clock::now();
  run_chain(loop, kCallbacks);
  auto took = std::chrono::steady_clock::now() - started;
  bool finished_while_reader_stalled = !resumed.load();
  loop_done = true;

  EXPECT_TRUE(finished_while_reader_stalled)
      << "the loop took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms, and the reader gave up stalling first";
  ASSERT_TRUE(eventually([&] { return caught_up.load(); }, 30s));
  trace::stop();  // ends the stream, with the loss report for the last drops
  reader_thread.join();

  EXPECT_TRUE(reader.decoder().trace().complete) << reader.error();
  Accounted seen = account(events, loop.id());
  EXPECT_GT(seen.dropped, 0u) << "a stalled reader costs events, and the trace says how many";
  EXPECT_GT(seen.finished, 0u);
  EXPECT_GE(seen.finished + seen.dropped, static_cast<std::uint64_t>(kCallbacks))
      << "every callback is either in the trace or among the events counted as lost";
}

// ---- The end of the trace at stop() ----------------------------------------------

// Runs enough callbacks to fill the live output's buffers behind a reader
// that reads nothing meanwhile; returns the loop's trace id.
std::uint16_t run_while_reader_stalls(int callbacks) {
  testing::CurrentLoop loop;
  run_chain(loop, callbacks);
  return loop.id();
}

TEST(LiveTrace, AReaderStillReadingAtStopGetsTheWholeEndOfTheTraceHoweverLongItTakes) {
  constexpr int kCallbacks = 200'000;  // several MiB: more than the output buffers
  TempDir dir;
  LiveListener reader("unix:" + dir.file("slow.sock"));
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> after_stop{0};
  // A slow reader: 50 ms per chunk of at most 64 KiB is under 1.4 MB/s, so a
  // backlog of 4 MiB or more takes it over 3 s, longer than the fixed 2 s
  // stop() used to allow for the whole end of the trace.
  reader.set_tap([&](std::string_view bytes) {
    if (stopping) after_stop += bytes.size();
    std::this_thread::sleep_for(50ms);
  });
  testing::LogCapture log;
  StopTracing stop_tracing;
  ASSERT_TRUE(attached(reader));

  std::uint16_t loop_id = run_while_reader_stalls(kCallbacks);
  stopping = true;
  std::thread reader_thread([&] {
    while (reader.read(100ms)) {
    }
  });
  trace::stop();
  reader_thread.join();

  EXPECT_GE(after_stop.load(), std::size_t{4} << 20) << "the reader was still reading a backlog";
  const trace::Trace& trace = reader.decoder().trace();
  EXPECT_TRUE(trace.complete) << reader.error() << log.text();
  EXPECT_FALSE(log.contains("of the end of the trace")) << log.text();
  Accounted seen = account(reader.decoder().take_events(), loop_id);
  EXPECT_GT(seen.finished, 0u);
  EXPECT_GE(seen.finished + seen.dropped, static_cast<std::uint64_t>(kCallbacks))
      << "every callback is either in the trace or among the events counted as lost";
}

TEST(LiveTrace, AReaderThatTakesNothingAtStopIsAbandonedAfterTwoSecondsSayingHowMuchWasLeft) {
  TempDir dir;
  LiveListener reader("unix:" + dir.file("gone.sock"));
  testing::LogCapture log;
  StopTracing stop_tracing;
  ASSERT_TRUE(attached(reader));
  run_while_reader_stalls(200'000);

  auto started = std::chrono::steady_clock::now();
  trace::stop();  // the reader never reads again
  auto took = std::chrono::steady_clock::now() - started;

  EXPECT_LT(took, 30s) << "stop() is bounded";
  EXPECT_TRUE(log.contains("took nothing for 2000 ms of the end of the trace")) << log.text();
  EXPECT_TRUE(log.contains("bytes left); closing")) << log.text();
  EXPECT_FALSE(trace::enabled());
}

}  // namespace
}  // namespace tornado
