#include "trace_clock.h"

#include <algorithm>
#include <ctime>

#include "tornado/trace.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace tornado::trace::detail {
namespace {

constexpr std::int64_t kResetError = 1'000'000;  // ns: beyond slewing, a jump
constexpr std::uint64_t kMaxBracket = 2'000;     // ns: a pair read across a preemption is no use

std::uint64_t read_tsc() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return 0;
#endif
}

}  // namespace

std::uint64_t steady_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

bool cpu_has_invariant_tsc() noexcept {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;
#else
  return false;
#endif
}

std::int64_t TscClock::Line::at(std::uint64_t t) const noexcept {
  // Signed: another thread may have moved the line past a reading taken
  // just before, which then lies a little behind its start.
  auto dt = static_cast<__int128>(static_cast<std::int64_t>(t - tsc));
  return static_cast<std::int64_t>(ns) + static_cast<std::int64_t>((dt * mult) >> 32);
}

// A sequence lock without fences (which TSan cannot follow): each field is
// read with acquire, so the second read of seq_ cannot move before them,
// and written with release, so none can move before seq_ turning odd. On
// x86 every one of these is a plain mov.
TscClock::Line TscClock::load() const noexcept {
  Line line;
  for (;;) {
    std::uint64_t before = seq_.load(std::memory_order_acquire);
    line.tsc = tsc_.load(std::memory_order_acquire);
    line.ns = ns_.load(std::memory_order_acquire);
    line.mult = mult_.load(std::memory_order_acquire);
    if ((before & 1) == 0 && seq_.load(std::memory_order_relaxed) == before) return line;
  }
}

void TscClock::store(const Line& line) noexcept {
  std::uint64_t seq = seq_.load(std::memory_order_relaxed);
  seq_.store(seq + 1, std::memory_order_relaxed);
  tsc_.store(line.tsc, std::memory_order_release);
  ns_.store(line.ns, std::memory_order_release);
  mult_.store(line.mult, std::memory_order_release);
  seq_.store(seq + 2, std::memory_order_release);
}

// The TSC reading halfway through a steady-clock reading bracketed by two
// more; false if every try was interrupted.
bool TscClock::read_pair(Pair& pair) noexcept {
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::uint64_t before = steady_ns();
    std::uint64_t t = read_tsc();
    std::uint64_t after = steady_ns();
    if (after - before <= kMaxBracket) {
      pair = {t, before + (after - before) / 2};
      return true;
    }
  }
  return false;
}

std::uint64_t TscClock::now() noexcept {
  std::uint64_t t = read_tsc();
  if (t >= next_refit_.load(std::memory_order_relaxed)) [[unlikely]]
    refit(t);
  Line line = load();
  if (line.mult == 0) [[unlikely]]
    return steady_ns();  // still calibrating
  return static_cast<std::uint64_t>(line.at(t));
}

void TscClock::refit(std::uint64_t t) noexcept {
  std::unique_lock lock(refitting_, std::try_to_lock);
  if (!lock.owns_lock() || t < next_refit_.load(std::memory_order_relaxed)) return;
  Pair now{};
  if (!read_pair(now)) return;  // the next reading tries again
  Line line = load();
  if (last_.ns == 0 || now.tsc <= last_.tsc || now.ns <= last_.ns) {
    last_ = now;  // the first pair, or a TSC that went back: begin again
    next_refit_.store(now.tsc + calibrate_ns_, std::memory_order_relaxed);
    return;
  }
  std::uint64_t span = now.ns - last_.ns;
  if (line.mult == 0 && span < calibrate_ns_) {
    // Assume at least one tick per ns: a faster TSC is checked early, no harm.
    next_refit_.store(now.tsc + (calibrate_ns_ - span), std::memory_order_relaxed);
    return;
  }
  // The rate since the last pair, smoothed: it follows NTP's slewing of the
  // steady clock within a second or so, and one pair's error barely moves it.
  auto measured = static_cast<std::int64_t>((static_cast<__int128>(span) << 32) /
                                            static_cast<__int128>(now.tsc - last_.tsc));
  std::int64_t error = line.mult == 0 ? 0 : static_cast<std::int64_t>(now.ns) - line.at(now.tsc);
  std::int64_t rate = measured;
  if (line.mult != 0) {
    bool jumped = error > kResetError || error < -kResetError;  // a VM suspended, say
    rate = jumped ? line.mult : line.mult + (measured - line.mult) / 4;
  }
  store({now.tsc, now.ns, rate});
  last_ = now;
  last_error_.store(error, std::memory_order_relaxed);
  refits_.fetch_add(1, std::memory_order_relaxed);
  auto refit_ticks = static_cast<std::uint64_t>((static_cast<__int128>(refit_ns_) << 32) / rate);
  next_refit_.store(now.tsc + std::max<std::uint64_t>(refit_ticks, 1), std::memory_order_relaxed);
}

namespace {
TscClock* process_tsc_clock() noexcept {
  static TscClock* clock = cpu_has_invariant_tsc() ? new TscClock() : nullptr;  // never freed:
  return clock;  // threads may read it during static destruction
}
}  // namespace

const char* clock_source() noexcept { return process_tsc_clock() != nullptr ? "tsc" : "steady"; }

}  // namespace tornado::trace::detail

namespace tornado::trace {

std::uint64_t now_ns() {
  static detail::TscClock* const tsc = detail::process_tsc_clock();
  std::uint64_t now = tsc != nullptr ? tsc->now() : detail::steady_ns();
  // Re-fits bend the line by fractions of a ns; a thread's own readings
  // still never go back.
  thread_local std::uint64_t last = 0;
  if (now < last) [[unlikely]]
    now = last;
  last = now;
  return now;
}

}  // namespace tornado::trace
