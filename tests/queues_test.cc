// Specification of queues.h: Queue, PriorityQueue and LifoQueue (ported from
// Tornado's tornado/test/queues_test.py, plus what the C++ API adds:
// move-only items, absolute deadlines, trace events, named queues).
//
// Each test declares its queue before its IOLoop, so the loop goes first and
// destroys any coroutine still suspended on the queue (such as a worker
// looping on get()) while the queue is still alive.
#include "tornado/queues.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support.h"
#include "tornado/concurrent.h"
#include "tornado/errors.h"
#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/testing.h"
#include "tornado/trace.h"

// Failure messages name trace kinds rather than print their numbers.
namespace tornado::trace {
void PrintTo(Kind kind, std::ostream* out) { *out << kind_name(kind); }
}  // namespace tornado::trace

namespace tornado {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Pair = std::pair<int, std::string>;

// Every run_sync is bounded, so a hang fails the test instead of ctest.
constexpr Duration kTimeout = 10s;
using tornado::test_support::message_of;

// ---- Helpers ----------------------------------------------------------------

// How a wait ended, and in which loop iteration (to check that a zero
// timeout takes exactly one).
struct Outcome {
  bool timed_out;
  std::uint64_t iteration;
};
template <class Awaitable>
Future<Outcome> outcome_of(IOLoop& loop, Awaitable awaitable) {
  bool timed_out = false;
  try {
    (void)co_await awaitable;
  } catch (const TimeoutError&) {
    timed_out = true;
  }
  co_return Outcome{timed_out, loop.stats().iterations};
}

// gen::multi over a few futures. (GCC 12 rejects a braced list inside a
// co_await expression, so the vector is built here.)
template <class... F>
Future<void> all_of(F... futures) {
  return gen::multi(std::vector<Future<void>>{futures...});
}

// Busy-waits so a deadline passes while the loop cannot run anything else.
void block_for(Duration d) {
  TimePoint until = Clock::now() + d;
  while (Clock::now() < until) std::this_thread::sleep_for(1ms);
}

// =============================================================================
// Basics
// =============================================================================

TEST(Queue, DescribeShowsNameSizeWaitersAndUnfinishedTasks) {
  Queue<int> q(1, "jobs");
  IOLoop loop;
  EXPECT_EQ(q.describe(), "Queue 'jobs' (0/1 items, 0 getters, 0 putters, 0 unfinished)");
  EXPECT_EQ(Queue<int>().describe(),
            "Queue (0/unbounded items, 0 getters, 0 putters, 0 unfinished)");
  EXPECT_THAT(PriorityQueue<int>(0, "p").describe(), HasSubstr("PriorityQueue 'p'"));
  EXPECT_THAT(LifoQueue<int>(0, "l").describe(), HasSubstr("LifoQueue 'l'"));
  loop.run_sync(
      [&]() -> Future<void> {
        Future<int> getter = to_future(q.get());
        EXPECT_EQ(q.describe(), "Queue 'jobs' (0/1 items, 1 getters, 0 putters, 0 unfinished)");
        q.put_nowait(0);  // straight to the getter
        q.put_nowait(1);
        Future<void> putter = to_future(q.put(2));  // full: waits
        EXPECT_EQ(q.describe(), "Queue 'jobs' (1/1 items, 0 getters, 1 putters, 2 unfinished)");
        EXPECT_EQ(co_await getter, 0);
        EXPECT_EQ(q.get_nowait(), 1);
        co_await putter;
      },
      kTimeout);
}

TEST(Queue, GetsComeOutInPutOrder) {
  Queue<int> q;
  for (int i : {1, 3, 2}) q.put_nowait(i);
  EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_EQ(q.get_nowait(), 3);
  EXPECT_EQ(q.get_nowait(), 2);
}

TEST(Queue, MaxsizeBoundsThePutsThatCompleteAtOnce) {
  Queue<int> q(2);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        EXPECT_TRUE(q.empty());
        EXPECT_FALSE(q.full());
        EXPECT_EQ(q.maxsize(), 2u);
        EXPECT_TRUE(to_future(q.put(0)).done());
        EXPECT_TRUE(to_future(q.put(1)).done());
        EXPECT_FALSE(q.empty());
        EXPECT_TRUE(q.full());
        Future<void> put2 = to_future(q.put(2));
        EXPECT_FALSE(put2.done());
        EXPECT_EQ(co_await q.get(), 0);  // makes room: put2's item goes in
        EXPECT_EQ(q.qsize(), 2u);
        EXPECT_TRUE(q.full());
        co_await put2;
      },
      kTimeout);
}

TEST(Queue, UnboundedQueueIsNeverFull) {
  Queue<int> q;
  for (int i = 0; i < 1000; ++i) q.put_nowait(i);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.qsize(), 1000u);
  EXPECT_EQ(q.maxsize(), 0u);
}

// =============================================================================
// get
// =============================================================================

TEST(QueueGet, GetterOfADestroyedQueueStillTimesOut) {
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        auto q = std::make_unique<Queue<int>>(0, "doomed");
        Future<int> getting = to_future(q->get(20ms));
        co_await gen::moment;
        q.reset();
        try {
          (void)co_await getting;
          ADD_FAILURE() << "the get should have timed out";
        } catch (const tornado::TimeoutError& e) {
          EXPECT_THAT(std::string(e.what()),
                      ::testing::HasSubstr("after its object was destroyed"));
        }
      },
      kTimeout);
}

TEST(QueueGet, GetTakesAnItemAlreadyThereWithoutWaiting) {
  Queue<int> q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(0);
        std::uint64_t now = loop.stats().iterations;
        EXPECT_EQ(co_await q.get(), 0);
        EXPECT_EQ(loop.stats().iterations, now);
        q.put_nowait(1);
        EXPECT_EQ(q.get_nowait(), 1);
      },
      kTimeout);
}

TEST(QueueGet, GetNowaitOnAnEmptyQueueThrowsQueueEmptyNamingIt) {
  Queue<int> q(0, "jobs");
  try {
    (void)q.get_nowait();
    ADD_FAILURE() << "no exception";
  } catch (const QueueEmpty& e) {
    EXPECT_THAT(e.what(), HasSubstr("jobs"));
  }
}

TEST(QueueGet, GetAdmitsTheOldestWaitingPuttersItem) {
  Queue<int> q(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(0);
        Future<void> put = to_future(q.put(1));
        EXPECT_EQ(q.putters(), 1u);
        EXPECT_EQ(co_await q.get(), 0);
        EXPECT_EQ(q.putters(), 0u);
        EXPECT_EQ(q.qsize(), 1u) << "the putter's item went in when get() returned";
        co_await put;
        EXPECT_EQ(q.get_nowait(), 1);
      },
      kTimeout);
}

TEST(QueueGet, GetWaitsForLaterPuts) {
  Queue<int> q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(0);
        loop.call_later(10ms, [&] { q.put_nowait(1); });
        loop.call_later(20ms, [&] { q.put_nowait(2); });
        EXPECT_EQ(co_await q.get(1s), 0);
        EXPECT_EQ(co_await q.get(1s), 1);
        EXPECT_EQ(co_await q.get(1s), 2);
      },
      kTimeout);
}

TEST(QueueGet, GetTimeoutThrowsNamingTheQueueAndTheNextGetterStillGetsTheItem) {
  Queue<int> q(0, "jobs");
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<std::string> timed_out = message_of<TimeoutError>(q.get(10ms));
        Future<int> get = to_future(q.get());
        EXPECT_THAT(co_await timed_out, HasSubstr("jobs"));
        q.put_nowait(0);
        EXPECT_EQ(co_await get, 0);
        EXPECT_EQ(q.qsize(), 0u);
      },
      kTimeout);
}

TEST(QueueGet, PutBeforeTheDeadlineSatisfiesTheGet) {
  Queue<int> q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<int> get = to_future(q.get(10ms));
        q.put_nowait(0);
        co_await gen::sleep(20ms);
        EXPECT_EQ(co_await get, 0);
      },
      kTimeout);
}

TEST(QueueGet, GetterHandedAnItemWhoseDeadlinePassesBeforeItResumesStillGetsIt) {
  Queue<int> q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<int> get = to_future(q.get(5ms));
        q.put_nowait(7);
        block_for(20ms);
        EXPECT_EQ(co_await get, 7);
      },
      kTimeout);
}

TEST(QueueGet, TimedOutPuttersAreRemovedAtOnceAndTheirItemsNeverEnter) {
  Queue<int> q(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Future<void>> putters;
        for (int i = 0; i < 10; ++i) putters.push_back(to_future(q.put(i, 10ms)));
        Future<void> put = to_future(q.put(10));
        EXPECT_EQ(q.putters(), 10u) << "the first put went in, the other ten wait";
        co_await gen::sleep(20ms);
        EXPECT_EQ(q.putters(), 1u);
        EXPECT_FALSE(put.done());
        Future<void> put11 = to_future(q.put(11));
        EXPECT_EQ(q.putters(), 2u);
        EXPECT_EQ(co_await q.get(), 0);
        EXPECT_EQ(q.putters(), 1u);
        EXPECT_EQ(co_await q.get(), 10);
        EXPECT_EQ(co_await q.get(), 11);
        for (std::size_t i = 1; i < putters.size(); ++i) {
          EXPECT_THROW(putters[i].result(), TimeoutError);
        }
        co_await all_of(put, put11);
        EXPECT_EQ(q.unfinished_tasks(), 3u) << "only items that went in count";
      },
      kTimeout);
}

TEST(QueueGet, TimedOutGettersAreRemovedAtOnce) {
  Queue<int> q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Future<int>> getters;
        for (int i = 0; i < 10; ++i) getters.push_back(to_future(q.get(10ms)));
        Future<int> get = to_future(q.get());
        EXPECT_EQ(q.getters(), 11u);
        co_await gen::sleep(20ms);
        EXPECT_EQ(q.getters(), 1u);
        EXPECT_FALSE(get.done());
        Future<int> another = to_future(q.get());
        EXPECT_EQ(q.getters(), 2u);
        q.put_nowait(0);
        q.put_nowait(1);
        EXPECT_EQ(co_await get, 0);
        EXPECT_EQ(co_await another, 1);
        for (auto& g : getters) EXPECT_THROW(g.result(), TimeoutError);
      },
      kTimeout);
}

TEST(QueueGet, DeadlineMayBeAnAbsoluteTimePoint) {
  Queue<int> q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        TimePoint start = loop.time();
        EXPECT_TRUE((co_await outcome_of(loop, q.get(start + 20ms))).timed_out);
        EXPECT_GE(loop.time() - start, 20ms);
        q.put_nowait(1);
        EXPECT_EQ(co_await q.get(start), 1) << "an item there is taken even past the deadline";
      },
      kTimeout);
}

// =============================================================================
// put
// =============================================================================

TEST(QueuePut, PutNowaitOnAFullQueueThrowsQueueFullNamingIt) {
  Queue<int> q(1, "jobs");
  q.put_nowait(0);
  try {
    q.put_nowait(1);
    ADD_FAILURE() << "no exception";
  } catch (const QueueFull& e) {
    EXPECT_THAT(e.what(), HasSubstr("jobs"));
  }
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
}

TEST(QueuePut, PutHandsTheItemStraightToTheOldestGetter) {
  Queue<int> q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<int> get0 = to_future(q.get());
        Future<int> get1 = to_future(q.get());
        co_await q.put(0);
        EXPECT_EQ(q.qsize(), 0u) << "the item skipped the queue";
        EXPECT_EQ(q.unfinished_tasks(), 1u) << "and still counts toward join()";
        EXPECT_EQ(co_await get0, 0);
        co_await q.put(1);
        EXPECT_EQ(co_await get1, 1);
      },
      kTimeout);
}

TEST(QueuePut, GettersResumeThroughTheLoopNeverInsidePut) {
  Queue<int> q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<std::string> history;
        auto getter = [&]() -> Future<void> {
          int item = co_await q.get();
          history.push_back("got " + std::to_string(item));
        };
        Future<void> g0 = getter();
        Future<void> g1 = getter();
        q.put_nowait(0);
        history.push_back("after put_nowait");
        co_await q.put(1);
        history.push_back("after put");
        co_await all_of(g0, g1);
        EXPECT_THAT(history, ElementsAre("after put_nowait", "after put", "got 0", "got 1"));
      },
      kTimeout);
}

TEST(QueuePut, PutsWaitForRoom) {
  Queue<int> q(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(0);
        std::vector<int> got;
        loop.call_later(10ms, [&] { got.push_back(q.get_nowait()); });
        loop.call_later(20ms, [&] { got.push_back(q.get_nowait()); });
        Future<void> p1 = to_future(q.put(1));
        Future<void> p2 = to_future(q.put(2));
        EXPECT_FALSE(p1.done() || p2.done());
        co_await all_of(p1, p2);
        EXPECT_THAT(got, ElementsAre(0, 1));
        EXPECT_EQ(q.get_nowait(), 2);
      },
      kTimeout);
}

TEST(QueuePut, PutTimeoutThrowsNamingTheQueueAndNeverEnqueuesTheItem) {
  Queue<int> q(1, "jobs");
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(0);
        Future<std::string> timed_out = message_of<TimeoutError>(q.put(1, 10ms));
        Future<void> put = to_future(q.put(2));
        EXPECT_THAT(co_await timed_out, HasSubstr("jobs"));
        EXPECT_EQ(q.get_nowait(), 0);
        EXPECT_EQ(co_await q.get(), 2) << "1 was never put";
        co_await put;
        EXPECT_EQ(q.unfinished_tasks(), 2u);
      },
      kTimeout);
}

TEST(QueuePut, GetBeforeTheDeadlineCompletesThePut) {
  Queue<int> q(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(0);
        Future<void> put = to_future(q.put(1, 10ms));
        EXPECT_EQ(q.get_nowait(), 0);
        co_await gen::sleep(20ms);
        co_await put;  // no TimeoutError
        EXPECT_EQ(q.get_nowait(), 1);
      },
      kTimeout);
}

TEST(QueuePut, PutterAdmittedWhoseDeadlinePassesBeforeItResumesStillSucceeds) {
  Queue<int> q(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(0);
        Future<void> put = to_future(q.put(1, 5ms));
        EXPECT_EQ(q.get_nowait(), 0);
        block_for(20ms);
        co_await put;
        EXPECT_EQ(q.get_nowait(), 1);
      },
      kTimeout);
}

TEST(QueuePut, HandOffsCancelTheWaitersTimersAtOnce) {
  Queue<int> q(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::size_t before = loop.stats().timers;
        Future<int> get = to_future(q.get(1h));
        EXPECT_EQ(loop.stats().timers, before + 1);
        q.put_nowait(1);  // to the getter
        EXPECT_EQ(loop.stats().timers, before);
        EXPECT_EQ(co_await get, 1);

        q.put_nowait(2);
        Future<void> put = to_future(q.put(3, 1h));
        EXPECT_EQ(loop.stats().timers, before + 1);
        EXPECT_EQ(q.get_nowait(), 2);  // admits the putter
        EXPECT_EQ(loop.stats().timers, before);
        co_await put;
      },
      kTimeout);
}

TEST(QueuePut, TimedOutGettersAreSkippedByPut) {
  Queue<int> q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Future<int>> getters;
        for (int i = 0; i < 10; ++i) getters.push_back(to_future(q.get(10ms)));
        Future<int> get = to_future(q.get());
        Future<int> get2 = to_future(q.get());
        EXPECT_EQ(q.getters(), 12u);
        co_await gen::sleep(20ms);
        EXPECT_EQ(q.getters(), 2u);
        co_await q.put(0);
        EXPECT_EQ(q.getters(), 1u);
        EXPECT_EQ(co_await get, 0);
        for (auto& g : getters) EXPECT_THROW(g.result(), TimeoutError);
        q.put_nowait(1);
        EXPECT_EQ(co_await get2, 1);
      },
      kTimeout);
}

TEST(QueuePut, ZeroTimeoutsSucceedWhenTheyNeedNotWaitAndExpireOnTheNextIterationWhenTheyMust) {
  Queue<int> q(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::uint64_t now = loop.stats().iterations;
        co_await q.put(1, 0ms);
        EXPECT_EQ(q.qsize(), 1u);
        Outcome full = co_await outcome_of(loop, q.put(2, 0ms));
        EXPECT_TRUE(full.timed_out);
        EXPECT_EQ(full.iteration, now + 1);
        EXPECT_EQ(q.qsize(), 1u) << "the timed-out item did not go in";

        now = loop.stats().iterations;
        EXPECT_EQ(co_await q.get(0ms), 1);
        EXPECT_EQ(loop.stats().iterations, now) << "an item there is taken without waiting";
        Outcome empty = co_await outcome_of(loop, q.get(0ms));
        EXPECT_TRUE(empty.timed_out);
        EXPECT_EQ(empty.iteration, now + 1);
        q.put_nowait(5);
        EXPECT_EQ(q.qsize(), 1u) << "the timed-out get took nothing";
      },
      kTimeout);
}

// =============================================================================
// join and task_done, for every kind of queue
// =============================================================================

template <class Q>
class QueueJoin : public ::testing::Test {};
using QueueKinds = ::testing::Types<Queue<int>, PriorityQueue<int>, LifoQueue<int>>;
TYPED_TEST_SUITE(QueueJoin, QueueKinds);

TYPED_TEST(QueueJoin, TaskDoneMoreTimesThanItemsPutThrowsValueErrorNamingTheQueue) {
  TypeParam q(0, "jobs");
  try {
    q.task_done();
    ADD_FAILURE() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("jobs"));
  }
  q.put_nowait(1);
  (void)q.get_nowait();
  q.task_done();
  EXPECT_THROW(q.task_done(), ValueError);
}

// Takes items forever, adding them up; the loop destroys it at the end.
template <class Q>
Future<void> worker(Q& q, int& sum, std::mt19937& rng) {
  std::uniform_int_distribution<int> pause_ms(0, 3);
  for (;;) {
    sum += co_await q.get();
    q.task_done();
    co_await gen::sleep(std::chrono::milliseconds(pause_ms(rng)));
  }
}

TYPED_TEST(QueueJoin, TwoWorkersShareTheWorkAndJoinWaitsForEveryItem) {
  TypeParam q;
  IOLoop loop;
  std::mt19937 rng(4242);
  int sum = 0;
  loop.run_sync(
      [&]() -> Future<void> {
        for (int i = 0; i < 100; ++i) q.put_nowait(i);
        Future<void> w1 = worker(q, sum, rng);
        Future<void> w2 = worker(q, sum, rng);
        co_await q.join();
        EXPECT_EQ(q.unfinished_tasks(), 0u);
      },
      kTimeout);
  EXPECT_EQ(sum, 4950);
}

TYPED_TEST(QueueJoin, TaskDoneNotGetUnblocksJoin) {
  TypeParam q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(0);
        Future<void> join = to_future(q.join());
        EXPECT_FALSE(join.done());
        EXPECT_EQ(co_await q.get(), 0);
        co_await gen::moment;
        EXPECT_FALSE(join.done());
        q.task_done();
        co_await gen::moment;
        EXPECT_TRUE(join.done());
      },
      kTimeout);
}

TYPED_TEST(QueueJoin, JoinOnAQueueWithNothingUnfinishedReturnsAtOnce) {
  TypeParam q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::uint64_t now = loop.stats().iterations;
        co_await q.join();
        co_await q.join();
        EXPECT_EQ(loop.stats().iterations, now);
      },
      kTimeout);
}

TYPED_TEST(QueueJoin, JoinTimeoutThrowsTimeoutErrorNamingTheQueue) {
  TypeParam q(0, "jobs");
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(0);
        EXPECT_THAT(co_await message_of<TimeoutError>(q.join(10ms)), HasSubstr("jobs"));
        EXPECT_EQ(q.unfinished_tasks(), 1u);
      },
      kTimeout);
}

TYPED_TEST(QueueJoin, ItemsHandedStraightToAGetterCountTowardJoin) {
  TypeParam q;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<int> get = to_future(q.get());
        q.put_nowait(5);
        EXPECT_EQ(q.unfinished_tasks(), 1u);
        Future<void> join = to_future(q.join());
        EXPECT_EQ(co_await get, 5);
        co_await gen::moment;
        EXPECT_FALSE(join.done());
        q.task_done();
        co_await join;
      },
      kTimeout);
}

// =============================================================================
// PriorityQueue and LifoQueue
// =============================================================================

TEST(PriorityQueue, GetsLowestFirstIncludingItemsOfAdmittedPutters) {
  PriorityQueue<Pair> q(2);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait({1, "a"});
        q.put_nowait({0, "b"});
        EXPECT_TRUE(q.full());
        Future<void> p3 = to_future(q.put({3, "c"}));
        Future<void> p2 = to_future(q.put({2, "d"}));
        EXPECT_EQ(q.get_nowait(), Pair(0, "b"));
        EXPECT_EQ(co_await q.get(), Pair(1, "a"));
        EXPECT_EQ(q.get_nowait(), Pair(2, "d"));
        EXPECT_EQ(co_await q.get(), Pair(3, "c"));
        EXPECT_TRUE(q.empty());
        co_await all_of(p3, p2);
      },
      kTimeout);
}

TEST(PriorityQueue, CompareChoosesWhatComesFirst) {
  PriorityQueue<int, std::greater<int>> q;
  for (int i : {3, 1, 4, 1, 5, 9, 2, 6}) q.put_nowait(i);
  std::vector<int> out;
  while (!q.empty()) out.push_back(q.get_nowait());
  EXPECT_THAT(out, ElementsAre(9, 6, 5, 4, 3, 2, 1, 1));
}

TEST(LifoQueue, GetsNewestFirstIncludingItemsOfAdmittedPutters) {
  LifoQueue<int> q(2);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        q.put_nowait(1);
        q.put_nowait(0);
        EXPECT_TRUE(q.full());
        Future<void> p3 = to_future(q.put(3));
        Future<void> p2 = to_future(q.put(2));
        EXPECT_EQ(q.get_nowait(), 3);
        EXPECT_EQ(co_await q.get(), 2);
        EXPECT_EQ(q.get_nowait(), 0);
        EXPECT_EQ(co_await q.get(), 1);
        EXPECT_TRUE(q.empty());
        co_await all_of(p3, p2);
      },
      kTimeout);
}

// =============================================================================
// Producers and consumers
// =============================================================================

TEST(ProducerConsumer, ConsumerSeesEveryItemInOrder) {
  Queue<int> q(3);
  IOLoop loop;
  std::vector<int> history;
  loop.run_sync(
      [&]() -> Future<void> {
        // No co_await between get() and task_done(): get() must not resume
        // inline, or join() would resolve before the producer's next put.
        auto consumer = [&]() -> Future<void> {
          for (;;) {
            history.push_back(co_await q.get());
            q.task_done();
          }
        };
        auto producer = [&]() -> Future<void> {
          for (int item = 0; item < 10; ++item) co_await q.put(item);
        };
        Future<void> c = consumer();
        co_await producer();
        co_await q.join();
      },
      kTimeout);
  EXPECT_THAT(history, ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
}

// =============================================================================
// Move-only items
// =============================================================================

struct Job {
  explicit Job(int i) : id(i) {}
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  int id;
};
using JobPtr = std::unique_ptr<Job>;

TEST(QueueOfMoveOnlyItems, JobsPassThroughEveryPath) {
  Queue<JobPtr> q(1, "jobs");
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        Future<JobPtr> getter = to_future(q.get());
        q.put_nowait(std::make_unique<Job>(1));  // handed to the getter
        EXPECT_EQ((co_await getter)->id, 1);

        co_await q.put(std::make_unique<Job>(2));                          // into the queue
        Future<void> putter = to_future(q.put(std::make_unique<Job>(3)));  // waits
        EXPECT_EQ(q.get_nowait()->id, 2);                                  // admits 3
        EXPECT_EQ((co_await q.get())->id, 3);
        co_await putter;

        q.put_nowait(std::make_unique<Job>(4));
        try {
          q.put_nowait(std::make_unique<Job>(5));
          ADD_FAILURE() << "no QueueFull";
        } catch (const QueueFull&) {
        }
        EXPECT_TRUE((co_await outcome_of(loop, q.put(std::make_unique<Job>(6), 5ms))).timed_out);
        JobPtr last = co_await q.get();
        EXPECT_EQ(last->id, 4);
        EXPECT_TRUE(q.empty());
        EXPECT_EQ(q.unfinished_tasks(), 4u);
      },
      kTimeout);
}

struct ByJobId {
  bool operator()(const JobPtr& a, const JobPtr& b) const { return a->id < b->id; }
};

TEST(QueueOfMoveOnlyItems, PriorityAndLifoQueuesHoldMoveOnlyItems) {
  PriorityQueue<JobPtr, ByJobId> pq;
  LifoQueue<JobPtr> lq;
  for (int i : {2, 0, 1}) {
    pq.put_nowait(std::make_unique<Job>(i));
    lq.put_nowait(std::make_unique<Job>(i));
  }
  std::vector<int> by_priority, newest_first;
  while (!pq.empty()) by_priority.push_back(pq.get_nowait()->id);
  while (!lq.empty()) newest_first.push_back(lq.get_nowait()->id);
  EXPECT_THAT(by_priority, ElementsAre(0, 1, 2));
  EXPECT_THAT(newest_first, ElementsAre(1, 0, 2));
}

// =============================================================================
// to_future
// =============================================================================

TEST(QueueToFuture, GetsAndPutsWorkWithMultiAndWithTimeout) {
  Queue<int> q(1);
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Future<int>> gets{to_future(q.get()), to_future(q.get())};
        Future<std::vector<int>> both = gen::multi(gets);
        q.put_nowait(1);
        q.put_nowait(2);
        EXPECT_THAT(co_await both, ElementsAre(1, 2));

        q.put_nowait(3);
        try {
          co_await gen::with_timeout(10ms, to_future(q.put(4)));
          ADD_FAILURE() << "with_timeout did not time out";
        } catch (const TimeoutError&) {
        }
        // with_timeout does not cancel the put: it still waits, and goes in
        // once there is room.
        EXPECT_EQ(q.putters(), 1u);
        EXPECT_EQ(q.get_nowait(), 3);
        EXPECT_EQ(co_await q.get(), 4);
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

constexpr auto u64 = [](auto v) { return static_cast<std::uint64_t>(v); };

TEST(QueueTrace, PutsGetsAndTaskDonesLetTheSizeAndUnfinishedCountBeRebuilt) {
  using trace::Kind;
  trace::MemorySink sink;
  IOLoop loop;  // made before attaching, so its setup is not in the trace
  {
    ScopedAttach attach(sink);
    loop.run_sync(
        [&]() -> Future<void> {
          Queue<int> q(2, "jobs");
          q.put_nowait(1);
          q.put_nowait(2);
          Future<void> putter = to_future(q.put(3));  // full: waits
          EXPECT_EQ(q.get_nowait(), 1);               // admits 3
          EXPECT_EQ(q.get_nowait(), 2);
          EXPECT_EQ(q.get_nowait(), 3);
          Future<int> getter = to_future(q.get());  // empty: waits
          q.put_nowait(4);                          // straight to the getter
          EXPECT_EQ(co_await getter, 4);
          co_await putter;
          Future<void> joined = to_future(q.join());  // 4 unfinished: waits
          for (int i = 0; i < 4; ++i) q.task_done();
          co_await joined;
        },
        kTimeout);
  }
  std::vector<trace::Event> events = sync_events(sink);
  std::vector<Kind> kinds;
  for (const trace::Event& e : events) kinds.push_back(e.kind);
  ASSERT_THAT(kinds,
              ElementsAre(Kind::loop_started, Kind::sync_created,
                          Kind::queue_put,                                       // put_nowait(1)
                          Kind::queue_put,                                       // put_nowait(2)
                          Kind::waiter_enqueued,                                 // put(3) waits
                          Kind::queue_put, Kind::waiter_woken, Kind::queue_got,  // admit 3, get
                          Kind::queue_got, Kind::queue_got,                      // get, get
                          Kind::waiter_enqueued,                                 // get() waits
                          Kind::queue_put, Kind::queue_got, Kind::waiter_woken,  // hand-off of 4
                          Kind::waiter_enqueued,                                 // join() waits
                          Kind::queue_task_done, Kind::queue_task_done, Kind::queue_task_done,
                          Kind::queue_task_done, Kind::waiter_woken,  // all done: join wakes
                          Kind::sync_destroyed, Kind::loop_stopped));
  const trace::Event& queue = events[1];
  EXPECT_EQ(sink.string(queue.name), "Queue 'jobs'");
  EXPECT_EQ(queue.a, u64(trace::SyncKind::queue));
  EXPECT_EQ(queue.b, 2u) << "maxsize";
  for (std::size_t i = 2; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].object, queue.object) << "event " << i << " belongs to the queue";
  }
  EXPECT_EQ(events[14].b, u64(trace::WaitKind::join));
  EXPECT_EQ(events[19].a, events[14].a) << "the join waiter is woken";
  EXPECT_EQ(events[4].b, u64(trace::WaitKind::put));
  EXPECT_EQ(events[6].a, events[4].a) << "the putter that waited is woken";
  EXPECT_EQ(events[10].b, u64(trace::WaitKind::get));
  EXPECT_EQ(events[13].a, events[10].a) << "the getter that waited is woken";

  // Rebuild the size and the unfinished count from the events alone and
  // check each step against what a put, a get or a task_done must do.
  std::uint64_t size = 0, unfinished = 0;
  std::vector<std::uint64_t> sizes, unfinished_counts;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const trace::Event& e = events[i];
    if (e.object != queue.object) continue;
    if (e.kind == Kind::queue_put) {
      bool hand_off = events[i + 1].kind == Kind::queue_got && events[i + 1].a == e.a;
      EXPECT_EQ(e.a, hand_off ? size : size + 1) << "event " << i;
      EXPECT_EQ(e.b, unfinished + 1) << "event " << i;
      size = e.a;
      unfinished = e.b;
    } else if (e.kind == Kind::queue_got) {
      bool hand_off = events[i - 1].kind == Kind::queue_put && events[i - 1].a == e.a;
      EXPECT_EQ(e.a, hand_off ? size : size - 1) << "event " << i;
      size = e.a;
    } else if (e.kind == Kind::queue_task_done) {
      EXPECT_EQ(e.a + 1, unfinished) << "event " << i;
      unfinished = e.a;
    } else {
      continue;
    }
    sizes.push_back(size);
    unfinished_counts.push_back(unfinished);
  }
  EXPECT_THAT(sizes, ElementsAre(1, 2, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0));
  EXPECT_THAT(unfinished_counts, ElementsAre(1, 2, 3, 3, 3, 3, 4, 4, 3, 2, 1, 0));
}

// =============================================================================
// Stress
// =============================================================================

constexpr int kProducers = 4;
constexpr int kItemsEach = 250;
constexpr int kConsumers = 3;

struct Traffic {
  Queue<int> q{3, "traffic"};
  std::vector<int> put, not_put, consumed;
  std::size_t max_size = 0;
  int get_timeouts = 0;
  void observe() { max_size = std::max(max_size, q.qsize()); }
};

// A zero, short or no timeout, at random.
std::optional<Duration> random_timeout(std::mt19937& rng) {
  int k = std::uniform_int_distribution<int>(0, 7)(rng);
  if (k < 3) return std::nullopt;
  if (k == 3) return 0ms;
  return std::chrono::milliseconds(std::uniform_int_distribution<int>(1, 4)(rng));
}
Deadline deadline(std::optional<Duration> timeout) {
  return timeout ? Deadline(*timeout) : Deadline();
}

Future<void> produce(Traffic& t, int p) {
  std::mt19937 rng(7000 + static_cast<unsigned>(p));
  for (int k = 0; k < kItemsEach; ++k) {
    int item = p * kItemsEach + k;
    try {
      co_await t.q.put(item, deadline(random_timeout(rng)));
      t.put.push_back(item);
    } catch (const TimeoutError&) {
      t.not_put.push_back(item);
    }
    t.observe();
    if (rng() % 3 == 0) co_await gen::sleep(std::chrono::milliseconds(rng() % 4));
  }
}

// Consumes until it gets a negative item (one per consumer, after join()).
Future<void> consume(Traffic& t, int c) {
  std::mt19937 rng(9000 + static_cast<unsigned>(c));
  for (;;) {
    int item;
    try {
      item = co_await t.q.get(deadline(random_timeout(rng)));
    } catch (const TimeoutError&) {
      ++t.get_timeouts;
      continue;
    }
    t.observe();
    if (item < 0) {
      t.q.task_done();
      co_return;
    }
    t.consumed.push_back(item);
    if (rng() % 3 == 0) co_await gen::sleep(std::chrono::milliseconds(rng() % 3));
    t.q.task_done();
  }
}

TEST(QueueStress, ProducersAndConsumersWithRandomTimeoutsLoseAndDuplicateNothing) {
  Traffic t;
  IOLoop loop;
  loop.run_sync(
      [&]() -> Future<void> {
        std::vector<Future<void>> consumers, producers;
        for (int c = 0; c < kConsumers; ++c) consumers.push_back(consume(t, c));
        for (int p = 0; p < kProducers; ++p) producers.push_back(produce(t, p));
        co_await gen::multi(producers);
        co_await t.q.join(20s);
        EXPECT_EQ(t.q.unfinished_tasks(), 0u);
        for (int c = 0; c < kConsumers; ++c) co_await t.q.put(-1);
        co_await gen::multi(consumers);
      },
      30s);
  EXPECT_EQ(t.put.size() + t.not_put.size(), std::size_t{kProducers * kItemsEach});
  EXPECT_FALSE(t.put.empty());
  EXPECT_FALSE(t.not_put.empty()) << "the scenario should make some puts time out";
  EXPECT_GT(t.get_timeouts, 0) << "the scenario should make some gets time out";
  EXPECT_LE(t.max_size, 3u);
  std::set<int> put(t.put.begin(), t.put.end());
  std::set<int> not_put(t.not_put.begin(), t.not_put.end());
  for (int item : not_put) EXPECT_EQ(put.count(item), 0u) << item << " both put and not put";
  std::vector<int> consumed = t.consumed;
  std::sort(consumed.begin(), consumed.end());
  EXPECT_EQ(std::adjacent_find(consumed.begin(), consumed.end()), consumed.end())
      << "an item was consumed twice";
  EXPECT_EQ(consumed, std::vector<int>(put.begin(), put.end())) << "every item put was consumed";
  EXPECT_EQ(t.q.qsize(), 0u);
  EXPECT_EQ(t.q.unfinished_tasks(), 0u);
  EXPECT_EQ(t.q.getters() + t.q.putters(), 0u);
}

}  // namespace
}  // namespace tornado
