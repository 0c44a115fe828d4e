// Tests for tornado/ioloop.h: IOLoop, PeriodicCallback and TimeoutHandle.
//
// Every loop test runs once per poller (names end in /epoll or /poll). Loops
// run through run_loop(), whose deadline timer fails the test and stops the
// loop, so a bug shows up as a failure within seconds rather than a hang.
// Timing assertions are one-sided (a timer never fires early) or generous;
// everything else counts callbacks and checks their order.
//
// [SECTION] Helpers: fds, log and trace capture, a loop on another thread
// [SECTION] Fixtures
// [SECTION] Iteration order
// [SECTION] Other threads
// [SECTION] Signals
// [SECTION] Exceptions
// [SECTION] Blocking detection
// [SECTION] start, stop, run_sync
// [SECTION] Timers
// [SECTION] File descriptors
// [SECTION] Which loop is current
// [SECTION] PeriodicCallback
// [SECTION] Executors and futures
// [SECTION] stats, describe, close
#include "tornado/ioloop.h"
#include "tornado/testing.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "tornado/concurrent.h"
#include "tornado/errors.h"
#include "tornado/gen.h"
#include "tornado/log.h"
#include "tornado/name.h"
#include "tornado/trace.h"

namespace tornado {

// Test names and failure messages say "epoll" or "poll" (found by ADL, so it
// lives in tornado itself).
[[maybe_unused]] static void PrintTo(PollerKind kind, std::ostream* out) {
  *out << (kind == PollerKind::epoll ? "epoll" : "poll");
}

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// ---- [SECTION] Helpers: fds, log and trace capture, a loop on another thread

int check_sys(int result, const char* what) {
  if (result < 0) throw std::system_error(errno, std::system_category(), what);
  return result;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

bool fd_is_closed(int fd) {
  errno = 0;
  return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::system_category(), "write");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// What one read(2) gave: bytes, end of file, or an errno (EAGAIN: nothing yet).
struct ReadResult {
  std::string data;
  bool eof = false;
  int error = 0;
};

ReadResult read_some(int fd) {
  char buffer[4096];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n > 0) return {std::string(buffer, static_cast<std::size_t>(n))};
  if (n == 0) return {"", true};
  return {"", false, errno};
}

// A non-blocking pipe, closed when the test ends.
class Pipe {
 public:
  Pipe() {
    int fds[2];
    check_sys(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), "pipe2");
    read_fd_ = fds[0];
    write_fd_ = fds[1];
  }
  ~Pipe() {
    close_fd(read_fd_);
    close_fd(write_fd_);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  int read_fd() const { return read_fd_; }
  int write_fd() const { return write_fd_; }
  void write(std::string_view data) const { write_all(write_fd_, data); }
  void close_write() { close_fd(write_fd_); }
  // For an fd something else closed: forget it, so it is not closed twice.
  void forget_read() { read_fd_ = -1; }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

// A connected pair of non-blocking TCP sockets on 127.0.0.1.
class TcpPair {
 public:
  TcpPair() {
    int listener = check_sys(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
    try {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      auto* any = reinterpret_cast<sockaddr*>(&addr);
      check_sys(::bind(listener, any, len), "bind");  // port 0: any free port
      check_sys(::listen(listener, 1), "listen");
      check_sys(::getsockname(listener, any, &len), "getsockname");
      client_ = check_sys(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
      check_sys(::connect(client_, any, len), "connect");  // loopback: completes at once
      server_ =
          check_sys(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK), "accept4");
      check_sys(::fcntl(client_, F_SETFL, O_NONBLOCK), "fcntl");
    } catch (...) {
      ::close(listener);
      close_fd(client_);
      close_fd(server_);
      throw;
    }
    ::close(listener);
  }
  ~TcpPair() {
    close_fd(client_);
    close_fd(server_);
  }
  TcpPair(const TcpPair&) = delete;
  TcpPair& operator=(const TcpPair&) = delete;

  int client() const { return client_; }
  int server() const { return server_; }
  void close_server() { close_fd(server_); }
  // Closes the server end with a RST instead of a FIN.
  void reset_server() {
    linger hard{1, 0};
    check_sys(::setsockopt(server_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard), "setsockopt");
    close_fd(server_);
  }
  void forget_client() { client_ = -1; }

 private:
  int client_ = -1;
  int server_ = -1;
};

using LogCapture = tornado::testing::LogCapture;

// Records trace events while it lives. Create it before the loop runs.
class TraceCapture {
 public:
  TraceCapture() { trace::attach(&sink_); }
  ~TraceCapture() { trace::detach(); }
  TraceCapture(const TraceCapture&) = delete;
  TraceCapture& operator=(const TraceCapture&) = delete;

  std::vector<trace::Event> events(trace::Kind kind) const {
    std::vector<trace::Event> out;
    for (const trace::Event& e : sink_.events()) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  std::string name(const trace::Event& e) const { return sink_.string(e.name); }

 private:
  trace::MemorySink sink_;
};

// "Exception in callback NAME at ioloop_test.cc:LINE: WHAT", as the loop logs it.
std::string exception_line(std::string_view name, int line, std::string_view what) {
  return log::cat("Exception in callback ", name, " at ioloop_test.cc:", line, ": ", what);
}

// Runs `loop` until something calls stop(). After `limit` the test fails and
// the loop is stopped, so a bug cannot hang the test.
void run_bounded(IOLoop& loop, Duration limit = 10s) {
  bool expired = false;
  TimeoutHandle deadline = loop.call_later(limit, named("test deadline", [&loop, &expired] {
                                             expired = true;
                                             loop.stop();
                                           }));
  loop.start();
  loop.remove_timeout(deadline);
  EXPECT_FALSE(expired) << "the loop was still running at the test's deadline: " << loop.describe();
}

// An IOLoop running on its own thread. If the loop never stops by itself, a
// pipe handler stops it, so join_within() can fail the test instead of hanging.
// The loop is destroyed only in join_within(), once the test has stopped
// calling into it (as Tornado's tests close such a loop after joining).
class LoopThread {
 public:
  explicit LoopThread(PollerKind poller) {
    std::future<IOLoop*> started = started_.get_future();
    thread_ = std::thread([this, poller] {
      IOLoop loop(poller);
      loop.add_handler(
          rescue_.read_fd(), [&loop](int, std::uint32_t) { loop.stop(); }, IOLoop::READ);
      started_.set_value(&loop);
      loop.start();
      loop.remove_handler(rescue_.read_fd());
      finished_.set_value();
      released_future_.wait();
    });
    loop_ = started.get();
  }
  ~LoopThread() {
    if (thread_.joinable()) join_within(0s);
  }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  // Valid until join_within(). Other threads may call only add_callback*().
  IOLoop& loop() { return *loop_; }

  // Waits up to `limit` for the loop to stop by itself; true if it did.
  bool join_within(Duration limit) {
    bool stopped = finished_future_.wait_for(limit) == std::future_status::ready;
    if (!stopped) rescue_.write("x");
    released_.set_value();
    thread_.join();
    return stopped;
  }

 private:
  Pipe rescue_;
  std::promise<IOLoop*> started_;
  std::promise<void> finished_;
  std::future<void> finished_future_ = finished_.get_future();
  std::promise<void> released_;
  std::future<void> released_future_ = released_.get_future();
  IOLoop* loop_ = nullptr;
  std::thread thread_;
};

// Sleeps for `total` in small steps, watching the log; true if `text` was
// logged before the time was up.
bool sleep_watching_log(const LogCapture& log, Duration total, std::string_view text) {
  const TimePoint end = Clock::now() + total;
  bool seen = false;
  while (Clock::now() < end) {
    seen = seen || log.contains(text);
    std::this_thread::sleep_for(5ms);
  }
  return seen;
}

// Sets *flag when destroyed: shows whether a coroutine frame was freed.
struct SetOnDestroy {
  bool* flag;
  ~SetOnDestroy() { *flag = true; }
};

// Suspends on `never` (which the test never resolves).
Future<void> wait_forever(Future<void> never, bool* resumed, bool* destroyed) {
  SetOnDestroy guard{destroyed};
  co_await never;
  *resumed = true;
}

// Sleeps on the loop for `duration`.
Future<void> sleep_on_loop(Duration duration, bool* resumed, bool* destroyed) {
  SetOnDestroy guard{destroyed};
  co_await gen::sleep(duration);
  *resumed = true;
}

// How many runs of a coroutine PeriodicCallback overlap.
struct Overlap {
  int in_flight = 0;
  int max_in_flight = 0;
  int started = 0;
  int finished = 0;
};

// One run of a coroutine PeriodicCallback that takes `duration`.
Future<void> slow_run(Overlap* o, Duration duration) {
  ++o->started;
  o->max_in_flight = std::max(o->max_in_flight, ++o->in_flight);
  co_await gen::sleep(duration);
  --o->in_flight;
  ++o->finished;
}

// Fails on a later iteration than the one it started in.
Future<void> failing_run(int* runs) {
  ++*runs;
  co_await gen::moment;
  throw std::runtime_error("coroutine tick failed");
}

// ---- [SECTION] Fixtures -----------------------------------------------------

// Each test gets a fresh loop of the poller kind under test, current on the
// test's thread.
class LoopTest : public ::testing::TestWithParam<PollerKind> {
 protected:
  LoopTest() : loop_(GetParam()) { loop_.make_current(); }

  void run_loop(Duration limit = 10s) { run_bounded(loop_, limit); }
  // A callback that stops loop_.
  auto stopper() {
    return [this] { loop_.stop(); };
  }

  IOLoop loop_;
};

std::string poller_name(const ::testing::TestParamInfo<PollerKind>& info) {
  return info.param == PollerKind::epoll ? "epoll" : "poll";
}

const auto kBothPollers = ::testing::Values(PollerKind::epoll, PollerKind::poll);

class IOLoopIteration : public LoopTest {};
class IOLoopThreads : public LoopTest {};
class IOLoopSignals : public LoopTest {};
class IOLoopExceptions : public LoopTest {};
class IOLoopBlocking : public LoopTest {};
class IOLoopRun : public LoopTest {};
class IOLoopTimers : public LoopTest {};
class IOLoopHandlers : public LoopTest {};
class IOLoopCurrent : public LoopTest {};
class PeriodicCallbackTest : public LoopTest {};
class IOLoopExecutors : public LoopTest {};
class IOLoopStats : public LoopTest {};

INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopIteration, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopThreads, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopSignals, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopExceptions, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopBlocking, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopRun, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopTimers, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopHandlers, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopCurrent, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, PeriodicCallbackTest, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopExecutors, kBothPollers, poller_name);
INSTANTIATE_TEST_SUITE_P(Pollers, IOLoopStats, kBothPollers, poller_name);

// ---- [SECTION] Iteration order ----------------------------------------------

TEST_P(IOLoopIteration, CallbacksRunInTheOrderTheyWereAdded) {
  std::vector<int> order;
  for (int i = 0; i < 10; ++i) loop_.add_callback([&order, i] { order.push_back(i); });
  loop_.add_callback(stopper());
  run_loop();
  std::vector<int> expected(10);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(order, expected);
}

TEST_P(IOLoopIteration, CallbackAddedDuringAnIterationRunsInTheNextOne) {
  std::vector<std::string> order;
  std::uint64_t first_iteration = 0;
  std::uint64_t added_iteration = 0;
  loop_.add_callback([&] {
    first_iteration = loop_.stats().iterations;
    order.push_back("first");
    loop_.add_callback([&] {
      added_iteration = loop_.stats().iterations;
      order.push_back("added by first");
      loop_.stop();
    });
  });
  loop_.add_callback([&] { order.push_back("second"); });
  run_loop();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "added by first"}));
  EXPECT_EQ(added_iteration, first_iteration + 1);
}

TEST_P(IOLoopIteration, PhasesRunCallbacksThenDueTimersThenReadyHandlers) {
  Pipe pipe;
  pipe.write("x");                                           // readable before the loop starts
  std::vector<std::pair<std::string, std::uint64_t>> order;  // what ran, in which iteration
  auto record = [&](const char* what) { order.emplace_back(what, loop_.stats().iterations); };
  // Registered in the opposite order of the phases, so order of registration cannot explain it.
  loop_.add_handler(
      pipe.read_fd(),
      [&](int fd, std::uint32_t) {
        record("handler");
        loop_.remove_handler(fd);
        loop_.stop();
      },
      IOLoop::READ);
  loop_.call_later(0ms, [&] { record("timer"); });
  loop_.add_callback([&] { record("callback"); });
  run_loop();
  using Step = std::pair<std::string, std::uint64_t>;
  EXPECT_EQ(order, (std::vector<Step>{{"callback", 1}, {"timer", 1}, {"handler", 1}}));
}

TEST_P(IOLoopIteration, TimerAddedByACallbackWaitsForTheNextIterationEvenIfDue) {
  // Due timers are collected before the iteration's callbacks run.
  std::uint64_t callback_iteration = 0;
  std::uint64_t timer_iteration = 0;
  loop_.add_callback([&] {
    callback_iteration = loop_.stats().iterations;
    loop_.call_at(loop_.time() - 1ms, [&] {
      timer_iteration = loop_.stats().iterations;
      loop_.stop();
    });
  });
  run_loop();
  EXPECT_EQ(callback_iteration, 1u);
  EXPECT_EQ(timer_iteration, 2u);
}

TEST_P(IOLoopIteration, TimersWithEqualDeadlinesRunInTheOrderTheyWereAdded) {
  const TimePoint when = loop_.time() + 2ms;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) loop_.call_at(when, [&order, i] { order.push_back(i); });
  loop_.call_at(when - 1ms, [&order] { order.push_back(-1); });  // added last, due first
  loop_.call_at(when + 1ms, stopper());
  run_loop();
  EXPECT_EQ(order, (std::vector<int>{-1, 0, 1, 2, 3, 4}));
}

TEST_P(IOLoopIteration, TimerCancelledByAnEarlierTimerOfTheSameIterationDoesNotRun) {
  const TimePoint past = loop_.time() - 1ms;  // all three are due in the first iteration
  std::vector<std::string> ran;
  TimeoutHandle second;
  loop_.call_at(past, [&] {
    ran.push_back("first");
    loop_.remove_timeout(second);
  });
  second = loop_.call_at(past, [&] { ran.push_back("second"); });
  loop_.call_at(past, [&] {
    ran.push_back("third");
    loop_.stop();
  });
  run_loop();
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "third"}));
  EXPECT_EQ(loop_.stats().timers, 0u);
}

TEST_P(IOLoopIteration, HandlerRemovedByAnotherHandlerOfTheSamePollBatchIsNotCalled) {
  Pipe a;
  Pipe b;
  a.write("a");  // both readable before the loop starts: one poll reports both
  b.write("b");
  std::vector<int> called;
  // Whichever handler runs first removes both; the other must not run.
  auto remove_both = [&](int fd, std::uint32_t) {
    called.push_back(fd);
    loop_.remove_handler(a.read_fd());
    loop_.remove_handler(b.read_fd());
    loop_.stop();
  };
  loop_.add_handler(a.read_fd(), remove_both, IOLoop::READ);
  loop_.add_handler(b.read_fd(), remove_both, IOLoop::READ);
  run_loop();
  EXPECT_EQ(called.size(), 1u);
  EXPECT_EQ(loop_.stats().handlers, 0u);
}

TEST_P(IOLoopIteration, HandlerMayRemoveItself) {
  Pipe pipe;
  pipe.write("never read");  // stays readable: a level-triggered poller keeps reporting it
  int calls = 0;
  auto witness = std::make_shared<std::string>("alive");
  loop_.add_handler(
      pipe.read_fd(),
      [&, witness](int fd, std::uint32_t) {
        ++calls;
        loop_.remove_handler(fd);
        EXPECT_EQ(*witness, "alive");  // its own captures outlive its removal
      },
      IOLoop::READ);
  loop_.call_later(30ms, stopper());
  run_loop();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(witness.use_count(), 1) << "the removed handler was not freed";
}

TEST_P(IOLoopIteration, ReadyHandlersAreNotStarvedByAChainOfCallbacks) {
  Pipe pipe;
  pipe.write("x");
  constexpr int kGiveUp = 100000;
  int chain = 0;
  int chain_when_handled = -1;
  std::function<void()> step = [&] {
    if (chain_when_handled >= 0 || ++chain >= kGiveUp) return loop_.stop();
    loop_.add_callback(step);  // always one callback pending
  };
  loop_.add_handler(
      pipe.read_fd(),
      [&](int fd, std::uint32_t) {
        chain_when_handled = chain;
        loop_.remove_handler(fd);
      },
      IOLoop::READ);
  loop_.add_callback(step);
  run_loop();
  ASSERT_GE(chain_when_handled, 0) << "the handler never ran while callbacks kept coming";
  EXPECT_LE(chain_when_handled, 1000);
}

TEST_P(IOLoopIteration, CallbackReturningAValueRunsOnceAndItsValueIsIgnored) {
  // As Tornado's test_add_callback_return_sequence: a returned value that is
  // not a Future must not make the loop spin or run the callback again.
  int calls = 0;
  loop_.add_callback([&] {
    ++calls;
    return std::vector<int>{1, 2, 3};
  });
  loop_.call_later(20ms, stopper());
  run_loop();
  EXPECT_EQ(calls, 1);
}

TEST_P(IOLoopIteration, AddCallbackFromTheLoopDoesNotWaitForTheNextTimer) {
  // As Tornado's test_add_callback_wakeup: with a far timer pending, a
  // callback added by a timer runs on the very next iteration.
  std::uint64_t timer_iteration = 0;
  std::uint64_t callback_iteration = 0;
  loop_.call_later(1h, [] {});
  loop_.call_later(0ms, [&] {
    timer_iteration = loop_.stats().iterations;
    loop_.add_callback([&] {
      callback_iteration = loop_.stats().iterations;
      loop_.stop();
    });
  });
  const TimePoint started = Clock::now();
  run_loop();
  EXPECT_EQ(callback_iteration, timer_iteration + 1);
  EXPECT_LT(Clock::now() - started, 5s);
}

// ---- [SECTION] Other threads ------------------------------------------------

TEST_P(IOLoopThreads, AddCallbackFromAnotherThreadWakesTheLoopBlockedInPoll) {
  // No timers, so the loop waits in poll with no timeout. If the wake-up
  // failed, the other thread unblocks the loop through a pipe after 5 s so
  // the test fails instead of hanging.
  Pipe rescue;
  bool rescued = false;
  loop_.add_handler(
      rescue.read_fd(),
      [&](int, std::uint32_t) {
        rescued = true;
        loop_.stop();
      },
      IOLoop::READ);
  ASSERT_EQ(loop_.stats().timers, 0u);
  std::atomic<bool> returned{false};
  TimePoint sent;
  std::thread other([&] {
    std::this_thread::sleep_for(50ms);  // let the loop block in poll
    sent = Clock::now();
    loop_.add_callback(stopper());
    for (int i = 0; i < 500 && !returned.load(); ++i) std::this_thread::sleep_for(10ms);
    if (!returned.load()) rescue.write("x");
  });
  loop_.start();
  const TimePoint back = Clock::now();
  returned = true;
  other.join();
  loop_.remove_handler(rescue.read_fd());
  EXPECT_FALSE(rescued) << "add_callback did not wake the loop";
  EXPECT_LT(back - sent, 1s);
}

TEST_P(IOLoopThreads, CallbacksFromAnotherThreadRunInTheOrderTheyWereAdded) {
  constexpr int kCount = 1000;
  std::vector<int> order;  // touched only on the loop thread
  std::thread other([&] {
    for (int i = 0; i < kCount; ++i) loop_.add_callback([&order, i] { order.push_back(i); });
    loop_.add_callback(stopper());
  });
  run_loop();
  other.join();
  std::vector<int> expected(kCount);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(order, expected);
}

TEST_P(IOLoopThreads, LoopMayBeDestroyedAsSoonAsACallbackFromAnotherThreadStopsIt) {
  // The usual shutdown: another thread asks the loop to stop, and the owner
  // destroys the loop as soon as start() returns, while that thread may still
  // be on its way out of add_callback().
  auto loop = std::make_unique<IOLoop>(GetParam());
  IOLoop& ref = *loop;
  std::thread other([&ref] { ref.add_callback([&ref] { ref.stop(); }); });
  run_bounded(*loop);
  loop.reset();
  other.join();
}

TEST_P(IOLoopThreads, AddCallbackAfterCloseIsDroppedOnTheLoopThread) {
  loop_.close();
  auto captured = std::make_shared<int>(0);
  loop_.add_callback([captured] { ++*captured; });
  EXPECT_EQ(captured.use_count(), 1) << "the dropped callback is still held";
  EXPECT_EQ(loop_.stats().callbacks, 0u);
  EXPECT_EQ(*captured, 0);
}

TEST_P(IOLoopThreads, AddCallbackAfterCloseIsDroppedFromAnotherThread) {
  loop_.close();
  auto captured = std::make_shared<int>(0);
  std::thread other([&] { loop_.add_callback([captured] { ++*captured; }); });
  other.join();
  EXPECT_EQ(captured.use_count(), 1) << "the dropped callback is still held";
  EXPECT_EQ(loop_.stats().callbacks, 0u);
  EXPECT_EQ(*captured, 0);
}

TEST_P(IOLoopThreads, AddCallbackRacingWithCloseIsSafe) {
  // As Tornado's test_add_callback_while_closing: another thread keeps adding
  // callbacks while this one stops and closes the loop.
  int ran = 0;
  std::thread other([&] {
    for (int i = 0; i < 20000; ++i) {
      loop_.add_callback([this, &ran] {
        if (++ran == 100) loop_.stop();
      });
    }
  });
  run_loop();
  loop_.close();
  other.join();
  EXPECT_GE(ran, 100);
  EXPECT_EQ(loop_.stats().callbacks, 0u);
}

// ---- [SECTION] Signals ------------------------------------------------------

TEST_P(IOLoopSignals, AddCallbackFromSignalRunsLikeAddCallbackOutsideAHandler) {
  // As Tornado's test_add_callback_from_signal.
  bool ran = false;
  loop_.add_callback_from_signal([this, &ran] {
    ran = true;
    loop_.stop();
  });
  run_loop();
  EXPECT_TRUE(ran);
}

TEST_P(IOLoopSignals, AddCallbackFromSignalWakesALoopRunningOnAnotherThread) {
  // As Tornado's test_add_callback_from_signal_other_thread.
  LoopThread thread(GetParam());
  thread.loop().add_callback_from_signal([loop = &thread.loop()] { loop->stop(); });
  EXPECT_TRUE(thread.join_within(5s));
}

TEST_P(IOLoopSignals, AddCallbackFromSignalDropsAndLogsWhatOverflowsItsQueue) {
  // The queue holds 1024 callbacks; the rest are dropped and counted.
  LogCapture log;
  int ran = 0;
  for (int i = 0; i < 1100; ++i) loop_.add_callback_from_signal([&ran] { ++ran; });
  loop_.stop();  // one iteration
  loop_.start();
  EXPECT_EQ(ran, 1024);
  EXPECT_TRUE(log.contains("76 add_callback_from_signal calls were dropped")) << log.text();
}

// State shared with the SIGUSR1 handler: atomics only, as a handler may touch
// nothing else.
namespace storm {
std::atomic<IOLoop*> loop{nullptr};
std::atomic<int> handler_calls{0};
std::atomic<int> callbacks_run{0};

void on_sigusr1(int) {
  handler_calls.fetch_add(1, std::memory_order_relaxed);
  loop.load(std::memory_order_relaxed)->add_callback_from_signal([] {
    callbacks_run.fetch_add(1, std::memory_order_relaxed);
  });
}
}  // namespace storm

// Sums N from the loop's "N add_callback_from_signal calls were dropped" lines.
int dropped_signal_callbacks(const LogCapture& log) {
  int dropped = 0;
  for (const std::string& line : log.lines()) {
    std::size_t at = line.find(" add_callback_from_signal calls were dropped");
    if (at == std::string::npos) continue;
    std::size_t start = line.rfind(' ', at - 1);
    dropped += std::stoi(line.substr(start + 1, at - start - 1));
  }
  return dropped;
}

TEST_P(IOLoopSignals, AddCallbackFromSignalIsSafeInARealSignalStorm) {
  // Another thread sends 10,000 SIGUSR1 to the loop thread while the loop
  // runs; the handler calls add_callback_from_signal. The kernel merges
  // pending signals, so count handler calls: each must give one callback run
  // (or one logged drop, should the bounded queue overflow).
  constexpr int kSignals = 10000;
  LogCapture log;
  storm::loop = &loop_;
  storm::handler_calls = 0;
  storm::callbacks_run = 0;
  struct sigaction action {};
  action.sa_handler = storm::on_sigusr1;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigset_t old_mask;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, nullptr, &old_mask), 0);

  const pthread_t loop_thread = ::pthread_self();
  int final_calls = -1;
  int final_runs = -1;
  int final_dropped = -1;
  // Once every callback the handler queued has run, the counts must agree. A
  // later handler call shows as a mismatch until its callback runs, so look
  // again on the next iteration (a few times at most).
  int checks_left = 10;
  std::function<void()> check = [&] {
    final_calls = storm::handler_calls.load();
    final_runs = storm::callbacks_run.load();
    final_dropped = dropped_signal_callbacks(log);
    if (final_runs + final_dropped == final_calls || --checks_left == 0) return loop_.stop();
    loop_.add_callback(check);
  };
  // After the last signal is sent: block SIGUSR1 here and swallow any still
  // pending, so no handler runs after this. The callbacks already queued run
  // on the next iteration, so check on the one after.
  auto settle = [&] {
    ::pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
    timespec no_wait{};
    while (::sigtimedwait(&usr1, nullptr, &no_wait) > 0) {
    }
    loop_.add_callback([&] { loop_.add_callback(check); });
  };
  std::thread sender;
  loop_.add_callback([&] {
    sender = std::thread([&] {
      for (int i = 0; i < kSignals; ++i) ::pthread_kill(loop_thread, SIGUSR1);
      loop_.add_callback(settle);
    });
  });
  run_loop(30s);
  sender.join();
  ::sigaction(SIGUSR1, &previous, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  storm::loop = nullptr;

  EXPECT_GT(final_calls, 0);
  EXPECT_EQ(final_runs + final_dropped, final_calls)
      << final_runs << " callbacks ran, " << final_dropped << " were dropped";
  EXPECT_EQ(storm::handler_calls.load(), final_calls) << "a handler ran after the check";
  RecordProperty("handler_calls", final_calls);
  RecordProperty("dropped", final_dropped);
}

// ---- [SECTION] Exceptions ---------------------------------------------------

TEST_P(IOLoopExceptions, ExceptionInACallbackIsLoggedWithItsSiteAndTheLoopGoesOn) {
  // As Tornado's test_exception_logging.
  LogCapture log;
  const std::string here = std::source_location::current().function_name();
  bool later_ran = false;
  auto fail = [] { throw std::runtime_error("callback boom"); };
  const int line = __LINE__ + 1;
  loop_.add_callback(fail);
  loop_.add_callback([&] {
    later_ran = true;
    loop_.stop();
  });
  run_loop();
  EXPECT_TRUE(later_ran);
  EXPECT_TRUE(log.contains(exception_line(here, line, "callback boom"))) << log.text();
  EXPECT_EQ(log.count("Exception in callback"), 1u) << log.text();
}

TEST_P(IOLoopExceptions, NamedCallbackIsLoggedWithItsLabel) {
  LogCapture log;
  auto fail = [] { throw std::runtime_error("tick boom"); };
  const int line = __LINE__ + 1;
  loop_.add_callback(named("tick", fail));
  loop_.add_callback(stopper());
  run_loop();
  EXPECT_TRUE(log.contains(exception_line("tick", line, "tick boom"))) << log.text();
}

TEST_P(IOLoopExceptions, ExceptionInATimerIsLoggedWithItsSiteAndTheLoopGoesOn) {
  LogCapture log;
  const std::string here = std::source_location::current().function_name();
  bool later_ran = false;
  auto fail = [] { throw std::runtime_error("timer boom"); };
  const int line = __LINE__ + 1;
  loop_.call_later(1ms, fail);
  loop_.call_later(20ms, [&] {
    later_ran = true;
    loop_.stop();
  });
  run_loop();
  EXPECT_TRUE(later_ran);
  EXPECT_TRUE(log.contains(exception_line(here, line, "timer boom"))) << log.text();
}

TEST_P(IOLoopExceptions, ExceptionInAHandlerIsLoggedWithItsSiteAndTheLoopGoesOn) {
  LogCapture log;
  const std::string here = std::source_location::current().function_name();
  Pipe pipe;
  pipe.write("x");
  bool later_ran = false;
  auto fail = [this](int fd, std::uint32_t) {
    loop_.remove_handler(fd);
    throw std::runtime_error("handler boom");
  };
  const int line = __LINE__ + 1;
  loop_.add_handler(pipe.read_fd(), fail, IOLoop::READ);
  loop_.call_later(20ms, [&] {
    later_ran = true;
    loop_.stop();
  });
  run_loop();
  EXPECT_TRUE(later_ran);
  EXPECT_TRUE(log.contains(exception_line(here, line, "handler boom"))) << log.text();
}

TEST_P(IOLoopExceptions, ExceptionInAFutureDoneCallbackIsLoggedWithItsSite) {
  LogCapture log;
  const std::string here = std::source_location::current().function_name();
  Future<int> future;
  auto fail = [](Future<int>) { throw std::runtime_error("done boom"); };
  const int line = __LINE__ + 1;
  future.add_done_callback(fail);
  future.set_result(1);
  loop_.call_later(20ms, stopper());
  run_loop();
  EXPECT_TRUE(log.contains(exception_line(here, line, "done boom"))) << log.text();
}

TEST_P(IOLoopExceptions, ExceptionInAnAddFutureCallbackIsLoggedWithItsSite) {
  LogCapture log;
  const std::string here = std::source_location::current().function_name();
  Future<int> future;
  auto fail = [](Future<int>) { throw std::runtime_error("add_future boom"); };
  const int line = __LINE__ + 1;
  loop_.add_future(future, fail);
  future.set_result(1);
  loop_.call_later(20ms, stopper());
  run_loop();
  EXPECT_TRUE(log.contains(exception_line(here, line, "add_future boom"))) << log.text();
}

TEST_P(IOLoopExceptions, ExceptionInASpawnedCallbackIsLogged) {
  // As Tornado's test_spawn_callback.
  LogCapture log;
  const std::string here = std::source_location::current().function_name();
  auto fail = [] { throw std::runtime_error("spawned boom"); };
  const int line = __LINE__ + 1;
  loop_.spawn_callback(fail);
  loop_.add_callback(stopper());
  run_loop();
  EXPECT_TRUE(log.contains(exception_line(here, line, "spawned boom"))) << log.text();
}

TEST_P(IOLoopExceptions, ExceptionFromACoroutineCallbackIsLogged) {
  // As Tornado's test_exception_logging_future: the callback returns a
  // Future, and the loop logs the exception it fails with.
  LogCapture log;
  int runs = 0;
  const int line = __LINE__ + 1;
  loop_.add_callback(named("failing coroutine", [&runs] { return failing_run(&runs); }));
  loop_.call_later(30ms, stopper());
  run_loop();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(log.count("Exception in callback"), 1u) << log.text();
  // Named after the callback that returned the Future, not the loop's wrapper.
  EXPECT_TRUE(log.contains(exception_line("failing coroutine", line, "coroutine tick failed")))
      << log.text();
  EXPECT_FALSE(log.contains("never retrieved")) << log.text();
}

TEST_P(IOLoopExceptions, ExceptionNotDerivedFromStdExceptionIsLogged) {
  LogCapture log;
  bool later_ran = false;
  loop_.add_callback([] { throw 42; });
  loop_.add_callback([&] {
    later_ran = true;
    loop_.stop();
  });
  run_loop();
  EXPECT_TRUE(later_ran);
  EXPECT_TRUE(log.contains("not derived from std::exception")) << log.text();
}

// ---- [SECTION] Blocking detection -------------------------------------------

// The duration in "... took N ms (threshold ...)", or -1.
long logged_duration_ms(const std::string& line) {
  std::size_t at = line.find(" took ");
  return at == std::string::npos ? -1 : std::stol(line.substr(at + 6));
}

TEST_P(IOLoopBlocking, BlockingCallbackIsReportedWhileItRunsAndAgainWithItsDuration) {
  LogCapture log;
  loop_.set_blocking_log_threshold(50ms);
  bool warned_while_running = false;
  auto sleepy = [&] {
    // The watchdog must speak while this still blocks, so watch the log.
    warned_while_running = sleep_watching_log(log, 300ms, "is still running");
    loop_.stop();
  };
  const int line = __LINE__ + 1;
  loop_.add_callback(named("sleepy", sleepy));
  run_loop();
  const std::string site = log::cat("sleepy at ioloop_test.cc:", line);
  EXPECT_TRUE(warned_while_running) << log.text();
  std::optional<std::size_t> warning = log.find("callback " + site + " has blocked the loop for");
  std::optional<std::size_t> summary = log.find("blocking callback " + site + " took ");
  ASSERT_TRUE(warning && summary) << log.text();
  EXPECT_LT(*warning, *summary);
  EXPECT_GE(logged_duration_ms(log.lines()[*summary]), 50) << log.text();
}

TEST_P(IOLoopBlocking, BlockingCallbackIsTracedWithItsDuration) {
  TraceCapture trace;
  LogCapture log;  // keeps the expected warnings out of the test output
  constexpr auto kThreshold = 50ms;
  loop_.set_blocking_log_threshold(kThreshold);
  loop_.add_callback(named("sleepy", [this] {
    std::this_thread::sleep_for(200ms);
    loop_.stop();
  }));
  run_loop();
  std::vector<trace::Event> blocking = trace.events(trace::Kind::blocking_callback);
  ASSERT_EQ(blocking.size(), 1u) << log.text();
  const auto threshold_ns = static_cast<std::uint64_t>(Duration(kThreshold).count());
  EXPECT_GE(blocking[0].a, threshold_ns);
  EXPECT_EQ(blocking[0].b, threshold_ns);
  EXPECT_THAT(trace.name(blocking[0]), HasSubstr("sleepy at ioloop_test.cc:"));
}

TEST_P(IOLoopBlocking, ZeroThresholdTurnsBlockingDetectionOff) {
  TraceCapture trace;
  LogCapture log;
  loop_.set_blocking_log_threshold(Duration::zero());
  loop_.add_callback([this] {
    std::this_thread::sleep_for(200ms);
    loop_.stop();
  });
  run_loop();
  EXPECT_FALSE(log.contains("block")) << log.text();
  EXPECT_TRUE(trace.events(trace::Kind::blocking_callback).empty());
}

// ---- [SECTION] start, stop, run_sync ----------------------------------------

TEST_P(IOLoopRun, RunSyncReturnsTheValueOfACoroutine) {
  int value = loop_.run_sync(
      []() -> Future<int> {
        co_await gen::sleep(1ms);
        co_return 42;
      },
      5s);
  EXPECT_EQ(value, 42);
}

TEST_P(IOLoopRun, RunSyncReturnsAPlainValue) {
  EXPECT_EQ(loop_.run_sync([] { return std::string("plain"); }, 5s), "plain");
  bool ran = false;
  loop_.run_sync([&] { ran = true; }, 5s);
  EXPECT_TRUE(ran);
}

TEST_P(IOLoopRun, RunSyncRethrowsWhatTheFunctionThrew) {
  EXPECT_THROW(loop_.run_sync([]() -> int { throw std::invalid_argument("plain"); }, 5s),
               std::invalid_argument);
  EXPECT_THROW(loop_.run_sync(
                   []() -> Future<int> {
                     co_await gen::moment;
                     throw std::out_of_range("coroutine");
                   },
                   5s),
               std::out_of_range);
}

TEST_P(IOLoopRun, RunSyncThrowsTimeoutErrorAfterItsTimeout) {
  Future<int> never;
  const TimePoint started = loop_.time();
  EXPECT_THROW(loop_.run_sync([&] { return never; }, 50ms), TimeoutError);
  EXPECT_GE(loop_.time() - started, 50ms);
}

TEST_P(IOLoopRun, RunSyncThrowsLoopStoppedErrorWhenTheLoopStopsFirst) {
  Future<int> never;
  auto stop_soon = [&] {
    loop_.add_callback(stopper());
    return never;
  };
  EXPECT_THROW(loop_.run_sync(stop_soon, 5s), LoopStoppedError);
}

TEST_P(IOLoopRun, RunSyncMakesTheLoopCurrentAndRestoresThePreviousOne) {
  IOLoop other(GetParam());
  ASSERT_EQ(IOLoop::current(false), &loop_);
  IOLoop* current_inside = other.run_sync([] { return IOLoop::current(false); }, 5s);
  EXPECT_EQ(current_inside, &other);
  EXPECT_EQ(IOLoop::current(false), &loop_);
}

TEST_P(IOLoopRun, StartingARunningLoopThrowsLogicError) {
  // As Tornado's test_reentrant: an error, not a deadlock or a nested loop.
  bool threw = false;
  bool returned = false;
  loop_.add_callback([&] {
    try {
      loop_.start();
      returned = true;
    } catch (const std::logic_error&) {
      threw = true;
    }
    loop_.stop();
  });
  run_loop();
  EXPECT_TRUE(threw);
  EXPECT_FALSE(returned);
}

TEST_P(IOLoopRun, RunSyncInsideTheRunningLoopThrowsLogicErrorAndSchedulesNothing) {
  int calls = 0;
  loop_.add_callback(
      [&] { EXPECT_THROW(loop_.run_sync([&calls] { return ++calls; }, 1s), std::logic_error); });
  // Give anything run_sync left behind time to run, then look.
  loop_.call_later(50ms, stopper());
  run_loop();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(loop_.stats().timers, 0u);
}

TEST_P(IOLoopRun, StartingAClosedLoopThrowsLogicError) {
  loop_.close();
  EXPECT_THROW(loop_.start(), std::logic_error);
  EXPECT_THROW(loop_.run_sync([] { return 1; }, 1s), std::logic_error);
}

TEST_P(IOLoopRun, StopBeforeStartRunsOneIterationThenReturns) {
  std::vector<std::string> ran;
  loop_.add_callback([&] {
    ran.push_back("queued");
    loop_.add_callback([&] { ran.push_back("next iteration"); });
  });
  loop_.stop();
  loop_.start();  // returns after one iteration
  EXPECT_EQ(ran, (std::vector<std::string>{"queued"}));
  EXPECT_EQ(loop_.stats().iterations, 1u);
  EXPECT_EQ(loop_.stats().callbacks, 1u);
}

TEST_P(IOLoopRun, StopInACallbackLetsTheRestOfThatIterationRun) {
  std::vector<std::string> ran;
  loop_.call_at(loop_.time() - 1ms, [&] { ran.push_back("due timer"); });
  loop_.add_callback([&] {
    ran.push_back("stopper");
    loop_.stop();
    loop_.add_callback([&] { ran.push_back("next iteration"); });
  });
  loop_.add_callback([&] { ran.push_back("same batch"); });
  run_loop();
  EXPECT_EQ(ran, (std::vector<std::string>{"stopper", "same batch", "due timer"}));

  // Started again, the loop picks up where it stopped.
  loop_.add_callback(stopper());
  run_loop();
  EXPECT_EQ(ran.back(), "next iteration");
}

// ---- [SECTION] Timers -------------------------------------------------------

TEST_P(IOLoopTimers, CallLaterTakesChronoDurationsAndSecondsAndNeverFiresEarly) {
  const TimePoint started = loop_.time();
  std::optional<TimePoint> by_duration;
  std::optional<TimePoint> by_seconds;
  loop_.call_later(15ms, [&] { by_duration = loop_.time(); });
  loop_.call_later(0.02, [&] { by_seconds = loop_.time(); });
  loop_.call_later(30ms, stopper());
  run_loop();
  ASSERT_TRUE(by_duration && by_seconds);
  EXPECT_GE(*by_duration - started, 15ms);
  EXPECT_GE(*by_seconds - started, 20ms);
  EXPECT_LE(*by_duration, *by_seconds);
}

TEST_P(IOLoopTimers, CallAtRunsAtAnAbsoluteTime) {
  const TimePoint when = loop_.time() + 15ms;
  std::optional<TimePoint> ran_at;
  TimeoutHandle handle = loop_.call_at(when, [&] {
    ran_at = loop_.time();
    loop_.stop();
  });
  EXPECT_TRUE(handle);  // as Tornado's test_call_at_return
  run_loop();
  ASSERT_TRUE(ran_at);
  EXPECT_GE(*ran_at, when);
}

TEST_P(IOLoopTimers, AddTimeoutTakesAnAbsoluteTimePointOrARelativeDuration) {
  // As Tornado's test_add_timeout_timedelta.
  const TimePoint started = loop_.time();
  std::optional<TimePoint> absolute;
  std::optional<TimePoint> relative;
  loop_.add_timeout(started + 10ms, [&] { absolute = loop_.time(); });
  loop_.add_timeout(1us, [&] { relative = loop_.time(); });
  loop_.add_timeout(20ms, stopper());
  run_loop();
  ASSERT_TRUE(absolute && relative);
  EXPECT_GE(*absolute, started + 10ms);
  EXPECT_LE(*relative, *absolute);
}

TEST_P(IOLoopTimers, TimeoutsDueNowRunInTheOrderTheyWereAdded) {
  // As Tornado's test_timeout_with_arguments (arguments are lambda captures).
  std::vector<int> results;
  auto append = [&results](int n) { return [&results, n] { results.push_back(n); }; };
  loop_.add_timeout(loop_.time(), append(1));
  loop_.add_timeout(0s, append(2));
  loop_.call_at(loop_.time(), append(3));
  loop_.call_later(0, append(4));
  loop_.call_later(0, stopper());
  run_loop();
  EXPECT_EQ(results, (std::vector<int>{1, 2, 3, 4}));
}

TEST_P(IOLoopTimers, RemoveTimeoutPreventsATimerFromRunning) {
  // As Tornado's test_call_later_return.
  bool ran = false;
  TimeoutHandle handle = loop_.call_later(5ms, [&] { ran = true; });
  ASSERT_TRUE(handle);
  loop_.remove_timeout(handle);
  EXPECT_EQ(loop_.stats().timers, 0u);
  loop_.call_later(30ms, stopper());
  run_loop();
  EXPECT_FALSE(ran);
}

TEST_P(IOLoopTimers, RemoveTimeoutDuringTheIterationItIsDuePreventsIt) {
  bool ran = false;
  TimeoutHandle handle = loop_.call_at(loop_.time() - 1ms, [&] { ran = true; });
  loop_.add_callback([&] { loop_.remove_timeout(handle); });  // runs before the due timer
  loop_.call_later(10ms, stopper());
  run_loop();
  EXPECT_FALSE(ran);
}

TEST_P(IOLoopTimers, RemovingATimeoutAfterItRanIsHarmless) {
  // As Tornado's test_remove_timeout_after_fire.
  int runs = 0;
  TimeoutHandle handle = loop_.call_later(0ms, [&] {
    ++runs;
    loop_.stop();
  });
  run_loop();
  loop_.remove_timeout(handle);
  loop_.remove_timeout(handle);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(loop_.stats().timers, 0u);
}

TEST_P(IOLoopTimers, StaleHandleDoesNotCancelANewerTimer) {
  TimeoutHandle old = loop_.call_later(0ms, stopper());
  run_loop();
  // The new timer may reuse the old one's slot; the stale handle must not touch it.
  bool ran = false;
  loop_.call_later(0ms, [&] {
    ran = true;
    loop_.stop();
  });
  loop_.remove_timeout(old);
  run_loop();
  EXPECT_TRUE(ran);
}

TEST_P(IOLoopTimers, DefaultTimeoutHandleIsEmptyAndHarmlessToRemove) {
  TimeoutHandle none;
  EXPECT_FALSE(none);
  bool ran = false;
  loop_.call_later(0ms, [&] {
    ran = true;
    loop_.stop();
  });
  loop_.remove_timeout(none);
  run_loop();
  EXPECT_TRUE(ran);
}

TEST_P(IOLoopTimers, AMillionAddRemoveCyclesKeepTheTimerHeapSmall) {
  // As Tornado's test_remove_timeout_cleanup, scaled up: cancelled timers are
  // compacted away, so memory stays flat. Three live timers must survive it.
  std::vector<int> fired;
  for (int i = 0; i < 3; ++i) loop_.call_later(1ms * (i + 1), [&fired, i] { fired.push_back(i); });
  std::size_t largest_heap = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    loop_.remove_timeout(loop_.call_later(1h, [] {}));
    largest_heap = std::max(largest_heap, loop_.stats().timer_heap);
  }
  EXPECT_LT(largest_heap, 2048u);
  EXPECT_EQ(loop_.stats().timers, 3u);
  loop_.call_later(10ms, stopper());
  run_loop();
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(loop_.stats().timers, 0u);
}

TEST_P(IOLoopTimers, TimeIsMonotonic) {
  static_assert(Clock::is_steady, "the loop's clock must not follow the wall clock");
  TimePoint previous = loop_.time();
  for (int i = 0; i < 100000; ++i) {
    TimePoint now = loop_.time();
    ASSERT_GE(now, previous);
    previous = now;
  }
}

// ---- [SECTION] File descriptors ---------------------------------------------

TEST_P(IOLoopHandlers, ReadHandlerIsCalledWithItsFdWhenDataArrivesOnAPipe) {
  Pipe pipe;
  std::vector<std::uint32_t> events;
  std::string received;
  loop_.add_handler(
      pipe.read_fd(),
      [&](int fd, std::uint32_t ready) {
        EXPECT_EQ(fd, pipe.read_fd());
        events.push_back(ready);
        received += read_some(fd).data;
        loop_.remove_handler(fd);
        loop_.stop();
      },
      IOLoop::READ);
  loop_.call_later(10ms, [&] { pipe.write("hello"); });
  run_loop();
  EXPECT_EQ(events, (std::vector<std::uint32_t>{IOLoop::READ}));
  EXPECT_EQ(received, "hello");
}

TEST_P(IOLoopHandlers, ReadHandlerOnASocketIsNotCalledForWritability) {
  // As Tornado's test_read_while_writeable: the socket is writable all
  // along, but only READ was asked for.
  TcpPair tcp;
  std::vector<std::uint32_t> events;
  loop_.add_handler(
      tcp.client(),
      [&](int fd, std::uint32_t ready) {
        events.push_back(ready);
        EXPECT_EQ(read_some(fd).data, "asdf");
        loop_.remove_handler(fd);
        loop_.stop();
      },
      IOLoop::READ);
  loop_.call_later(10ms, [&] { write_all(tcp.server(), "asdf"); });
  run_loop();
  EXPECT_EQ(events, (std::vector<std::uint32_t>{IOLoop::READ}));
}

TEST_P(IOLoopHandlers, WriteHandlerIsCalledForAWritableSocket) {
  TcpPair tcp;
  std::vector<std::uint32_t> events;
  loop_.add_handler(
      tcp.client(),
      [&](int fd, std::uint32_t ready) {
        events.push_back(ready);
        loop_.remove_handler(fd);
        loop_.stop();
      },
      IOLoop::WRITE);
  run_loop();
  EXPECT_EQ(events, (std::vector<std::uint32_t>{IOLoop::WRITE}));
}

TEST_P(IOLoopHandlers, UpdateHandlerSwitchesTheEventsWaitedFor) {
  TcpPair tcp;
  std::vector<std::uint32_t> events;
  loop_.add_handler(
      tcp.client(),
      [&](int fd, std::uint32_t ready) {
        events.push_back(ready);
        if (ready & IOLoop::WRITE) {
          loop_.update_handler(fd, IOLoop::READ);
          write_all(tcp.server(), "now read");
        } else {
          loop_.remove_handler(fd);
          loop_.stop();
        }
      },
      IOLoop::READ);  // nothing to read yet: no calls
  loop_.add_callback([&] { loop_.update_handler(tcp.client(), IOLoop::WRITE); });
  run_loop();
  EXPECT_EQ(events, (std::vector<std::uint32_t>{IOLoop::WRITE, IOLoop::READ}));
}

TEST_P(IOLoopHandlers, HandlerIsCalledAgainWhileDataIsUnreadUntilRemoved) {
  Pipe pipe;
  pipe.write("unread");
  int calls = 0;
  int calls_at_removal = -1;
  loop_.add_handler(
      pipe.read_fd(), [&](int, std::uint32_t) { ++calls; }, IOLoop::READ);
  loop_.call_later(20ms, [&] {
    calls_at_removal = calls;
    loop_.remove_handler(pipe.read_fd());
  });
  loop_.call_later(60ms, stopper());
  run_loop();
  EXPECT_GE(calls_at_removal, 2) << "level-triggered: unread data is reported again";
  EXPECT_EQ(calls, calls_at_removal) << "called after remove_handler";
  EXPECT_EQ(loop_.stats().handlers, 0u);
}

TEST_P(IOLoopHandlers, AnFdCanBeRegisteredAgainAfterRemoveHandler) {
  Pipe pipe;
  pipe.write("x");
  std::vector<std::string> called;
  loop_.add_handler(
      pipe.read_fd(), [&](int, std::uint32_t) { called.push_back("old"); }, IOLoop::READ);
  loop_.remove_handler(pipe.read_fd());
  loop_.add_handler(
      pipe.read_fd(),
      [&](int fd, std::uint32_t) {
        called.push_back("new");
        loop_.remove_handler(fd);
        loop_.stop();
      },
      IOLoop::READ);
  run_loop();
  EXPECT_EQ(called, (std::vector<std::string>{"new"}));
}

TEST_P(IOLoopHandlers, RemovingAnFdWithoutAHandlerIsIgnored) {
  // As Tornado's test_remove_without_add.
  TcpPair tcp;
  EXPECT_NO_THROW(loop_.remove_handler(tcp.client()));
  EXPECT_NO_THROW(loop_.remove_handler(-1));
  EXPECT_NO_THROW(loop_.remove_handler(1 << 20));
  EXPECT_EQ(loop_.stats().handlers, 0u);
}

TEST_P(IOLoopHandlers, AddingASecondHandlerForAnFdThrowsAndKeepsTheFirst) {
  // As Tornado's test_multiple_add.
  TcpPair tcp;
  std::vector<std::string> called;
  loop_.add_handler(
      tcp.client(),
      [&](int fd, std::uint32_t) {
        called.push_back("first");
        loop_.remove_handler(fd);
        loop_.stop();
      },
      IOLoop::READ);
  EXPECT_THROW(
      loop_.add_handler(
          tcp.client(), [&](int, std::uint32_t) { called.push_back("second"); }, IOLoop::READ),
      std::logic_error);
  write_all(tcp.server(), "x");
  run_loop();
  EXPECT_EQ(called, (std::vector<std::string>{"first"}));
}

TEST_P(IOLoopHandlers, UpdatingAnFdWithoutAHandlerThrows) {
  TcpPair tcp;
  EXPECT_THROW(loop_.update_handler(tcp.client(), IOLoop::READ), std::logic_error);
}

TEST_P(IOLoopHandlers, PeerClosingASocketGivesReadOrError) {
  TcpPair tcp;
  std::uint32_t events = 0;
  ReadResult read;
  loop_.add_handler(
      tcp.client(),
      [&](int fd, std::uint32_t ready) {
        events = ready;
        read = read_some(fd);
        loop_.remove_handler(fd);
        loop_.stop();
      },
      IOLoop::READ);
  loop_.call_later(10ms, [&] { tcp.close_server(); });
  run_loop();
  EXPECT_NE(events & (IOLoop::READ | IOLoop::ERROR), 0u);
  EXPECT_TRUE(read.eof);
}

TEST_P(IOLoopHandlers, PeerResettingASocketGivesError) {
  TcpPair tcp;
  std::uint32_t events = 0;
  loop_.add_handler(
      tcp.client(),
      [&](int fd, std::uint32_t ready) {
        events = ready;
        loop_.remove_handler(fd);
        loop_.stop();
      },
      IOLoop::READ);
  loop_.call_later(10ms, [&] { tcp.reset_server(); });
  run_loop();
  EXPECT_NE(events & IOLoop::ERROR, 0u);
}

TEST_P(IOLoopHandlers, ClosingAPipesWriteEndGivesReadOrError) {
  Pipe pipe;
  std::uint32_t events = 0;
  ReadResult read;
  loop_.add_handler(
      pipe.read_fd(),
      [&](int fd, std::uint32_t ready) {
        events = ready;
        read = read_some(fd);
        loop_.remove_handler(fd);
        loop_.stop();
      },
      IOLoop::READ);
  loop_.call_later(10ms, [&] { pipe.close_write(); });
  run_loop();
  EXPECT_NE(events & (IOLoop::READ | IOLoop::ERROR), 0u);
  EXPECT_TRUE(read.eof);
}

TEST_P(IOLoopHandlers, CloseWithAllFdsClosesTheRegisteredFds) {
  // As Tornado's test_close_file_object.
  IOLoop loop(GetParam());
  Pipe pipe;
  TcpPair tcp;
  loop.add_handler(
      pipe.read_fd(), [](int, std::uint32_t) {}, IOLoop::READ);
  loop.add_handler(
      tcp.client(), [](int, std::uint32_t) {}, IOLoop::READ);
  loop.close(true);
  EXPECT_TRUE(fd_is_closed(pipe.read_fd()));
  EXPECT_TRUE(fd_is_closed(tcp.client()));
  pipe.forget_read();
  tcp.forget_client();
  EXPECT_FALSE(fd_is_closed(pipe.write_fd())) << "an fd with no handler was closed";
  EXPECT_FALSE(fd_is_closed(tcp.server())) << "an fd with no handler was closed";
}

TEST_P(IOLoopHandlers, CloseWithoutAllFdsLeavesThemOpen) {
  IOLoop loop(GetParam());
  Pipe pipe;
  loop.add_handler(
      pipe.read_fd(), [](int, std::uint32_t) {}, IOLoop::READ);
  loop.close(false);
  EXPECT_FALSE(fd_is_closed(pipe.read_fd()));
  EXPECT_EQ(loop.stats().handlers, 0u);
}

// ---- [SECTION] Which loop is current ----------------------------------------

// Runs fn on a thread of its own, which starts with no current loop.
template <class F>
void on_fresh_thread(F fn) {
  std::thread thread(std::move(fn));
  thread.join();
}

TEST(CurrentLoop, IsNullOnAFreshThreadWithoutInstance) {
  bool none = false;
  on_fresh_thread([&none] { none = IOLoop::current(false) == nullptr; });
  EXPECT_TRUE(none);
}

TEST(CurrentLoop, CurrentCreatesALoopWhenTheThreadHasNone) {
  bool same = false;
  bool instance_same = false;
  int value = 0;
  on_fresh_thread([&] {
    IOLoop& loop = IOLoop::current();
    same = IOLoop::current(false) == &loop && &IOLoop::current() == &loop;
    instance_same = &IOLoop::instance() == &loop;
    value = loop.run_sync([] { return 7; }, 5s);
  });
  EXPECT_TRUE(same);
  EXPECT_TRUE(instance_same);
  EXPECT_EQ(value, 7);
}

TEST(CurrentLoop, ANewLoopBecomesCurrentOnlyIfTheThreadHasNone) {
  std::vector<bool> checks;
  on_fresh_thread([&checks] {
    IOLoop first;
    checks.push_back(IOLoop::current(false) == &first);
    IOLoop second;
    checks.push_back(IOLoop::current(false) == &first);
  });
  EXPECT_EQ(checks, (std::vector<bool>{true, true}));
}

TEST(CurrentLoop, MakeCurrentInstallAndClearCurrentChooseTheCurrentLoop) {
  std::vector<bool> checks;
  on_fresh_thread([&checks] {
    IOLoop a;
    IOLoop b;
    b.make_current();
    checks.push_back(IOLoop::current(false) == &b);
    a.install();
    checks.push_back(IOLoop::current(false) == &a);
    IOLoop::clear_current();
    checks.push_back(IOLoop::current(false) == nullptr);
  });
  EXPECT_EQ(checks, (std::vector<bool>{true, true, true}));
}

TEST(CurrentLoop, DestroyingTheCurrentLoopLeavesTheThreadWithoutOne) {
  bool none = false;
  on_fresh_thread([&none] {
    { IOLoop loop; }
    none = IOLoop::current(false) == nullptr;
  });
  EXPECT_TRUE(none);
}

TEST_P(IOLoopCurrent, ConfigureChoosesThePollerOfNewLoops) {
  struct Restore {
    PollerKind kind;
    ~Restore() { IOLoop::configure(kind); }
  } restore{IOLoop::configured_poller()};
  const PollerKind other = GetParam() == PollerKind::epoll ? PollerKind::poll : PollerKind::epoll;
  const std::string name = GetParam() == PollerKind::epoll ? "(epoll," : "(poll,";
  const std::string other_name = GetParam() == PollerKind::epoll ? "(poll," : "(epoll,";

  IOLoop::configure(GetParam());
  EXPECT_EQ(IOLoop::configured_poller(), GetParam());
  IOLoop configured;
  EXPECT_THAT(configured.describe(), HasSubstr(name));
  IOLoop chosen(other);  // an explicit choice wins
  EXPECT_THAT(chosen.describe(), HasSubstr(other_name));

  IOLoop::configure(other);
  IOLoop reconfigured;
  EXPECT_THAT(reconfigured.describe(), HasSubstr(other_name));
}

TEST_P(IOLoopCurrent, StartMakesTheLoopCurrentWhileItRuns) {
  // As Tornado's TestIOLoopCurrent.test_current.
  IOLoop other(GetParam());
  ASSERT_EQ(IOLoop::current(false), &loop_);
  IOLoop* inside = nullptr;
  other.add_callback([&] {
    inside = IOLoop::current(false);
    other.stop();
  });
  run_bounded(other);
  EXPECT_EQ(inside, &other);
  EXPECT_EQ(IOLoop::current(false), &loop_) << "the previous current loop was not restored";
}

// ---- [SECTION] PeriodicCallback ---------------------------------------------

// The deadlines a PeriodicCallback created at ioloop_test.cc:`line` gave its
// timers, in order, read from trace events.
std::vector<std::int64_t> periodic_deadlines(const TraceCapture& trace, int line) {
  const std::string site = log::cat("ioloop_test.cc:", line);
  std::vector<std::int64_t> deadlines;
  for (const trace::Event& e : trace.events(trace::Kind::timer_added)) {
    if (trace.name(e).find(site) != std::string::npos) {
      deadlines.push_back(static_cast<std::int64_t>(e.a));
    }
  }
  return deadlines;
}

TEST_P(PeriodicCallbackTest, RunsRepeatedlyNoSoonerThanItsPeriod) {
  constexpr auto kPeriod = 20ms;
  std::vector<TimePoint> runs;
  PeriodicCallback periodic(
      [&] {
        runs.push_back(loop_.time());
        if (runs.size() == 5) loop_.stop();
      },
      kPeriod);
  const TimePoint started = loop_.time();
  periodic.start();
  run_loop();
  ASSERT_EQ(runs.size(), 5u);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_GE(runs[i] - started, kPeriod * static_cast<int>(i + 1)) << "run " << i + 1;
  }
}

TEST_P(PeriodicCallbackTest, StopStopsItAndStartResumesIt) {
  int runs = 0;
  PeriodicCallback* self = nullptr;
  PeriodicCallback periodic(
      [&] {
        if (++runs == 2) {
          self->stop();
          loop_.call_later(50ms, stopper());  // long enough for several more periods
        }
        if (runs == 3) loop_.stop();
      },
      5ms);
  self = &periodic;
  EXPECT_FALSE(periodic.is_running());
  periodic.start();
  EXPECT_TRUE(periodic.is_running());
  run_loop();
  EXPECT_EQ(runs, 2);
  EXPECT_FALSE(periodic.is_running());

  periodic.start();
  run_loop();
  EXPECT_EQ(runs, 3);
}

TEST_P(PeriodicCallbackTest, RejectsANonPositivePeriod) {
  auto noop = [] {};
  EXPECT_THROW(PeriodicCallback(noop, Duration::zero()), std::invalid_argument);
  EXPECT_THROW(PeriodicCallback(noop, -1ms), std::invalid_argument);
}

TEST_P(PeriodicCallbackTest, SkipsRunsMissedWhileTheLoopWasBlocked) {
  constexpr auto kPeriod = 20ms;
  loop_.set_blocking_log_threshold(Duration::zero());  // the block is deliberate
  std::vector<TimePoint> runs;
  TimePoint block_ended;
  PeriodicCallback periodic(
      [&] {
        runs.push_back(loop_.time());
        if (runs.size() == 1) {
          std::this_thread::sleep_for(kPeriod * 5 + kPeriod / 2);
          block_ended = loop_.time();
        }
        if (runs.size() == 4) loop_.stop();
      },
      kPeriod);
  periodic.start();
  run_loop();
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_GE(periodic.skipped(), 5u);
  // Bunched catch-up runs would all land right after the block; skipping
  // leaves at most one there.
  auto right_after = std::count_if(runs.begin() + 1, runs.end(),
                                   [&](TimePoint t) { return t < block_ended + kPeriod; });
  EXPECT_LE(right_after, 1);
}

TEST_P(PeriodicCallbackTest, WithoutJitterItsDeadlinesStayOnItsGrid) {
  TraceCapture trace;
  constexpr auto kPeriod = 10ms;
  std::vector<std::uint64_t> skipped_at_run;
  PeriodicCallback* self = nullptr;
  auto run = [&] {
    skipped_at_run.push_back(self->skipped());
    if (skipped_at_run.size() == 6) {
      self->stop();
      loop_.stop();
    }
  };
  const int line = __LINE__ + 1;
  PeriodicCallback periodic(run, kPeriod);
  self = &periodic;
  periodic.start();
  run_loop();
  std::vector<std::int64_t> deadlines = periodic_deadlines(trace, line);
  ASSERT_EQ(deadlines.size(), skipped_at_run.size());
  const auto period_ns = Duration(kPeriod).count();
  for (std::size_t j = 1; j < deadlines.size(); ++j) {
    // A late loop skips whole periods; it never shifts the grid.
    const auto periods = static_cast<std::int64_t>(1 + skipped_at_run[j] - skipped_at_run[j - 1]);
    EXPECT_EQ(deadlines[j] - deadlines[j - 1], periods * period_ns) << "interval " << j;
  }
}

TEST_P(PeriodicCallbackTest, JitterScalesEachIntervalWithinItsBounds) {
  TraceCapture trace;
  constexpr auto kPeriod = 10ms;
  constexpr double kJitter = 0.5;  // each interval in [0.75, 1.25] periods
  std::vector<std::uint64_t> skipped_at_run;
  PeriodicCallback* self = nullptr;
  auto run = [&] {
    skipped_at_run.push_back(self->skipped());
    if (skipped_at_run.size() == 12) {
      self->stop();
      loop_.stop();
    }
  };
  const int line = __LINE__ + 1;
  PeriodicCallback periodic(run, kPeriod, kJitter);
  self = &periodic;
  periodic.start();
  run_loop();
  std::vector<std::int64_t> deadlines = periodic_deadlines(trace, line);
  ASSERT_EQ(deadlines.size(), skipped_at_run.size());
  const auto period_ns = static_cast<double>(Duration(kPeriod).count());
  std::vector<double> factors;
  for (std::size_t j = 1; j < deadlines.size(); ++j) {
    const auto periods = static_cast<double>(1 + skipped_at_run[j] - skipped_at_run[j - 1]);
    const auto interval = static_cast<double>(deadlines[j] - deadlines[j - 1]);
    factors.push_back(interval / (periods * period_ns));
  }
  for (double f : factors) {
    EXPECT_GE(f, 1 - kJitter / 2 - 1e-6);
    EXPECT_LE(f, 1 + kJitter / 2);
  }
  auto [low, high] = std::minmax_element(factors.begin(), factors.end());
  EXPECT_GT(*high - *low, 0.001) << "the intervals did not vary";
}

TEST_P(PeriodicCallbackTest, CoroutineCallbackNeverOverlapsItself) {
  // Each run sleeps for 3.5 periods; the next starts only once it is done.
  Overlap overlap;
  PeriodicCallback periodic(
      [&] {
        if (overlap.finished >= 4) loop_.stop();
        return slow_run(&overlap, 35ms);
      },
      10ms);
  periodic.start();
  run_loop();
  EXPECT_GE(overlap.finished, 4);
  EXPECT_EQ(overlap.max_in_flight, 1);
}

TEST_P(PeriodicCallbackTest, DestroyingItWhileItsCoroutineRunsIsSafe) {
  Overlap overlap;
  std::unique_ptr<PeriodicCallback> periodic;
  periodic.reset(new PeriodicCallback(
      [&] {
        Future<void> run = slow_run(&overlap, 30ms);
        loop_.add_callback([&] { periodic.reset(); });  // while `run` sleeps
        loop_.add_future(run, [this](Future<void>) { loop_.call_later(50ms, stopper()); });
        return run;
      },
      10ms));
  periodic->start();
  run_loop();
  EXPECT_EQ(periodic, nullptr);
  EXPECT_EQ(overlap.started, 1);
  EXPECT_EQ(overlap.finished, 1);
}

TEST_P(PeriodicCallbackTest, DestroyingItFromItsOwnCallbackIsSafe) {
  int runs = 0;
  std::unique_ptr<PeriodicCallback> periodic;
  periodic.reset(new PeriodicCallback(
      [&] {
        ++runs;
        periodic.reset();
      },
      5ms));
  periodic->start();
  loop_.call_later(50ms, stopper());
  run_loop();
  EXPECT_EQ(runs, 1);
}

TEST_P(PeriodicCallbackTest, ExceptionIsLoggedAndItKeepsRunning) {
  LogCapture log;
  int runs = 0;
  PeriodicCallback periodic(
      [&] {
        if (++runs == 3) loop_.stop();
        throw std::runtime_error("tick failed");
      },
      5ms);
  periodic.start();
  run_loop();
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(log.count("tick failed"), 3u) << log.text();
}

TEST_P(PeriodicCallbackTest, FailingCoroutineIsLoggedAndItKeepsRunning) {
  LogCapture log;
  int runs = 0;
  PeriodicCallback periodic(
      [&] {
        if (runs == 3) loop_.stop();
        return failing_run(&runs);
      },
      5ms);
  periodic.start();
  run_loop();
  EXPECT_GE(runs, 3);
  EXPECT_GE(log.count("coroutine tick failed"), 3u) << log.text();
}

// ---- [SECTION] Executors and futures ----------------------------------------

TEST_P(IOLoopExecutors, RunInExecutorWithNullRunsOffTheLoopAndResolvesOnIt) {
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id job_thread;
  std::thread::id resumed_on;
  int value = loop_.run_sync(
      [&]() -> Future<int> {
        int v = co_await loop_.run_in_executor(nullptr, [&job_thread] {
          job_thread = std::this_thread::get_id();
          return 6 * 7;
        });
        resumed_on = std::this_thread::get_id();
        co_return v;
      },
      5s);
  EXPECT_EQ(value, 42);
  EXPECT_NE(job_thread, loop_thread);
  EXPECT_EQ(resumed_on, loop_thread);
}

TEST_P(IOLoopExecutors, RunInExecutorDeliversExceptionsOnTheLoopThread) {
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::string message;
  std::thread::id caught_on;
  loop_.run_sync(
      [&]() -> Future<void> {
        try {
          (void)co_await loop_.run_in_executor(
              nullptr, []() -> int { throw std::runtime_error("job failed"); });
        } catch (const std::runtime_error& e) {
          message = e.what();
          caught_on = std::this_thread::get_id();
        }
      },
      5s);
  EXPECT_EQ(message, "job failed");
  EXPECT_EQ(caught_on, loop_thread);
}

TEST_P(IOLoopExecutors, RunInExecutorPassesItsArguments) {
  int sum = loop_.run_sync(
      [this] {
        return loop_.run_in_executor(
            nullptr, [](int a, int b) { return a + b; }, 2, 3);
      },
      5s);
  EXPECT_EQ(sum, 5);
}

TEST_P(IOLoopExecutors, SetDefaultExecutorWithAThreadPoolIsUsedForNull) {
  auto pool = std::make_shared<ThreadPoolExecutor>(1);
  std::promise<std::thread::id> worker;
  std::future<std::thread::id> worker_id = worker.get_future();
  pool->execute([w = std::move(worker)]() mutable { w.set_value(std::this_thread::get_id()); });
  const std::thread::id pool_thread = worker_id.get();
  loop_.set_default_executor(pool);

  std::thread::id job_thread = loop_.run_sync(
      [this] { return loop_.run_in_executor(nullptr, [] { return std::this_thread::get_id(); }); },
      5s);
  EXPECT_EQ(job_thread, pool_thread);
  EXPECT_NE(job_thread, std::this_thread::get_id());
}

TEST_P(IOLoopExecutors, SetDefaultExecutorWithADummyExecutorRunsJobsInline) {
  loop_.set_default_executor(std::make_shared<DummyExecutor>());
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id job_thread;
  bool done_at_once = true;
  int value = loop_.run_sync(
      [&]() -> Future<int> {
        Future<int> job = loop_.run_in_executor(nullptr, [&job_thread] {
          job_thread = std::this_thread::get_id();
          return 5;
        });
        done_at_once = job.done();  // the result still comes back through the loop
        co_return co_await job;
      },
      5s);
  EXPECT_EQ(value, 5);
  EXPECT_EQ(job_thread, loop_thread);
  EXPECT_FALSE(done_at_once);
}

TEST_P(IOLoopExecutors, RunOnExecutorMakesAFunctionReturnAFuture) {
  ThreadPoolExecutor pool(2);
  auto doubled = run_on_executor(pool, [](int x) { return 2 * x; });
  EXPECT_EQ(loop_.run_sync([&] { return doubled(21); }, 5s), 42);
}

TEST_P(IOLoopExecutors, AddFutureCallsBackOnTheLoopThreadWhenTheFutureIsDone) {
  // As Tornado's test_add_future_threads.
  const std::thread::id loop_thread = std::this_thread::get_id();
  Future<int> job = loop_.run_in_executor(nullptr, [] { return 9; });
  std::optional<int> result;
  std::thread::id called_on;
  loop_.add_future(job, [&](Future<int> done) {
    result = done.result();
    called_on = std::this_thread::get_id();
    loop_.stop();
  });
  run_loop();
  EXPECT_EQ(result, 9);
  EXPECT_EQ(called_on, loop_thread);
}

// ---- [SECTION] stats, describe, close ---------------------------------------

TEST_P(IOLoopStats, StatsCountCallbacksTimersHandlersAndSuspendedCoroutines) {
  Pipe pipe;
  Future<void> never;
  bool resumed = false;
  bool destroyed = false;
  loop_.add_callback([] {});
  loop_.add_callback([] {});
  loop_.call_later(1h, [] {});
  loop_.call_later(1h, [] {});
  loop_.remove_timeout(loop_.call_later(1h, [] {}));
  loop_.add_handler(
      pipe.read_fd(), [](int, std::uint32_t) {}, IOLoop::READ);
  Future<void> task = wait_forever(never, &resumed, &destroyed);

  IOLoop::Stats stats = loop_.stats();
  EXPECT_EQ(stats.callbacks, 2u);
  EXPECT_EQ(stats.timers, 2u);
  EXPECT_EQ(stats.timer_heap, 3u);
  EXPECT_EQ(stats.handlers, 1u);
  EXPECT_EQ(stats.suspended, 1u);
  EXPECT_EQ(stats.iterations, 0u);

  loop_.stop();
  loop_.start();  // one iteration runs the two callbacks
  stats = loop_.stats();
  EXPECT_EQ(stats.callbacks, 0u);
  EXPECT_EQ(stats.iterations, 1u);
  loop_.remove_handler(pipe.read_fd());
  loop_.close();  // destroys the coroutine while its flags still exist
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(resumed);
}

TEST_P(IOLoopStats, DescribeNamesThePollerTheStateAndTheCounts) {
  const std::string poller = GetParam() == PollerKind::epoll ? "epoll" : "poll";
  Pipe pipe;
  loop_.add_callback([] {});
  loop_.call_later(1h, [] {});
  loop_.add_handler(
      pipe.read_fd(), [](int, std::uint32_t) {}, IOLoop::READ);
  const std::string idle = loop_.describe();
  EXPECT_THAT(idle, HasSubstr("IOLoop#" + std::to_string(loop_.id()) + " (" + poller + ", idle)"));
  EXPECT_THAT(idle, HasSubstr("1 callbacks"));
  EXPECT_THAT(idle, HasSubstr("1 timers"));
  EXPECT_THAT(idle, HasSubstr("1 handlers"));
  EXPECT_THAT(idle, HasSubstr("0 suspended coroutines"));

  std::string running;
  loop_.add_callback([&] {
    running = loop_.describe();
    loop_.stop();
  });
  run_loop();
  EXPECT_THAT(running, HasSubstr("(" + poller + ", running)"));

  loop_.remove_handler(pipe.read_fd());
  loop_.close();
  EXPECT_THAT(loop_.describe(), HasSubstr("(" + poller + ", closed)"));
}

TEST_P(IOLoopStats, CloseDestroysCoroutinesStillSuspendedOnTheLoop) {
  Future<void> never;
  bool never_resumed = false;
  bool never_destroyed = false;
  bool sleeper_resumed = false;
  bool sleeper_destroyed = false;
  Future<void> waiting = wait_forever(never, &never_resumed, &never_destroyed);
  Future<void> sleeping = sleep_on_loop(1h, &sleeper_resumed, &sleeper_destroyed);
  loop_.stop();
  loop_.start();  // one iteration: both stay suspended
  ASSERT_EQ(loop_.stats().suspended, 2u);

  loop_.close();
  EXPECT_TRUE(never_destroyed);
  EXPECT_TRUE(sleeper_destroyed);
  EXPECT_FALSE(never_resumed);
  EXPECT_FALSE(sleeper_resumed);
  EXPECT_EQ(loop_.stats().suspended, 0u);
  // Resolving what a destroyed coroutine waited for must not resume it.
  never.set_result();
  EXPECT_FALSE(never_resumed);
  EXPECT_FALSE(waiting.done());
  EXPECT_FALSE(sleeping.done());
}

TEST_P(IOLoopStats, CloseDropsPendingCallbacksAndTimersAndFreesTheirCaptures) {
  auto captured = std::make_shared<int>(0);
  loop_.add_callback([captured] { ++*captured; });
  loop_.call_later(1h, [captured] { ++*captured; });
  ASSERT_EQ(captured.use_count(), 3);
  loop_.close();
  EXPECT_EQ(captured.use_count(), 1);
  EXPECT_EQ(*captured, 0);
  IOLoop::Stats stats = loop_.stats();
  EXPECT_EQ(stats.callbacks, 0u);
  EXPECT_EQ(stats.timers, 0u);
}

}  // namespace
}  // namespace tornado
