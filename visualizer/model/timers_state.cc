#include "model/timers_state.h"

#include <algorithm>

#include "model/state.h"

namespace tornado::viz {

using trace::Kind;

namespace {

void add_timer(State& state, const Timer& timer) {
  TimersState& timers = state.timers;
  if (timers.pending.size() >= kMaxTimers && !timers.pending.contains(timer.id)) {
    ++state.observer.over_limit;
    return;
  }
  timers.pending[timer.id] = timer;
  if (timer.cancelled) {
    ++timers.tombstones;
    timers.earliest_tombstone_ns = std::min(timers.earliest_tombstone_ns, timer.deadline_ns);
  }
}

Periodic* periodic_for(TimersState& timers, std::uint16_t loop, std::uint32_t name) {
  for (Periodic& p : timers.periodic) {
    if (p.loop == loop && p.name == name) return &p;
  }
  if (timers.periodic.size() >= kMaxPeriodic) return nullptr;
  return &timers.periodic.emplace_back(Periodic{loop, name, 0, 0, 0, 0, 0});
}

// A timer added, under the same site, by the timer that is running re-arms
// it: a periodic. A deadline step of k intervals means k - 1 ticks were skipped.
void track_periodic(State& state, const Timer& timer) {
  Loop* loop = state.loop(timer.loop);
  if (timer.name == 0 || loop == nullptr || !loop->running_callback) return;
  const Running& running = *loop->running_callback;
  if (running.via != trace::Via::timer || running.name != timer.name) return;
  Periodic* p = periodic_for(state.timers, timer.loop, timer.name);
  if (p == nullptr) return;
  if (p->last_timer == 0) p->ticks = 1;  // found at its first re-arm: the running tick counts
  if (p->last_timer == running.object && timer.deadline_ns > p->last_deadline_ns) {
    const std::uint64_t step = timer.deadline_ns - p->last_deadline_ns;
    if (p->interval_ns == 0 || step < p->interval_ns) p->interval_ns = step;
    const std::uint64_t intervals = (step + p->interval_ns / 2) / p->interval_ns;
    if (intervals > 1) p->skipped += intervals - 1;
  }
  p->last_timer = timer.id;
  p->last_deadline_ns = timer.deadline_ns;
}

void timer_added(State& state, const trace::Event& e) {
  Timer timer{e.object, e.loop, e.name, e.a, e.ts_ns, e.b, false, 0};
  add_timer(state, timer);
  track_periodic(state, timer);
}

void count_tick(TimersState& timers, const Timer& timer) {
  for (Periodic& p : timers.periodic) {
    if (p.loop == timer.loop && p.name == timer.name) ++p.ticks;
  }
}

void timer_fired(State& state, const trace::Event& e) {
  TimersState& timers = state.timers;
  auto it = timers.pending.find(e.object);
  if (it == timers.pending.end()) {
    ++state.observer.unknown_objects;
    return;
  }
  if (it->second.cancelled) --timers.tombstones;
  count_tick(timers, it->second);
  timers.pending.erase(it);
  ++timers.fired;
}

void drop_tombstones(TimersState& timers, std::uint16_t loop, std::uint64_t due_by) {
  timers.earliest_tombstone_ns = UINT64_MAX;
  std::erase_if(timers.pending, [&](const auto& item) {
    const Timer& t = item.second;
    if (!t.cancelled) return false;
    if (t.loop == loop && t.deadline_ns <= due_by) {
      --timers.tombstones;
      return true;
    }
    timers.earliest_tombstone_ns = std::min(timers.earliest_tombstone_ns, t.deadline_ns);
    return false;
  });
}

void timer_cancelled(State& state, const trace::Event& e) {
  TimersState& timers = state.timers;
  auto it = timers.pending.find(e.object);
  if (it == timers.pending.end()) {
    ++state.observer.unknown_objects;
    return;
  }
  ++timers.cancelled;
  if (it->second.cancelled) return;
  it->second.cancelled = true;
  it->second.cancelled_ns = e.ts_ns;
  ++timers.tombstones;
  timers.earliest_tombstone_ns = std::min(timers.earliest_tombstone_ns, it->second.deadline_ns);
  if (timers.tombstones > kTombstoneCompaction && timers.tombstones * 2 > timers.pending.size()) {
    drop_tombstones(timers, e.loop, UINT64_MAX);  // the loop rebuilds its heap
  }
}

// A closed loop frees its whole heap.
void close_loop(TimersState& timers, std::uint16_t loop) {
  std::erase_if(timers.pending, [&](const auto& item) {
    if (item.second.loop != loop) return false;
    if (item.second.cancelled) --timers.tombstones;
    return true;
  });
}

}  // namespace

std::vector<const Timer*> TimersState::by_deadline() const {
  std::vector<const Timer*> out;
  out.reserve(pending.size());
  for (const auto& item : pending) out.push_back(&item.second);
  std::sort(out.begin(), out.end(), [](const Timer* x, const Timer* y) {
    return x->deadline_ns != y->deadline_ns ? x->deadline_ns < y->deadline_ns : x->id < y->id;
  });
  return out;
}

void apply_timers_event(State& state, const trace::Event& e) {
  switch (e.kind) {
    case Kind::timer_added:
      timer_added(state, e);
      break;
    case Kind::timer_fired:
      timer_fired(state, e);
      break;
    case Kind::timer_cancelled:
      timer_cancelled(state, e);
      break;
    case Kind::snapshot_timer:
      add_timer(state, Timer{e.object, e.loop, e.name, e.a, e.ts_ns, 0, e.b != 0, 0});
      break;
    case Kind::loop_closed:
      close_loop(state.timers, e.loop);
      break;
    case Kind::iteration_begin:
      // Phase 2 frees the cancelled timers it meets on the way to the due ones.
      if (state.timers.tombstones > 0 && e.ts_ns >= state.timers.earliest_tombstone_ns) {
        drop_tombstones(state.timers, e.loop, e.ts_ns);
      }
      break;
    default:
      break;
  }
}

}  // namespace tornado::viz
