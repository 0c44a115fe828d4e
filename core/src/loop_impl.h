// The machinery behind IOLoop: queues, timers, handlers, poller, waker,
// watchdog. IOLoop's public methods forward here; the iteration phases are
// in loop_phases.cc, in the order docs/architecture.md numbers them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "handler_table.h"
#include "poller/poller.h"
#include "signal_queue.h"
#include "timer_heap.h"
#include "tornado/ioloop.h"
#include "tornado/trace.h"
#include "waker.h"
#include "watchdog.h"

namespace tornado::detail {

struct ReadyCallback {
  IOLoop::Callback fn;
  Site site;
  std::uint64_t trace_id = 0;  // 0 when untraced
  std::uint32_t name = 0;      // trace string id of site
  trace::Via via = trace::Via::callback;
};

struct LoopImpl {
  // When callbacks are pending the loop skips poll(0) for up to this many
  // callbacks, so a chain of callbacks costs no syscall each (I/O is still
  // checked at least this often). See docs/architecture.md.
  static constexpr int kCallbacksBetweenPolls = 64;

  LoopImpl(IOLoop& self, PollerKind kind);
  ~LoopImpl();
  LoopImpl(const LoopImpl&) = delete;
  LoopImpl& operator=(const LoopImpl&) = delete;

  // ---- scheduling (ioloop.cc) ----
  void schedule(IOLoop::Callback&& fn, const Site& site);
  void schedule_foreign(ReadyCallback cb);
  void schedule_from_signal(IOLoop::Callback fn, const Site& site) noexcept;
  void add_handler(int fd, IOLoop::Handler fn, std::uint32_t mask, const Site& site, bool internal,
                   bool owned = false);
  void close(bool all_fds);
  void destroy_suspended();

  // ---- phases (loop_phases.cc) ----
  void start();
  void check_can_start() const;
  void take_ready_callbacks();
  void take_signal_callbacks();
  void collect_due_timers();
  void run_callbacks();
  void run_timers();
  // What poll_for_events() did, for iteration_end (both 0 if it did not poll).
  struct Polled {
    std::uint64_t ns = 0;          // spent waiting in poll (measured only when tracing)
    std::uint64_t timeout_ns = 0;  // the timeout it waited with (-1: none)
  };
  Polled poll_for_events();
  void run_handlers();

  template <class F>
  void run_one(const Site& site, std::uint64_t trace_id, std::uint32_t name, trace::Via via,
               F&& body);
  void report_blocking(std::uint64_t trace_id, std::uint64_t started_ns);
  void log_exception(const Site& site, std::uint64_t trace_id, const std::string& what);
  int poll_timeout_ms();
  // ---- late-attach snapshot (trace_snapshot.cc) ----
  void emit_snapshot();
  void snapshot_callbacks(std::vector<ReadyCallback>& queue);

  void trace(trace::Kind what, std::uint64_t object, std::uint32_t name = 0, std::uint64_t a = 0,
             std::uint64_t b = 0) const {
    trace::emit(what, id, object, name, a, b);
  }

  IOLoop& self;
  const std::uint16_t id;
  const PollerKind kind;
  const std::thread::id creator = std::this_thread::get_id();
  std::unique_ptr<Poller> poller;
  Waker waker;

  // Callbacks: `ready` fills while `batch` runs (phase 1 swaps them).
  std::vector<ReadyCallback> ready;
  std::vector<ReadyCallback> batch;
  std::uint64_t running_trace_id = 0;  // the callback running now, as cause of what it schedules
  std::uint64_t runs = 0;              // callbacks run so far (the watchdog's stamp)
  int callbacks_since_poll = 0;

  // From other threads, under foreign_mutex; foreign_pending avoids the lock when empty.
  std::mutex foreign_mutex;
  std::vector<ReadyCallback> foreign;
  std::atomic<bool> foreign_pending{false};
  SignalQueue signals;

  TimerHeap timers;
  std::vector<TimerHeap::Id> due;

  HandlerTable handlers;
  std::vector<PollEvent> events;

  SuspendedNode suspended;  // sentinel of the list of suspended coroutines

  Watchdog watchdog;
  std::chrono::nanoseconds blocking_threshold = std::chrono::milliseconds(100);
  std::shared_ptr<Executor> default_executor;

  // Set by a trace reader attaching (request_snapshots()): the next iteration
  // first describes the loop's state.
  std::atomic<bool> snapshot_requested{false};
  std::atomic<bool> closed{false};
  bool running = false;
  bool stopping = false;
  std::uint64_t iterations = 0;
};

}  // namespace tornado::detail
