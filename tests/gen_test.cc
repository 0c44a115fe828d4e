// Specification of tornado/gen.h: sleep, moment, with_timeout, multi and
// WaitIterator. Partly a port of Tornado's tornado/test/gen_test.py
// (GenCoroutineTest.test_moment, the multi tests, WithTimeoutTest and
// WaitIteratorTest).
#include "tornado/gen.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "support.h"
#include "tornado/ioloop.h"
#include "tornado/log.h"
#include "tornado/testing.h"

namespace {

using namespace std::chrono_literals;
namespace gen = tornado::gen;
using tornado::Clock;
using tornado::Future;
using tornado::IOLoop;
using tornado::TimeoutError;

// Upper bound for anything a test waits for, far below ctest's 60 s.
constexpr auto kTimeout = 10s;

using TestLoop = tornado::testing::CurrentLoop;
using tornado::testing::run_one_iteration;

using LogCapture = tornado::testing::LogCapture;
using tornado::test_support::failure_of;
using tornado::test_support::wait;

// ---- Coroutines used by the tests -------------------------------------------
// Parameters are values or pointers: a coroutine outlives the call that
// started it, so it must not hold references to the caller's temporaries.

// Yields `value` after `moments` loop iterations (Tornado's GenBasicTest.delay).
template <class T>
Future<T> after_moments(int moments, T value) {
  for (int i = 0; i < moments; ++i) co_await gen::moment;
  co_return value;
}

Future<void> void_after_moments(int moments) {
  for (int i = 0; i < moments; ++i) co_await gen::moment;
}

Future<int> fail_after_moments(int moments, std::string message) {
  for (int i = 0; i < moments; ++i) co_await gen::moment;
  throw std::runtime_error(message);
}

// Records its progress in *done_order once `f` is done.
template <class T>
Future<T> noting_completion(Future<T> f, std::string name, std::vector<std::string>* done_order) {
  T value = co_await f;
  done_order->push_back(name);
  co_return value;
}

// Appends `name` five times, awaiting gen::moment after each (test_moment).
Future<void> take_turns_with_moment(char name, std::string* calls) {
  for (int i = 0; i < 5; ++i) {
    calls->push_back(name);
    co_await gen::moment;
  }
}

// The same, awaiting a future that is already done instead.
Future<void> take_turns_with_done(char name, Future<void> done, std::string* calls) {
  for (int i = 0; i < 5; ++i) {
    calls->push_back(name);
    co_await done;
  }
}

Future<void> moment_after_queueing(IOLoop* loop, std::vector<std::string>* order,
                                   std::uint64_t* iterations_waited) {
  loop->add_callback([order] { order->push_back("callback queued before the moment"); });
  std::uint64_t before = loop->stats().iterations;
  co_await gen::moment;
  order->push_back("coroutine resumed");
  *iterations_waited = loop->stats().iterations - before;
}

// "Timeout" if `f` fails with TimeoutError, so a test can tell with_timeout's
// TimeoutError from run_sync's own ("Operation timed out").
template <class T>
Future<std::string> timeout_message(Future<T> f) {
  try {
    co_await f;
  } catch (const TimeoutError& e) {
    co_return e.what();
  }
  co_return "no timeout";
}

// Resolves futures at fixed iterations from now, as Tornado's
// WaitIteratorTest.finish_coroutines does.
void finish_in_steps(IOLoop* loop, int step, std::vector<Future<int>> futures) {
  if (step == 3) {
    futures[2].set_result(24);
  } else if (step == 5) {
    futures[0].set_exception(std::domain_error("failed at step 5"));
  } else if (step == 8) {
    futures[1].set_result(42);
    futures[3].set_result(84);
  }
  if (step < 8) {
    loop->add_callback([loop, step, futures] { finish_in_steps(loop, step + 1, futures); });
  }
}

// Drains a WaitIterator, recording "index=value" or "index threw message" per
// future, and how often current_future() was not inputs[current_index()].
Future<std::vector<std::string>> drain(gen::WaitIterator<int>* it, std::vector<Future<int>> inputs,
                                       int* mismatches) {
  std::vector<std::string> seen;
  while (!it->done()) {
    std::string outcome;
    try {
      outcome = "=" + std::to_string(co_await it->next());
    } catch (const std::domain_error& e) {
      outcome = std::string(" threw ") + e.what();
    }
    std::size_t index = it->current_index().value_or(inputs.size());
    std::optional<Future<int>> current = it->current_future();
    if (index >= inputs.size() || !current || !(*current == inputs[index])) ++*mismatches;
    seen.push_back(std::to_string(index) + outcome);
  }
  co_return seen;
}

// ---- sleep ------------------------------------------------------------------

TEST(Sleep, ResolvesNoEarlierThanTheDuration) {
  TestLoop loop;
  const auto start = Clock::now();
  Future<void> f = gen::sleep(50ms);
  EXPECT_FALSE(f.done());
  wait(loop, f);
  EXPECT_GE(Clock::now() - start, 50ms);
}

TEST(Sleep, AcceptsSecondsAsADouble) {
  TestLoop loop;
  const auto start = Clock::now();
  wait(loop, gen::sleep(0.05));
  EXPECT_GE(Clock::now() - start, 50ms);
}

TEST(Sleep, ShorterSleepsFinishFirst) {
  TestLoop loop;
  std::vector<std::string> done_order;
  Future<void> longer = gen::sleep(80ms);
  Future<void> shorter = gen::sleep(20ms);
  longer.add_done_callback([&done_order](const Future<void>&) { done_order.push_back("80ms"); });
  shorter.add_done_callback([&done_order](const Future<void>&) { done_order.push_back("20ms"); });
  wait(loop, gen::multi(std::vector<Future<void>>{longer, shorter}));
  EXPECT_EQ(done_order, (std::vector<std::string>{"20ms", "80ms"}));
}

TEST(Sleep, ZeroDurationStillWaitsForTheLoop) {
  TestLoop loop;
  Future<void> f = gen::sleep(0ms);
  EXPECT_FALSE(f.done());
  wait(loop, f);
  EXPECT_TRUE(f.done());
}

// ---- moment -----------------------------------------------------------------

TEST(Moment, LetsAlreadyQueuedCallbacksRunFirstAndResumesNextIteration) {
  TestLoop loop;
  std::vector<std::string> order;
  std::uint64_t iterations_waited = 0;
  loop.run_sync([&] { return moment_after_queueing(&loop, &order, &iterations_waited); }, kTimeout);
  EXPECT_EQ(order,
            (std::vector<std::string>{"callback queued before the moment", "coroutine resumed"}));
  EXPECT_EQ(iterations_waited, 1u);
}

TEST(Moment, LetsCoroutinesTakeTurns) {
  TestLoop loop;
  std::string calls;
  Future<void> immediate;
  immediate.set_result();

  // Awaiting a done future does not yield: each coroutine runs to its end.
  wait(loop, gen::multi(std::vector<Future<void>>{take_turns_with_done('a', immediate, &calls),
                                                  take_turns_with_done('b', immediate, &calls)}));
  EXPECT_EQ(calls, "aaaaabbbbb");

  // With moment, they take turns.
  calls.clear();
  wait(loop, gen::multi(std::vector<Future<void>>{take_turns_with_moment('a', &calls),
                                                  take_turns_with_moment('b', &calls)}));
  EXPECT_EQ(calls, "ababababab");

  calls.clear();
  wait(loop, gen::multi(std::vector<Future<void>>{take_turns_with_moment('a', &calls),
                                                  take_turns_with_done('b', immediate, &calls)}));
  EXPECT_EQ(calls, "abbbbbaaaa");
}

// ---- with_timeout -----------------------------------------------------------

TEST(WithTimeout, PassesTheInnerResultThroughAndDropsItsTimer) {
  TestLoop loop;
  Future<std::string> inner;
  loop.call_later(10ms, [inner]() mutable { inner.set_result("asdf"); });
  EXPECT_EQ(wait(loop, gen::with_timeout(1h, inner)), "asdf");
  EXPECT_EQ(loop.stats().timers, 0u);  // the one-hour timer is gone
}

TEST(WithTimeout, PassesTheInnerFailureThrough) {
  TestLoop loop;
  Future<std::string> inner;
  loop.call_later(10ms, [inner]() mutable { inner.set_exception(std::domain_error("inner")); });
  Future<std::string> limited = gen::with_timeout(1h, inner);
  EXPECT_THROW(wait(loop, limited), std::domain_error);
  EXPECT_EQ(tornado::log::describe(limited.exception()), "inner");
}

TEST(WithTimeout, PassesAnAlreadyDoneInnerThrough) {
  TestLoop loop;
  Future<int> inner;
  inner.set_result(42);
  EXPECT_EQ(wait(loop, gen::with_timeout(1h, inner)), 42);
  EXPECT_EQ(wait(loop, gen::with_timeout(1h, after_moments(0, 43))), 43);
}

TEST(WithTimeout, PassesTheInnerCancellationThrough) {
  TestLoop loop;
  Future<int> inner;
  Future<int> limited = gen::with_timeout(1h, inner);
  inner.cancel();
  EXPECT_THROW(wait(loop, limited), tornado::CancelledError);
  EXPECT_TRUE(limited.cancelled());
}

TEST(WithTimeout, FailsWithTimeoutErrorAfterADuration) {
  TestLoop loop;
  Future<int> never;
  const auto start = Clock::now();
  EXPECT_EQ(wait(loop, timeout_message(gen::with_timeout(50ms, never))), "Timeout");
  EXPECT_GE(Clock::now() - start, 50ms);
}

TEST(WithTimeout, FailsWithTimeoutErrorAtATimePoint) {
  TestLoop loop;
  Future<int> never;
  const tornado::TimePoint deadline = loop.time() + 50ms;
  EXPECT_EQ(wait(loop, timeout_message(gen::with_timeout(deadline, never))), "Timeout");
  EXPECT_GE(Clock::now(), deadline);
}

TEST(WithTimeout, DeadlineInThePastTimesOutAtOnce) {
  TestLoop loop;
  Future<void> never;
  EXPECT_EQ(wait(loop, timeout_message(gen::with_timeout(loop.time(), never))), "Timeout");
}

TEST(WithTimeout, DoesNotCancelTheInnerFuture) {
  TestLoop loop;
  LogCapture log;
  Future<int> inner;
  EXPECT_EQ(wait(loop, timeout_message(gen::with_timeout(20ms, inner))), "Timeout");
  EXPECT_FALSE(inner.done());
  EXPECT_FALSE(inner.cancelled());

  // An inner success after the timeout is nobody's business: nothing logged.
  inner.set_result(5);
  run_one_iteration(loop);
  EXPECT_EQ(inner.result(), 5);
  EXPECT_EQ(log.errors(), 0u);
}

TEST(WithTimeout, InnerFailureAfterTheTimeoutIsLogged) {
  TestLoop loop;
  LogCapture log;
  Future<int> inner;
  EXPECT_EQ(wait(loop, timeout_message(gen::with_timeout(20ms, inner))), "Timeout");
  EXPECT_EQ(log.errors(), 0u);
  inner.set_exception(std::runtime_error("failed too late"));
  run_one_iteration(loop);
  EXPECT_EQ(log.count("after timeout: failed too late"), 1u);
  EXPECT_EQ(log.count("never retrieved"), 0u);  // logged once, by with_timeout
}

// ---- multi over a vector ----------------------------------------------------

TEST(Multi, ResultsComeInInputOrderRegardlessOfCompletionOrder) {
  TestLoop loop;
  std::vector<std::string> done_order;
  Future<std::vector<std::string>> all = gen::multi(std::vector<Future<std::string>>{
      noting_completion(after_moments(3, std::string("v1")), "first input", &done_order),
      noting_completion(after_moments(1, std::string("v2")), "second input", &done_order)});
  EXPECT_EQ(wait(loop, all), (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(done_order, (std::vector<std::string>{"second input", "first input"}));
}

TEST(Multi, AcceptsTheSameFutureTwice) {
  TestLoop loop;
  Future<int> twice = after_moments(2, 2);
  std::vector<Future<int>> inputs{after_moments(1, 1), twice, after_moments(1, 3), twice};
  EXPECT_EQ(wait(loop, gen::multi(inputs)), (std::vector<int>{1, 2, 3, 2}));
}

TEST(Multi, WaitsForEveryFutureEvenAfterOneFails) {
  TestLoop loop;
  Future<int> fails_early = fail_after_moments(1, "early failure");
  Future<int> finishes_late = after_moments(6, 7);
  Future<std::vector<int>> all = gen::multi(std::vector<Future<int>>{fails_early, finishes_late});
  // Checked when multi's future is done: the late input must be done too.
  bool late_input_done = false;
  all.add_done_callback(
      [&](const Future<std::vector<int>>&) { late_input_done = finishes_late.done(); });
  EXPECT_EQ(failure_of(loop, all), "early failure");
  EXPECT_TRUE(late_input_done);
}

TEST(Multi, RaisesTheFirstFailureInInputOrderAndLogsTheOthers) {
  TestLoop loop;
  LogCapture log;
  Future<std::vector<int>> all = gen::multi(std::vector<Future<int>>{
      fail_after_moments(4, "error 1"), after_moments(2, 0), fail_after_moments(1, "error 2")});
  // "error 2" happens first, but "error 1" comes first in the input.
  EXPECT_EQ(failure_of(loop, all), "error 1");
  EXPECT_EQ(log.count("Multiple exceptions in yield list: error 2"), 1u);
  EXPECT_EQ(log.count("error 1"), 0u);
  EXPECT_EQ(log.count("never retrieved"), 0u);
}

TEST(Multi, OneFailureIsRaisedWithoutLogging) {
  TestLoop loop;
  LogCapture log;
  Future<std::vector<int>> all =
      gen::multi(std::vector<Future<int>>{fail_after_moments(1, "error 1"), after_moments(1, 2)});
  EXPECT_THROW(wait(loop, all), std::runtime_error);
  EXPECT_EQ(log.count("Multiple exceptions"), 0u);
}

TEST(Multi, EmptyVectorIsDoneAtOnce) {
  TestLoop loop;
  Future<std::vector<int>> values = gen::multi(std::vector<Future<int>>{});
  ASSERT_TRUE(values.done());
  EXPECT_TRUE(values.result().empty());
  Future<void> nothing = gen::multi(std::vector<Future<void>>{});
  EXPECT_TRUE(nothing.done());
  EXPECT_NO_THROW(nothing.result());
}

TEST(Multi, VectorOfVoidFuturesGivesAVoidFutureDoneWhenAllAre) {
  TestLoop loop;
  std::vector<Future<void>> inputs{void_after_moments(3), void_after_moments(1),
                                   void_after_moments(2)};
  Future<void> all = gen::multi(inputs);
  static_assert(std::is_same_v<decltype(all), Future<void>>);
  wait(loop, all);
  for (const Future<void>& f : inputs) EXPECT_TRUE(f.done());
}

// ---- multi over a pack ------------------------------------------------------

TEST(Multi, PackOfDifferentTypesGivesATupleInInputOrder) {
  TestLoop loop;
  auto all = gen::multi(after_moments(2, 42), after_moments(1, std::string("text")),
                        void_after_moments(3));
  static_assert(
      std::is_same_v<decltype(all), Future<std::tuple<int, std::string, std::monostate>>>);
  auto [number, text, nothing] = wait(loop, all);
  EXPECT_EQ(number, 42);
  EXPECT_EQ(text, "text");
  EXPECT_EQ(nothing, std::monostate{});
}

TEST(Multi, PackRaisesTheFirstFailureInInputOrderAndLogsTheOthers) {
  TestLoop loop;
  LogCapture log;
  Future<std::string> finishes_last = after_moments(6, std::string("late"));
  auto all = gen::multi(fail_after_moments(3, "pack error 1"), finishes_last,
                        fail_after_moments(1, "pack error 2"));
  EXPECT_EQ(failure_of(loop, all), "pack error 1");
  EXPECT_TRUE(finishes_last.done());  // waited for, despite the failures
  EXPECT_EQ(log.count("Multiple exceptions in yield list: pack error 2"), 1u);
}

// ---- WaitIterator -----------------------------------------------------------

TEST(WaitIterator, EmptyIsDoneAtOnce) {
  TestLoop loop;
  gen::WaitIterator<int> it(std::vector<Future<int>>{});
  EXPECT_TRUE(it.done());
  EXPECT_EQ(it.current_index(), std::nullopt);
  EXPECT_FALSE(it.current_future().has_value());
}

TEST(WaitIterator, FuturesAlreadyDoneComeOutInInputOrder) {
  TestLoop loop;
  std::vector<Future<int>> inputs(3);
  inputs[0].set_result(24);
  inputs[1].set_result(42);
  inputs[2].set_result(84);
  gen::WaitIterator<int> it(inputs);
  int mismatches = 0;
  EXPECT_EQ(wait(loop, drain(&it, inputs, &mismatches)),
            (std::vector<std::string>{"0=24", "1=42", "2=84"}));
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(it.current_index(), std::nullopt);  // reset once done() said true
  EXPECT_FALSE(it.current_future().has_value());
}

TEST(WaitIterator, YieldsInCompletionOrderAndSurfacesExceptionsFromNext) {
  TestLoop loop;
  std::vector<Future<int>> inputs(4);
  finish_in_steps(&loop, 0, inputs);
  gen::WaitIterator<int> it(inputs);
  int mismatches = 0;
  EXPECT_EQ(wait(loop, drain(&it, inputs, &mismatches)),
            (std::vector<std::string>{"2=24", "0 threw failed at step 5", "1=42", "3=84"}));
  EXPECT_EQ(mismatches, 0);
  EXPECT_TRUE(it.done());
}

TEST(WaitIterator, FuturesThatFinishBetweenCallsToNextKeepTheirOrder) {
  TestLoop loop;
  std::vector<Future<int>> inputs(3);
  gen::WaitIterator<int> it(inputs);
  inputs[2].set_result(2);
  inputs[0].set_result(0);
  run_one_iteration(loop);  // the iterator notes both, with nobody waiting
  inputs[1].set_result(1);
  int mismatches = 0;
  EXPECT_EQ(wait(loop, drain(&it, inputs, &mismatches)),
            (std::vector<std::string>{"2=2", "0=0", "1=1"}));
  EXPECT_EQ(mismatches, 0);
}

TEST(WaitIterator, DoneOnlyOnceEveryFutureWasReturned) {
  TestLoop loop;
  std::vector<Future<int>> inputs(2);
  gen::WaitIterator<int> it(inputs);
  EXPECT_FALSE(it.done());
  inputs[1].set_result(1);
  EXPECT_EQ(wait(loop, it.next()), 1);
  EXPECT_EQ(it.current_index(), 1u);
  EXPECT_FALSE(it.done());
  inputs[0].set_result(0);
  EXPECT_EQ(wait(loop, it.next()), 0);
  EXPECT_EQ(it.current_index(), 0u);
  EXPECT_TRUE(it.done());
}

TEST(WaitIterator, WorksWithVoidFutures) {
  TestLoop loop;
  gen::WaitIterator<void> it(std::vector<Future<void>>{gen::sleep(0ms)});
  wait(loop, gen::with_timeout(kTimeout, it.next()));
  EXPECT_EQ(it.current_index(), 0u);
  EXPECT_TRUE(it.done());
}

}  // namespace
