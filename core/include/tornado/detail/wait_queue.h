// The waiter queue shared by locks.h and queues.h.
//
// A waiting coroutine's awaiter holds a WaitNode, and the queue links those
// nodes, so waiting allocates nothing beyond the coroutine frame. Waking a
// node removes it and schedules its coroutine on the loop (never resuming it
// inside notify/release/set/put); a timeout removes it at once, so timed-out
// waiters never pile up.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include "tornado/ioloop.h"

namespace tornado::detail {

class WaitQueue;

struct WaitNode {
  enum class State : std::uint8_t { idle, waiting, woken, timed_out };

  WaitNode() = default;
  WaitNode(const WaitNode&) noexcept {}  // a copy is a fresh, idle node
  WaitNode& operator=(const WaitNode&) = delete;
  ~WaitNode() { abandon(); }

  /// Called by the awaiter when its coroutine resumes.
  void finish() noexcept { suspended.unlink(); }
  /// Leaves the queue and cancels the timer: the frame is going away.
  void abandon() noexcept;

  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;
  WaitQueue* queue = nullptr;
  IOLoop* loop = nullptr;
  std::coroutine_handle<> handle;
  SuspendedNode suspended;
  TimeoutHandle timer;
  State state = State::idle;
  std::uint64_t id = 0;  // trace id of this wait
  Site site;
  void* payload = nullptr;  // a queue's item slot in the awaiter (queues.h)
  bool orphaned = false;    // its object was destroyed while it waited
};

/// The identity a sync object shows in traces and error messages.
struct SyncIdentity {
  SyncIdentity(trace::SyncKind kind, std::string name, std::uint64_t initial);
  ~SyncIdentity();
  SyncIdentity(const SyncIdentity&) = delete;
  SyncIdentity& operator=(const SyncIdentity&) = delete;

  /// "Semaphore 'pool'" or "Semaphore" when unnamed.
  std::string title() const;
  void trace(trace::Kind kind, std::uint64_t a = 0, std::uint64_t b = 0,
             std::uint32_t name_id = 0) const;

  /// What the trace snapshot reports as this object's value (trace.h,
  /// snapshot_sync); `object` is the lock, event, semaphore or queue.
  void report_value(const void* object, std::uint64_t (*value)(const void*)) noexcept {
    value_object = object;
    value_of = value;
  }

  trace::SyncKind kind;
  std::string name;
  std::uint64_t id;  // trace object id, 0 when created untraced

  // For the late-attach snapshot (trace_registry.h): every identity is on a
  // process-wide list, and belongs to the loop it was made or first waited on
  // (or, until then, to the thread that made it).
  SyncIdentity* prev_live = nullptr;
  SyncIdentity* next_live = nullptr;
  mutable std::atomic<std::uint16_t> home_loop{0};
  const std::thread::id creator = std::this_thread::get_id();
  mutable const WaitQueue* queues[3] = {};
  const void* value_object = nullptr;
  std::uint64_t (*value_of)(const void*) = nullptr;
};

class WaitQueue {
 public:
  WaitQueue(const SyncIdentity& owner, trace::WaitKind kind) : owner_(owner), kind_(kind) {
    head_.prev = head_.next = &head_;
    for (const WaitQueue*& q : owner.queues) {
      if (q == nullptr) {
        q = this;
        break;
      }
    }
  }
  ~WaitQueue();
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  /// The oldest waiter, or nullptr.
  WaitNode* front() const noexcept { return empty() ? nullptr : head_.next; }

  /// Suspends `h` at the back of the queue until wake() or `deadline`.
  void wait(WaitNode& node, std::coroutine_handle<> h, const Deadline& deadline, const Site& site);
  /// Takes `node` out and resumes its coroutine on a later loop iteration.
  void wake(WaitNode& node);
  /// wake()s up to n of the oldest waiters; returns how many.
  std::size_t wake_oldest(std::size_t n);

  void remove(WaitNode& node) noexcept;
  const SyncIdentity& owner() const noexcept { return owner_; }
  trace::WaitKind kind() const noexcept { return kind_; }

  /// Calls fn(node) for each waiter, oldest first.
  template <class F>
  void for_each(F fn) const {
    for (WaitNode* n = head_.next; n != &head_; n = n->next) fn(*n);
  }

 private:
  static void time_out(WaitNode& node);
  static void resume_later(WaitNode& node);

  const SyncIdentity& owner_;
  trace::WaitKind kind_;
  WaitNode head_;  // sentinel
  std::size_t size_ = 0;
};

/// The awaiter every wait returns: co_await suspends in `queue` unless
/// ready() says the operation completed at once. Derived awaiters supply
/// `bool ready()` and `await_resume()`.
struct WaitAwaiter {
  WaitAwaiter(WaitQueue& q, Deadline d, std::source_location where)
      : queue(&q), owner(&q.owner()), deadline(std::move(d)), site{where, nullptr} {}

  void await_suspend(std::coroutine_handle<> h) { queue->wait(node, h, deadline, site); }
  bool woken() const noexcept { return node.state == WaitNode::State::woken; }
  bool timed_out() const noexcept { return node.state == WaitNode::State::timed_out; }
  /// Throws TimeoutError if the wait timed out, naming the object ("Lock 'db':
  /// acquire() timed out") unless it was destroyed meanwhile.
  void throw_if_timed_out(const char* operation) const;

  WaitQueue* queue;
  const SyncIdentity* owner;
  Deadline deadline;
  Site site;
  WaitNode node;
};

}  // namespace tornado::detail

namespace tornado {

/// Turns an awaitable (a lock's acquire(), a queue's get()...) into a Future,
/// for gen::multi, with_timeout or add_done_callback. Loop thread only.
template <class Awaitable>
auto to_future(Awaitable awaitable) -> Future<decltype(awaitable.await_resume())> {
  if constexpr (std::is_void_v<decltype(awaitable.await_resume())>) {
    co_await awaitable;
  } else {
    co_return co_await awaitable;
  }
}

}  // namespace tornado
