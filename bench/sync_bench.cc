// Lock and Queue (locks.h, queues.h) under three workloads that
// bench/python/sync_bench.py repeats on Python Tornado 6 and asyncio;
// bench/python/compare.sh runs both and prints the ratios.
//
// One benchmark iteration is one run_sync() doing kOps operations, as one
// Python run is. The per_op counter is the loop thread's CPU time per
// operation, the figure the Python script prints: on a machine shared with
// other work, wall time grows with the load far more than CPU time does, and
// nothing here waits (the loop never sleeps), so on an idle machine the two
// agree. Time/kOps is the wall time per operation.
//
//   build/release/bench/sync_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>

#include "tornado/gen.h"
#include "tornado/locks.h"
#include "tornado/queues.h"

namespace {

using tornado::Future;
using tornado::IOLoop;

constexpr int kOps = 200'000;

// per_op: CPU seconds per operation (shown as "15.4ns"), the inverse of a
// rate of kOps per CPU second; ops lets a script turn Time into wall ns/op.
void report_per_op(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * kOps);
  state.counters["per_op"] = benchmark::Counter(
      kOps, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["ops"] = kOps;
}

// ---- 1. Uncontended Lock: acquire + release ------------------------------

Future<void> acquire_release(tornado::Lock& lock, int n) {
  for (int i = 0; i < n; ++i) {
    auto guard = co_await lock.acquire();
  }
}

void BM_LockUncontended(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    tornado::Lock lock;
    loop.run_sync([&] { return acquire_release(lock, kOps); });
  }
  report_per_op(state);
}
BENCHMARK(BM_LockUncontended)->Unit(benchmark::kMillisecond);

// ---- 2. Contended Lock: hand-off between two coroutines -------------------

// Holds the lock across a loop iteration, so the other coroutine is always
// waiting when this one releases: every release is a hand-off (counted, so
// the benchmark fails rather than measure something else).
Future<void> take_turns(tornado::Lock& lock, int turns, int& hand_offs) {
  for (int i = 0; i < turns; ++i) {
    auto guard = co_await lock.acquire();
    co_await tornado::gen::moment;
    if (lock.waiters() == 1) ++hand_offs;
  }
}

Future<void> two_contenders(tornado::Lock& lock, int& hand_offs) {
  Future<void> a = take_turns(lock, kOps / 2, hand_offs);
  Future<void> b = take_turns(lock, kOps / 2, hand_offs);
  co_await a;
  co_await b;
}

void BM_LockHandOff(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    tornado::Lock lock;
    int hand_offs = 0;
    loop.run_sync([&] { return two_contenders(lock, hand_offs); });
    if (hand_offs != kOps - 1) state.SkipWithError("the coroutines did not alternate");
  }
  report_per_op(state);
}
BENCHMARK(BM_LockHandOff)->Unit(benchmark::kMillisecond);

// ---- 3. Queue(maxsize=1): producer/consumer ping-pong --------------------

Future<void> produce(tornado::Queue<int>& queue, int n) {
  for (int i = 0; i < n; ++i) co_await queue.put(i);
}

Future<void> consume(tornado::Queue<int>& queue, int n, std::int64_t& sum) {
  for (int i = 0; i < n; ++i) sum += co_await queue.get();
}

Future<void> ping_pong(tornado::Queue<int>& queue, std::int64_t& sum) {
  Future<void> consumer = consume(queue, kOps, sum);
  Future<void> producer = produce(queue, kOps);
  co_await producer;
  co_await consumer;
}

void BM_QueuePingPong(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    tornado::Queue<int> queue(1);
    std::int64_t sum = 0;
    loop.run_sync([&] { return ping_pong(queue, sum); });
    if (sum != std::int64_t{kOps} * (kOps - 1) / 2) state.SkipWithError("items were lost");
  }
  report_per_op(state);
}
BENCHMARK(BM_QueuePingPong)->Unit(benchmark::kMillisecond);

}  // namespace
