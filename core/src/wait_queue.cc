#include "tornado/detail/wait_queue.h"

#include <cctype>
#include <mutex>

#include "trace_registry.h"

namespace tornado::detail {
namespace {

const char* const kKindTitles[] = {"",      "Lock",          "Condition",
                                   "Event", "Semaphore",     "BoundedSemaphore",
                                   "Queue", "PriorityQueue", "LifoQueue"};

const char* timeout_label() {
  static const char* label = intern_label("wait timeout");
  return label;
}

std::uint16_t current_loop_id() {
  IOLoop* loop = IOLoop::current(false);
  return loop != nullptr ? loop->id() : 0;
}

// Every live SyncIdentity, for the trace snapshot.
struct LiveList {
  std::mutex mutex;
  SyncIdentity* first = nullptr;
};

LiveList& live_list() {
  static auto* list = new LiveList();  // never freed: statics may outlive it otherwise
  return *list;
}

void snapshot_one(SyncIdentity& s) {
  if (s.id == 0) s.id = trace::detail::next_object_id();
  std::uint64_t value = s.value_of != nullptr ? s.value_of(s.value_object) : 0;
  s.trace(trace::Kind::snapshot_sync, static_cast<std::uint64_t>(s.kind), value,
          trace::intern(s.title()));
  for (const WaitQueue* q : s.queues) {
    if (q == nullptr) continue;
    q->for_each([&](WaitNode& node) {
      if (node.id == 0) node.id = trace::detail::next_object_id();
      s.trace(trace::Kind::snapshot_waiter, node.id, static_cast<std::uint64_t>(q->kind()),
              trace::intern(node.site));
    });
  }
}

}  // namespace

SyncIdentity::SyncIdentity(trace::SyncKind k, std::string n, std::uint64_t initial)
    : kind(k), name(std::move(n)), id(trace::new_object_id()) {
  std::uint16_t loop = current_loop_id();
  home_loop.store(loop, std::memory_order_relaxed);
  if (id != 0) {
    trace::emit(trace::Kind::sync_created, loop, id, trace::intern(title()),
                static_cast<std::uint64_t>(kind), initial);
  }
  LiveList& list = live_list();
  std::lock_guard lock(list.mutex);
  next_live = list.first;
  if (next_live != nullptr) next_live->prev_live = this;
  list.first = this;
}

SyncIdentity::~SyncIdentity() {
  {
    LiveList& list = live_list();
    std::lock_guard lock(list.mutex);
    (prev_live != nullptr ? prev_live->next_live : list.first) = next_live;
    if (next_live != nullptr) next_live->prev_live = prev_live;
  }
  if (id != 0) trace::emit(trace::Kind::sync_destroyed, current_loop_id(), id);
}

void snapshot_sync_objects(std::uint16_t loop) {
  LiveList& list = live_list();
  std::lock_guard lock(list.mutex);
  const std::thread::id here = std::this_thread::get_id();
  for (SyncIdentity* s = list.first; s != nullptr; s = s->next_live) {
    std::uint16_t home = s->home_loop.load(std::memory_order_relaxed);
    if (home == loop || (home == 0 && s->creator == here)) snapshot_one(*s);
  }
}

std::string SyncIdentity::title() const {
  std::string t = kKindTitles[static_cast<std::size_t>(kind)];
  return name.empty() ? t : t + " '" + name + "'";
}

void SyncIdentity::trace(trace::Kind what, std::uint64_t a, std::uint64_t b,
                         std::uint32_t name_id) const {
  if (!trace::enabled()) return;  // the one branch an untraced emission point costs
  // Objects made before a sink was attached are object 0 until a snapshot names them.
  trace::emit(what, current_loop_id(), id, name_id, a, b);
}

void WaitNode::abandon() noexcept {
  if (queue != nullptr) queue->remove(*this);
  if (state == State::waiting && loop != nullptr) loop->remove_timeout(timer);
  state = State::idle;
}

WaitQueue::~WaitQueue() {
  // Waiters still here stay suspended until their deadline (if any) or until
  // the loop closes; they must not touch this object again.
  while (!empty()) {
    WaitNode& node = *head_.next;
    remove(node);
    node.orphaned = true;
  }
}

void WaitAwaiter::throw_if_timed_out(const char* operation) const {
  if (!timed_out()) return;
  if (node.orphaned) {
    throw TimeoutError(std::string(operation) + " timed out after its object was destroyed");
  }
  throw TimeoutError(owner->title() + ": " + operation + " timed out");
}

void WaitQueue::wait(WaitNode& node, std::coroutine_handle<> h, const Deadline& deadline,
                     const Site& site) {
  node.loop = &IOLoop::current();
  if (owner_.home_loop.load(std::memory_order_relaxed) == 0) {
    owner_.home_loop.store(node.loop->id(), std::memory_order_relaxed);
  }
  node.handle = h;
  node.site = site;
  node.state = WaitNode::State::waiting;
  node.queue = this;
  node.prev = head_.prev;
  node.next = &head_;
  head_.prev->next = &node;
  head_.prev = &node;
  ++size_;
  node.suspended.link(node.loop, h);
  if (deadline.at()) {
    auto on_timeout = [&node] { time_out(node); };
    node.timer = node.loop->call_at(
        *deadline.at(), Named<decltype(on_timeout)>{timeout_label(), on_timeout}, site.where);
  }
  if (trace::enabled()) {
    node.id = trace::new_object_id();
    owner_.trace(trace::Kind::waiter_enqueued, node.id, static_cast<std::uint64_t>(kind_),
                 trace::intern(site));
  }
}

void WaitQueue::wake(WaitNode& node) {
  remove(node);
  node.state = WaitNode::State::woken;
  node.loop->remove_timeout(node.timer);
  node.timer = {};
  owner_.trace(trace::Kind::waiter_woken, node.id);
  resume_later(node);
}

std::size_t WaitQueue::wake_oldest(std::size_t n) {
  std::size_t woken = 0;
  while (woken < n && !empty()) {
    wake(*head_.next);
    ++woken;
  }
  return woken;
}

void WaitQueue::remove(WaitNode& node) noexcept {
  if (node.queue != this) return;
  node.prev->next = node.next;
  node.next->prev = node.prev;
  node.prev = node.next = nullptr;
  node.queue = nullptr;
  --size_;
}

// Runs in the timer's own loop callback, so resuming here is already
// "through the loop". The coroutine may finish and free `node`.
// The queue may be gone (its object destroyed); the waiter still times out.
void WaitQueue::time_out(WaitNode& node) {
  if (node.state != WaitNode::State::waiting) return;
  if (WaitQueue* q = node.queue) {
    q->remove(node);
    q->owner_.trace(trace::Kind::waiter_timed_out, node.id);
  }
  node.state = WaitNode::State::timed_out;
  node.timer = {};
  node.handle.resume();
}

void WaitQueue::resume_later(WaitNode& node) {
  std::coroutine_handle<> h = node.handle;
  auto resume = [h] { h.resume(); };
  node.loop->add_callback(Named<decltype(resume)>{resume_label(), resume}, node.site.where);
}

}  // namespace tornado::detail
