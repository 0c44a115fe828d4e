// The Waiters panel's data: every lock, condition, event, semaphore and queue
// with its holders, value or size, and its waiters in queue order, rebuilt as
// docs/architecture.md ("Rebuilding sync objects from a trace") describes.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "model/ring.h"
#include "tornado/trace.h"

namespace tornado::viz {

struct State;

struct Waiter {
  std::uint64_t id = 0;
  std::uint32_t site = 0;  // where the wait was called
  trace::WaitKind kind = trace::WaitKind::acquire;
  std::uint64_t since_ns = 0;
  std::uint64_t left_ns = 0;  // for timed-out waiters: when the deadline passed
};

/// The latest hand-off: which event moved a permit, item or wake-up to whom,
/// so the app can animate it when the cursor steps onto it.
struct Handoff {
  std::uint64_t index = 0;  // event index of the waiter_woken
  std::uint64_t waiter = 0;
  trace::Kind cause = trace::Kind::waiter_woken;  // sync_released, queue_put, event_set, ...
};

struct SyncObject {
  std::uint64_t id = 0;
  std::uint16_t loop = 0;
  std::uint32_t name = 0;  // its title: "Lock 'db'"
  trace::SyncKind kind = trace::SyncKind::lock;
  std::uint64_t initial = 0;             // initial value, or a queue's maxsize
  std::uint64_t value = 0;               // semaphore/lock value; event: 1 if set; queue: size
  std::uint64_t unfinished = 0;          // queue: unfinished tasks
  std::vector<std::uint64_t> holders;    // in acquisition order
  std::vector<std::uint64_t> in_flight;  // woken semaphore waiters not yet resumed
  std::uint64_t anonymous_releases = 0;  // release() with holder 0 the trace cannot pair
  bool from_snapshot = false;   // attached late: holders from before the attach are not known
  std::vector<Waiter> waiters;  // queue order, oldest first
  Ring<Waiter> timed_out{8};    // the latest waiters whose deadline passed
  Handoff last_handoff;
  trace::Kind last_change = trace::Kind::sync_created;  // latest event on it
};

inline constexpr std::size_t kMaxSyncObjects = 65536;
inline constexpr std::size_t kMaxWaiters = 4096;

struct SyncState {
  std::map<std::uint64_t, SyncObject> objects;  // by id = creation order
  std::uint64_t destroyed = 0;
};

/// Applies sync_*, waiter_*, event_*, queue_*, snapshot_sync and snapshot_waiter.
void apply_sync_event(State& state, const trace::Event& event, std::uint64_t index);

}  // namespace tornado::viz
