// The clock trace::now_ns() reads: the steady clock (CLOCK_MONOTONIC), read
// through the CPU's time-stamp counter where the CPU says the counter is
// invariant. A traced round trip stamps a dozen events, and on a VM reading
// the TSC costs about a third of clock_gettime (11 vs 27 ns on kvm-clock).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace tornado::trace::detail {

/// CLOCK_MONOTONIC in ns: std::chrono::steady_clock, the loop's timer clock.
std::uint64_t steady_ns() noexcept;

/// True on x86-64 CPUs whose TSC runs at a constant rate in every state
/// (CPUID 0x80000007, EDX bit 8: "invariant TSC").
bool cpu_has_invariant_tsc() noexcept;

/// Steady-clock nanoseconds from TSC ticks: a line through the latest
/// (tsc, steady) pair, with the TSC's rate measured between pairs. The first
/// line comes after `calibrate_ns` (the steady clock answers meanwhile); a
/// new pair is read every `refit_ns`, so the line follows the steady clock
/// as NTP slews it. Each re-fit may step the readings by the line's error,
/// well under a microsecond; trace::now_ns() keeps a thread's own readings
/// from going back. Only where cpu_has_invariant_tsc().
class TscClock {
 public:
  explicit TscClock(std::uint64_t calibrate_ns = 10'000'000, std::uint64_t refit_ns = 100'000'000)
      : calibrate_ns_(calibrate_ns), refit_ns_(refit_ns) {}

  std::uint64_t now() noexcept;

  /// For tests: re-fits done so far, and the last one's error in ns
  /// (the steady clock minus the line it replaced).
  std::uint64_t refits() const noexcept { return refits_.load(std::memory_order_relaxed); }
  std::int64_t last_error_ns() const noexcept {
    return last_error_.load(std::memory_order_relaxed);
  }

 private:
  struct Line {
    std::uint64_t tsc = 0;
    std::uint64_t ns = 0;
    std::int64_t mult = 0;  // ns per tick, times 2^32; 0 while calibrating
    std::int64_t at(std::uint64_t t) const noexcept;
  };
  struct Pair {
    std::uint64_t tsc, ns;
  };

  Line load() const noexcept;
  void store(const Line& line) noexcept;
  void refit(std::uint64_t t) noexcept;
  static bool read_pair(Pair& pair) noexcept;

  const std::uint64_t calibrate_ns_, refit_ns_;
  // The line, published by one re-fitting thread under a sequence lock.
  std::atomic<std::uint64_t> seq_{0}, tsc_{0}, ns_{0};
  std::atomic<std::int64_t> mult_{0};
  std::atomic<std::uint64_t> next_refit_{0};  // TSC reading at which to re-fit
  std::mutex refitting_;                      // try_lock: one thread re-fits
  Pair last_{0, 0};                           // the pair the line goes through
  std::atomic<std::uint64_t> refits_{0};
  std::atomic<std::int64_t> last_error_{0};
};

/// "tsc" or "steady": which clock now_ns() reads in this process.
const char* clock_source() noexcept;

}  // namespace tornado::trace::detail
