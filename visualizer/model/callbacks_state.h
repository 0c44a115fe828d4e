// The Callbacks panel's data: recent runs with their durations, a histogram
// of durations, and every blocking callback with what it cost others.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "model/loop_state.h"
#include "model/ring.h"
#include "tornado/trace.h"

namespace tornado::viz {

struct State;

/// One run of a callback, timer or handler.
struct CallbackRun {
  std::uint64_t object = 0;  // callback id, timer id, or fd for a handler
  std::uint16_t loop = 0;
  std::uint32_t name = 0;
  trace::Via via = trace::Via::callback;
  std::uint64_t start_ns = 0, duration_ns = 0;
  std::uint64_t iteration = 0;
  std::uint64_t start_index = 0;  // event index of its callback_started
  bool blocking = false;
  bool threw = false;
};

/// A timer that was due while a callback blocked, and when it finally fired.
struct LateTimer {
  std::uint64_t id = 0;
  std::uint32_t name = 0;
  std::uint64_t deadline_ns = 0;
  std::uint64_t fired_ns = 0;  // 0: not fired yet (at the cursor)
};

/// A fd found ready at the first poll after the block (or later in the same
/// batch): it waited for the blocking callback.
struct WaitingFd {
  int fd = 0;
  std::uint32_t events = 0;
  std::uint64_t ready_ns = 0;  // when its handler was called
};

struct Blocking {
  CallbackRun run;
  std::uint64_t threshold_ns = 0;
  std::uint64_t index = 0;  // event index of the blocking_callback event
  std::vector<LateTimer> late_timers;
  std::vector<WaitingFd> waiting_fds;
  std::vector<DeferredWaiter> deferred_waiters;
  bool collecting_fds = true;  // until the first poll after the block has been handled
};

inline constexpr std::size_t kHistogramBuckets = 40;  // bucket i: [2^i, 2^(i+1)) ns

struct CallbacksState {
  Ring<CallbackRun> recent{1024};
  std::array<std::uint64_t, kHistogramBuckets> histogram{};
  Ring<Blocking> blocking{64};
  std::uint64_t runs = 0;
  std::uint64_t exceptions = 0;
};

/// The histogram bucket of a duration.
std::size_t histogram_bucket(std::uint64_t duration_ns);

/// Applies callback_finished, blocking_callback and exception_in_callback, and
/// fills in the victims of earlier blocks (timer_fired, fd_ready, waiter_woken,
/// iteration_end).
void apply_callbacks_event(State& state, const trace::Event& event, std::uint64_t index);

}  // namespace tornado::viz
