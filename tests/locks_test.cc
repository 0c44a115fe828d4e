// Specification of locks.h: Condition, Event, Semaphore, BoundedSemaphore and
// Lock (ported from Tornado's tornado/test/locks_test.py, plus what the C++
// API adds: RAII guards, absolute deadlines, trace events, named objects).
//
// Each test declares its sync objects before its IOLoop, so the loop goes
// first and destroys any coroutine still suspended on them (and the Guards in
// those frames) while the objects are still alive.
#include "tornado/locks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <new>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.h"
#include "tornado/concurrent.h"
#include "tornado/errors.h"
#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/testing.h"
#include "tornado/trace.h"

// ---- Allocation counting ------------------------------------------------------
// Replaces the global operator new so a test can count what waiting allocates
// on the loop's thread (other threads, such as the loop's watchdog, do not
// count). The aligned forms are left alone: nothing here uses them.
namespace {
thread_local std::size_t t_allocations = 0;
}  // namespace

// Not inlined: once inlined, GCC sees operator new paired with free() at
// call sites and warns (-Wmismatched-new-delete), though the pair is ours.
[[gnu::noinline]] void* operator new(std::size_t size) {
  ++t_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t size) { return ::operator new(size); }
[[gnu::noinline]] void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++t_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
[[gnu::noinline]] void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return ::operator new(size, tag);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace tornado {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using Strings = std::vector<std::string>;

// Every run_sync is bounded, so a hang fails the test instead of ctest.
constexpr Duration kTimeout = 10s;
using tornado::test_support::message_of;

// ---- Helpers ----------------------------------------------------------------

// Awaits `wait` and appends `key` to `history` when notified, "timeout" when
// the wait gave up. The Wait is made at the call site, so its source line is
// the caller's.
Future<void> record(Condition::Wait wait, Strings& history, std::string key) {
  bool notified = co_await wait;
  history.push_back(notified ? key : "timeout");
}

// Acquires with `acquire` and keeps the permit in `held`, so the test decides
// when to release it.
Future<void> hold(Semaphore::Acquire acquire, std::vector<Semaphore::Guard>& held) {
  held.push_back(co_await acquire);
}

// gen::multi over a few futures. (GCC 12 rejects a braced list inside a
// co_await expression, so the vector is built here.)
template <class... F>
Future<void> all_of(F... futures) {
  return gen::multi(std::vector<Future<void>>{futures...});
}

// How a wait ended, and in which loop iteration (to check that a zero
// timeout takes exactly one).
struct Outcome {
  bool timed_out;  // TimeoutError, or a Condition wait that yielded false
  std::uint64_t iteration;
};
template <class Awaitable>
Future<Outcome> outcome_of(IOLoop& loop, Awaitable awaitable) {
  bool timed_out = false;
  try {
    if constexpr (std::is_same_v<decltype(awaitable.await_resume()), bool>) {
      timed_out = !co_await awaitable;
    } else {
      (void)co_await awaitable;
    }
  } catch (const TimeoutError&) {
    timed_out = true;
  }
  co_return Outcome{timed_out, loop.stats().iterations};
}

// Busy-waits so a deadline passes while the loop cannot run anything else.
void block_for(Duration d) {
  TimePoint until = Clock::now() + d;
  while (Clock::now() < until) std::this_thread::sleep_for(1ms);
}

// =============================================================================
// Condition
// =============================================================================

TEST(Condition, DescribeShowsNameAndWaiterCount) {
  Condition c("ready");
  IOLoop loop;
  EXPECT_EQ(c.describe(), "Condition 'ready' (0 waiters)");
  EXPECT_EQ(Condition().describe(), "Condition (0 waiters)");
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        Future<void> w = record(c.wait(), history, "w");
        EXPECT_THAT(c.describe(), HasSubstr("1 waiter"));
        c.notify();
        co_await w;
        EXPECT_EQ(c.describe(), "Condition 'ready' (0 waiters)");
      },
      kTimeout);
}

TEST(Condition, NotifyFromATimerWakesTheWaiter) {
  Condition c;
  IOLoop loop;
  bool notified = loop.run_sync(
      [&]() -> Future<bool> {
        loop.call_later(10ms, [&] { c.notify(); });
        co_return co_await c.wait();
      },
      kTimeout);
  EXPECT_TRUE(notified);
}

TEST(Condition, WaiterResumesThroughTheLoopNeverInsideNotify) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        Future<void> w1 = record(c.wait(), history, "wait1");
        Future<void> w2 = record(c.wait(), history, "wait2");
        c.notify(1);
        history.push_back("notify1");
        c.notify(1);
        history.push_back("notify2");
        EXPECT_THAT(history, ElementsAre("notify1", "notify2"));
        co_await gen::moment;
        EXPECT_THAT(history, ElementsAre("notify1", "notify2", "wait1", "wait2"));
        EXPECT_TRUE(w1.done());
        EXPECT_TRUE(w2.done());
      },
      kTimeout);
}

TEST(Condition, NotifyWakesOnlyTheNOldestWaiters) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        std::vector<Future<void>> waits;
        for (int i = 0; i < 6; ++i) waits.push_back(record(c.wait(), history, std::to_string(i)));
        c.notify(3);
        co_await gen::moment;
        EXPECT_THAT(history, ElementsAre("0", "1", "2"));
        EXPECT_EQ(c.waiters(), 3u);
        c.notify(1);
        co_await gen::moment;
        EXPECT_THAT(history, ElementsAre("0", "1", "2", "3"));
        c.notify(2);
        co_await gen::moment;
        EXPECT_THAT(history, ElementsAre("0", "1", "2", "3", "4", "5"));
        EXPECT_EQ(c.waiters(), 0u);
      },
      kTimeout);
}

TEST(Condition, NotifyWithNoWaitersIsForgotten) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        c.notify(5);
        Strings history;
        Future<void> w = record(c.wait(20ms), history, "notified");
        co_await w;
        EXPECT_THAT(history, ElementsAre("timeout"));
      },
      kTimeout);
}

TEST(Condition, NotifyAllWakesEveryWaiterOldestFirst) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        std::vector<Future<void>> waits;
        for (int i = 0; i < 4; ++i) waits.push_back(record(c.wait(), history, std::to_string(i)));
        c.notify_all();
        history.push_back("notify_all");
        co_await gen::multi(waits);
        EXPECT_THAT(history, ElementsAre("notify_all", "0", "1", "2", "3"));
      },
      kTimeout);
}

TEST(Condition, WaitYieldsFalseAtTheDeadlineAndALateNotifyIsHarmless) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<bool> wait = to_future(c.wait(10ms));
        loop.call_later(20ms, [&] { c.notify(); });  // too late
        co_await gen::sleep(30ms);
        EXPECT_TRUE(wait.done());
        EXPECT_FALSE(co_await wait);
        EXPECT_EQ(c.waiters(), 0u);
      },
      kTimeout);
}

TEST(Condition, NotifyBeforeTheDeadlineYieldsTrue) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        loop.call_later(10ms, [&] { c.notify(); });
        Future<bool> wait = to_future(c.wait(500ms));
        co_await gen::sleep(30ms);
        EXPECT_TRUE(wait.done());
        EXPECT_TRUE(co_await wait);
      },
      kTimeout);
}

TEST(Condition, NotifiedWaiterWhoseDeadlinePassesBeforeItResumesStillYieldsTrue) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<bool> wait = to_future(c.wait(5ms));
        c.notify();
        block_for(20ms);  // the deadline passes before the waiter can resume
        EXPECT_TRUE(co_await wait);
      },
      kTimeout);
}

TEST(Condition, NotifyCancelsTheWaitersTimerAtOnce) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::size_t before = loop.stats().timers;
        Future<bool> wait = to_future(c.wait(1h));
        EXPECT_EQ(loop.stats().timers, before + 1);
        c.notify();
        EXPECT_EQ(loop.stats().timers, before);
        EXPECT_TRUE(co_await wait);
      },
      kTimeout);
}

TEST(Condition, TimedOutWaitersDoNotCountTowardN) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        Future<void> w0 = record(c.wait(), history, "0");
        Future<void> w1 = record(c.wait(10ms), history, "1");
        Future<void> w2 = record(c.wait(), history, "2");
        Future<void> w3 = record(c.wait(), history, "3");
        co_await gen::sleep(20ms);  // w1 times out
        EXPECT_THAT(history, ElementsAre("timeout"));
        c.notify(2);
        co_await gen::moment;
        EXPECT_THAT(history, ElementsAre("timeout", "0", "2"));
        c.notify();
        co_await gen::moment;
        EXPECT_THAT(history, ElementsAre("timeout", "0", "2", "3"));
        EXPECT_TRUE(w0.done() && w1.done() && w2.done() && w3.done());
      },
      kTimeout);
}

TEST(Condition, NotifyAllSkipsTimedOutWaiters) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        Future<void> w0 = record(c.wait(), history, "0");
        Future<void> w1 = record(c.wait(10ms), history, "1");
        Future<void> w2 = record(c.wait(), history, "2");
        co_await gen::sleep(20ms);
        EXPECT_THAT(history, ElementsAre("timeout"));
        c.notify_all();
        co_await all_of(w0, w1, w2);
        EXPECT_THAT(history, ElementsAre("timeout", "0", "2"));
      },
      kTimeout);
}

// The second waiter notifies again as soon as it resumes.
Future<void> wait_then_notify(Condition& c, int& woken) {
  co_await c.wait();
  ++woken;
  c.notify();
}

TEST(Condition, NotifyReenteredFromAWokenWaiterLosesNoWakeup) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        int woken = 0;
        Strings history;
        Future<void> first = record(c.wait(), history, "first");
        Future<void> second = wait_then_notify(c, woken);
        Future<void> third = record(c.wait(), history, "third");
        c.notify(2);
        co_await all_of(first, second, third);
        EXPECT_EQ(woken, 1);
        EXPECT_THAT(history, ElementsAre("first", "third"));
        EXPECT_EQ(c.waiters(), 0u);
      },
      kTimeout);
}

TEST(Condition, TimedOutWaitersAreRemovedAtOnce) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        std::vector<Future<void>> timed;
        for (int i = 0; i < 101; ++i) timed.push_back(record(c.wait(10ms), history, "timed"));
        Future<void> last = record(c.wait(), history, "last");
        EXPECT_EQ(c.waiters(), 102u);
        co_await gen::sleep(20ms);
        EXPECT_EQ(c.waiters(), 1u);
        EXPECT_EQ(history.size(), 101u);
        EXPECT_FALSE(last.done());
        c.notify();
        co_await last;
        EXPECT_EQ(history.back(), "last");
      },
      kTimeout);
}

TEST(Condition, TenThousandTimedOutWaitersLeaveNothingBehind) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Future<bool>> waits;
        waits.reserve(10000);
        for (int i = 0; i < 10000; ++i) waits.push_back(to_future(c.wait(1ms)));
        EXPECT_EQ(c.waiters(), 10000u);
        std::vector<bool> results = co_await gen::multi(waits);
        EXPECT_EQ(std::count(results.begin(), results.end(), false), 10000);
        EXPECT_EQ(c.waiters(), 0u);
        EXPECT_EQ(loop.stats().timers, 1u) << "only run_sync's own deadline is left";
      },
      kTimeout);
  EXPECT_EQ(loop.stats().suspended, 0u);
}

// Counts the allocations made between this coroutine's call returning and
// its wait suspending: the wait itself.
Future<bool> wait_counting(Condition& c, Deadline timeout, std::size_t& before) {
  before = t_allocations;
  co_return co_await c.wait(std::move(timeout));
}

TEST(Condition, WaitingAllocatesNothingBeyondTheCoroutineFrame) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::size_t before = 0;
        Future<bool> untimed = wait_counting(c, {}, before);
        EXPECT_EQ(t_allocations - before, 0u) << "an untimed wait allocated";
        // Timed waits that expire first grow the timer heap; the next one reuses it.
        for (int i = 0; i < 4; ++i) EXPECT_FALSE(co_await wait_counting(c, 1ms, before));
        Future<bool> timed = wait_counting(c, 1h, before);
        EXPECT_EQ(t_allocations - before, 0u) << "a timed wait allocated";
        c.notify_all();
        EXPECT_TRUE(co_await untimed);
        EXPECT_TRUE(co_await timed);
      },
      kTimeout);
}

TEST(Condition, ZeroTimeoutExpiresOnTheNextIterationUnlessNotifiedFirst) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::uint64_t now = loop.stats().iterations;
        Outcome expired = co_await outcome_of(loop, c.wait(0ms));
        EXPECT_TRUE(expired.timed_out);
        EXPECT_EQ(expired.iteration, now + 1);

        Future<Outcome> waiting = outcome_of(loop, c.wait(0ms));
        c.notify();
        EXPECT_FALSE((co_await waiting).timed_out);
      },
      kTimeout);
}

TEST(Condition, DeadlineMayBeAnAbsoluteTimePoint) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        TimePoint start = loop.time();
        EXPECT_FALSE(co_await c.wait(start + 20ms));
        EXPECT_GE(loop.time() - start, 20ms);
        EXPECT_FALSE(co_await c.wait(start));  // already past: next iteration
      },
      kTimeout);
}

TEST(Condition, ToFutureWorksWithMultiAndWithTimeout) {
  Condition c;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<bool> outlived = to_future(c.wait());
        try {
          co_await gen::with_timeout(10ms, to_future(c.wait()));
          ADD_FAILURE() << "with_timeout did not time out";
        } catch (const TimeoutError&) {
        }
        // with_timeout does not cancel the inner wait: both are still queued.
        EXPECT_EQ(c.waiters(), 2u);
        c.notify_all();
        std::vector<Future<bool>> outlived_only{outlived};
        std::vector<bool> results = co_await gen::multi(outlived_only);
        EXPECT_THAT(results, ElementsAre(true));
      },
      kTimeout);
}

// =============================================================================
// Event
// =============================================================================

// A waiter whose object is destroyed under it still times out, without
// touching the destroyed object (ASan would report it).
template <class MakeObject, class StartWait>
void expect_orphaned_waiter_times_out(MakeObject make, StartWait start_wait) {
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        auto object = make();
        Future<void> waiting = start_wait(*object);
        co_await gen::moment;
        object.reset();
        try {
          co_await waiting;
          ADD_FAILURE() << "the wait should have timed out";
        } catch (const tornado::TimeoutError& e) {
          EXPECT_THAT(e.what(), HasSubstr("timed out after its object was destroyed"));
        }
      },
      kTimeout);
}

TEST(Event, WaiterOfADestroyedEventStillTimesOut) {
  expect_orphaned_waiter_times_out([] { return std::make_unique<Event>("doomed"); },
                                   [](Event& e) { return to_future(e.wait(20ms)); });
}

TEST(Semaphore, WaiterOfADestroyedSemaphoreStillTimesOut) {
  expect_orphaned_waiter_times_out(
      [] { return std::make_unique<Semaphore>(0, "doomed"); },
      [](Semaphore& sem) -> Future<void> { (void)co_await sem.acquire(20ms); });
}

TEST(Event, DescribeShowsNameStateAndWaiterCount) {
  Event e("go");
  IOLoop loop;
  EXPECT_EQ(e.describe(), "Event 'go' (unset, 0 waiters)");
  loop.run_sync(
      [&]() -> Future<void> {
        Future<void> w = to_future(e.wait());
        EXPECT_THAT(e.describe(), HasSubstr("1 waiter"));
        e.set();
        co_await w;
        EXPECT_EQ(e.describe(), "Event 'go' (set, 0 waiters)");
      },
      kTimeout);
}

TEST(Event, SetWakesEveryWaiterAndLaterWaitsReturnAtOnce) {
  Event e;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        EXPECT_FALSE(e.is_set());
        Future<void> f0 = to_future(e.wait());
        Future<void> f1 = to_future(e.wait());
        EXPECT_EQ(e.waiters(), 2u);
        e.set();
        EXPECT_TRUE(e.is_set());
        EXPECT_FALSE(f0.done()) << "waiters resume through the loop, not inside set()";
        Future<void> f2 = to_future(e.wait());
        EXPECT_TRUE(f2.done()) << "a wait on a set event completes at once";
        e.clear();
        Future<void> f3 = to_future(e.wait());
        co_await gen::moment;
        EXPECT_TRUE(f0.done());
        EXPECT_TRUE(f1.done());
        EXPECT_FALSE(f3.done());
        e.set();
        co_await f3;
      },
      kTimeout);
}

TEST(Event, ClearDoesNotCancelWaitersAlreadyWokenBySet) {
  Event e;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<void> f0 = to_future(e.wait());
        e.set();
        e.clear();
        co_await f0;  // no TimeoutError, no hang
        EXPECT_FALSE(e.is_set());
      },
      kTimeout);
}

TEST(Event, ClearBeforeSetLeavesWaitersWaitingForTheNextSet) {
  Event e;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<void> f0 = to_future(e.wait());
        e.clear();
        Future<void> f1 = to_future(e.wait());
        e.set();
        co_await gen::moment;
        EXPECT_TRUE(f0.done());
        EXPECT_TRUE(f1.done());
      },
      kTimeout);
}

TEST(Event, WaitThrowsTimeoutErrorNamingTheEventAndTheEventStillWorks) {
  Event e("ready");
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::string message = co_await message_of<TimeoutError>(e.wait(10ms));
        EXPECT_THAT(message, HasSubstr("ready"));
        EXPECT_EQ(e.waiters(), 0u);
        loop.call_later(10ms, [&] { e.set(); });
        co_await e.wait(1s);
      },
      kTimeout);
}

TEST(Event, SetTwiceStaysSet) {
  Event e;
  e.set();
  e.set();
  EXPECT_TRUE(e.is_set());
  e.clear();
  e.clear();
  EXPECT_FALSE(e.is_set());
}

TEST(Event, ZeroTimeoutSucceedsWhenSetAndExpiresOnTheNextIterationWhenNot) {
  Event e;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::uint64_t now = loop.stats().iterations;
        Outcome expired = co_await outcome_of(loop, e.wait(0ms));
        EXPECT_TRUE(expired.timed_out);
        EXPECT_EQ(expired.iteration, now + 1);
        e.set();
        now = loop.stats().iterations;
        Outcome set = co_await outcome_of(loop, e.wait(0ms));
        EXPECT_FALSE(set.timed_out);
        EXPECT_EQ(set.iteration, now) << "completed without waiting";
      },
      kTimeout);
}

TEST(Event, SetWaiterWhoseDeadlinePassesBeforeItResumesStillSucceeds) {
  Event e;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<void> wait = to_future(e.wait(5ms));
        e.set();
        e.clear();
        block_for(20ms);
        co_await wait;
      },
      kTimeout);
}

// =============================================================================
// Semaphore
// =============================================================================

TEST(Semaphore, NegativeInitialValueThrowsValueErrorNamingIt) {
  try {
    Semaphore sem(-1, "pool");
    ADD_FAILURE() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("pool"));
  }
  EXPECT_THROW(BoundedSemaphore(-1), ValueError);
}

TEST(Semaphore, DescribeShowsNameValueAndWaiterCount) {
  Semaphore sem(1, "pool");
  IOLoop loop;
  EXPECT_EQ(sem.describe(), "Semaphore 'pool' (value 1, 0 waiters)");
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Semaphore::Guard> held;
        Future<void> first = hold(sem.acquire(), held);
        EXPECT_EQ(sem.describe(), "Semaphore 'pool' (value 0, 0 waiters)");
        Future<void> second = hold(sem.acquire(), held);
        EXPECT_THAT(sem.describe(), HasSubstr("1 waiter"));
        held[0].release();
        co_await second;
      },
      kTimeout);
}

TEST(Semaphore, AcquireWaitsForReleaseInOrder) {
  Semaphore sem;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Semaphore::Guard> held;
        Future<void> f0 = hold(sem.acquire(), held);
        EXPECT_TRUE(f0.done());
        Future<void> f1 = hold(sem.acquire(), held);
        EXPECT_FALSE(f1.done());
        Future<void> f2 = hold(sem.acquire(), held);
        held[0].release();
        co_await gen::moment;
        EXPECT_TRUE(f1.done());
        EXPECT_FALSE(f2.done());
        held[1].release();
        co_await gen::moment;
        EXPECT_TRUE(f2.done());
        held[2].release();
        EXPECT_EQ(sem.value(), 1);
        Future<void> f3 = hold(sem.acquire(), held);
        EXPECT_TRUE(f3.done());
        EXPECT_EQ(sem.waiters(), 0u);
      },
      kTimeout);
}

TEST(Semaphore, AcquireTimeoutThrowsNamingItAndConsumesNoPermit) {
  Semaphore sem(2, "pool");
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Semaphore::Guard> held;
        held.push_back(co_await sem.acquire());
        held.push_back(co_await sem.acquire());
        Future<std::string> timed_out = message_of<TimeoutError>(sem.acquire(10ms));
        loop.call_later(20ms, [&] { held[0].release(); });  // too late
        co_await gen::sleep(30ms);
        EXPECT_THAT(co_await timed_out, HasSubstr("pool"));
        EXPECT_EQ(sem.value(), 1) << "the timed-out acquire took no permit";

        Future<void> instant = hold(sem.acquire(), held);
        EXPECT_TRUE(instant.done());
        Future<void> waits = hold(sem.acquire(), held);
        EXPECT_FALSE(waits.done());
        held[1].release();
        co_await waits;
      },
      kTimeout);
}

TEST(Semaphore, ReleaseBeforeTheDeadlineAcquires) {
  Semaphore sem(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::optional<Semaphore::Guard> first(co_await sem.acquire());
        loop.call_later(10ms, [&] { first.reset(); });
        Future<Semaphore::Guard> acquire = to_future(sem.acquire(500ms));
        co_await gen::sleep(30ms);
        Semaphore::Guard guard = co_await acquire;  // no TimeoutError
        EXPECT_TRUE(guard.owns());
      },
      kTimeout);
}

TEST(Semaphore, WaiterHandedAPermitWhoseDeadlinePassesBeforeItResumesStillAcquires) {
  Semaphore sem(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Semaphore::Guard> held;
        held.push_back(co_await sem.acquire());
        Future<void> waiter = hold(sem.acquire(5ms), held);
        held[0].release();
        block_for(20ms);
        co_await waiter;
        EXPECT_EQ(held.size(), 2u);
        EXPECT_EQ(sem.value(), 0);
      },
      kTimeout);
}

TEST(Semaphore, ReleaseCancelsTheWaitersTimerAtOnce) {
  Semaphore sem(0);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::size_t before = loop.stats().timers;
        Future<Semaphore::Guard> acquire = to_future(sem.acquire(1h));
        EXPECT_EQ(loop.stats().timers, before + 1);
        sem.release();
        EXPECT_EQ(loop.stats().timers, before);
        Semaphore::Guard guard = co_await acquire;
        EXPECT_TRUE(guard.owns());
      },
      kTimeout);
}

TEST(Semaphore, ReleaseWithoutAcquireRaisesTheValue) {
  Semaphore sem;
  IOLoop loop;
  sem.release();
  sem.release();
  EXPECT_EQ(sem.value(), 3);
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Semaphore::Guard> held;
        EXPECT_TRUE(hold(sem.acquire(), held).done());
        EXPECT_TRUE(hold(sem.acquire(), held).done());
        EXPECT_TRUE(hold(sem.acquire(), held).done());
        Future<void> fourth = hold(sem.acquire(), held);
        EXPECT_FALSE(fourth.done());
        held[0].release();
        co_await fourth;
      },
      kTimeout);
}

TEST(Semaphore, ReleaseHandsThePermitToTheOldestWaiterSoALaterAcquireCannotJumpTheQueue) {
  Semaphore sem(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        std::optional<Semaphore::Guard> first(co_await sem.acquire());
        auto take = [&](std::string who) -> Future<void> {
          Semaphore::Guard guard = co_await sem.acquire();
          history.push_back(who);
          co_await gen::moment;
        };
        Future<void> a = take("a");
        first.reset();
        EXPECT_EQ(sem.value(), 0) << "the permit went to the waiter, not back to the count";
        history.push_back("released");
        Future<void> b = take("b");  // must queue behind a, although a has not resumed yet
        EXPECT_FALSE(b.done());
        co_await all_of(a, b);
        EXPECT_THAT(history, ElementsAre("released", "a", "b"));
        EXPECT_EQ(sem.value(), 1);
      },
      kTimeout);
}

TEST(Semaphore, TimedOutAcquirersAreRemovedAtOnce) {
  Semaphore sem(0);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Future<Semaphore::Guard>> timed;
        for (int i = 0; i < 101; ++i) timed.push_back(to_future(sem.acquire(10ms)));
        std::vector<Semaphore::Guard> held;
        Future<void> last = hold(sem.acquire(), held);
        EXPECT_EQ(sem.waiters(), 102u);
        co_await gen::sleep(20ms);
        EXPECT_EQ(sem.waiters(), 1u);
        EXPECT_FALSE(last.done());
        sem.release();
        co_await last;
        for (auto& f : timed) EXPECT_THROW(f.result(), TimeoutError);
        EXPECT_EQ(sem.value(), 0);
      },
      kTimeout);
}

TEST(Semaphore, GuardReleasesWhenItGoesOutOfScope) {
  Semaphore sem;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        {
          Semaphore::Guard guard = co_await sem.acquire();
          EXPECT_TRUE(guard.owns());
          EXPECT_EQ(sem.value(), 0);
        }
        EXPECT_EQ(sem.value(), 1);
        {
          Semaphore::Guard guard = co_await sem.acquire(10ms);  // a timeout that never fires
        }
        EXPECT_EQ(sem.value(), 1);
        co_await gen::sleep(20ms);
        EXPECT_EQ(sem.value(), 1);
      },
      kTimeout);
}

TEST(Semaphore, GuardReleasesWhenAnExceptionLeavesItsScope) {
  Semaphore sem;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        try {
          Semaphore::Guard guard = co_await sem.acquire();
          throw std::runtime_error("boom");
        } catch (const std::runtime_error&) {
        }
        EXPECT_EQ(sem.value(), 1);
      },
      kTimeout);
}

TEST(Semaphore, GuardMovesOwnershipAndReleasesOnce) {
  Semaphore sem(2);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Semaphore::Guard a = co_await sem.acquire();
        Semaphore::Guard b = std::move(a);
        EXPECT_FALSE(a.owns());  // NOLINT(bugprone-use-after-move): moved-from state is specified
        EXPECT_TRUE(b.owns());
        EXPECT_EQ(sem.value(), 1);
        Semaphore::Guard c = co_await sem.acquire();
        EXPECT_EQ(sem.value(), 0);
        b = std::move(c);  // b's own permit is released, c's is taken over
        EXPECT_EQ(sem.value(), 1);
        b.release();
        b.release();  // a second release of the same guard does nothing
        EXPECT_EQ(sem.value(), 2);
      },
      kTimeout);
}

TEST(Semaphore, TimedOutAcquireInsideAScopeHoldsNoPermit) {
  Semaphore sem(0);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        try {
          Semaphore::Guard guard = co_await sem.acquire(10ms);
          ADD_FAILURE() << "acquired a permit from an empty semaphore";
        } catch (const TimeoutError&) {
        }
        EXPECT_EQ(sem.value(), 0);
        Future<Semaphore::Guard> blocked = to_future(sem.acquire());
        co_await gen::moment;
        EXPECT_FALSE(blocked.done());
        sem.release();
        co_await blocked;
      },
      kTimeout);
}

TEST(Semaphore, ContendedGuardsRunTheirSectionsOneAfterAnother) {
  Semaphore sem;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        auto section = [&](int i) -> Future<void> {
          Semaphore::Guard guard = co_await sem.acquire();
          history.push_back("acquired " + std::to_string(i));
          co_await gen::sleep(10ms);
          history.push_back("release " + std::to_string(i));
        };
        std::vector<Future<void>> sections{section(0), section(1)};  // started in order
        co_await gen::multi(sections);
        EXPECT_THAT(history, ElementsAre("acquired 0", "release 0", "acquired 1", "release 1"));
      },
      kTimeout);
}

TEST(Semaphore, ZeroTimeoutSucceedsWhenAPermitIsFreeAndTimesOutOnTheNextIterationWhenNot) {
  Semaphore sem(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::uint64_t now = loop.stats().iterations;
        Semaphore::Guard guard = co_await sem.acquire(0ms);
        EXPECT_EQ(loop.stats().iterations, now) << "a free permit is taken without waiting";
        Outcome busy = co_await outcome_of(loop, sem.acquire(0ms));
        EXPECT_TRUE(busy.timed_out);
        EXPECT_EQ(busy.iteration, now + 1);
        EXPECT_EQ(sem.value(), 0);
        EXPECT_EQ(sem.waiters(), 0u);
      },
      kTimeout);
}

TEST(Semaphore, WaiterResumesThroughTheLoopNeverInsideRelease) {
  Semaphore sem(0);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        auto take = [&]() -> Future<void> {
          Semaphore::Guard guard = co_await sem.acquire();
          history.push_back("acquired");
        };
        Future<void> waiter = take();
        sem.release();
        history.push_back("after release");
        co_await waiter;
        EXPECT_THAT(history, ElementsAre("after release", "acquired"));
      },
      kTimeout);
}

// =============================================================================
// BoundedSemaphore
// =============================================================================

TEST(BoundedSemaphore, ReleaseAboveTheInitialValueThrowsValueErrorNamingIt) {
  BoundedSemaphore sem(1, "slots");
  IOLoop loop;
  try {
    sem.release();
    ADD_FAILURE() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("slots"));
  }
  EXPECT_EQ(sem.value(), 1);
  EXPECT_EQ(sem.describe(), "BoundedSemaphore 'slots' (value 1, 0 waiters)");
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Semaphore::Guard> held;
        Future<void> first = hold(sem.acquire(), held);
        Future<void> second = hold(sem.acquire(), held);
        EXPECT_FALSE(second.done());
        held[0].release();
        co_await second;
        held[1].release();
        EXPECT_EQ(sem.value(), 1);
        EXPECT_THROW(sem.release(), ValueError);
      },
      kTimeout);
}

TEST(BoundedSemaphore, OverReleaseIsCheckedBeforeAnyWaiterIsWoken) {
  BoundedSemaphore sem(0, "closed");
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<Semaphore::Guard> waiter = to_future(sem.acquire());
        EXPECT_THROW(sem.release(), ValueError);
        co_await gen::sleep(10ms);
        EXPECT_FALSE(waiter.done());
        EXPECT_EQ(sem.waiters(), 1u);
        EXPECT_EQ(sem.value(), 0);
      },
      kTimeout);
}

TEST(BoundedSemaphore, ReleasesBackToTheInitialValueThroughWaiters) {
  BoundedSemaphore sem(2);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Semaphore::Guard> held;
        Future<void> a = hold(sem.acquire(), held);
        Future<void> b = hold(sem.acquire(), held);
        Future<void> c = hold(sem.acquire(), held);
        held[0].release();  // handed to c
        co_await c;
        held[1].release();
        held[2].release();
        EXPECT_EQ(sem.value(), 2);
        EXPECT_THROW(sem.release(), ValueError);
      },
      kTimeout);
}

// =============================================================================
// Lock
// =============================================================================

TEST(Lock, DescribeShowsNameStateAndWaiterCount) {
  Lock lock("db");
  IOLoop loop;
  EXPECT_EQ(lock.describe(), "Lock 'db' (unlocked, 0 waiters)");
  loop.run_sync(
      [&]() -> Future<void> {
        Lock::Guard guard = co_await lock.acquire();
        EXPECT_EQ(lock.describe(), "Lock 'db' (locked, 0 waiters)");
        Future<Lock::Guard> waiter = to_future(lock.acquire());
        EXPECT_THAT(lock.describe(), HasSubstr("1 waiter"));
        guard.release();
        co_await waiter;
      },
      kTimeout);
}

TEST(Lock, AcquireWaitsUntilTheHolderReleases) {
  Lock lock;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        EXPECT_FALSE(lock.locked());
        Lock::Guard guard = co_await lock.acquire();
        EXPECT_TRUE(lock.locked());
        Future<Lock::Guard> next = to_future(lock.acquire());
        co_await gen::moment;
        EXPECT_FALSE(next.done());
        guard.release();
        EXPECT_TRUE(lock.locked()) << "handed straight to the waiter";
        co_await next;
      },
      kTimeout);
}

TEST(Lock, DismissedGuardLeavesTheLockHeldForAnExplicitRelease) {
  Lock lock("manual");
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        (co_await lock.acquire()).dismiss();  // Tornado style: acquire, later release()
        EXPECT_TRUE(lock.locked());
        Future<Lock::Guard> next = to_future(lock.acquire());
        co_await gen::moment;
        EXPECT_FALSE(next.done());
        lock.release();
        Lock::Guard guard = co_await next;
        EXPECT_TRUE(guard.owns());
        EXPECT_TRUE(lock.locked());
      },
      kTimeout);
  EXPECT_FALSE(lock.locked()) << "the second guard released it";
  EXPECT_THROW(lock.release(), tornado::UsageError);
}

TEST(Lock, WaitersAcquireInFifoOrder) {
  Lock lock;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<int> history;
        std::optional<Lock::Guard> first(co_await lock.acquire());
        auto f = [&](int i) -> Future<void> {
          Lock::Guard guard = co_await lock.acquire();
          history.push_back(i);
        };
        std::vector<Future<void>> futures;
        for (int i = 0; i < 5; ++i) futures.push_back(f(i));
        EXPECT_TRUE(std::none_of(futures.begin(), futures.end(), [](auto& x) { return x.done(); }));
        first.reset();
        co_await gen::multi(futures);
        EXPECT_THAT(history, ElementsAre(0, 1, 2, 3, 4));
        EXPECT_FALSE(lock.locked());
      },
      kTimeout);
}

TEST(Lock, FifoSkipsWaitersThatTimedOut) {
  Lock lock;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Strings history;
        std::optional<Lock::Guard> first(co_await lock.acquire());
        auto f = [&](std::string who, Deadline timeout) -> Future<void> {
          try {
            Lock::Guard guard = co_await lock.acquire(std::move(timeout));
            history.push_back(who);
          } catch (const TimeoutError&) {
            history.push_back(who + " timed out");
          }
        };
        Future<void> a = f("a", {});
        Future<void> b = f("b", 10ms);
        Future<void> c = f("c", {});
        co_await gen::sleep(20ms);
        first.reset();
        co_await all_of(a, b, c);
        EXPECT_THAT(history, ElementsAre("b timed out", "a", "c"));
      },
      kTimeout);
}

TEST(Lock, AcquireTimeoutThrowsNamingTheLockAndLeavesItLocked) {
  Lock lock("db");
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Lock::Guard guard = co_await lock.acquire();
        EXPECT_THAT(co_await message_of<TimeoutError>(lock.acquire(10ms)), HasSubstr("db"));
        EXPECT_TRUE(lock.locked());
        Future<Lock::Guard> next = to_future(lock.acquire());
        co_await gen::moment;
        EXPECT_FALSE(next.done());
        guard.release();
        co_await next;
      },
      kTimeout);
}

TEST(Lock, ReleaseOfAnUnlockedLockThrowsUsageErrorThatSaysSo) {
  Lock lock("db");
  IOLoop loop;
  auto expect_unlocked_error = [&] {
    try {
      lock.release();
      ADD_FAILURE() << "no exception";
    } catch (const UsageError& e) {
      EXPECT_THAT(e.what(), HasSubstr("db"));
      EXPECT_THAT(e.what(), HasSubstr("unlocked"));
    }
  };
  expect_unlocked_error();
  loop.run_sync(
      [&]() -> Future<void> {
        Lock::Guard guard = co_await lock.acquire();
        guard.release();
      },
      kTimeout);
  expect_unlocked_error();
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, ZeroTimeoutSucceedsWhenUnlockedAndTimesOutWhenLocked) {
  Lock lock;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::uint64_t now = loop.stats().iterations;
        Lock::Guard guard = co_await lock.acquire(0ms);
        EXPECT_EQ(loop.stats().iterations, now);
        EXPECT_TRUE(lock.locked());
        Outcome busy = co_await outcome_of(loop, lock.acquire(0ms));
        EXPECT_TRUE(busy.timed_out);
        EXPECT_EQ(busy.iteration, now + 1);
        EXPECT_TRUE(lock.locked());
      },
      kTimeout);
}

// =============================================================================
// Trace events
// =============================================================================

using ScopedAttach = tornado::testing::ScopedTrace;

// The events the test compares: those of the sync objects, not the loop's.
std::vector<trace::Event> sync_events(const trace::MemorySink& sink) {
  return tornado::testing::without_loop_events(sink.events());
}

std::vector<trace::Kind> kinds(const std::vector<trace::Event>& events) {
  std::vector<trace::Kind> out;
  for (const trace::Event& e : events) out.push_back(e.kind);
  return out;
}

constexpr auto u64 = [](auto v) { return static_cast<std::uint64_t>(v); };

}  // namespace
}  // namespace tornado

// Failure messages name trace kinds rather than print their numbers.
namespace tornado::trace {
void PrintTo(Kind kind, std::ostream* out) { *out << kind_name(kind); }
}  // namespace tornado::trace

namespace tornado {
namespace {

TEST(LocksTrace, ConditionReportsEnqueuesTimeoutAndFifoWakeups) {
  using trace::Kind;
  trace::MemorySink sink;
  IOLoop loop;  // made before attaching, so its setup is not in the trace
  int line_a = 0, line_b = 0, line_c = 0;
  {
    ScopedAttach attach(sink);
    loop.run_sync(
        [&]() -> Future<void> {
          Condition cond("ready");
          Strings history;
          line_a = __LINE__ + 1;
          Future<void> a = record(cond.wait(), history, "a");
          line_b = __LINE__ + 1;
          Future<void> b = record(cond.wait(5ms), history, "b");
          line_c = __LINE__ + 1;
          Future<void> c = record(cond.wait(), history, "c");
          co_await gen::sleep(20ms);  // b times out
          cond.notify(2);
          co_await all_of(a, b, c);
          EXPECT_THAT(history, ElementsAre("timeout", "a", "c"));
        },
        kTimeout);
  }
  std::vector<trace::Event> events = sync_events(sink);
  ASSERT_THAT(kinds(events),
              ElementsAre(Kind::loop_started, Kind::sync_created, Kind::waiter_enqueued,
                          Kind::waiter_enqueued, Kind::waiter_enqueued, Kind::waiter_timed_out,
                          Kind::waiter_woken, Kind::waiter_woken, Kind::sync_destroyed,
                          Kind::loop_stopped));
  const trace::Event& created = events[1];
  std::uint64_t id = created.object;
  EXPECT_NE(id, 0u);
  EXPECT_EQ(sink.string(created.name), "Condition 'ready'");
  EXPECT_EQ(created.a, u64(trace::SyncKind::condition));
  int lines[] = {line_a, line_b, line_c};
  std::uint64_t waiter[3];
  for (int i = 0; i < 3; ++i) {
    const trace::Event& e = events[static_cast<std::size_t>(2 + i)];
    waiter[i] = e.a;
    EXPECT_EQ(e.b, u64(trace::WaitKind::notify));
    EXPECT_THAT(sink.string(e.name), EndsWith(" at locks_test.cc:" + std::to_string(lines[i])));
  }
  EXPECT_EQ(std::set<std::uint64_t>(waiter, waiter + 3).size(), 3u) << "waiter ids are distinct";
  EXPECT_EQ(events[5].a, waiter[1]) << "the waiter with the timeout timed out";
  EXPECT_EQ(events[6].a, waiter[0]) << "oldest woken first";
  EXPECT_EQ(events[7].a, waiter[2]);
  for (std::size_t i = 1; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].object, id) << "event " << i;
    EXPECT_EQ(events[i].loop, loop.id()) << "event " << i;
  }
}

TEST(LocksTrace, SemaphoreEventsPairAcquiresWithReleasesAndLetTheStateBeRebuilt) {
  using trace::Kind;
  trace::MemorySink sink;
  IOLoop loop;
  int line_first = 0, line_second = 0, line_waiter = 0;
  {
    ScopedAttach attach(sink);
    loop.run_sync(
        [&]() -> Future<void> {
          Semaphore sem(2, "pool");
          std::vector<Semaphore::Guard> held;
          line_first = __LINE__ + 1;
          held.push_back(co_await sem.acquire());
          line_second = __LINE__ + 1;
          held.push_back(co_await sem.acquire());
          line_waiter = __LINE__ + 1;
          Future<void> waiter = hold(sem.acquire(), held);
          held[0].release();  // handed to the waiter
          co_await waiter;
          held[1].release();
          held[2].release();
          EXPECT_EQ(sem.value(), 2);
        },
        kTimeout);
  }
  std::vector<trace::Event> all = sync_events(sink);
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(all.front().kind, Kind::loop_started);
  EXPECT_EQ(all.back().kind, Kind::loop_stopped);
  std::vector<trace::Event> events(all.begin() + 1, all.end() - 1);
  ASSERT_THAT(kinds(events),
              ElementsAre(Kind::sync_created, Kind::sync_acquired, Kind::sync_acquired,
                          Kind::waiter_enqueued, Kind::sync_released, Kind::waiter_woken,
                          Kind::sync_acquired, Kind::sync_released, Kind::sync_released,
                          Kind::sync_destroyed));
  EXPECT_EQ(sink.string(events[0].name), "Semaphore 'pool'");
  EXPECT_EQ(events[0].a, u64(trace::SyncKind::semaphore));
  EXPECT_EQ(events[0].b, 2u) << "initial value";
  std::uint64_t first = events[1].a, second = events[2].a, waiter = events[3].a;
  EXPECT_EQ(std::set<std::uint64_t>({first, second, waiter}).size(), 3u);
  EXPECT_NE(first, 0u);
  EXPECT_EQ(events[3].b, u64(trace::WaitKind::acquire));
  EXPECT_EQ(events[4].a, first) << "the first holder released, before the wake it causes";
  EXPECT_EQ(events[5].a, waiter);
  EXPECT_EQ(events[6].a, waiter) << "the woken waiter holds under its waiter id";
  EXPECT_EQ(events[7].a, second);
  EXPECT_EQ(events[8].a, waiter);
  std::string file = " at locks_test.cc:";
  EXPECT_THAT(sink.string(events[1].name), EndsWith(file + std::to_string(line_first)));
  EXPECT_THAT(sink.string(events[2].name), EndsWith(file + std::to_string(line_second)));
  EXPECT_THAT(sink.string(events[3].name), EndsWith(file + std::to_string(line_waiter)));
  EXPECT_THAT(sink.string(events[6].name), EndsWith(file + std::to_string(line_waiter)));

  // Rebuild the state from the events alone: the value, who holds a permit,
  // and permits handed to a woken waiter that has not resumed yet. They
  // account for all 2 permits after every step (a hand-off is the pair
  // sync_released + waiter_woken).
  std::uint64_t value = events[0].b;
  std::set<std::uint64_t> holders, in_flight;
  std::vector<std::uint64_t> values;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const trace::Event& e = events[i];
    bool hand_off = i + 1 < events.size() && events[i + 1].kind == Kind::waiter_woken;
    if (e.kind == Kind::sync_acquired) {
      EXPECT_TRUE(holders.insert(e.a).second) << "acquired twice by " << e.a;
      in_flight.erase(e.a);
    } else if (e.kind == Kind::sync_released) {
      EXPECT_EQ(holders.erase(e.a), 1u) << "released by a non-holder " << e.a;
    } else if (e.kind == Kind::waiter_woken) {
      in_flight.insert(e.a);
    } else {
      continue;
    }
    if (e.kind != Kind::waiter_woken) values.push_back(value = e.b);
    if (!hand_off) {
      EXPECT_EQ(value + holders.size() + in_flight.size(), 2u) << "event " << i;
    }
  }
  EXPECT_THAT(values, ElementsAre(1, 0, 0, 0, 1, 2));
  EXPECT_TRUE(holders.empty());
  EXPECT_TRUE(in_flight.empty());
}

// =============================================================================
// Stress
// =============================================================================

struct Contention {
  Semaphore sem{7, "pool"};
  int holders = 0;
  int max_holders = 0;
  int acquired = 0;
  int timed_out = 0;
  std::vector<int> enqueued;  // workers that had to wait, in the order they asked
  std::vector<int> granted;   // those of them that acquired, in the order they resumed
};

// One contender: arrives after `start`, asks for a permit with `timeout`,
// holds it for `hold_for`. Woken waiters resume in the order their permits
// were handed over (FIFO callbacks), so `granted` is the hand-over order.
Future<void> contend(Contention& s, IOLoop& loop, int id, Duration start,
                     std::optional<Duration> timeout, Duration hold_for) {
  co_await gen::sleep(start);
  bool must_wait = s.sem.value() == 0 || s.sem.waiters() > 0;
  if (must_wait) s.enqueued.push_back(id);
  std::uint64_t iteration = loop.stats().iterations;
  try {
    Semaphore::Guard guard = co_await s.sem.acquire(timeout ? Deadline(*timeout) : Deadline());
    if (must_wait) {
      s.granted.push_back(id);
    } else {
      EXPECT_EQ(loop.stats().iterations, iteration) << "a free permit is taken at once";
    }
    ++s.acquired;
    s.max_holders = std::max(s.max_holders, ++s.holders);
    co_await gen::sleep(hold_for);
    --s.holders;
  } catch (const TimeoutError&) {
    EXPECT_TRUE(must_wait) << "worker " << id << " timed out without having to wait";
    ++s.timed_out;
  }
}

TEST(SemaphoreStress, ThousandContendersNeverExceedSevenHoldersAndAcquireInFifoOrder) {
  Contention s;
  IOLoop loop;
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> start_ms(0, 200), timeout_ms(1, 20), hold_ms(0, 3), kind(0, 7);
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Future<void>> workers;
        for (int id = 0; id < 1000; ++id) {
          Duration start = std::chrono::milliseconds(start_ms(rng));
          int k = kind(rng);  // 0-1: no timeout, 2: zero, else 1-20 ms (from arrival)
          std::optional<Duration> timeout;
          if (k == 2) timeout = 0ms;
          if (k > 2) timeout = std::chrono::milliseconds(timeout_ms(rng));
          Duration hold_for = std::chrono::milliseconds(hold_ms(rng));
          workers.push_back(contend(s, loop, id, start, timeout, hold_for));
        }
        co_await gen::multi(workers);
      },
      30s);
  EXPECT_EQ(s.acquired + s.timed_out, 1000);
  EXPECT_GT(s.acquired, 0);
  EXPECT_GT(s.timed_out, 0);
  EXPECT_LE(s.max_holders, 7);
  EXPECT_EQ(s.max_holders, 7) << "the scenario should saturate the semaphore";
  EXPECT_EQ(s.holders, 0);
  EXPECT_EQ(s.sem.value(), 7);
  EXPECT_EQ(s.sem.waiters(), 0u);
  EXPECT_FALSE(s.granted.empty());
  std::set<int> granted(s.granted.begin(), s.granted.end());
  std::vector<int> expected;
  for (int id : s.enqueued) {
    if (granted.count(id) != 0) expected.push_back(id);
  }
  EXPECT_EQ(s.granted, expected) << "waiters acquire in the order they asked";
}

}  // namespace
}  // namespace tornado
