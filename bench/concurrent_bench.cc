// Futures and coroutines (concurrent.h): what a co_await costs when it has
// to wait for the loop, when it does not, and what starting a coroutine
// costs. docs/performance.md has the figures and how they were run:
//
//   build/release/bench/concurrent_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>

#include "tornado/concurrent.h"
#include "tornado/ioloop.h"
#include "workloads.h"

namespace {

using bench::per;
using tornado::Future;
using tornado::IOLoop;

constexpr std::int64_t kRoundTrips = 200'000;

// ---- 5. Future resolve + co_await round trip --------------------------------

// One round trip: a fresh Future, a callback that resolves it on the next
// iteration, and the coroutine suspended on it resumed by the loop one
// iteration later. That is two loop callbacks and a Future per trip, which
// is what awaiting any I/O costs beyond the I/O itself.
Future<std::int64_t> await_resolved_by_loop(IOLoop& loop, std::int64_t n) {
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    Future<std::int64_t> value;
    loop.add_callback([value, i]() mutable { value.set_result(i); });
    sum += co_await value;
  }
  co_return sum;
}

void BM_FutureResolveAwaitRoundTrip(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    std::int64_t sum = loop.run_sync([&] { return await_resolved_by_loop(loop, kRoundTrips); });
    if (sum != kRoundTrips * (kRoundTrips - 1) / 2) state.SkipWithError("wrong sum");
  }
  state.counters["per_round_trip"] = per(kRoundTrips);
}
BENCHMARK(BM_FutureResolveAwaitRoundTrip)->Unit(benchmark::kMillisecond);

// The fast path beside it: awaiting a Future that is already done continues
// at once, without the loop.
Future<std::int64_t> await_already_done(std::int64_t n) {
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    Future<std::int64_t> value;
    value.set_result(i);
    sum += co_await value;
  }
  co_return sum;
}

void BM_FutureAwaitAlreadyDone(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    std::int64_t sum = loop.run_sync([&] { return await_already_done(kRoundTrips); });
    if (sum != kRoundTrips * (kRoundTrips - 1) / 2) state.SkipWithError("wrong sum");
  }
  state.counters["per_round_trip"] = per(kRoundTrips);
}
BENCHMARK(BM_FutureAwaitAlreadyDone)->Unit(benchmark::kMillisecond);

// ---- 6. Coroutine creation ----------------------------------------------------

// A trivial coroutine runs to co_return at once (coroutines start eagerly),
// so one call is: allocate the frame, make its Future, resolve it, free the
// frame. The Future is dropped unread, as a fire-and-forget call would.
Future<int> trivial() { co_return 1; }

void BM_CoroutineCreate(benchmark::State& state) {
  IOLoop loop;  // the current loop, which each Future binds to
  for (auto _ : state) {
    Future<int> f = trivial();
    benchmark::DoNotOptimize(f);
  }
}
BENCHMARK(BM_CoroutineCreate);

// The same, awaited by a caller coroutine, as `co_await helper()` would be.
Future<std::int64_t> await_trivial(std::int64_t n) {
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += co_await trivial();
  co_return sum;
}

void BM_CoroutineCreateAndAwait(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    std::int64_t sum = loop.run_sync([&] { return await_trivial(kRoundTrips); });
    if (sum != kRoundTrips) state.SkipWithError("wrong sum");
  }
  state.counters["per_coroutine"] = per(kRoundTrips);
}
BENCHMARK(BM_CoroutineCreateAndAwait)->Unit(benchmark::kMillisecond);

}  // namespace
