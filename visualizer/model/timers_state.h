// The Timers panel's data: the pending timers (cancelled ones kept as
// tombstones until the loop would drop them from its heap) and periodic
// callbacks with their skipped ticks.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "tornado/trace.h"

namespace tornado::viz {

struct State;

struct Timer {
  std::uint64_t id = 0;
  std::uint16_t loop = 0;
  std::uint32_t name = 0;
  std::uint64_t deadline_ns = 0;
  std::uint64_t added_ns = 0;
  std::uint64_t added_by = 0;  // running callback/timer id or fd, 0 for none
  bool cancelled = false;      // a tombstone: still in the loop's heap
  std::uint64_t cancelled_ns = 0;
};

/// Timers of one site that each re-arm the next (a PeriodicCallback, or a
/// callback that calls call_later on itself).
struct Periodic {
  std::uint16_t loop = 0;
  std::uint32_t name = 0;
  std::uint64_t last_timer = 0;
  std::uint64_t last_deadline_ns = 0;
  std::uint64_t interval_ns = 0;  // the smallest deadline step seen
  std::uint64_t ticks = 0;        // timers fired
  std::uint64_t skipped = 0;      // ticks jumped over because the loop was late
};

inline constexpr std::size_t kMaxTimers = 65536;
inline constexpr std::size_t kMaxPeriodic = 256;
// Tornado's compaction rule: rebuild the heap when tombstones pass 512 and half the heap.
inline constexpr std::size_t kTombstoneCompaction = 512;

struct TimersState {
  std::unordered_map<std::uint64_t, Timer> pending;  // by id, tombstones included
  std::size_t tombstones = 0;
  std::uint64_t earliest_tombstone_ns = UINT64_MAX;
  std::vector<Periodic> periodic;
  std::uint64_t fired = 0, cancelled = 0;

  /// Pending timers (tombstones included) by (deadline, id).
  std::vector<const Timer*> by_deadline() const;
};

/// Applies timer_added/fired/cancelled, snapshot_timer, and iteration_begin
/// (which drops tombstones whose deadline has passed).
void apply_timers_event(State& state, const trace::Event& event);

}  // namespace tornado::viz
