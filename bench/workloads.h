// The workloads ioloop_bench.cc measures and peers_bench.cc repeats beside
// asio and libuv, written once so both binaries run the same code.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "tornado/ioloop.h"

namespace bench {

constexpr std::int64_t kChain = 1'000'000;
constexpr std::int64_t kTimers = 200'000;

// A counter shown as seconds per item ("24.1ns"): the inverse of the rate
// of `items` per second of the benchmark's time (the main thread's CPU time
// by default, wall time with UseRealTime(), the whole process's CPU time
// with MeasureProcessCPUTime()).
inline benchmark::Counter per(std::int64_t items) {
  return benchmark::Counter(
      static_cast<double>(items),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// n delays in [0, 1 s), from a fixed seed so every run and every library
// gets the same ones.
inline std::vector<std::chrono::nanoseconds> random_delays(std::int64_t n) {
  std::mt19937_64 random(42);
  std::uniform_int_distribution<std::int64_t> within_one_second(0, 999'999'999);
  std::vector<std::chrono::nanoseconds> delays;
  delays.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) delays.emplace_back(within_one_second(random));
  return delays;
}

// Each callback schedules the next; the last stops the loop.
struct Chain {
  tornado::IOLoop& loop;
  std::int64_t left;
  void next() {
    if (--left == 0) return loop.stop();
    loop.add_callback([this] { next(); });
  }
};

// Runs a chain of n callbacks; returns how many ran.
inline std::int64_t run_callback_chain(tornado::IOLoop& loop, std::int64_t n) {
  Chain chain{loop, n};
  loop.add_callback([&chain] { chain.next(); });
  loop.start();
  return n - chain.left;
}

// Adds one timer per delay (from one callback, so they share a "now") and
// runs the loop until all have fired; returns how many fired.
inline std::int64_t run_timers(tornado::IOLoop& loop,
                               const std::vector<std::chrono::nanoseconds>& delays) {
  const auto n = static_cast<std::int64_t>(delays.size());
  std::int64_t fired = 0;
  loop.add_callback([&] {
    tornado::TimePoint now = loop.time();
    for (std::chrono::nanoseconds delay : delays) {
      loop.call_at(now + delay, [&] {
        if (++fired == n) loop.stop();
      });
    }
  });
  loop.start();
  return fired;
}

}  // namespace bench
