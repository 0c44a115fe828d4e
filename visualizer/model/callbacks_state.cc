#include "model/callbacks_state.h"

#include <algorithm>
#include <bit>

#include "model/state.h"

namespace tornado::viz {

using trace::Kind;
using trace::Via;

namespace {

// Victims are filled in by events after the blocking_callback; only the
// latest few reports can still be collecting.
constexpr std::size_t kOpenReports = 4;

void record_run(State& state, const trace::Event& e) {
  Loop* loop = state.loop(e.loop);
  if (loop == nullptr || !loop->running_callback || loop->running_callback->object != e.object) {
    ++state.observer.unknown_objects;
    return;
  }
  const Running& r = *loop->running_callback;
  CallbacksState& cbs = state.callbacks;
  cbs.recent.push(CallbackRun{r.object, e.loop, r.name, r.via, r.start_ns, e.a,
                              loop->in_iteration ? loop->current.number : 0, r.start_index, false,
                              r.threw});
  ++cbs.histogram[histogram_bucket(e.a)];
  ++cbs.runs;
}

// The run a blocking_callback or exception_in_callback is about: the latest
// finished run on that loop with that object.
CallbackRun* latest_run(CallbacksState& cbs, std::uint16_t loop, std::uint64_t object) {
  for (std::size_t i = cbs.recent.size(); i-- > 0;) {
    CallbackRun& run = cbs.recent[i];
    if (run.loop == loop) return run.object == object ? &run : nullptr;
  }
  return nullptr;
}

// exception_in_callback comes while the callback is still running.
void mark_threw(State& state, const trace::Event& e) {
  Loop* loop = state.loop(e.loop);
  if (loop != nullptr && loop->running_callback && loop->running_callback->object == e.object) {
    loop->running_callback->threw = true;
  } else if (CallbackRun* run = latest_run(state.callbacks, e.loop, e.object)) {
    run->threw = true;
  }
}

void collect_late_timers(const State& state, Blocking& report) {
  const std::uint64_t end = report.run.start_ns + report.run.duration_ns;
  for (const auto& [id, timer] : state.timers.pending) {
    if (timer.loop != report.run.loop || timer.cancelled || timer.deadline_ns >= end) continue;
    if (report.late_timers.size() >= kMaxVictims) break;
    report.late_timers.push_back(LateTimer{id, timer.name, timer.deadline_ns, 0});
  }
  std::sort(report.late_timers.begin(), report.late_timers.end(),
            [](const LateTimer& x, const LateTimer& y) {
              return x.deadline_ns != y.deadline_ns ? x.deadline_ns < y.deadline_ns : x.id < y.id;
            });
}

void report_blocking(State& state, const trace::Event& e, std::uint64_t index) {
  Loop* loop = state.loop(e.loop);
  if (loop == nullptr) return;
  CallbackRun* run = latest_run(state.callbacks, e.loop, e.object);
  Blocking report;
  if (run != nullptr) {
    run->blocking = true;
    report.run = *run;
  } else {
    report.run.object = e.object;
    report.run.loop = e.loop;
    report.run.name = e.name;
    report.run.duration_ns = e.a;
    report.run.start_ns = e.ts_ns - std::min(e.ts_ns, e.a);
    report.run.blocking = true;
  }
  report.threshold_ns = e.b;
  report.index = index;
  collect_late_timers(state, report);
  if (loop->last_run.object == e.object) report.deferred_waiters = loop->last_run.woken;
  state.callbacks.blocking.push(std::move(report));
}

template <class F>
void for_open_reports(State& state, std::uint16_t loop, F&& f) {
  auto& reports = state.callbacks.blocking;
  const std::size_t n = reports.size();
  for (std::size_t i = n > kOpenReports ? n - kOpenReports : 0; i < n; ++i) {
    if (reports[i].run.loop == loop) f(reports[i]);
  }
}

void timer_fired(State& state, const trace::Event& e) {
  for_open_reports(state, e.loop, [&](Blocking& report) {
    for (LateTimer& late : report.late_timers) {
      if (late.id == e.object && late.fired_ns == 0) late.fired_ns = e.ts_ns;
    }
  });
}

void fd_ready(State& state, const trace::Event& e) {
  for_open_reports(state, e.loop, [&](Blocking& report) {
    if (!report.collecting_fds || report.waiting_fds.size() >= kMaxVictims) return;
    report.waiting_fds.push_back(
        WaitingFd{static_cast<int>(e.object), static_cast<std::uint32_t>(e.a), e.ts_ns});
  });
}

// Stop collecting fds once the first poll after the block has been handled:
// for a callback or timer that is this iteration's poll; a handler ran after
// this iteration's poll, so it is the next polling iteration's.
void iteration_ended(State& state, const trace::Event& e) {
  const bool polled = e.a != 0 || e.b != 0;
  if (!polled) return;
  for_open_reports(state, e.loop, [&](Blocking& report) {
    if (report.run.via != Via::handler || e.object > report.run.iteration) {
      report.collecting_fds = false;
    }
  });
}

}  // namespace

std::size_t histogram_bucket(std::uint64_t duration_ns) {
  const std::size_t width = static_cast<std::size_t>(std::bit_width(duration_ns));
  const std::size_t bucket = width == 0 ? 0 : width - 1;
  return bucket < kHistogramBuckets ? bucket : kHistogramBuckets - 1;
}

void apply_callbacks_event(State& state, const trace::Event& e, std::uint64_t index) {
  switch (e.kind) {
    case Kind::callback_finished:
      record_run(state, e);
      break;
    case Kind::blocking_callback:
      report_blocking(state, e, index);
      break;
    case Kind::exception_in_callback:
      ++state.callbacks.exceptions;
      mark_threw(state, e);
      break;
    case Kind::timer_fired:
      timer_fired(state, e);
      break;
    case Kind::fd_ready:
      fd_ready(state, e);
      break;
    case Kind::iteration_end:
      iteration_ended(state, e);
      break;
    default:
      break;
  }
}

}  // namespace tornado::viz
