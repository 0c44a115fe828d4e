#include "model/loop_state.h"

#include <algorithm>

#include "model/state.h"

namespace tornado::viz {

using trace::Kind;
using trace::Via;

namespace {

constexpr std::uint64_t kNoLimit = UINT64_MAX;

bool runs_from_ready_queue(Via via) { return via == Via::callback || via == Via::other_thread; }

void begin_iteration(Loop& loop, const trace::Event& e, std::uint64_t index) {
  loop.in_iteration = true;
  loop.current = Iteration{};
  loop.current.number = e.object;
  loop.current.begin_ns = e.ts_ns;
  loop.current.ready_callbacks = e.a;
  loop.current.due_timers = e.b;
  loop.current.first_event = index;
}

PollReason poll_reason(const Loop& loop, const trace::Event& e) {
  if (e.a == 0 && e.b == 0) return PollReason::not_polled;
  if (e.b == kNoLimit) return PollReason::no_limit;
  if (e.b == 0 && !loop.ready.empty()) return PollReason::pending_callbacks;
  return PollReason::next_timer;
}

void add_busy_time(Loop& loop, std::uint64_t end_ns, std::uint64_t busy_ns) {
  auto& slices = loop.utilization;
  if (slices.empty() || end_ns < slices.back().start_ns ||
      end_ns - slices.back().start_ns >= kUtilizationSliceNs) {
    slices.push(UtilizationSlice{end_ns - end_ns % kUtilizationSliceNs, 0});
  }
  slices.back().busy_ns += busy_ns;
}

void end_iteration(Loop& loop, const trace::Event& e) {
  if (!loop.in_iteration || loop.current.number != e.object) return;
  Iteration& it = loop.current;
  it.end_ns = std::max(e.ts_ns, it.begin_ns);
  it.poll_ns = e.a;
  it.poll_timeout_ns = e.b;
  it.reason = poll_reason(loop, e);
  const std::uint64_t span = it.end_ns - it.begin_ns;
  add_busy_time(loop, it.end_ns, span - std::min(span, it.poll_ns));
  loop.iterations.push(it);
  ++loop.iterations_total;
  loop.in_iteration = false;
}

void schedule(State& state, Loop& loop, const trace::Event& e) {
  if (loop.ready.size() >= kMaxReady) {
    ++state.observer.over_limit;
    return;
  }
  loop.ready.push_back(ReadyCallback{e.object, e.name, static_cast<Via>(e.b), e.a, e.ts_ns});
}

// The ready queue runs front first, so the match is almost always ready[0].
void take_from_ready(Loop& loop, std::uint64_t id) {
  auto it = std::find_if(loop.ready.begin(), loop.ready.end(),
                         [id](const ReadyCallback& c) { return c.id == id; });
  if (it != loop.ready.end()) loop.ready.erase(it);
}

void start_run(Loop& loop, const trace::Event& e, std::uint64_t index) {
  const auto via = static_cast<Via>(e.b);
  if (runs_from_ready_queue(via)) take_from_ready(loop, e.object);
  loop.running_callback = Running{e.object, e.name, via, e.ts_ns, index, {}, false};
  if (!loop.in_iteration) return;
  switch (via) {
    case Via::timer:
      ++loop.current.timers_run;
      break;
    case Via::handler:
      ++loop.current.handlers_run;
      break;
    default:
      ++loop.current.callbacks_run;
      break;
  }
}

void finish_run(Loop& loop, const trace::Event& e) {
  if (!loop.running_callback || loop.running_callback->object != e.object) return;
  loop.last_run = std::move(*loop.running_callback);
  loop.running_callback.reset();
  if (!loop.in_iteration) return;
  switch (static_cast<Via>(e.b)) {
    case Via::timer:
      loop.current.timers_ns += e.a;
      break;
    case Via::handler:
      loop.current.handlers_ns += e.a;
      break;
    default:
      loop.current.callbacks_ns += e.a;
      break;
  }
}

void note_woken(Loop& loop, const trace::Event& e) {
  if (!loop.running_callback || loop.running_callback->woken.size() >= kMaxVictims) return;
  loop.running_callback->woken.push_back(DeferredWaiter{e.object, e.a, e.ts_ns});
}

}  // namespace

void apply_loop_event(State& state, const trace::Event& e, std::uint64_t index) {
  Loop* loop = state.loop(e.loop);
  if (loop == nullptr) return;
  switch (e.kind) {
    case Kind::loop_started:
      loop->running = true;
      break;
    case Kind::loop_stopped:
      loop->running = false;
      break;
    case Kind::loop_closed:
      loop->closed = true;
      loop->ready.clear();  // close() drops what never ran
      break;
    case Kind::iteration_begin:
      begin_iteration(*loop, e, index);
      break;
    case Kind::iteration_end:
      end_iteration(*loop, e);
      break;
    case Kind::callback_scheduled:
      schedule(state, *loop, e);
      break;
    case Kind::callback_started:
      start_run(*loop, e, index);
      break;
    case Kind::callback_finished:
      finish_run(*loop, e);
      break;
    case Kind::fd_ready:
      if (loop->in_iteration) ++loop->current.fds_ready;
      break;
    case Kind::waiter_woken:
      note_woken(*loop, e);
      break;
    case Kind::snapshot_begin:
      // A late attach: the loop is running, and the ready queue follows.
      loop->running = true;
      loop->ready.clear();
      loop->current = Iteration{};
      loop->current.number = e.a;
      break;
    case Kind::snapshot_callback:
      schedule(state, *loop, e);
      break;
    default:
      break;
  }
}

}  // namespace tornado::viz
