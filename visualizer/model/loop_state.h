// The Loop panel's data: each loop's iterations split into their phases, the
// poll timeout and why it was chosen, utilization over time, and the ready
// queue (callbacks scheduled but not yet run, in the order they will run).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "model/ring.h"
#include "tornado/trace.h"

namespace tornado::viz {

struct State;

/// Why the loop's poll had the timeout it had (docs/architecture.md, phase 4).
enum class PollReason : std::uint8_t {
  not_polled,         // the poll was skipped (callbacks pending) or stop() ended the iteration
  pending_callbacks,  // timeout 0: callbacks were waiting
  next_timer,         // until the earliest timer is due
  no_limit,           // nothing pending: wait for I/O
};

struct Iteration {
  std::uint64_t number = 0;
  std::uint64_t begin_ns = 0, end_ns = 0;             // end_ns 0 while it runs
  std::uint64_t ready_callbacks = 0, due_timers = 0;  // taken in phases 1 and 2
  std::uint64_t callbacks_ns = 0, timers_ns = 0, handlers_ns = 0, poll_ns = 0;
  std::uint64_t poll_timeout_ns = 0;  // UINT64_MAX: no limit
  PollReason reason = PollReason::not_polled;
  std::uint32_t callbacks_run = 0, timers_run = 0, fds_ready = 0, handlers_run = 0;
  std::uint64_t first_event = 0;  // index of its iteration_begin
};

/// One callback in the ready queue.
struct ReadyCallback {
  std::uint64_t id = 0;
  std::uint32_t name = 0;  // its site
  trace::Via via = trace::Via::callback;
  std::uint64_t scheduled_by = 0;  // the callback/timer id or fd running then, 0 for none
  std::uint64_t scheduled_ns = 0;
};

/// Busy time in one slice of kUtilizationSliceNs.
struct UtilizationSlice {
  std::uint64_t start_ns = 0;
  std::uint64_t busy_ns = 0;
};
inline constexpr std::uint64_t kUtilizationSliceNs = 100'000'000;

/// A waiter woken while a callback ran: its resumption waits for the loop.
struct DeferredWaiter {
  std::uint64_t sync = 0;
  std::uint64_t waiter = 0;
  std::uint64_t woken_ns = 0;
};
inline constexpr std::size_t kMaxVictims = 256;

/// What is running (or last ran) on a loop.
struct Running {
  std::uint64_t object = 0;  // callback id, timer id or fd
  std::uint32_t name = 0;
  trace::Via via = trace::Via::callback;
  std::uint64_t start_ns = 0;
  std::uint64_t start_index = 0;
  std::vector<DeferredWaiter> woken;  // waiter_woken events while it ran
  bool threw = false;
};

struct Loop {
  std::uint16_t id = 0;
  bool running = false;  // between loop_started and loop_stopped
  bool closed = false;
  bool in_iteration = false;
  Iteration current;                // the iteration in progress (or the last one)
  Ring<Iteration> iterations{512};  // finished iterations, oldest first
  std::vector<ReadyCallback> ready;
  Ring<UtilizationSlice> utilization{600};
  std::optional<Running> running_callback;
  Running last_run;  // the latest finished run, for a blocking_callback that follows
  std::uint64_t iterations_total = 0;
  bool waker_seen = false;  // its first handler_added, at creation, is the waker's
};

inline constexpr std::size_t kMaxLoops = 256;
inline constexpr std::size_t kMaxReady = 65536;

/// Applies a loop_*, iteration_*, callback_* or snapshot_begin/callback event.
void apply_loop_event(State& state, const trace::Event& event, std::uint64_t index);

}  // namespace tornado::viz
