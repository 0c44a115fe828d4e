// Specification of trace.h: what the loop, its timers, handlers, futures and
// executors report, in which order, and with which fields; the sink plumbing
// (attach, detach, string interning) and the text dump.
#include "tornado/trace.h"
#include "tornado/testing.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tornado/concurrent.h"
#include "tornado/ioloop.h"
#include "tornado/log.h"
#include "tornado/trace_file.h"

namespace tornado {
namespace {

using namespace std::chrono_literals;
using trace::Event;
using trace::Kind;
using trace::MemorySink;
using trace::Via;

// ---- Helpers ----------------------------------------------------------------

using ScopedAttach = tornado::testing::ScopedTrace;

#if defined(TORNADO_TRACE_DISABLED) && TORNADO_TRACE_DISABLED

// Configured with -DTORNADO_TRACE=OFF every emission point is compiled out.
TEST(Trace, CompiledOutRecordsNothingEvenWithASinkAttached) {
  MemorySink sink;
  ScopedAttach attached(sink);
  EXPECT_FALSE(trace::enabled());
  EXPECT_EQ(trace::new_object_id(), 0u);
  trace::emit(Kind::loop_started, 1, 0);
  IOLoop loop;
  loop.add_callback([&] { loop.stop(); });
  loop.start();
  EXPECT_TRUE(sink.events().empty());
}

#else

// Collects log lines (the watchdog writes from its own thread) and restores
// the previous log sink on exit.
class CapturedLog {
 public:
  CapturedLog() {
    previous_ = log::set_sink([this](log::Level, std::string_view message) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(message);
      changed_.notify_all();
    });
  }
  ~CapturedLog() { log::set_sink(std::move(previous_)); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  // Waits until a line contains `text`; false after `timeout`.
  bool wait_for(std::string_view text, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return contains_locked(text); });
  }
  bool contains(std::string_view text) {
    std::lock_guard lock(mutex_);
    return contains_locked(text);
  }

 private:
  bool contains_locked(std::string_view text) const {
    return std::any_of(lines_.begin(), lines_.end(),
                       [&](const std::string& line) { return line.find(text) != line.npos; });
  }

  log::Sink previous_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_.data()) != 0) throw std::runtime_error("pipe failed");
  }
  ~Pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }

 private:
  std::array<int, 2> fds_{};
};

// What Site::describe() gives a named callback scheduled on `line` of this file.
std::string at(std::string_view label, int line) {
  return std::string(label) + " at trace_test.cc:" + std::to_string(line);
}

std::uint64_t as_int(Via via) { return static_cast<std::uint64_t>(via); }

std::size_t open_fds() {
  return static_cast<std::size_t>(std::distance(
      std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator()));
}

std::string dump(const MemorySink& sink) {
  std::ostringstream out;
  sink.write_text(out);
  return out.str();
}

// ---- Matching a trace against an expected sequence --------------------------

// One compared field of an event: anything, an exact number, or a symbolic id
// ("A") that binds to the first value it meets and must match it afterwards.
struct Field {
  enum class How { any, exactly, id };
  How how = How::any;
  std::uint64_t value = 0;
  std::string id;
};
Field any() { return {}; }
Field is(std::uint64_t value) { return {Field::How::exactly, value, {}}; }
Field id(std::string symbol) { return {Field::How::id, 0, std::move(symbol)}; }

// The resolved name of an event: exactly `text`, or starting with it.
struct NameIs {
  std::string text;
  bool prefix = false;
};
NameIs none() { return {}; }
NameIs name(std::string text) { return {std::move(text), false}; }
NameIs name_starting(std::string text) { return {std::move(text), true}; }

struct Expected {
  Kind kind;
  Field object;
  NameIs name;
  Field a;
  Field b;
};

class Matcher {
 public:
  explicit Matcher(const MemorySink& sink) : sink_(sink) {}

  // Compares kinds first (the clearest message), then each field.
  void expect_sequence(const std::vector<Event>& events, const std::vector<Expected>& expected) {
    std::vector<std::string> got_kinds, want_kinds;
    for (const Event& e : events) got_kinds.emplace_back(trace::kind_name(e.kind));
    for (const Expected& x : expected) want_kinds.emplace_back(trace::kind_name(x.kind));
    ASSERT_EQ(got_kinds, want_kinds) << "trace:\n" << dump(sink_);
    for (std::size_t i = 0; i < events.size(); ++i) {
      SCOPED_TRACE("event #" + std::to_string(i) + " " + got_kinds[i]);
      check(events[i].object, expected[i].object, "object");
      check(events[i].a, expected[i].a, "a");
      check(events[i].b, expected[i].b, "b");
      std::string text = sink_.string(events[i].name);
      if (expected[i].name.prefix) {
        EXPECT_EQ(text.rfind(expected[i].name.text, 0), 0u)
            << "name \"" << text << "\" should start with \"" << expected[i].name.text << '"';
      } else {
        EXPECT_EQ(text, expected[i].name.text) << "name";
      }
    }
  }

  std::uint64_t operator[](const std::string& symbol) const { return ids_.at(symbol); }

 private:
  void check(std::uint64_t got, const Field& want, const char* what) {
    if (want.how == Field::How::exactly) {
      EXPECT_EQ(got, want.value) << what;
    } else if (want.how == Field::How::id) {
      auto [it, fresh] = ids_.emplace(want.id, got);
      EXPECT_EQ(got, it->second) << what << " should be the id of " << want.id;
      if (fresh) {
        for (const auto& [other, value] : ids_) {
          if (other != want.id) {
            EXPECT_NE(value, got) << want.id << " and " << other << " share an id";
          }
        }
      }
    }
  }

  const MemorySink& sink_;
  std::map<std::string, std::uint64_t> ids_;
};

// The first event of `kind` about `object`; fails the test if there is none.
const Event& find(const std::vector<Event>& events, Kind kind, std::uint64_t object) {
  auto it = std::find_if(events.begin(), events.end(),
                         [&](const Event& e) { return e.kind == kind && e.object == object; });
  if (it == events.end()) throw std::runtime_error("no such event");
  return *it;
}

// ---- The loop's events, in order --------------------------------------------

// A small program touching every event family the loop emits, traced from
// the first add_callback to close():
//   A (add_callback, before start)  schedules B, adds timer T (due at once),
//                                   creates and resolves future f
//   B                               watches the pipe for WRITE, corrects it to
//                                   READ, adds timer T2 and removes it
//   T (timer)                       runs a job on a DummyExecutor; its future X
//                                   gets the done-callback D
//   C (the executor's completion)   resolves X, which schedules D
//   H (pipe handler)                fires once, removes itself, stops the loop
TEST(Trace, ScriptedProgramEmitsTheExactSequence) {
  Pipe pipe;
  ASSERT_EQ(::write(pipe.write_end(), "x", 1), 1);
  IOLoop loop;
  // The watchdog only adds events when a callback blocks; keep it out of the way.
  loop.set_blocking_log_threshold(Duration::zero());
  // Bounds the test if H never fires. Added before attaching, so untraced; it
  // shows only as the poll timeout of the one iteration that waits.
  bool timed_out = false;
  loop.call_later(30s, [&] {
    timed_out = true;
    loop.stop();
  });

  DummyExecutor executor;
  int runs_a = 0, runs_b = 0, runs_t = 0, runs_d = 0, runs_h = 0, runs_t2 = 0;
  int job_result = 0;
  int line_a = 0, line_b = 0, line_t = 0, line_f = 0, line_t2 = 0, line_h = 0, line_d = 0;
  std::uint64_t future_f = 0, future_x = 0;

  // The program's steps, innermost first; each notes the line it schedules on.
  auto h = [&](int fd, std::uint32_t) {
    ++runs_h;
    char byte = 0;
    EXPECT_EQ(::read(fd, &byte, 1), 1);
    loop.remove_handler(fd);
    loop.stop();
  };
  auto d = [&](Future<int> done) {
    ++runs_d;
    job_result = done.result();
  };
  auto t = [&] {
    ++runs_t;
    Future<int> x = loop.run_in_executor(&executor, [] { return 42; });
    future_x = x.trace_id();
    line_d = __LINE__ + 1;
    x.add_done_callback(named("D", d));
  };
  auto b = [&] {
    ++runs_b;
    line_h = __LINE__ + 1;
    loop.add_handler(pipe.read_end(), named("H", h), IOLoop::WRITE);
    loop.update_handler(pipe.read_end(), IOLoop::READ);
    line_t2 = __LINE__ + 1;
    TimeoutHandle t2 = loop.call_later(1h, named("T2", [&] { ++runs_t2; }));
    loop.remove_timeout(t2);
  };
  auto a = [&] {
    ++runs_a;
    line_b = __LINE__ + 1;
    loop.add_callback(named("B", b));
    line_t = __LINE__ + 1;
    loop.call_later(0s, named("T", t));
    line_f = __LINE__ + 1;
    Future<int> f(Site{std::source_location::current(), "f"});
    future_f = f.trace_id();
    f.set_result(7);
  };

  MemorySink sink;
  {
    ScopedAttach attached(sink);
    line_a = __LINE__ + 1;
    loop.add_callback(named("A", a));
    loop.start();
    loop.close();
  }

  EXPECT_FALSE(timed_out);
  EXPECT_EQ(runs_a, 1);
  EXPECT_EQ(runs_b, 1);
  EXPECT_EQ(runs_t, 1);
  EXPECT_EQ(runs_d, 1);
  EXPECT_EQ(runs_h, 1);
  EXPECT_EQ(runs_t2, 0);
  EXPECT_EQ(job_result, 42);

  std::vector<Event> all = sink.events();
  const std::uint64_t rfd = static_cast<std::uint64_t>(pipe.read_end());
  // Dropped from the comparison, and counted instead: the loop's own wake-up
  // fd. add_callback(A) came before start(), so it went through the queue
  // other threads use, which wakes the loop (as Tornado's add_callback does).
  // The waker's handler is internal: no fd_ready, but its run
  // is traced as callback_started/finished (via handler) about an fd the test
  // does not know, in an order relative to H that is epoll's to choose.
  std::vector<Event> events;
  int waker_events = 0;
  for (const Event& e : all) {
    bool callback = e.kind == Kind::callback_started || e.kind == Kind::callback_finished;
    if (callback && e.b == as_int(Via::handler) && e.object != rfd) {
      ++waker_events;
    } else {
      events.push_back(e);
    }
  }
  EXPECT_EQ(waker_events, 2) << dump(sink);

  const std::uint64_t kRead = IOLoop::READ, kWrite = IOLoop::WRITE, kError = IOLoop::ERROR;
  const std::uint64_t kNoCause = 0, kResult = 0, kNoTimeout = 0, kNotPolled = 0;
  const Field via_callback = is(as_int(Via::callback)), via_timer = is(as_int(Via::timer)),
              via_handler = is(as_int(Via::handler));
  const NameIs name_a = name(at("A", line_a)), name_b = name(at("B", line_b)),
               name_t = name(at("T", line_t)), name_h = name(at("H", line_h)),
               name_d = name(at("D", line_d));
  // run_in_executor names its future, job and completion callback where it is
  // written in ioloop.h, not where it was called.
  const NameIs in_executor = name_starting("run_in_executor at ioloop.h:");
  const NameIs completion = name_starting("tornado::IOLoop::run_in_executor");

  Matcher match(sink);
  match.expect_sequence(
      events, {
                  // before start(): a callback scheduled by nothing, on the loop's own thread
                  {Kind::callback_scheduled, id("A"), name_a, is(kNoCause), via_callback},
                  {Kind::loop_started, is(0), none(), is(0), is(0)},
                  // iteration 1: one ready callback, no due timer
                  {Kind::iteration_begin, is(1), none(), is(1), is(0)},
                  {Kind::callback_started, id("A"), name_a, is(0), via_callback},
                  {Kind::callback_scheduled, id("B"), name_b, id("A"), via_callback},
                  {Kind::timer_added, id("T"), name_t, any(), id("A")},
                  {Kind::future_created, id("f"), name(at("f", line_f)), is(0), is(0)},
                  {Kind::future_resolved, id("f"), none(), is(kResult), is(0)},
                  {Kind::callback_finished, id("A"), name_a, any(), via_callback},
                  // B is pending, so the loop does not poll (a and b are zero)
                  {Kind::iteration_end, is(1), none(), is(kNotPolled), is(kNoTimeout)},
                  // iteration 2: B, then the timer T that came due meanwhile
                  {Kind::iteration_begin, is(2), none(), is(1), is(1)},
                  {Kind::callback_started, id("B"), name_b, is(0), via_callback},
                  {Kind::handler_added, is(rfd), name_h, is(kWrite | kError), is(0)},
                  {Kind::handler_updated, is(rfd), name_h, is(kRead | kError), is(0)},
                  {Kind::timer_added, id("T2"), name(at("T2", line_t2)), any(), id("B")},
                  {Kind::timer_cancelled, id("T2"), none(), is(0), is(0)},
                  {Kind::callback_finished, id("B"), name_b, any(), via_callback},
                  {Kind::timer_fired, id("T"), name_t, is(0), is(0)},
                  {Kind::callback_started, id("T"), name_t, is(0), via_timer},
                  {Kind::future_created, id("X"), in_executor, is(0), is(0)},
                  {Kind::executor_submitted, id("job"), in_executor, is(0), is(0)},
                  // the DummyExecutor ran the job inline; its completion is a callback
                  {Kind::callback_scheduled, id("C"), completion, id("T"), via_callback},
                  {Kind::callback_finished, id("T"), name_t, any(), via_timer},
                  {Kind::iteration_end, is(2), none(), is(kNotPolled), is(kNoTimeout)},
                  // iteration 3: the completion resolves X, which schedules D
                  {Kind::iteration_begin, is(3), none(), is(1), is(0)},
                  {Kind::callback_started, id("C"), completion, is(0), via_callback},
                  {Kind::executor_finished, id("job"), none(), any(), is(0)},
                  {Kind::future_resolved, id("X"), none(), is(kResult), is(0)},
                  {Kind::callback_scheduled, id("D"), name_d, id("C"), via_callback},
                  {Kind::callback_finished, id("C"), completion, any(), via_callback},
                  {Kind::iteration_end, is(3), none(), is(kNotPolled), is(kNoTimeout)},
                  // iteration 4: D; nothing is pending, so the loop polls (until the
                  // guard timer at most), finds the pipe readable and runs H
                  {Kind::iteration_begin, is(4), none(), is(1), is(0)},
                  {Kind::callback_started, id("D"), name_d, is(0), via_callback},
                  {Kind::callback_finished, id("D"), name_d, any(), via_callback},
                  {Kind::fd_ready, is(rfd), name_h, is(kRead), is(0)},
                  {Kind::callback_started, is(rfd), name_h, is(0), via_handler},
                  {Kind::handler_removed, is(rfd), name_h, is(0), is(0)},
                  {Kind::callback_finished, is(rfd), name_h, any(), via_handler},
                  {Kind::iteration_end, is(4), none(), any(), any()},
                  // iteration 5: empty; stop() ends the loop after it
                  {Kind::iteration_begin, is(5), none(), is(0), is(0)},
                  {Kind::iteration_end, is(5), none(), is(kNotPolled), is(kNoTimeout)},
                  {Kind::loop_stopped, is(0), none(), is(0), is(0)},
                  {Kind::loop_closed, is(0), none(), is(0), is(0)},
              });
  if (::testing::Test::HasFatalFailure()) return;

  EXPECT_EQ(match["f"], future_f);
  EXPECT_EQ(match["X"], future_x);
  for (const Event& e : all) EXPECT_EQ(e.loop, loop.id()) << trace::kind_name(e.kind);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const Event& l, const Event& r) { return l.ts_ns < r.ts_ns; }));

  // Deadlines are on the loop's clock, which is the clock of the timestamps:
  // T was due "now", T2 an hour from then.
  const std::uint64_t a_started = find(events, Kind::callback_started, match["A"]).ts_ns;
  const Event& t_added = find(events, Kind::timer_added, match["T"]);
  EXPECT_GE(t_added.a, a_started);
  EXPECT_LE(t_added.a, t_added.ts_ns);
  const std::uint64_t b_started = find(events, Kind::callback_started, match["B"]).ts_ns;
  const Event& t2_added = find(events, Kind::timer_added, match["T2"]);
  const std::uint64_t hour = std::chrono::nanoseconds(1h).count();
  EXPECT_GE(t2_added.a, b_started + hour);
  EXPECT_LE(t2_added.a, t2_added.ts_ns + hour);

  // The one poll that waited: its timeout (ns) was the untraced 30 s guard,
  // rounded up to whole ms, and it came back early because the pipe was ready.
  const Event& polled = find(events, Kind::iteration_end, 4);
  EXPECT_GT(polled.b, 0u);
  EXPECT_LE(polled.b, std::chrono::nanoseconds(30s).count());
  EXPECT_EQ(polled.b % 1000000, 0u);
  EXPECT_LT(polled.a, polled.b);
}

// A callback scheduled from another thread carries no cause (the loop's
// running callback is not the scheduler) and says how it came.
TEST(Trace, CallbackFromAnotherThreadHasNoCauseAndViaOtherThread) {
  IOLoop loop;
  loop.set_blocking_log_threshold(Duration::zero());
  MemorySink sink;
  int remote_runs = 0;
  int line_remote = 0;
  {
    ScopedAttach attached(sink);
    std::jthread producer;  // joined however run_sync ends
    loop.run_sync(
        [&]() -> Future<void> {
          Future<void> done(Site{std::source_location::current(), "done"});
          producer = std::jthread([&, done] {
            line_remote = __LINE__ + 1;
            loop.add_callback(named("remote", [&, done]() mutable {
              ++remote_runs;
              done.set_result();
            }));
          });
          co_await done;
        },
        10s);
  }
  ASSERT_EQ(remote_runs, 1);
  std::vector<Event> events = sink.events();
  auto named_remote = [&](Kind kind) {
    return std::find_if(events.begin(), events.end(), [&](const Event& e) {
      return e.kind == kind && sink.string(e.name) == at("remote", line_remote);
    });
  };
  auto scheduled = named_remote(Kind::callback_scheduled);
  auto started = named_remote(Kind::callback_started);
  ASSERT_NE(scheduled, events.end()) << dump(sink);
  ASSERT_NE(started, events.end()) << dump(sink);
  EXPECT_LT(scheduled, started);
  EXPECT_EQ(scheduled->object, started->object);
  EXPECT_EQ(scheduled->a, 0u);
  EXPECT_EQ(scheduled->b, as_int(Via::other_thread));
  EXPECT_EQ(started->b, as_int(Via::other_thread));
}

// ---- Warnings -----------------------------------------------------------------

// The callback keeps the loop busy until the watchdog has logged it (so the
// test does not depend on how fast the machine is), then the loop reports
// the whole duration as a trace event right after the callback finishes.
TEST(Trace, CallbackPastTheBlockingThresholdEmitsBlockingCallback) {
  CapturedLog log;
  IOLoop loop;
  const Duration threshold = 20ms;
  loop.set_blocking_log_threshold(threshold);
  MemorySink sink;
  bool watchdog_saw_it = false;
  int line_slow = 0;
  {
    ScopedAttach attached(sink);
    line_slow = __LINE__ + 1;
    loop.add_callback(named("slow", [&] {
      watchdog_saw_it = log.wait_for("has blocked the loop", 10s);
      loop.stop();
    }));
    loop.start();
  }
  ASSERT_TRUE(watchdog_saw_it);
  EXPECT_TRUE(log.contains("blocking callback " + at("slow", line_slow)));

  std::vector<Event> events = sink.events();
  auto blocking = std::find_if(events.begin(), events.end(),
                               [](const Event& e) { return e.kind == Kind::blocking_callback; });
  ASSERT_NE(blocking, events.end()) << dump(sink);
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const Event& e) { return e.kind == Kind::blocking_callback; }),
            1);
  const Event& finished = *(blocking - 1);
  EXPECT_EQ(finished.kind, Kind::callback_finished) << dump(sink);
  EXPECT_EQ(blocking->object, finished.object);
  EXPECT_EQ(sink.string(blocking->name), at("slow", line_slow));
  const auto threshold_ns = static_cast<std::uint64_t>(threshold.count());
  EXPECT_GE(blocking->a, threshold_ns);
  EXPECT_GE(blocking->a, finished.a);  // the callback's own duration fits inside
  EXPECT_EQ(blocking->b, threshold_ns);
}

TEST(Trace, ThrowingCallbackEmitsExceptionInCallbackBetweenStartAndFinish) {
  CapturedLog log;
  IOLoop loop;
  loop.set_blocking_log_threshold(Duration::zero());
  MemorySink sink;
  int line_boom = 0;
  {
    ScopedAttach attached(sink);
    line_boom = __LINE__ + 1;
    loop.add_callback(named("boom", [&] {
      loop.stop();
      throw std::runtime_error("kaboom");
    }));
    loop.start();
  }
  EXPECT_TRUE(log.contains("Exception in callback " + at("boom", line_boom) + ": kaboom"));

  std::vector<Event> events = sink.events();
  auto thrown = std::find_if(events.begin(), events.end(),
                             [](const Event& e) { return e.kind == Kind::exception_in_callback; });
  ASSERT_NE(thrown, events.end()) << dump(sink);
  ASSERT_NE(thrown, events.begin());
  ASSERT_NE(thrown + 1, events.end());
  EXPECT_EQ((thrown - 1)->kind, Kind::callback_started);
  EXPECT_EQ((thrown + 1)->kind, Kind::callback_finished);
  EXPECT_EQ(sink.string((thrown - 1)->name), at("boom", line_boom));
  EXPECT_EQ(thrown->object, (thrown - 1)->object);
  EXPECT_EQ(thrown->object, (thrown + 1)->object);
}

// ---- Attaching, detaching, interning -------------------------------------------

TEST(Trace, WithNoSinkAttachedNothingIsRecorded) {
  MemorySink sink;
  {
    ScopedAttach attached(sink);
    EXPECT_TRUE(trace::enabled());
    trace::emit(Kind::loop_started, 7, 1);
  }
  EXPECT_FALSE(trace::enabled());
  EXPECT_EQ(trace::new_object_id(), 0u);
  trace::emit(Kind::loop_stopped, 7, 2);
  IOLoop loop;
  int runs = 0;
  loop.add_callback([&] {
    ++runs;
    loop.stop();
  });
  loop.start();
  EXPECT_EQ(runs, 1);

  std::vector<Event> events = sink.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::loop_started);
  EXPECT_EQ(events[0].loop, 7);
  EXPECT_EQ(events[0].object, 1u);
}

TEST(Trace, EmitFillsEveryFieldAndStampsTheSteadyClock) {
  MemorySink sink;
  std::uint32_t tick = trace::intern("emit fills every field");
  std::uint64_t before = trace::now_ns();
  {
    ScopedAttach attached(sink);
    trace::emit(Kind::timer_fired, 3, 11, tick, 22, 33);
  }
  std::uint64_t after = trace::now_ns();
  std::vector<Event> events = sink.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::timer_fired);
  EXPECT_EQ(events[0].loop, 3);
  EXPECT_EQ(events[0].object, 11u);
  EXPECT_EQ(events[0].name, tick);
  EXPECT_EQ(events[0].a, 22u);
  EXPECT_EQ(events[0].b, 33u);
  EXPECT_GE(events[0].ts_ns, before);
  EXPECT_LE(events[0].ts_ns, after);
  EXPECT_EQ(sizeof(Event), 40u);
}

TEST(Trace, AttachReplaysStringsInternedBeforeIt) {
  std::uint32_t early = trace::intern("interned before any sink");
  MemorySink sink;
  ScopedAttach attached(sink);
  EXPECT_EQ(sink.string(early), "interned before any sink");
  std::uint32_t late = trace::intern("interned while attached");
  EXPECT_EQ(sink.string(late), "interned while attached");
  EXPECT_EQ(sink.string(0), "");
}

// Sites are named through a per-thread cache in front of the shared table:
// whatever the cache holds or has evicted, and on whichever thread, a site
// keeps one id and each site its own.
TEST(Trace, InternGivesOneIdPerSiteOnEveryThread) {
  std::vector<Site> sites;
  for (int i = 0; i < 1000; ++i) {  // far more than the cache holds
    sites.push_back(
        Site{std::source_location::current(), intern_label("site " + std::to_string(i))});
  }
  std::vector<std::uint32_t> ids;
  for (const Site& site : sites) ids.push_back(trace::intern(site));
  EXPECT_EQ(std::set<std::uint32_t>(ids.begin(), ids.end()).size(), sites.size());
  for (std::size_t i = 0; i < sites.size(); ++i) EXPECT_EQ(trace::intern(sites[i]), ids[i]);
  std::vector<std::uint32_t> there(sites.size());
  std::thread([&] {
    for (std::size_t i = sites.size(); i-- > 0;) there[i] = trace::intern(sites[i]);
  }).join();
  EXPECT_EQ(there, ids);
  MemorySink sink;
  ScopedAttach attached(sink);
  EXPECT_EQ(sink.string(ids[7]),
            "site 7 at trace_test.cc:" + std::to_string(sites[7].where.line()));
}

TEST(Trace, InternGivesOneIdPerText) {
  std::uint32_t first = trace::intern("same text");
  EXPECT_NE(first, 0u);
  EXPECT_EQ(trace::intern("same text"), first);
  EXPECT_NE(trace::intern("other text"), first);

  const int line = __LINE__ + 1;
  Site site{std::source_location::current(), intern_label("a site")};
  std::uint32_t by_site = trace::intern(site);
  EXPECT_EQ(trace::intern(site), by_site);
  EXPECT_EQ(trace::intern(site.describe()), by_site);
  EXPECT_EQ(site.describe(), at("a site", line));
}

TEST(Trace, MemorySinkClearDropsEventsButKeepsStrings) {
  MemorySink sink;
  ScopedAttach attached(sink);
  std::uint32_t kept = trace::intern("kept across clear");
  trace::emit(Kind::loop_started, 1, 0);
  sink.clear();
  EXPECT_TRUE(sink.events().empty());
  EXPECT_EQ(sink.string(kept), "kept across clear");
}

// ---- Recording to a file (start/stop) ------------------------------------------

TEST(Trace, StartRecordsTheLoopIntoAFileThatDecodes) {
  char path[] = "/tmp/trace_test_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::size_t fds_before = open_fds();
  int line_traced = 0;
  ASSERT_TRUE(trace::start(std::string("file:") + path));
  EXPECT_TRUE(trace::enabled());
  {
    IOLoop loop;
    loop.set_blocking_log_threshold(Duration::zero());
    line_traced = __LINE__ + 1;
    loop.add_callback(named("to a file", [&] { loop.stop(); }));
    loop.start();
  }
  trace::stop();
  EXPECT_FALSE(trace::enabled());
  EXPECT_EQ(open_fds(), fds_before);  // the file, the loop's epoll and eventfd are closed

  trace::Trace file = trace::read_file(path);
  ::unlink(path);
  EXPECT_EQ(file.error, "");
  EXPECT_TRUE(file.complete);
  auto started = std::find_if(file.events.begin(), file.events.end(), [&](const Event& e) {
    return e.kind == Kind::callback_started && file.string(e.name) == at("to a file", line_traced);
  });
  ASSERT_NE(started, file.events.end());
  auto finished = std::find_if(started, file.events.end(), [&](const Event& e) {
    return e.kind == Kind::callback_finished && e.object == started->object;
  });
  EXPECT_NE(finished, file.events.end());
}

TEST(Trace, StartWithAnUnknownSpecLogsAnErrorAndStaysUntraced) {
  CapturedLog log;
  EXPECT_FALSE(trace::start("carrier-pigeon:coop"));
  EXPECT_FALSE(trace::enabled());
  EXPECT_TRUE(log.contains("carrier-pigeon:coop"));
  trace::stop();  // nothing to stop: harmless
  EXPECT_FALSE(trace::enabled());
}

// ---- Text -------------------------------------------------------------------------

TEST(Trace, KindNameNamesEveryKind) {
  const std::vector<std::pair<Kind, std::string_view> > names = {
      {Kind::loop_started, "loop_started"},
      {Kind::loop_stopped, "loop_stopped"},
      {Kind::loop_closed, "loop_closed"},
      {Kind::iteration_begin, "iteration_begin"},
      {Kind::iteration_end, "iteration_end"},
      {Kind::callback_scheduled, "callback_scheduled"},
      {Kind::callback_started, "callback_started"},
      {Kind::callback_finished, "callback_finished"},
      {Kind::timer_added, "timer_added"},
      {Kind::timer_fired, "timer_fired"},
      {Kind::timer_cancelled, "timer_cancelled"},
      {Kind::handler_added, "handler_added"},
      {Kind::handler_updated, "handler_updated"},
      {Kind::handler_removed, "handler_removed"},
      {Kind::fd_ready, "fd_ready"},
      {Kind::future_created, "future_created"},
      {Kind::future_resolved, "future_resolved"},
      {Kind::executor_submitted, "executor_submitted"},
      {Kind::executor_finished, "executor_finished"},
      {Kind::blocking_callback, "blocking_callback"},
      {Kind::exception_in_callback, "exception_in_callback"},
      {Kind::signal_callbacks_dropped, "signal_callbacks_dropped"},
      {Kind::sync_created, "sync_created"},
      {Kind::sync_destroyed, "sync_destroyed"},
      {Kind::waiter_enqueued, "waiter_enqueued"},
      {Kind::waiter_woken, "waiter_woken"},
      {Kind::waiter_timed_out, "waiter_timed_out"},
      {Kind::sync_acquired, "sync_acquired"},
      {Kind::sync_released, "sync_released"},
      {Kind::event_set, "event_set"},
      {Kind::event_cleared, "event_cleared"},
      {Kind::queue_put, "queue_put"},
      {Kind::queue_got, "queue_got"},
      {Kind::queue_task_done, "queue_task_done"},
      {Kind::events_dropped, "events_dropped"},
      {Kind::stream_opened, "stream_opened"},
      {Kind::stream_connected, "stream_connected"},
      {Kind::stream_closed, "stream_closed"},
      {Kind::stream_read, "stream_read"},
      {Kind::stream_written, "stream_written"},
      {Kind::tls_handshake_begun, "tls_handshake_begun"},
      {Kind::tls_handshake_finished, "tls_handshake_finished"},
      {Kind::tls_handshake_failed, "tls_handshake_failed"},
      {Kind::snapshot_begin, "snapshot_begin"},
      {Kind::snapshot_callback, "snapshot_callback"},
      {Kind::snapshot_timer, "snapshot_timer"},
      {Kind::snapshot_handler, "snapshot_handler"},
      {Kind::snapshot_sync, "snapshot_sync"},
      {Kind::snapshot_waiter, "snapshot_waiter"},
      {Kind::snapshot_stream, "snapshot_stream"},
      {Kind::snapshot_end, "snapshot_end"},
  };
  // The list above is every kind: they are numbered 1..N without gaps.
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(names[i].first), i + 1);
    EXPECT_EQ(trace::kind_name(names[i].first), names[i].second);
  }
  EXPECT_EQ(trace::kind_name(static_cast<Kind>(names.size() + 1)), "unknown");
}

TEST(Trace, WriteTextPrintsOneLinePerEventWithTheNameResolved) {
  MemorySink sink;
  sink.on_string(5, "tick at main.cc:9");
  sink.on_event(Event{1000, Kind::timer_fired, 1, 5, 3, 0, 0});
  sink.on_event(Event{2000, Kind::fd_ready, 2, 0, 7, 1, 0});
  sink.on_event(Event{3000, Kind::iteration_end, 1, 99, 4, 250, 18446744073709551615u});
  std::ostringstream out;
  sink.write_text(out);
  EXPECT_EQ(out.str(),
            "1000 timer_fired loop=1 object=3 name=\"tick at main.cc:9\" a=0 b=0\n"
            "2000 fd_ready loop=2 object=7 a=1 b=0\n"
            // a name id the sink was never told about is left out
            "3000 iteration_end loop=1 object=4 a=250 b=18446744073709551615\n");
}

#endif  // TORNADO_TRACE_DISABLED

}  // namespace
}  // namespace tornado
