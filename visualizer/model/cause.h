// "Why did this run?": the links from a callback run back to its origin.
// callback_scheduled's `a` and timer_added's `b` name the callback, timer or
// handler fd that was running; an event that wakes someone (waiter_woken,
// future_resolved, ...) just before a callback_scheduled on the same loop is
// what made that callback ready.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "tornado/trace.h"

namespace tornado::viz {

enum class CauseKind : std::uint8_t {
  scheduled,     // add_callback/spawn_callback or a resumption, at `name`
  timer,         // a timer fired; `name` is where it was added
  fd_ready,      // a handler ran because fd `object` was ready: an origin
  signal,        // a callback from a signal handler: an origin
  trigger,       // `event` (waiter_woken, future_resolved, ...) on `object` made it ready
  other_thread,  // scheduled from another thread, or before the loop started: an origin
  program,       // scheduled with nothing running (before start()): an origin
  unknown,       // the explaining event is not in the log (late attach, or forgotten)
};

struct CauseLink {
  CauseKind kind = CauseKind::unknown;
  trace::Kind event = trace::Kind::callback_scheduled;  // the event this link reads
  std::uint64_t object = 0;  // callback id, timer id, fd or sync/future id
  std::uint32_t name = 0;    // its site or title
  std::uint64_t index = 0;   // the event's index
  std::uint64_t ts_ns = 0;
};

/// What the chain needs from the log, built while ingesting.
class CauseIndex {
 public:
  /// Indexes an event that creates an id or may trigger a scheduling.
  void note(const trace::Event& event, std::uint64_t index);
  /// The index of the event that made `id` (callback_scheduled, timer_added,
  /// sync_created, future_created).
  std::optional<std::uint64_t> created(std::uint64_t id) const;
  /// The index of the event that made callback `id` ready, if any.
  std::optional<std::uint64_t> trigger(std::uint64_t id) const;
  /// Forgets entries that point before `index`.
  void forget_before(std::uint64_t index);

 private:
  std::unordered_map<std::uint64_t, std::uint64_t> created_;
  std::unordered_map<std::uint64_t, std::uint64_t> triggers_;
  std::unordered_map<std::uint16_t, std::uint64_t> last_trigger_;  // per loop
};

}  // namespace tornado::viz
