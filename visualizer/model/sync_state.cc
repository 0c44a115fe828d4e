#include "model/sync_state.h"

#include <algorithm>

#include "model/state.h"

namespace tornado::viz {

using trace::Kind;
using trace::SyncKind;

namespace {

bool has_permits(SyncKind kind) {
  return kind == SyncKind::lock || kind == SyncKind::semaphore ||
         kind == SyncKind::bounded_semaphore;
}

bool is_queue(SyncKind kind) {
  return kind == SyncKind::queue || kind == SyncKind::priority_queue ||
         kind == SyncKind::lifo_queue;
}

void create(State& state, const trace::Event& e, std::uint64_t value, std::uint64_t initial) {
  auto& objects = state.sync.objects;
  if (objects.size() >= kMaxSyncObjects && !objects.contains(e.object)) {
    ++state.observer.over_limit;
    return;
  }
  SyncObject& obj = objects[e.object] = SyncObject{};
  obj.id = e.object;
  obj.loop = e.loop;
  obj.name = e.name;
  obj.kind = static_cast<SyncKind>(e.a);
  obj.initial = initial;
  obj.value = value;
  obj.from_snapshot = e.kind == Kind::snapshot_sync;
}

bool erase_id(std::vector<std::uint64_t>& ids, std::uint64_t id) {
  auto it = std::find(ids.begin(), ids.end(), id);
  if (it == ids.end()) return false;
  ids.erase(it);
  return true;
}

void push_bounded(std::vector<std::uint64_t>& ids, std::uint64_t id) {
  if (ids.size() < kMaxWaiters) ids.push_back(id);
}

// Removes waiter `id` from the queue, returning it (id 0 if it was not there).
Waiter leave_queue(SyncObject& obj, std::uint64_t id) {
  auto it = std::find_if(obj.waiters.begin(), obj.waiters.end(),
                         [id](const Waiter& w) { return w.id == id; });
  if (it == obj.waiters.end()) return Waiter{};
  Waiter w = *it;
  obj.waiters.erase(it);
  return w;
}

void enqueue(State& state, SyncObject& obj, const trace::Event& e) {
  if (obj.waiters.size() >= kMaxWaiters) {
    ++state.observer.over_limit;
    return;
  }
  obj.waiters.push_back(Waiter{e.a, e.name, static_cast<trace::WaitKind>(e.b), e.ts_ns, 0});
}

void woken(SyncObject& obj, const trace::Event& e, std::uint64_t index) {
  leave_queue(obj, e.a);
  if (has_permits(obj.kind)) push_bounded(obj.in_flight, e.a);
  obj.last_handoff = Handoff{index, e.a, obj.last_change};
}

void timed_out(SyncObject& obj, const trace::Event& e) {
  Waiter w = leave_queue(obj, e.a);
  if (w.id == 0) return;
  w.left_ns = e.ts_ns;
  obj.timed_out.push(w);
}

void acquired(SyncObject& obj, const trace::Event& e) {
  obj.value = e.b;
  erase_id(obj.in_flight, e.a);
  push_bounded(obj.holders, e.a);
}

// A plain release() (holder 0) ends a lock's one hold; on a semaphore the
// trace cannot tell whose permit came back.
void released(SyncObject& obj, const trace::Event& e) {
  obj.value = e.b;
  if (e.a != 0) {
    erase_id(obj.holders, e.a);
  } else if (obj.kind == SyncKind::lock && !obj.holders.empty()) {
    obj.holders.clear();
  } else {
    ++obj.anonymous_releases;
  }
}

void change(State& state, SyncObject& obj, const trace::Event& e, std::uint64_t index) {
  switch (e.kind) {
    case Kind::waiter_enqueued:
      enqueue(state, obj, e);
      break;
    case Kind::waiter_woken:
      woken(obj, e, index);
      break;
    case Kind::waiter_timed_out:
      timed_out(obj, e);
      break;
    case Kind::sync_acquired:
      acquired(obj, e);
      break;
    case Kind::sync_released:
      released(obj, e);
      break;
    case Kind::event_set:
      obj.value = 1;
      break;
    case Kind::event_cleared:
      obj.value = 0;
      break;
    case Kind::queue_put:
      obj.value = e.a;
      obj.unfinished = e.b;
      break;
    case Kind::queue_got:
      obj.value = e.a;
      break;
    case Kind::queue_task_done:
      obj.unfinished = e.a;
      break;
    case Kind::snapshot_waiter:
      enqueue(state, obj, e);
      break;
    default:
      return;
  }
  obj.last_change = e.kind;
}

}  // namespace

void apply_sync_event(State& state, const trace::Event& e, std::uint64_t index) {
  if (e.kind == Kind::sync_created || e.kind == Kind::snapshot_sync) {
    // A queue's b is its maxsize when created and its size in a snapshot.
    const bool queue = is_queue(static_cast<SyncKind>(e.a));
    const bool created = e.kind == Kind::sync_created;
    return create(state, e, queue && created ? 0 : e.b, queue && !created ? 0 : e.b);
  }
  auto it = state.sync.objects.find(e.object);
  if (it == state.sync.objects.end()) {
    ++state.observer.unknown_objects;
    return;
  }
  if (e.kind == Kind::sync_destroyed) {
    state.sync.objects.erase(it);
    ++state.sync.destroyed;
    return;
  }
  change(state, it->second, e, index);
}

}  // namespace tornado::viz
