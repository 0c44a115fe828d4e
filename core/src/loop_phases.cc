// One loop iteration, phase by phase (docs/architecture.md draws them):
//
//   take_ready_callbacks  collect_due_timers  run_callbacks  run_timers
//   [stop?]  poll_for_events  run_handlers
//
// What runs in an iteration is decided before any of it runs: callbacks
// scheduled meanwhile wait for the next iteration, and timers are collected
// before the callbacks run.
#include <climits>
#include <stdexcept>

#include "loop_impl.h"
#include "tornado/log.h"

namespace tornado::detail {

bool running_here(const IOLoop* loop);
void set_running_here(IOLoop* loop);

namespace {

std::int64_t now_ticks() { return Clock::now().time_since_epoch().count(); }

// Restores the thread's state however start() ends.
struct RunningScope {
  RunningScope(LoopImpl& impl, IOLoop* previous_current)
      : impl_(impl), previous_current_(previous_current) {
    impl_.running = true;
    set_running_here(&impl_.self);
    impl_.self.make_current();
    impl_.watchdog.start(impl_.blocking_threshold);
    impl_.trace(trace::Kind::loop_started, 0);
  }
  ~RunningScope() {
    impl_.watchdog.stop();
    impl_.running = false;
    impl_.stopping = false;
    set_running_here(nullptr);
    if (previous_current_ != nullptr) previous_current_->make_current();
    impl_.trace(trace::Kind::loop_stopped, 0);
  }
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;

  LoopImpl& impl_;
  IOLoop* previous_current_;
};

}  // namespace

void LoopImpl::check_can_start() const {
  if (closed.load(std::memory_order_relaxed)) {
    throw std::logic_error("IOLoop::start: the loop is closed");
  }
  if (running) throw std::logic_error("IOLoop::start: the loop is already running");
  if (!running_here(nullptr)) {
    throw std::logic_error("IOLoop::start: another loop is running on this thread");
  }
}

void LoopImpl::start() {
  check_can_start();
  IOLoop* previous = current_loop_or_null();
  RunningScope scope(*this, previous == &self ? nullptr : previous);
  for (;;) {
    ++iterations;
    if (snapshot_requested.load(std::memory_order_relaxed)) [[unlikely]]
      emit_snapshot();
    take_ready_callbacks();
    collect_due_timers();
    trace(trace::Kind::iteration_begin, iterations, 0, batch.size(), due.size());
    run_callbacks();
    if (!due.empty()) run_timers();
    if (stopping) {
      trace(trace::Kind::iteration_end, iterations, 0, 0, 0);
      break;
    }
    Polled polled = poll_for_events();
    if (!events.empty() || handlers.has_retired()) run_handlers();
    // After the handlers, so begin/end bracket every phase of the iteration.
    trace(trace::Kind::iteration_end, iterations, 0, polled.ns, polled.timeout_ns);
  }
}

// Phase 1: this iteration runs what is ready now, in FIFO order: own-thread
// callbacks, then other threads', then signal handlers'.
void LoopImpl::take_ready_callbacks() {
  batch.swap(ready);
  if (foreign_pending.load(std::memory_order_acquire)) [[unlikely]] {
    std::lock_guard lock(foreign_mutex);
    for (ReadyCallback& cb : foreign) batch.push_back(std::move(cb));
    foreign.clear();
    foreign_pending.store(false, std::memory_order_relaxed);
  }
  if (!signals.empty()) [[unlikely]]
    take_signal_callbacks();
}

void LoopImpl::take_signal_callbacks() {
  ReadyCallback cb;
  while (signals.pop(cb.fn, cb.site)) {
    cb.via = trace::Via::signal;
    batch.push_back(std::move(cb));
  }
  if (std::uint64_t dropped = signals.take_dropped()) {
    log::warning(log::cat("IOLoop#", id, ": ", dropped,
                          " add_callback_from_signal calls were dropped: more than ",
                          SignalQueue::kCapacity, " were waiting"));
    trace(trace::Kind::signal_callbacks_dropped, 0, 0, dropped);
  }
}

// Phase 2: every timer due now leaves the heap before any callback runs.
void LoopImpl::collect_due_timers() {
  if (!timers.empty()) timers.collect_due(now_ticks(), due);
}

// Phase 3a.
void LoopImpl::run_callbacks() {
  for (ReadyCallback& cb : batch) {
    run_one(cb.site, cb.trace_id, cb.name, cb.via, cb.fn);
  }
  callbacks_since_poll += static_cast<int>(batch.size());
  batch.clear();
}

// Phase 3b. A timer cancelled by an earlier one in this batch is skipped.
void LoopImpl::run_timers() {
  for (TimerHeap::Id timer : due) {
    std::optional<TimerHeap::Fired> fired = timers.take(timer);
    if (!fired) continue;
    trace(trace::Kind::timer_fired, fired->trace_id, fired->name);
    run_one(fired->site, fired->trace_id, fired->name, trace::Via::timer, fired->fn);
  }
  callbacks_since_poll += static_cast<int>(due.size());
  due.clear();
}

// Phase 4: wait for fds. With callbacks pending, poll only every
// kCallbacksBetweenPolls callbacks (and then without waiting).
LoopImpl::Polled LoopImpl::poll_for_events() {
  bool work_pending = !ready.empty() || foreign_pending.load(std::memory_order_relaxed);
  if (work_pending && callbacks_since_poll < kCallbacksBetweenPolls) return {};
  callbacks_since_poll = 0;
  int timeout_ms = work_pending ? 0 : poll_timeout_ms();
  watchdog.idle();
  std::uint64_t started = trace::enabled() ? trace::now_ns() : 0;
  poller->poll(timeout_ms, events);
  if (started == 0) return {};
  std::uint64_t timeout_ns = timeout_ms < 0 ? static_cast<std::uint64_t>(-1)
                                            : static_cast<std::uint64_t>(timeout_ms) * 1000000u;
  return {trace::now_ns() - started, timeout_ns};
}

// Until the next live timer, rounded up to whole milliseconds so the loop
// never wakes just before a deadline; -1 if there is no timer.
int LoopImpl::poll_timeout_ms() {
  std::optional<std::int64_t> next = timers.next_deadline();
  if (!next) return -1;
  std::int64_t wait_ns = *next - now_ticks();
  if (wait_ns <= 0) return 0;
  std::int64_t ms = (wait_ns + 999999) / 1000000;
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

// Phase 5. Handlers removed earlier in this batch are skipped (stale token).
void LoopImpl::run_handlers() {
  for (const PollEvent& e : events) {
    HandlerRecord* r = handlers.find_token(e.token);
    if (r == nullptr) continue;
    std::uint32_t mask = e.events & r->events;
    if (mask == 0) continue;
    int fd = static_cast<int>(e.token & 0xffffffffu);
    if (trace::enabled() && !r->internal) [[unlikely]] {
      if (r->name == 0) r->name = trace::intern(r->site);
      trace(trace::Kind::fd_ready, static_cast<std::uint64_t>(fd), r->name, mask);
    }
    run_one(r->site, static_cast<std::uint64_t>(fd), r->name, trace::Via::handler,
            [r, fd, mask] { r->fn(fd, mask); });
  }
  events.clear();
  handlers.clear_retired();
}

// Runs one callback, timer or handler: names it for the watchdog, times it
// only when tracing, and logs what escapes it.
template <class F>
void LoopImpl::run_one(const Site& site, std::uint64_t trace_id, std::uint32_t name, trace::Via via,
                       F&& body) {
  watchdog.enter(++runs, site);
  running_trace_id = trace_id;
  std::uint64_t started = 0;
  if (trace::enabled()) [[unlikely]] {
    started = trace::now_ns();  // also the event's stamp: one clock read, not two
    trace::detail::emit_at(started, trace::Kind::callback_started, id, trace_id, name, 0,
                           static_cast<std::uint64_t>(via));
  }
  try {
    body();
  } catch (const std::exception& e) {
    log_exception(site, trace_id, e.what());
  } catch (...) {
    log_exception(site, trace_id, "unknown exception (not derived from std::exception)");
  }
  if (started != 0) {
    std::uint64_t finished = trace::now_ns();
    trace::detail::emit_at(finished, trace::Kind::callback_finished, id, trace_id, name,
                           finished - started, static_cast<std::uint64_t>(via));
  }
  if (watchdog.flagged()) [[unlikely]]
    report_blocking(trace_id, started);
  running_trace_id = 0;
}

void LoopImpl::log_exception(const Site& site, std::uint64_t trace_id, const std::string& what) {
  log::error("Exception in callback " + site.describe() + ": " + what);
  if (trace::enabled()) trace(trace::Kind::exception_in_callback, trace_id, trace::intern(site));
}

// The watchdog saw a callback run past the threshold. Its duration is exact
// when tracing (started_ns), else measured from the watchdog's first sight.
void LoopImpl::report_blocking(std::uint64_t trace_id, std::uint64_t started_ns) {
  Watchdog::Report report = watchdog.take_report();
  bool this_one = report.run == runs;
  std::uint64_t since = this_one && started_ns != 0 ? started_ns : report.since_ns;
  std::uint64_t took = trace::now_ns() - since;
  auto threshold_ns = static_cast<std::uint64_t>(blocking_threshold.count());
  log::warning(log::cat("IOLoop#", id, ": blocking callback ", report.site.describe(), " took ",
                        took / 1000000, " ms (threshold ", threshold_ns / 1000000, " ms)"));
  trace(trace::Kind::blocking_callback, this_one ? trace_id : 0,
        trace::enabled() ? trace::intern(report.site) : 0, took, threshold_ns);
}

}  // namespace tornado::detail
