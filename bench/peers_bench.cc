// tornado-cpp beside standalone asio and libuv on the same workloads, in
// one program, so the ratios come from one run on one machine state:
//
//   callback chain   1,000,000 callbacks, each scheduling the next
//                    (IOLoop::add_callback, asio::post)
//   random timers    200,000 timers at random deadlines within one second,
//                    all fired; process CPU time per timer
//                    (IOLoop::call_at, asio::steady_timer, uv_timer_t)
//
// Built only where Debian's libasio-dev and libuv1-dev are installed
// (tests/deps.sh bench). docs/performance.md has the figures:
//
//   build/release/bench/peers_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <uv.h>

#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <vector>

#include "tornado/ioloop.h"
#include "workloads.h"

namespace {

using bench::kChain;
using bench::kTimers;
using bench::per;

// ---- Callback chain -----------------------------------------------------------

void BM_Chain_Tornado(benchmark::State& state) {
  tornado::IOLoop loop;
  for (auto _ : state) {
    if (bench::run_callback_chain(loop, kChain) != kChain) state.SkipWithError("stopped early");
  }
  state.counters["per_callback"] = per(kChain);
}
BENCHMARK(BM_Chain_Tornado)->Unit(benchmark::kMillisecond);

struct AsioChain {
  asio::io_context& io;
  std::int64_t left;
  void next() {
    if (--left == 0) return;
    asio::post(io, [this] { next(); });
  }
};

// Argument: the io_context's concurrency hint. 0 is the default an
// io_context gets (thread-safe, locking); 1 promises one thread, which
// lets asio skip the lock for handlers posted from inside a handler.
void BM_Chain_Asio(benchmark::State& state) {
  asio::io_context io(state.range(0) == 0 ? ASIO_CONCURRENCY_HINT_DEFAULT : 1);
  for (auto _ : state) {
    io.restart();
    AsioChain chain{io, kChain};
    asio::post(io, [&chain] { chain.next(); });
    io.run();
    if (chain.left != 0) state.SkipWithError("stopped early");
  }
  state.counters["per_callback"] = per(kChain);
}
BENCHMARK(BM_Chain_Asio)->ArgName("one_thread")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// ---- Random timers ------------------------------------------------------------

// Each iteration takes about a second of wall time, so a fixed few.
constexpr int kTimerIterations = 3;

void BM_Timers_Tornado(benchmark::State& state) {
  const auto delays = bench::random_delays(kTimers);
  tornado::IOLoop loop;
  for (auto _ : state) {
    if (bench::run_timers(loop, delays) != kTimers) state.SkipWithError("timers were lost");
  }
  state.counters["per_timer"] = per(kTimers);
}
BENCHMARK(BM_Timers_Tornado)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->Iterations(kTimerIterations);

void BM_Timers_Asio(benchmark::State& state) {
  const auto delays = bench::random_delays(kTimers);
  asio::io_context io(1);
  for (auto _ : state) {
    io.restart();
    std::int64_t fired = 0;
    std::vector<asio::steady_timer> timers;
    timers.reserve(delays.size());  // no reallocation: the timers never move
    const auto now = asio::steady_timer::clock_type::now();
    for (std::chrono::nanoseconds delay : delays) {
      timers.emplace_back(io, now + delay);
      timers.back().async_wait([&fired](const asio::error_code&) { ++fired; });
    }
    io.run();
    if (fired != kTimers) state.SkipWithError("timers were lost");
  }
  state.counters["per_timer"] = per(kTimers);
}
BENCHMARK(BM_Timers_Asio)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->Iterations(kTimerIterations);

// libuv timers have millisecond resolution: the deadlines are the same
// delays rounded down to whole milliseconds (so about 200 share each ms).
void BM_Timers_Libuv(benchmark::State& state) {
  const auto delays = bench::random_delays(kTimers);
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<uv_timer_t> timers(delays.size());
  std::int64_t fired = 0;
  for (auto _ : state) {
    fired = 0;
    loop.data = &fired;
    uv_update_time(&loop);
    for (std::size_t i = 0; i < delays.size(); ++i) {
      uv_timer_init(&loop, &timers[i]);
      auto ms = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(delays[i]).count());
      uv_timer_start(
          &timers[i], [](uv_timer_t* t) { ++*static_cast<std::int64_t*>(t->loop->data); }, ms, 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    // Fired timers are inactive but still open. Closing them is left out of
    // the timing (in libuv's favour: our timers free themselves as they fire).
    state.PauseTiming();
    for (uv_timer_t& t : timers) uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    state.ResumeTiming();
    if (fired != kTimers) state.SkipWithError("timers were lost");
  }
  uv_loop_close(&loop);
  state.counters["per_timer"] = per(kTimers);
}
BENCHMARK(BM_Timers_Libuv)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->Iterations(kTimerIterations);

}  // namespace
