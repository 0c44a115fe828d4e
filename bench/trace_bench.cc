// What tracing costs (trace.h): one emission point with no sink attached,
// against the same loop without it; one emission into the in-memory sink;
// and a callback chain with and without a sink. docs/performance.md has the
// figures and how they were run:
//
//   build/release/bench/trace_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//
// Built with -DTORNADO_TRACE=OFF, emit() compiles to nothing, so the first
// two benchmarks must agree, and the sink benchmarks are left out.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "tornado/ioloop.h"
#include "tornado/trace.h"
#include "tornado/trace_file.h"
#include "tornado/trace_live.h"
#include "trace_transport.h"  // the sink thread's statistics
#include "workloads.h"

namespace {

using tornado::IOLoop;
using tornado::trace::Kind;

// ---- 7a. One emission point, no sink attached --------------------------------

// The body every emission point sits in: some work on a value the compiler
// must keep. The two benchmarks differ only in the emit() call.
void BM_LoopWithoutEmit(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    std::uint64_t x = ++i * 3;
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(BM_LoopWithoutEmit);

void BM_LoopWithEmitNoSink(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    std::uint64_t x = ++i * 3;
    tornado::trace::emit(Kind::callback_started, 1, x, 0, x, 0);
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(BM_LoopWithEmitNoSink);

// What every event's timestamp costs: trace::now_ns(), the steady clock read
// through the TSC where it is invariant, beside the steady clock itself.
void BM_NowNs(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(tornado::trace::now_ns());
}
BENCHMARK(BM_NowNs);

void BM_SteadyClock(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_SteadyClock);

// ---- 7b. The same with the in-memory sink attached ----------------------------

#if !(defined(TORNADO_TRACE_DISABLED) && TORNADO_TRACE_DISABLED)

// MemorySink keeps every event, so it is emptied (outside the timing) every
// kClearEvery events to keep memory flat; its vector keeps its capacity.
constexpr std::int64_t kClearEvery = 1 << 16;

void BM_LoopWithEmitMemorySink(benchmark::State& state) {
  tornado::trace::MemorySink sink;
  tornado::trace::attach(&sink);
  std::uint64_t i = 0;
  for (auto _ : state) {
    std::uint64_t x = ++i * 3;
    tornado::trace::emit(Kind::callback_started, 1, x, 0, x, 0);
    benchmark::DoNotOptimize(x);
    if (static_cast<std::int64_t>(i) % kClearEvery == 0) {
      state.PauseTiming();
      sink.clear();
      state.ResumeTiming();
    }
  }
  tornado::trace::detach();
}
BENCHMARK(BM_LoopWithEmitMemorySink);

#endif

// ---- 7c. A callback chain, untraced and traced --------------------------------

// As ioloop_bench's BM_CallbackChain, shorter, since a traced chain keeps
// five events per callback in memory: scheduled, started, finished, and
// (each callback of a chain runs in an iteration of its own) the iteration's
// begin and end. Argument 1 attaches a MemorySink for the chain.
constexpr std::int64_t kTracedChain = 100'000;

void BM_CallbackChainTraced(benchmark::State& state) {
  const bool traced = state.range(0) != 0;
  tornado::trace::MemorySink sink;
  IOLoop loop;
  for (auto _ : state) {
    if (traced) tornado::trace::attach(&sink);
    std::int64_t ran = bench::run_callback_chain(loop, kTracedChain);
    if (traced) tornado::trace::detach();
    state.PauseTiming();
    if (ran != kTracedChain) state.SkipWithError("the chain stopped early");
    if (traced && sink.events().size() < 5 * kTracedChain) state.SkipWithError("events missing");
    sink.clear();
    state.ResumeTiming();
  }
  state.counters["per_callback"] = bench::per(kTracedChain);
}
BENCHMARK(BM_CallbackChainTraced)
    ->ArgName("sink")
    ->Arg(0)
#if !(defined(TORNADO_TRACE_DISABLED) && TORNADO_TRACE_DISABLED)
    ->Arg(1)
#endif
    ->Unit(benchmark::kMillisecond);

#if !(defined(TORNADO_TRACE_DISABLED) && TORNADO_TRACE_DISABLED)

// The same chain recorded with trace::start("file:..."): each event goes
// into the loop thread's own ring, which a sink thread drains into the file.
// When the loop outpaces the sink thread the ring drops events (and says so
// in the file) rather than wait, so this is what tracing costs the loop
// thread, not a promise that every event was kept. Starting and stopping
// (which flushes the file) are outside the timing; the file is overwritten
// each iteration and removed at the end.
void BM_CallbackChainTracedToFile(benchmark::State& state) {
  const std::string path = "/tmp/trace_bench_" + std::to_string(::getpid()) + ".trace";
  IOLoop loop;
  for (auto _ : state) {
    state.PauseTiming();
    if (!tornado::trace::start("file:" + path))
      state.SkipWithError("cannot write the trace file in /tmp");
    state.ResumeTiming();
    std::int64_t ran = bench::run_callback_chain(loop, kTracedChain);
    state.PauseTiming();
    tornado::trace::stop();
    if (ran != kTracedChain) state.SkipWithError("the chain stopped early");
    state.ResumeTiming();
  }
  std::remove(path.c_str());
  state.counters["per_callback"] = bench::per(kTracedChain);
}
BENCHMARK(BM_CallbackChainTracedToFile)->Unit(benchmark::kMillisecond);

// The same chain streamed live (TORNADO_TRACE=unix:PATH) to a reader that
// keeps up: a LiveListener decoding on another thread, as tornado-viz does.
void BM_CallbackChainTracedLive(benchmark::State& state) {
  const std::string path = "/tmp/trace_bench_" + std::to_string(::getpid()) + ".sock";
  tornado::trace::LiveListener reader("unix:" + path);
  if (!tornado::trace::start(reader.spec())) state.SkipWithError("cannot start the live trace");
  if (!reader.accept(std::chrono::seconds(5))) state.SkipWithError(reader.error().c_str());
  std::atomic<bool> done{false};
  std::thread reading([&] {
    while (!done && reader.read(std::chrono::milliseconds(10))) reader.decoder().take_events();
  });
  while (!tornado::trace::enabled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  IOLoop loop;
  for (auto _ : state) {
    std::int64_t ran = bench::run_callback_chain(loop, kTracedChain);
    if (ran != kTracedChain) state.SkipWithError("the chain stopped early");
  }
  tornado::trace::stop();
  done = true;
  reading.join();
  state.counters["per_callback"] = bench::per(kTracedChain);
}
BENCHMARK(BM_CallbackChainTracedLive)->Unit(benchmark::kMillisecond);

// ---- 7d. The ring and the sink thread -------------------------------------------

// One event into the loop thread's ring (trace::start's transport), without
// the clock read emit() adds: what the ring itself costs the emitting thread.
// The sink thread writes to /dev/null meanwhile.
void BM_RingPush(benchmark::State& state) {
  if (!tornado::trace::start("file:/dev/null")) state.SkipWithError("cannot open /dev/null");
  tornado::trace::Sink* sink = tornado::trace::detail::g_sink.load();
  tornado::trace::Event e{1, tornado::trace::Kind::callback_started, 1, 0, 7, 0, 0};
  for (auto _ : state) {
    ++e.ts_ns;
    sink->on_event(e);
  }
  tornado::trace::stop();
}
BENCHMARK(BM_RingPush);

// Events per second from one producer through its ring, the sink thread and
// into a file, as fast as the producer can push (no clock reads): the sink
// thread's throughput. Each run pushes kFlood events, then stop() flushes the
// file; the file is read back to count what arrived (pushed minus dropped).
constexpr std::uint64_t kFlood = 4'000'000;

// Arg 0 writes to /dev/shm (memory: the transport's own limit), 1 to /tmp
// (this machine's disk, about 140 MB/s = 3.5 million events/s, by dd).
void BM_RingToFile(benchmark::State& state) {
  const std::string dir = state.range(0) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/trace_bench_flood_" + std::to_string(::getpid()) + ".trace";
  std::uint64_t kept = 0, dropped = 0, sink_events = 0, sink_cpu_ns = 0;
  for (auto _ : state) {
    if (!tornado::trace::start("file:" + path)) state.SkipWithError("cannot write in /tmp");
    tornado::trace::Sink* sink = tornado::trace::detail::g_sink.load();
    tornado::trace::Event e{1, tornado::trace::Kind::callback_started, 1, 0, 7, 0, 0};
    for (std::uint64_t i = 0; i < kFlood; ++i) {
      e.ts_ns = i;
      sink->on_event(e);
    }
    tornado::trace::stop();
    state.PauseTiming();
    auto stats = tornado::trace::detail::last_transport_stats();
    sink_events += stats.events_sent;
    sink_cpu_ns += stats.cpu_ns;
    tornado::trace::Trace t = tornado::trace::read_file(path);
    for (const auto& ev : t.events) {
      if (ev.kind == tornado::trace::Kind::events_dropped) {
        dropped += ev.a;
      } else {
        ++kept;
      }
    }
    state.ResumeTiming();
  }
  std::remove(path.c_str());
  state.counters["kept_per_s"] =
      benchmark::Counter(static_cast<double>(kept), benchmark::Counter::kIsRate);
  // Events per second of the sink thread's own CPU: its throughput on one core.
  state.counters["sink_per_cpu_s"] =
      static_cast<double>(sink_events) / (static_cast<double>(sink_cpu_ns) / 1e9);
  state.counters["dropped_fraction"] =
      static_cast<double>(dropped) / static_cast<double>(kept + dropped);
}
BENCHMARK(BM_RingToFile)
    ->ArgName("tmp")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

#endif

}  // namespace
