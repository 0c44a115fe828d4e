// Trace events: what the loop, its timers, handlers, futures and executors
// did, as fixed-size records a visualizer can replay.
//
// Emission points call trace::emit(). With no sink attached that is one
// load and one predictable branch; configured with -DTORNADO_TRACE=OFF it
// is nothing at all. Strings (callback names, source locations) are interned
// once and referred to by id. The per-thread ring buffer and the file and
// socket transports build on this; MemorySink is for tests and samples.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tornado/name.h"

namespace tornado::trace {

/// What happened. The meaning of `object`, `a` and `b` per kind is listed in
/// docs/architecture.md ("Trace events").
enum class Kind : std::uint16_t {
  loop_started = 1,          // object: -
  loop_stopped,              // object: -
  loop_closed,               // object: -
  iteration_begin,           // object: iteration number, a: ready callbacks, b: due timers
  iteration_end,             // object: as begin, a: ns spent in poll, b: poll timeout in ns
                             //   (-1: none; a and b are 0 when the iteration did not poll)
  callback_scheduled,        // object: callback id, a: id of the running callback, b: Via
  callback_started,          // object: callback/timer id or fd, b: Via
  callback_finished,         // object: as started, a: duration in ns, b: Via
  timer_added,               // object: timer id, a: deadline (ns, same clock), b: running callback
  timer_fired,               // object: timer id
  timer_cancelled,           // object: timer id
  handler_added,             // object: fd, a: events
  handler_updated,           // object: fd, a: events
  handler_removed,           // object: fd
  fd_ready,                  // object: fd, a: events
  future_created,            // object: future id
  future_resolved,           // object: future id, a: 0 result, 1 exception, 2 cancelled
  executor_submitted,        // object: job id
  executor_finished,         // object: job id, a: ns the job ran on its worker
  blocking_callback,         // object: callback id, a: duration in ns, b: threshold in ns
  exception_in_callback,     // object: callback id
  signal_callbacks_dropped,  // a: how many add_callback_from_signal calls were lost
  // Locks, conditions, events, semaphores and queues (locks.h, queues.h).
  sync_created,      // object: sync id, name: its name, a: SyncKind, b: initial value/maxsize
  sync_destroyed,    // object: sync id
  waiter_enqueued,   // object: sync id, name: where the wait was called, a: waiter id, b: WaitKind
  waiter_woken,      // object: sync id, a: waiter id
  waiter_timed_out,  // object: sync id, a: waiter id
  sync_acquired,  // object: sync id, name: where acquire() was called, a: holder id, b: value after
  sync_released,  // object: sync id, a: holder id (0: plain release()), b: value after
                  //   (unchanged when the permit goes to a waiter: see waiter_woken)
  event_set,      // object: sync id
  event_cleared,  // object: sync id
  queue_put,      // object: sync id, a: size after, b: unfinished tasks after
  queue_got,      // object: sync id, a: size after
  queue_task_done,  // object: sync id, a: unfinished tasks after
  // Transport (start()).
  events_dropped,  // ts: first lost event's time, a: events lost, b: last lost event's time
  // Streams (iostream.h).
  stream_opened,           // object: stream id, name: describe(), a: fd, b: StreamKind
  stream_connected,        // object: stream id, a: fd
  stream_closed,           // object: stream id, name: the reason ("" when closed by the program),
                           //   a: errno of the cause (0: none)
  stream_read,             // object: stream id, a: bytes read from the fd, b: read buffer after
  stream_written,          // object: stream id, a: bytes written to the fd, b: write buffer after
  tls_handshake_begun,     // object: stream id, a: 1 server side, 0 client side
  tls_handshake_finished,  // object: stream id, name: "TLSv1.3 TLS_AES_256_GCM_SHA384"
  tls_handshake_failed,    // object: stream id, name: the OpenSSL reason
  // A reader that attaches to a running program first receives the state of
  // each loop, as of one moment on that loop's thread: between snapshot_begin
  // and snapshot_end, one event per live thing (docs/trace-format.md).
  snapshot_begin,     // object: -, a: the loop's iteration number
  snapshot_callback,  // object: callback id, name: its name, b: Via (the ready queue, in order)
  snapshot_timer,     // object: timer id, name: its name, a: deadline, b: 1 if cancelled
  snapshot_handler,   // object: fd, name: its handler's name, a: events
  snapshot_sync,      // object: sync id, name: its name, a: SyncKind, b: permits left
                      //   (Semaphore, Lock), 1 if set (Event), size (queues), 0 (Condition)
  snapshot_waiter,    // object: sync id, name: where it waits, a: waiter id, b: WaitKind
  snapshot_stream,    // object: stream id, name: describe(), a: read buffer, b: write buffer
  snapshot_end,       // object: -
};

/// What a stream_opened event describes (its `b`).
enum class StreamKind : std::uint8_t { tcp = 1, unix_socket, pipe, tls };

/// What a sync_created event describes (its `a`).
enum class SyncKind : std::uint8_t {
  lock = 1,
  condition,
  event,
  semaphore,
  bounded_semaphore,
  queue,
  priority_queue,
  lifo_queue
};

/// What a waiter waits for (the `b` of waiter_enqueued).
enum class WaitKind : std::uint8_t { acquire = 1, notify, set, get, put, join };

/// How a callback came to run (the `b` of callback_* events).
enum class Via : std::uint8_t { callback = 0, timer, handler, signal, other_thread };

/// The name of a kind, for text dumps ("timer_fired").
std::string_view kind_name(Kind kind);

/// One event: 40 bytes, no pointers.
struct Event {
  std::uint64_t ts_ns;  // steady clock, nanoseconds
  Kind kind;
  std::uint16_t loop;    // IOLoop::id()
  std::uint32_t name;    // interned string id, 0 for none
  std::uint64_t object;  // what the event is about (see Kind)
  std::uint64_t a;
  std::uint64_t b;
};

/// Receives events. Called on the emitting thread, so keep it short.
class Sink {
 public:
  virtual ~Sink() = default;
  /// A string id seen for the first time by this sink.
  virtual void on_string(std::uint32_t id, std::string_view text) = 0;
  virtual void on_event(const Event& event) = 0;
};

/// Keeps every event in memory, for tests and small programs.
class MemorySink : public Sink {
 public:
  void on_string(std::uint32_t id, std::string_view text) override;
  void on_event(const Event& event) override;

  std::vector<Event> events() const;
  std::string string(std::uint32_t id) const;
  void clear();
  /// One line per event, the name left out when it is 0 or unknown:
  /// 1000 timer_fired loop=1 object=3 name="tick at main.cc:9" a=0 b=0
  void write_text(std::ostream& out) const;

 private:
  mutable std::mutex mutex_;
  std::vector<Event> events_;
  std::unordered_map<std::uint32_t, std::string> strings_;
};

/// Sends all further events to `sink` (replacing any other), first replaying
/// every string interned so far. The sink must outlive detach().
/// Call while no loop is running. Safe from any thread.
void attach(Sink* sink);
/// Stops tracing. Call while no loop is running. Safe from any thread.
void detach();

/// Starts recording through a transport, replacing any attached sink:
///   "file:PATH"  a binary trace file (docs/trace-format.md)
/// Each thread's events go to its own ring buffer, drained by one sink
/// thread, so a slow disk never blocks a loop: a full ring drops events and
/// the trace says how many and when (events_dropped). A bad spec logs one
/// error line and returns false. Setting TORNADO_TRACE to a spec does the
/// same for any program when its first IOLoop is made. Call while no loop
/// runs. Safe from any thread.
bool start(std::string_view spec);
/// Flushes and closes what start() opened. A live reader gets the rest of
/// the trace while it keeps reading (one idle for 2 s is abandoned, none is
/// waited for over 30 s). Safe from any thread.
void stop();

/// The id of `text`, interning it on first use. Safe from any thread.
std::uint32_t intern(std::string_view text);
/// The id of a Site's description ("label at file:line"). Safe from any thread.
std::uint32_t intern(const Site& site);

/// Nanoseconds on the steady clock, the timestamps events carry: read
/// through the CPU's invariant TSC where there is one (docs/trace-format.md,
/// "The clock"). A thread's readings never decrease. Safe from any thread.
std::uint64_t now_ns();

namespace detail {
extern std::atomic<Sink*> g_sink;
/// Reads TORNADO_TRACE once per process (the first IOLoop calls it).
void start_from_environment();
/// Every string interned so far, from id `first` on (ids start at 1).
std::vector<std::pair<std::uint32_t, std::string>> strings_from(std::uint32_t first);
void emit_slow(Kind kind, std::uint16_t loop, std::uint64_t object, std::uint32_t name,
               std::uint64_t a, std::uint64_t b);
/// emit() stamped with a clock reading the caller already has (the loop times
/// each callback anyway), saving a second read of the clock.
void emit_at(std::uint64_t ts_ns, Kind kind, std::uint16_t loop, std::uint64_t object,
             std::uint32_t name, std::uint64_t a, std::uint64_t b);
std::uint64_t next_object_id();
}  // namespace detail

/// True while a sink is attached.
inline bool enabled() noexcept {
#if defined(TORNADO_TRACE_DISABLED) && TORNADO_TRACE_DISABLED
  return false;
#else
  return detail::g_sink.load(std::memory_order_relaxed) != nullptr;
#endif
}

/// Records one event if a sink is attached.
inline void emit(Kind kind, std::uint16_t loop, std::uint64_t object, std::uint32_t name = 0,
                 std::uint64_t a = 0, std::uint64_t b = 0) {
  if (enabled()) [[unlikely]] {
    detail::emit_slow(kind, loop, object, name, a, b);
  }
}

/// A fresh id for a traced object, or 0 when tracing is off.
inline std::uint64_t new_object_id() { return enabled() ? detail::next_object_id() : 0; }

}  // namespace tornado::trace
