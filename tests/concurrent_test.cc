// Specification of tornado/concurrent.h: Future<T> and Future<void>,
// coroutines returning a Future, chain_future, the *_unless_cancelled helpers,
// and the executors (with IOLoop::run_in_executor and run_on_executor).
// Partly a port of Tornado's tornado/test/concurrent_test.py. Runs under TSan.
#include "tornado/concurrent.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "support.h"
#include "tornado/ioloop.h"
#include "tornado/log.h"
#include "tornado/testing.h"

namespace {

using namespace std::chrono_literals;
using tornado::CancelledError;
using tornado::chain_future;
using tornado::DummyExecutor;
using tornado::Future;
using tornado::InvalidStateError;
using tornado::IOLoop;
using tornado::ThreadPoolExecutor;

// Upper bound for anything a test waits for, far below ctest's 60 s.
constexpr auto kTimeout = 10s;

using TestLoop = tornado::testing::CurrentLoop;
using tornado::testing::run_one_iteration;

// Runs single iterations until `f` is done; false if it never gets there.
template <class T>
bool run_until_done(IOLoop& loop, const Future<T>& f) {
  for (int i = 0; i < 1000 && !f.done(); ++i) run_one_iteration(loop);
  return f.done();
}

using LogCapture = tornado::testing::LogCapture;
using tornado::test_support::failure_of;
using tornado::test_support::wait;

// A count that worker threads raise and the test thread waits on.
class Counter {
 public:
  // Notifies under the lock, so a waiter that sees the new count cannot
  // destroy the counter while add() still touches it.
  void add() {
    std::lock_guard lock(mutex_);
    ++value_;
    changed_.notify_all();
  }
  // Waits (at most kTimeout) until the count reaches n.
  bool reaches(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kTimeout, [&] { return value_ >= n; });
  }
  int value() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int value_ = 0;
};

// Blocks worker jobs until the test opens it (or kTimeout passes, so a
// failing test still ends).
class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    opened_.wait_for(lock, kTimeout, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

// Opens a gate when the test leaves its scope, even through a failed ASSERT,
// so that jobs blocked on it let the pool join quickly.
struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.open(); }
};

// ---- Coroutines used by the tests -------------------------------------------
// Parameters are values or pointers: a coroutine outlives the call that
// started it, so it must not hold references to the caller's temporaries.

Future<int> add_one_after(Future<int> gate, int* stage) {
  *stage = 1;
  int value = co_await gate;
  *stage = 2;
  co_return value + 1;
}

Future<void> note_when_resumed(Future<void> gate, std::vector<std::string>* events) {
  co_await gate;
  events->push_back("coroutine resumed");
}

Future<int> sum_twice(Future<int> ready) {
  int a = co_await ready;
  int b = co_await ready;
  co_return a + b;
}

Future<int> fail_after(Future<void> gate, std::string message) {
  co_await gate;
  throw std::runtime_error(message);
}

Future<int> forward(Future<int> inner) {
  int value = co_await inner;
  co_return value;
}

Future<int> translate_failure(Future<int> inner) {
  try {
    co_return co_await inner;
  } catch (const std::runtime_error& e) {
    throw std::out_of_range(std::string("translated: ") + e.what());
  }
}

Future<int> swallow_failure(Future<int> inner) {
  try {
    co_return co_await inner;
  } catch (const std::runtime_error&) {
  }
  co_return 42;
}

Future<int> throw_at_once(bool fail) {
  if (fail) throw std::invalid_argument("rejected at once");
  co_return 1;
}

Future<std::unique_ptr<int>> box_after(Future<void> gate, int value) {
  co_await gate;
  co_return std::make_unique<int>(value);
}

Future<int> unbox_doubled(Future<std::unique_ptr<int>> box) {
  std::unique_ptr<int> value = co_await std::move(box);
  co_return *value * 2;
}

Future<bool> caught_error(Future<int> f) {
  try {
    co_await f;
  } catch (const std::runtime_error&) {
    co_return true;
  }
  co_return false;
}

Future<long> sum_of(std::vector<Future<int>> futures) {
  long total = 0;
  for (Future<int>& f : futures) total += co_await f;
  co_return total;
}

template <class F>
Future<int> await_call(F call) {
  int value = co_await call();
  co_return value;
}

// ---- Future: state --------------------------------------------------------

TEST(Future, StartsPendingAndResultThrowsInvalidStateError) {
  TestLoop loop;
  Future<int> f;
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.cancelled());
  EXPECT_THROW((void)f.result(), InvalidStateError);
  EXPECT_THROW((void)f.exception(), InvalidStateError);
}

TEST(Future, SetResultMakesItDoneWithTheValue) {
  TestLoop loop;
  Future<int> f;
  f.set_result(42);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
  EXPECT_EQ(f.result(), 42);
  EXPECT_TRUE(f.exception() == nullptr);
}

TEST(Future, ResultRethrowsTheExceptionItWasSetWith) {
  TestLoop loop;
  Future<int> f;
  f.set_exception(std::runtime_error("boom"));
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
  EXPECT_THROW((void)f.result(), std::runtime_error);
  std::exception_ptr error = f.exception();
  ASSERT_TRUE(error != nullptr);
  EXPECT_THROW(std::rethrow_exception(error), std::runtime_error);
  EXPECT_EQ(tornado::log::describe(error), "boom");
}

TEST(Future, SetExceptionAcceptsAnExceptionPtr) {
  TestLoop loop;
  Future<int> f;
  f.set_exception(std::make_exception_ptr(std::logic_error("from a pointer")));
  EXPECT_THROW((void)f.result(), std::logic_error);
}

TEST(Future, VoidFutureHasAResultButNoValue) {
  TestLoop loop;
  Future<void> ok;
  ok.set_result();
  EXPECT_TRUE(ok.done());
  EXPECT_NO_THROW(ok.result());
  EXPECT_TRUE(ok.exception() == nullptr);

  Future<> failed;  // Future<> is Future<void>
  failed.set_exception(std::runtime_error("void failure"));
  EXPECT_THROW(failed.result(), std::runtime_error);
}

TEST(Future, SettingADoneFutureThrowsInvalidStateError) {
  TestLoop loop;
  Future<int> f;
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), InvalidStateError);
  EXPECT_THROW(f.set_exception(std::runtime_error("late")), InvalidStateError);
  EXPECT_EQ(f.result(), 1);

  Future<void> v;
  v.set_exception(std::runtime_error("first"));
  EXPECT_THROW(v.set_result(), InvalidStateError);
  EXPECT_THROW(v.set_exception(std::runtime_error("second")), InvalidStateError);
  EXPECT_EQ(tornado::log::describe(v.exception()), "first");
}

TEST(Future, CancelledFutureResultThrowsCancelledError) {
  TestLoop loop;
  Future<int> f;
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.done());
  EXPECT_TRUE(f.cancelled());
  EXPECT_THROW((void)f.result(), CancelledError);
  EXPECT_THROW((void)f.exception(), CancelledError);
  EXPECT_THROW(f.set_result(1), InvalidStateError);
  EXPECT_FALSE(f.cancel());  // already done: cancelled once is enough
}

TEST(Future, CancelOfADoneFutureReturnsFalseAndKeepsTheResult) {
  TestLoop loop;
  Future<int> f;
  f.set_result(5);
  EXPECT_FALSE(f.cancel());
  EXPECT_FALSE(f.cancelled());
  EXPECT_EQ(f.result(), 5);

  Future<void> v;
  v.set_result();
  EXPECT_FALSE(v.cancel());
  EXPECT_FALSE(v.cancelled());
}

TEST(Future, CopiesShareOneState) {
  TestLoop loop;
  Future<int> a;
  Future<int> b = a;
  Future<int> other;
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == other);
  b.set_result(3);
  EXPECT_TRUE(a.done());
  EXPECT_EQ(a.result(), 3);
  EXPECT_FALSE(other.done());
}

TEST(Future, DescribeShowsTheStateAndWhereTheFutureWasCreated) {
  TestLoop loop;
  const std::source_location here = std::source_location::current();
  const std::string site = tornado::Site{here}.describe();
  auto starts_with = [](const std::string& text, std::string_view prefix) {
    return text.rfind(prefix, 0) == 0;
  };

  Future<int> f(here);
  EXPECT_TRUE(starts_with(f.describe(), "Future(pending) ")) << f.describe();
  EXPECT_NE(f.describe().find(site), std::string::npos) << f.describe();
  f.set_result(1);
  EXPECT_TRUE(starts_with(f.describe(), "Future(result) ")) << f.describe();

  Future<int> failed(here);
  failed.set_exception(std::runtime_error("x"));
  EXPECT_TRUE(starts_with(failed.describe(), "Future(exception) ")) << failed.describe();
  (void)failed.exception();

  Future<void> cancelled(here);
  cancelled.cancel();
  EXPECT_TRUE(starts_with(cancelled.describe(), "Future(cancelled) ")) << cancelled.describe();

  Future<int> labelled(tornado::Site{here, tornado::intern_label("answer")});
  const std::string labelled_site = "answer at concurrent_test.cc:" + std::to_string(here.line());
  EXPECT_NE(labelled.describe().find(labelled_site), std::string::npos) << labelled.describe();
}

// ---- Future: done-callbacks -------------------------------------------------

TEST(Future, DoneCallbackRunsOnALaterIterationNeverInsideSetResult) {
  TestLoop loop;
  Future<int> f;
  int calls = 0;
  int seen = 0;
  bool same_future = false;
  f.add_done_callback([&](Future<int> done) {
    ++calls;
    seen = done.result();
    same_future = done == f;
  });
  f.set_result(7);
  EXPECT_EQ(calls, 0);  // set_result() only scheduled it
  run_one_iteration(loop);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, 7);
  EXPECT_TRUE(same_future);
  run_one_iteration(loop);
  EXPECT_EQ(calls, 1);  // once only
}

TEST(Future, DoneCallbackAddedAfterDoneStillRunsThroughTheLoop) {
  TestLoop loop;
  Future<void> f;
  f.set_result();
  int calls = 0;
  f.add_done_callback([&calls](const Future<void>&) { ++calls; });
  EXPECT_EQ(calls, 0);
  run_one_iteration(loop);
  EXPECT_EQ(calls, 1);
}

TEST(Future, DoneCallbacksRunInTheOrderTheyWereAdded) {
  TestLoop loop;
  Future<int> f;
  std::vector<int> order;
  for (int i = 1; i <= 3; ++i) {
    f.add_done_callback([&order, i](const Future<int>&) { order.push_back(i); });
  }
  f.set_result(0);
  f.add_done_callback([&order](const Future<int>&) { order.push_back(4); });
  run_one_iteration(loop);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

// The first coroutine to wait is kept inside the future (no allocation);
// later coroutines and done-callbacks are listed. Together they still resume
// in the order they started waiting.
TEST(Future, CoroutinesAndDoneCallbacksResumeInTheOrderTheyStartedWaiting) {
  TestLoop loop;
  Future<int> f;
  std::vector<std::string> order;
  auto waiter = [&](std::string name) -> Future<void> {
    int value = co_await f;
    order.push_back(name + "=" + std::to_string(value));
  };
  Future<void> a = waiter("a");
  f.add_done_callback([&](const Future<int>&) { order.push_back("cb1"); });
  Future<void> b = waiter("b");
  Future<void> c = waiter("c");
  f.add_done_callback([&](const Future<int>&) { order.push_back("cb2"); });
  f.set_result(7);
  EXPECT_TRUE(order.empty());  // nothing runs inside set_result
  run_one_iteration(loop);
  EXPECT_EQ(order, (std::vector<std::string>{"a=7", "cb1", "b=7", "c=7", "cb2"}));
  EXPECT_TRUE(a.done() && b.done() && c.done());
}

TEST(Future, AFutureWaitedOnByManyCoroutinesResumesEachOnce) {
  TestLoop loop;
  Future<int> f;
  int sum = 0;
  std::vector<Future<void>> waiting;
  for (int i = 0; i < 1000; ++i) {
    waiting.push_back(
        [](Future<int> future, int& total) -> Future<void> { total += co_await future; }(f, sum));
  }
  f.set_result(1);
  run_one_iteration(loop);
  EXPECT_EQ(sum, 1000);
}

// Copies of a Future may be made and dropped on other threads (a job for an
// executor holds one); only the count is shared, and it must stay exact.
TEST(Future, CopiesMadeAndDroppedOnOtherThreadsKeepAnExactCount) {
  TestLoop loop;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  {
    Future<int> f;
    f.add_done_callback([token](const Future<int>&) {});
    token.reset();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([f] {
        for (int i = 0; i < 10000; ++i) {
          Future<int> copy = f;
          Future<int> moved = std::move(copy);
          (void)moved;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());  // the last copy freed the state and its callback
}

TEST(Future, DoneCallbackSeesCancellationAndFailure) {
  TestLoop loop;
  Future<int> cancelled;
  Future<int> failed;
  int cancelled_calls = 0;
  int failed_calls = 0;
  cancelled.add_done_callback(
      [&](const Future<int>& done) { cancelled_calls += done.cancelled() ? 1 : 100; });
  failed.add_done_callback([&](const Future<int>& done) {
    failed_calls += tornado::log::describe(done.exception()) == "bad" ? 1 : 100;
  });
  cancelled.cancel();
  failed.set_exception(std::runtime_error("bad"));
  run_one_iteration(loop);
  EXPECT_EQ(cancelled_calls, 1);
  EXPECT_EQ(failed_calls, 1);
}

TEST(Future, ExceptionInADoneCallbackIsLoggedWithItsName) {
  TestLoop loop;
  LogCapture log;
  Future<int> f;
  f.add_done_callback(
      tornado::named("on-answer", [](const Future<int>&) { throw std::runtime_error("oops"); }));
  f.set_result(1);
  run_one_iteration(loop);
  EXPECT_EQ(log.count("Exception in callback on-answer at concurrent_test.cc:"), 1u);
  EXPECT_EQ(log.count("oops"), 1u);
}

TEST(Future, AbandonedPendingFutureFreesItsCallbacks) {
  TestLoop loop;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  {
    Future<int> f;
    f.add_done_callback([token](const Future<int>&) {});
    token.reset();
    EXPECT_FALSE(watch.expired());  // the callback holds it
  }
  EXPECT_TRUE(watch.expired());  // no cycle kept the future or its callback alive
}

// ---- Future: exceptions nobody looked at ------------------------------------

TEST(Future, UnretrievedExceptionIsLoggedWhenTheLastCopyIsDestroyed) {
  TestLoop loop;
  LogCapture log;
  {
    Future<int> f;
    f.set_exception(std::runtime_error("nobody looked"));
    { Future<int> copy = f; }
    EXPECT_EQ(log.count("Future exception was never retrieved"), 0u);
  }
  EXPECT_EQ(log.count("Future exception was never retrieved"), 1u);
  EXPECT_EQ(log.count("nobody looked"), 1u);
}

TEST(Future, RetrievedExceptionIsNotLogged) {
  TestLoop loop;
  LogCapture log;
  {
    Future<int> by_result;
    by_result.set_exception(std::runtime_error("seen"));
    EXPECT_THROW((void)by_result.result(), std::runtime_error);

    Future<void> by_exception;
    by_exception.set_exception(std::runtime_error("seen"));
    EXPECT_TRUE(by_exception.exception() != nullptr);

    Future<int> by_await;
    by_await.set_exception(std::runtime_error("seen"));
    Future<bool> caught = caught_error(by_await);
    ASSERT_TRUE(caught.done());
    EXPECT_TRUE(caught.result());
  }
  EXPECT_EQ(log.count("never retrieved"), 0u);
}

TEST(Future, FailedCoroutineNobodyAwaitsIsLogged) {
  TestLoop loop;
  LogCapture log;
  { Future<int> f = throw_at_once(true); }
  EXPECT_EQ(log.count("Future exception was never retrieved"), 1u);
  EXPECT_EQ(log.count("rejected at once"), 1u);
}

// ---- Future: rvalue result ---------------------------------------------------

TEST(Future, RvalueResultMovesAMoveOnlyValueOut) {
  TestLoop loop;
  Future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(5));
  std::unique_ptr<int> value = std::move(f).result();
  ASSERT_TRUE(value != nullptr);
  EXPECT_EQ(*value, 5);
}

TEST(Future, RvalueResultCopiesWhileOtherCopiesOfTheFutureExist) {
  TestLoop loop;
  Future<std::string> f;
  Future<std::string> other = f;
  f.set_result("shared");
  EXPECT_EQ(std::move(f).result(), "shared");
  EXPECT_EQ(other.result(), "shared");  // still there for the other copy
}

// ---- Coroutines ----------------------------------------------------------------

TEST(Coroutine, RunsEagerlyToItsFirstSuspension) {
  TestLoop loop;
  Future<int> gate;
  int stage = 0;
  Future<int> f = add_one_after(gate, &stage);
  EXPECT_EQ(stage, 1);  // ran before any loop iteration
  EXPECT_FALSE(f.done());
  EXPECT_EQ(loop.stats().iterations, 0u);
  EXPECT_EQ(loop.stats().suspended, 1u);

  gate.set_result(41);
  EXPECT_EQ(stage, 1);  // resuming was scheduled, not done inside set_result()
  run_one_iteration(loop);
  EXPECT_EQ(stage, 2);
  ASSERT_TRUE(f.done());
  EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(loop.stats().suspended, 0u);
}

TEST(Coroutine, PendingAwaitResumesThroughTheLoopAfterSetResultReturns) {
  TestLoop loop;
  Future<void> gate;
  std::vector<std::string> events;
  Future<void> f = note_when_resumed(gate, &events);
  gate.set_result();
  events.push_back("set_result returned");
  run_one_iteration(loop);
  EXPECT_EQ(events, (std::vector<std::string>{"set_result returned", "coroutine resumed"}));
  EXPECT_TRUE(f.done());
}

TEST(Coroutine, AwaitingADoneFutureContinuesWithoutALoopIteration) {
  TestLoop loop;
  Future<int> ready;
  ready.set_result(21);
  int marker = 0;
  loop.add_callback([&marker] { ++marker; });

  Future<int> f = sum_twice(ready);
  ASSERT_TRUE(f.done());  // both awaits continued at once
  EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(marker, 0);
  EXPECT_EQ(loop.stats().iterations, 0u);

  run_one_iteration(loop);
  EXPECT_EQ(marker, 1);
}

TEST(Coroutine, ExceptionsPropagateThroughAwaitChains) {
  TestLoop loop;
  Future<void> gate;
  Future<int> outer = forward(forward(fail_after(gate, "deep")));
  EXPECT_FALSE(outer.done());
  gate.set_result();
  EXPECT_THROW(wait(loop, outer), std::runtime_error);
  EXPECT_EQ(tornado::log::describe(outer.exception()), "deep");
}

TEST(Coroutine, CanReplaceAnAwaitedException) {
  TestLoop loop;
  Future<void> gate;
  Future<int> f = translate_failure(fail_after(gate, "original"));
  gate.set_result();
  EXPECT_THROW(wait(loop, f), std::out_of_range);
  EXPECT_EQ(tornado::log::describe(f.exception()), "translated: original");
}

TEST(Coroutine, CanSwallowAnAwaitedException) {
  TestLoop loop;
  Future<void> gate;
  Future<int> f = swallow_failure(fail_after(gate, "ignored"));
  gate.set_result();
  EXPECT_EQ(wait(loop, f), 42);
}

TEST(Coroutine, ThrowBeforeTheFirstSuspensionGivesAFailedFuture) {
  TestLoop loop;
  Future<int> f;
  EXPECT_NO_THROW(f = throw_at_once(true));  // the call itself does not throw
  ASSERT_TRUE(f.done());
  EXPECT_THROW((void)f.result(), std::invalid_argument);

  Future<int> ok = throw_at_once(false);
  ASSERT_TRUE(ok.done());
  EXPECT_EQ(ok.result(), 1);
}

TEST(Coroutine, MoveOnlyResultsPassThroughAwaitAndRvalueResult) {
  TestLoop loop;
  Future<void> gate;
  Future<int> doubled = unbox_doubled(box_after(gate, 21));
  Future<std::unique_ptr<int>> direct = box_after(gate, 5);
  gate.set_result();
  ASSERT_TRUE(run_until_done(loop, doubled));
  EXPECT_EQ(doubled.result(), 42);
  ASSERT_TRUE(run_until_done(loop, direct));
  std::unique_ptr<int> value = std::move(direct).result();
  ASSERT_TRUE(value != nullptr);
  EXPECT_EQ(*value, 5);
}

// ---- is_future --------------------------------------------------------------

TEST(IsFuture, IsTrueForFuturesOnly) {
  TestLoop loop;
  static_assert(tornado::is_future_v<Future<int>>);
  static_assert(tornado::is_future_v<Future<void>>);
  static_assert(tornado::is_future_v<const Future<std::string>&>);
  static_assert(!tornado::is_future_v<int>);
  static_assert(!tornado::is_future_v<std::shared_ptr<Future<int>>>);
  Future<int> f;
  int n = 0;
  EXPECT_TRUE(tornado::is_future(f));
  EXPECT_FALSE(tornado::is_future(n));
  f.set_result(n);
}

// ---- chain_future ---------------------------------------------------------

TEST(ChainFuture, CopiesTheResultOnALaterIteration) {
  TestLoop loop;
  Future<int> a;
  Future<int> b;
  chain_future(a, b);
  a.set_result(42);
  EXPECT_FALSE(b.done());
  run_one_iteration(loop);
  ASSERT_TRUE(b.done());
  EXPECT_EQ(b.result(), 42);
}

TEST(ChainFuture, MovesAMoveOnlyResult) {
  TestLoop loop;
  Future<std::unique_ptr<int>> a;
  Future<std::unique_ptr<int>> b;
  chain_future(a, b);
  a.set_result(std::make_unique<int>(7));
  run_one_iteration(loop);
  ASSERT_TRUE(b.done());
  EXPECT_EQ(*b.result(), 7);
}

TEST(RunSync, ReturnsAMoveOnlyResultOfACoroutine) {
  tornado::IOLoop loop;
  auto make = []() -> Future<std::unique_ptr<int>> { co_return std::make_unique<int>(9); };
  std::unique_ptr<int> value = loop.run_sync(make, std::chrono::seconds(10));
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, 9);
}

TEST(ChainFuture, CopiesTheException) {
  TestLoop loop;
  Future<void> a;
  Future<void> b;
  chain_future(a, b);
  a.set_exception(std::runtime_error("chained failure"));
  EXPECT_THROW(wait(loop, b), std::runtime_error);
  EXPECT_EQ(tornado::log::describe(b.exception()), "chained failure");
}

TEST(ChainFuture, CopiesCancellation) {
  TestLoop loop;
  Future<int> a;
  Future<int> b;
  chain_future(a, b);
  a.cancel();
  ASSERT_TRUE(run_until_done(loop, b));
  EXPECT_TRUE(b.cancelled());
}

TEST(ChainFuture, LeavesAnAlreadyDoneTargetAlone) {
  TestLoop loop;
  Future<int> a;
  Future<int> b;
  b.set_result(1);
  chain_future(a, b);
  a.set_result(2);
  run_one_iteration(loop);
  EXPECT_EQ(b.result(), 1);
}

TEST(ChainFuture, WorksWhenTheSourceIsAlreadyDone) {
  TestLoop loop;
  Future<int> a;
  a.set_result(9);
  Future<int> b;
  chain_future(a, b);
  EXPECT_FALSE(b.done());  // copied through the loop even so
  EXPECT_EQ(wait(loop, b), 9);
}

TEST(ChainFuture, ThreeFuturesChainEndToEnd) {
  TestLoop loop;
  Future<int> first;
  Future<int> second;
  Future<int> third;
  chain_future(first, second);
  chain_future(second, third);
  first.set_result(42);
  EXPECT_EQ(wait(loop, forward(third)), 42);
}

// ---- future_set_*_unless_cancelled ------------------------------------------

TEST(FutureSetResultUnlessCancelled, SetsAPendingFuture) {
  TestLoop loop;
  Future<int> f;
  tornado::future_set_result_unless_cancelled(f, 42);
  EXPECT_EQ(f.result(), 42);
  Future<void> v;
  tornado::future_set_result_unless_cancelled(v);
  EXPECT_TRUE(v.done());
  EXPECT_FALSE(v.cancelled());
}

TEST(FutureSetResultUnlessCancelled, DoesNothingToACancelledFuture) {
  TestLoop loop;
  Future<int> f;
  f.cancel();
  EXPECT_NO_THROW(tornado::future_set_result_unless_cancelled(f, 42));
  EXPECT_TRUE(f.cancelled());
  Future<void> v;
  v.cancel();
  EXPECT_NO_THROW(tornado::future_set_result_unless_cancelled(v));
  EXPECT_TRUE(v.cancelled());
}

TEST(FutureSetResultUnlessCancelled, StillThrowsOnAFutureThatHasAResult) {
  TestLoop loop;
  Future<int> f;
  f.set_result(1);
  EXPECT_THROW(tornado::future_set_result_unless_cancelled(f, 2), InvalidStateError);
  EXPECT_EQ(f.result(), 1);
}

TEST(FutureSetExceptionUnlessCancelled, FailsAPendingFuture) {
  TestLoop loop;
  Future<int> f;
  tornado::future_set_exception_unless_cancelled(
      f, std::make_exception_ptr(std::runtime_error("set")));
  EXPECT_THROW((void)f.result(), std::runtime_error);
}

TEST(FutureSetExceptionUnlessCancelled, DoesNothingToACancelledFuture) {
  TestLoop loop;
  LogCapture log;
  {
    Future<void> f;
    f.cancel();
    EXPECT_NO_THROW(tornado::future_set_exception_unless_cancelled(
        f, std::make_exception_ptr(std::runtime_error("dropped"))));
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(f.result(), CancelledError);
  }
  EXPECT_EQ(log.count("dropped"), 0u);  // not stored, so not logged as unretrieved either
}

// ---- ThreadPoolExecutor -------------------------------------------------------

TEST(ThreadPoolExecutor, RunsJobsOnWorkerThreads) {
  std::mutex mutex;
  std::vector<std::thread::id> ids;
  Counter done;
  ThreadPoolExecutor pool(2);
  for (int i = 0; i < 4; ++i) {
    pool.execute([&] {
      {
        std::lock_guard lock(mutex);
        ids.push_back(std::this_thread::get_id());
      }
      done.add();
    });
  }
  ASSERT_TRUE(done.reaches(4));
  std::lock_guard lock(mutex);
  for (std::thread::id id : ids) EXPECT_NE(id, std::this_thread::get_id());
}

TEST(ThreadPoolExecutor, HasTheRequestedNumberOfWorkersAndAtLeastOne) {
  Counter ran;  // declared before the pools, which join their workers first
  ThreadPoolExecutor three(3);
  EXPECT_EQ(three.max_workers(), 3u);
  ThreadPoolExecutor none(0);
  EXPECT_EQ(none.max_workers(), 1u);
  none.execute([&ran] { ran.add(); });
  EXPECT_TRUE(ran.reaches(1));
}

TEST(ThreadPoolExecutor, RunsAtMostMaxWorkersJobsAtOnce) {
  Gate release;
  Counter started;
  Counter finished;
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  ThreadPoolExecutor pool(2);
  OpenOnExit open_on_exit{release};
  for (int i = 0; i < 6; ++i) {
    pool.execute([&] {
      int now = running.fetch_add(1) + 1;
      int seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) continue;  // peak = max
      started.add();
      release.wait();
      running.fetch_sub(1);
      finished.add();
    });
  }
  ASSERT_TRUE(started.reaches(2));
  // Both workers are blocked now, so no third job can start; give it a
  // chance to (wrongly) do so before checking.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(started.value(), 2);
  release.open();
  ASSERT_TRUE(finished.reaches(6));
  EXPECT_EQ(peak.load(), 2);
}

TEST(ThreadPoolExecutor, ShutdownRunsTheJobsAlreadyQueued) {
  Gate release;
  Counter queued_ran;
  ThreadPoolExecutor pool(1);
  OpenOnExit open_on_exit{release};
  pool.execute([&release] { release.wait(); });  // holds the only worker
  for (int i = 0; i < 10; ++i) pool.execute([&queued_ran] { queued_ran.add(); });

  std::thread stopper([&pool] { pool.shutdown(); });
  // execute() refuses work once shutdown() has begun; only then free the
  // worker, so the ten jobs are certainly still queued when shutdown starts.
  bool refused = false;
  for (auto deadline = std::chrono::steady_clock::now() + kTimeout;
       !refused && std::chrono::steady_clock::now() < deadline;) {
    try {
      pool.execute([] {});
      std::this_thread::sleep_for(1ms);
    } catch (const std::logic_error&) {
      refused = true;
    }
  }
  release.open();
  stopper.join();
  EXPECT_TRUE(refused);
  EXPECT_EQ(queued_ran.value(), 10);
}

TEST(ThreadPoolExecutor, ExecuteAfterShutdownThrowsLogicError) {
  ThreadPoolExecutor pool(1);
  pool.shutdown();
  bool ran = false;
  try {
    pool.execute([&ran] { ran = true; });
    ADD_FAILURE() << "execute() after shutdown() did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("shut down"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(pool.shutdown());  // a second shutdown is harmless
  EXPECT_FALSE(ran);
}

TEST(ThreadPoolExecutor, DestructorFinishesTheJobsAndJoinsTheWorkers) {
  std::atomic<int> done{0};
  {
    ThreadPoolExecutor pool(2);
    for (int i = 0; i < 20; ++i) {
      pool.execute([&done] {
        std::this_thread::sleep_for(1ms);
        done.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(done.load(), 20);
}

TEST(ThreadPoolExecutor, JobExceptionIsLoggedAndTheWorkerCarriesOn) {
  LogCapture log;
  Counter ran;
  {
    ThreadPoolExecutor pool(1);
    pool.execute([] { throw std::runtime_error("job failed"); });
    pool.execute([&ran] { ran.add(); });
  }
  EXPECT_EQ(ran.value(), 1);
  EXPECT_EQ(log.count("Exception in executor job: job failed"), 1u);
}

// ---- DummyExecutor ------------------------------------------------------------

TEST(DummyExecutor, RunsTheJobInlineOnTheCallingThread) {
  DummyExecutor executor;
  std::thread::id ran_on;
  executor.execute([&ran_on] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

// ---- IOLoop::run_in_executor ------------------------------------------------

TEST(RunInExecutor, ResolvesWithTheValueOnTheLoopThread) {
  TestLoop loop;
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id job_thread;  // written by the job, read once the future resolved
  std::thread::id callback_thread;
  ThreadPoolExecutor pool(1);
  Future<int> f = loop.run_in_executor(&pool, [&job_thread] {
    job_thread = std::this_thread::get_id();
    return 42;
  });
  f.add_done_callback(
      [&callback_thread](const Future<int>&) { callback_thread = std::this_thread::get_id(); });
  EXPECT_EQ(wait(loop, f), 42);
  EXPECT_NE(job_thread, loop_thread);
  EXPECT_EQ(callback_thread, loop_thread);
}

TEST(RunInExecutor, VoidFunctionGivesAFutureVoid) {
  TestLoop loop;
  std::atomic<int> calls{0};
  ThreadPoolExecutor pool(1);
  Future<void> f = loop.run_in_executor(&pool, [&calls] { calls.fetch_add(1); });
  wait(loop, f);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(calls.load(), 1);
}

TEST(RunInExecutor, ExceptionFailsTheFuture) {
  TestLoop loop;
  ThreadPoolExecutor pool(1);
  Future<int> f = loop.run_in_executor(&pool, []() -> int { throw std::domain_error("in pool"); });
  EXPECT_THROW(wait(loop, f), std::domain_error);
  EXPECT_EQ(tornado::log::describe(f.exception()), "in pool");
}

TEST(RunInExecutor, PassesArgumentsCopiedAtTheCall) {
  TestLoop loop;
  std::string text = "x";
  ThreadPoolExecutor pool(1);
  Future<std::string> f = loop.run_in_executor(
      &pool, [](int n, const std::string& s) { return s + std::to_string(n); }, 7, text);
  text = "changed";
  EXPECT_EQ(wait(loop, f), "x7");
}

TEST(RunInExecutor, WithDummyExecutorRunsInlineButResolvesThroughTheLoop) {
  TestLoop loop;
  DummyExecutor executor;
  int calls = 0;
  Future<int> f = loop.run_in_executor(&executor, [&calls] { return ++calls; });
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(f.done());
  run_one_iteration(loop);
  ASSERT_TRUE(f.done());
  EXPECT_EQ(f.result(), 1);

  Future<void> v = loop.run_in_executor(&executor, [&calls] { ++calls; });
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(v.done());
  run_one_iteration(loop);
  EXPECT_TRUE(v.done());
}

TEST(RunInExecutor, NullExecutorMeansTheDefaultOne) {
  TestLoop loop;
  std::thread::id job_thread;
  Future<int> f = loop.run_in_executor(nullptr, [&job_thread] {
    job_thread = std::this_thread::get_id();
    return 3;
  });
  EXPECT_EQ(wait(loop, f), 3);
  EXPECT_NE(job_thread, std::this_thread::get_id());  // a built-in thread pool

  loop.set_default_executor(std::make_shared<DummyExecutor>());
  int calls = 0;
  Future<int> g = loop.run_in_executor(nullptr, [&calls] { return ++calls; });
  EXPECT_EQ(calls, 1);  // the replacement ran it inline
  EXPECT_EQ(wait(loop, g), 1);
}

TEST(RunInExecutor, CancelledFutureIgnoresTheLateResult) {
  TestLoop loop;
  LogCapture log;
  DummyExecutor executor;
  Future<int> f = loop.run_in_executor(&executor, [] { return 1; });
  Future<int> g = loop.run_in_executor(&executor, []() -> int { throw std::runtime_error("e"); });
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(g.cancel());
  run_one_iteration(loop);
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(g.cancelled());
  EXPECT_EQ(log.count("Exception"), 0u);
}

TEST(RunInExecutor, AThousandConcurrentJobsAllResolveOnTheLoopThread) {
  TestLoop loop;
  const std::thread::id loop_thread = std::this_thread::get_id();
  int resolved_on_loop_thread = 0;
  std::vector<Future<int>> futures;
  ThreadPoolExecutor pool(4);
  for (int i = 0; i < 1000; ++i) {
    futures.push_back(loop.run_in_executor(
        &pool, [](int n) { return n; }, i));
    futures.back().add_done_callback([&](const Future<int>&) {
      if (std::this_thread::get_id() == loop_thread) ++resolved_on_loop_thread;
    });
  }
  EXPECT_EQ(wait(loop, sum_of(futures)), 999L * 1000L / 2L);
  EXPECT_EQ(resolved_on_loop_thread, 1000);
}

// ---- run_on_executor ---------------------------------------------------------

TEST(RunOnExecutor, EachCallReturnsAFutureOfTheResult) {
  TestLoop loop;
  std::thread::id job_thread;
  ThreadPoolExecutor pool(1);
  auto doubled = tornado::run_on_executor(pool, [&job_thread](int x) {
    job_thread = std::this_thread::get_id();
    return 2 * x;
  });
  auto f = doubled(21);
  static_assert(std::is_same_v<decltype(f), Future<int>>);
  EXPECT_EQ(wait(loop, f), 42);
  EXPECT_NE(job_thread, std::this_thread::get_id());
  EXPECT_EQ(wait(loop, doubled(50)), 100);  // the wrapper can be called again
}

TEST(RunOnExecutor, WorksWithoutArguments) {
  TestLoop loop;
  ThreadPoolExecutor pool(1);
  auto answer = tornado::run_on_executor(pool, [] { return 42; });
  EXPECT_EQ(wait(loop, answer()), 42);
}

TEST(RunOnExecutor, ItsFutureCanBeAwaitedInACoroutine) {
  TestLoop loop;
  ThreadPoolExecutor pool(1);
  auto answer = tornado::run_on_executor(pool, [] { return 42; });
  EXPECT_EQ(wait(loop, await_call(answer)), 42);
}

TEST(RunOnExecutor, ExceptionFailsTheFuture) {
  TestLoop loop;
  ThreadPoolExecutor pool(1);
  auto refuse = tornado::run_on_executor(pool, []() -> int { throw std::runtime_error("no"); });
  EXPECT_EQ(failure_of(loop, refuse()), "no");
}

}  // namespace
