// trace::now_ns(), the clock of every event's stamp: the steady clock, read
// through the TSC where the CPU says it is invariant (core/src/trace_clock.h).
#include "trace_clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tornado/trace.h"

namespace tornado {
namespace {

using namespace std::chrono_literals;
using trace::detail::steady_ns;
using trace::detail::TscClock;

// How far a reading may stray outside the steady-clock readings taken just
// before and after it. A preemption only widens that bracket.
constexpr std::int64_t kTolerance = 50'000;  // ns

// Reads `read` between two steady-clock readings for `duration`; returns the
// largest distance by which a reading fell outside its bracket.
template <class Read>
std::int64_t worst_stray(Read read, std::chrono::milliseconds duration) {
  std::int64_t worst = 0;
  auto end = steady_ns() + static_cast<std::uint64_t>(duration.count()) * 1'000'000u;
  for (std::uint64_t before = 0; (before = steady_ns()) < end;) {
    auto reading = static_cast<std::int64_t>(read());
    auto after = static_cast<std::int64_t>(steady_ns());
    worst = std::max({worst, static_cast<std::int64_t>(before) - reading, reading - after});
  }
  return worst;
}

// Whether the first "flags" line of /proc/cpuinfo lists `flag`.
bool cpuinfo_flag(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    for (std::string word; words >> word;) {
      if (word == flag) return true;
    }
    return false;
  }
  return false;
}

TEST(TraceClock, NowNsIsTheSteadyClockThatTimersUse) {
  std::int64_t worst = worst_stray([] { return trace::now_ns(); }, 300ms);
  EXPECT_LE(worst, kTolerance) << "now_ns() strayed from CLOCK_MONOTONIC (source: "
                               << trace::detail::clock_source() << ")";
  auto chrono_ns =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  auto ours = trace::now_ns();
  EXPECT_LT(ours > chrono_ns ? ours - chrono_ns : chrono_ns - ours, 1'000'000u)
      << "std::chrono::steady_clock and now_ns() share their epoch";
}

TEST(TraceClock, ReadsTheTscExactlyWhereTheCpuSaysItIsInvariant) {
  bool invariant = trace::detail::cpu_has_invariant_tsc();
  EXPECT_STREQ(trace::detail::clock_source(), invariant ? "tsc" : "steady");
#if defined(__x86_64__)
  // Linux names CPUID's invariant-TSC bit "nonstop_tsc".
  EXPECT_EQ(invariant, cpuinfo_flag("nonstop_tsc"));
#endif
}

TEST(TraceClock, EachThreadsReadingsNeverGoBackAcrossRefits) {
  // 300 ms: past the first calibration and two re-fits of the line (100 ms).
  std::vector<std::thread> threads;
  std::vector<std::uint64_t> backwards(4, 0), readings(4, 0);
  for (std::size_t i = 0; i < backwards.size(); ++i) {
    threads.emplace_back([&backwards, &readings, i] {
      std::uint64_t last = 0;
      auto end = steady_ns() + 300'000'000u;
      for (std::uint64_t now = 0; (now = trace::now_ns()) < end; ++readings[i]) {
        backwards[i] += now < last;
        last = now;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (std::size_t i = 0; i < backwards.size(); ++i) {
    EXPECT_EQ(backwards[i], 0u) << "of " << readings[i] << " readings";
  }
}

class TscClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!trace::detail::cpu_has_invariant_tsc()) {
      GTEST_SKIP() << "this CPU has no invariant TSC; now_ns() reads the steady clock";
    }
  }
};

TEST_F(TscClockTest, CalibratesThenRefitsAndStaysWithinMicrosecondsOfTheSteadyClock) {
  TscClock clock(10'000'000, 20'000'000);  // calibrate for 10 ms, re-fit every 20 ms
  std::int64_t worst = worst_stray([&] { return clock.now(); }, 400ms);
  EXPECT_LE(worst, kTolerance);
  EXPECT_GE(clock.refits(), 10u) << "about one re-fit per 20 ms";
  EXPECT_LE(std::abs(clock.last_error_ns()), kTolerance);
}

TEST_F(TscClockTest, ThreadsReadingWhileOthersRefitStayOnTheSteadyClock) {
  // Re-fits every 100 us, so many readings race one (and TSan watches the
  // sequence lock that publishes each new line).
  TscClock clock(1'000'000, 100'000);
  std::vector<std::thread> threads;
  std::vector<std::int64_t> worst(4, 0);
  for (std::size_t i = 0; i < worst.size(); ++i) {
    threads.emplace_back([&, i] { worst[i] = worst_stray([&] { return clock.now(); }, 200ms); });
  }
  for (std::thread& t : threads) t.join();
  for (std::int64_t stray : worst) EXPECT_LE(stray, kTolerance);
  EXPECT_GE(clock.refits(), 100u);
}

}  // namespace
}  // namespace tornado
