// The loop's hot paths (ioloop.h): callbacks on the loop's own thread and
// from another thread, timers that fire, timers that are cancelled.
// docs/performance.md has the figures, the targets and how they were run:
//
//   build/release/bench/ioloop_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//
// Each benchmark iteration is one whole workload (a chain of a million
// callbacks, two hundred thousand timers, ...); the per_* counter divides
// its time by the workload's size. Which time is said at each benchmark.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "tornado/ioloop.h"
#include "workloads.h"

namespace {

using namespace std::chrono_literals;
using bench::per;
using tornado::IOLoop;

// ---- 1. A chain of callbacks, each scheduling the next -----------------------

// The loop never waits here, so CPU and wall time agree on an idle machine;
// per_callback uses the loop thread's CPU time, which a busy shared machine
// disturbs less.
void BM_CallbackChain(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    if (bench::run_callback_chain(loop, bench::kChain) != bench::kChain) {
      state.SkipWithError("the chain stopped early");
    }
  }
  state.counters["per_callback"] = per(bench::kChain);
}
BENCHMARK(BM_CallbackChain)->Unit(benchmark::kMillisecond);

// ---- 2. add_callback from another thread ----------------------------------

// A producer thread adds kChain callbacks as fast as it can while the loop
// runs them; the last one stops the loop. Two threads work, so per_callback
// is wall time here; Time and CPU are per million callbacks, CPU counting
// both threads.
void BM_CallbackFromOtherThread(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    std::int64_t ran = 0;
    std::thread producer([&] {
      for (std::int64_t i = 0; i < bench::kChain; ++i) {
        loop.add_callback([&] {
          if (++ran == bench::kChain) loop.stop();
        });
      }
    });
    loop.start();
    producer.join();
    if (ran != bench::kChain) state.SkipWithError("callbacks were lost");
  }
  state.counters["per_callback"] = per(bench::kChain);
}
BENCHMARK(BM_CallbackFromOtherThread)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// ---- 3. Timers at random deadlines within one second, all fired -------------

// Most of the wall time is the loop sleeping until the next deadline, so
// per_timer is process CPU time (every thread, user and kernel: the
// epoll_wait calls count) per timer, adding it included.
void BM_TimersRandomWithinOneSecond(benchmark::State& state) {
  const std::vector<std::chrono::nanoseconds> delays = bench::random_delays(bench::kTimers);
  IOLoop loop;
  for (auto _ : state) {
    if (bench::run_timers(loop, delays) != bench::kTimers) state.SkipWithError("timers were lost");
  }
  state.counters["per_timer"] = per(bench::kTimers);
}
// A fixed few iterations: each takes a second of wall time whatever the CPU does.
BENCHMARK(BM_TimersRandomWithinOneSecond)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->Iterations(3);

// ---- 4. call_later + remove_timeout churn -----------------------------------

// A read timeout set and then cleared because the data came in time. The
// argument is how many timers stay pending meanwhile, so the heap is not
// trivially small. One op = one call_later + one remove_timeout; they run
// kChurnBatch to a callback (a million in one would block the loop).
constexpr std::int64_t kChurn = 1'000'000;
constexpr std::int64_t kChurnBatch = 1'000;

struct Churn {
  IOLoop& loop;
  std::int64_t left;
  void next() {
    for (std::int64_t i = 0; i < kChurnBatch; ++i) {
      tornado::TimeoutHandle timeout = loop.call_later(30s, [] {});
      loop.remove_timeout(timeout);
    }
    left -= kChurnBatch;
    if (left <= 0) return loop.stop();
    loop.add_callback([this] { next(); });
  }
};

void BM_CallLaterRemoveTimeout(benchmark::State& state) {
  IOLoop loop;
  const auto standing = static_cast<std::size_t>(state.range(0));
  std::vector<tornado::TimeoutHandle> background;
  for (std::size_t i = 0; i < standing; ++i) {
    background.push_back(loop.call_later(1h + std::chrono::seconds(i), [] {}));
  }
  for (auto _ : state) {
    Churn churn{loop, kChurn};
    loop.add_callback([&churn] { churn.next(); });
    loop.start();
  }
  if (loop.stats().timers != standing) state.SkipWithError("cancelled timers still pending");
  state.counters["per_op"] = per(kChurn);
  state.counters["heap"] = static_cast<double>(loop.stats().timer_heap);
  for (tornado::TimeoutHandle timeout : background) loop.remove_timeout(timeout);
}
BENCHMARK(BM_CallLaterRemoveTimeout)
    ->ArgName("standing")
    ->Arg(0)
    ->Arg(10'000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
