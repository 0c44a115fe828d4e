// Coroutine synchronization (tornado.locks): Condition, Event, Semaphore,
// BoundedSemaphore, Lock.
//
// These coordinate coroutines on one loop; they are not thread-safe. Every
// wait is `co_await`ed and may take a Deadline: a std::chrono duration
// (relative) or a TimePoint (absolute). A woken waiter resumes on a later
// loop iteration, never inside notify()/release()/set(), but its outcome is
// decided when that call returns. Waiting allocates nothing: the awaiter in
// the coroutine frame is the queue node. Wrap a wait in to_future() to get a
// Future instead (for gen::multi or add_done_callback).
#pragma once

#include <cstddef>
#include <optional>
#include <source_location>
#include <string>

#include "tornado/detail/wait_queue.h"

namespace tornado {

/// Lets coroutines wait until another one calls notify().
class Condition {
 public:
  explicit Condition(std::string name = {});

  struct [[nodiscard]] Wait : detail::WaitAwaiter {
    using WaitAwaiter::WaitAwaiter;
    bool await_ready() const noexcept { return false; }
    bool await_resume() noexcept {
      node.finish();
      return woken();
    }
  };
  /// `co_await cond.wait()` yields true when notified, false (it never
  /// throws) if `timeout` passes first.
  Wait wait(Deadline timeout = {}, std::source_location where = std::source_location::current());
  /// Wakes the n oldest waiters; waiters that timed out are gone and do not count.
  void notify(std::size_t n = 1);
  void notify_all();

  std::size_t waiters() const noexcept { return waiters_.size(); }
  /// "Condition 'name' (2 waiters)"
  std::string describe() const;

 private:
  detail::SyncIdentity identity_;
  detail::WaitQueue waiters_;
};

/// A flag coroutines can wait for. Starts unset.
class Event {
 public:
  explicit Event(std::string name = {});

  struct [[nodiscard]] Wait : detail::WaitAwaiter {
    Wait(Event& e, Deadline d, std::source_location where)
        : WaitAwaiter(e.waiters_, std::move(d), where), event(&e) {}
    bool await_ready() const noexcept { return event->is_set(); }
    void await_resume();
    Event* event;
  };

  bool is_set() const noexcept { return value_; }
  /// Sets the flag and wakes every waiter.
  void set();
  /// Unsets the flag. Waiters woken by an earlier set() still resume.
  void clear();
  /// `co_await event.wait()` returns once the flag is set; throws
  /// TimeoutError if `timeout` passes first (as Tornado's Event.wait).
  Wait wait(Deadline timeout = {}, std::source_location where = std::source_location::current());

  std::size_t waiters() const noexcept { return waiters_.size(); }
  /// "Event 'name' (set, 0 waiters)"
  std::string describe() const;

 private:
  detail::SyncIdentity identity_;
  detail::WaitQueue waiters_;
  bool value_ = false;
};

class Lock;

/// A counter of permits: acquire() takes one (waiting while there are none),
/// release() gives one back, handing it straight to the oldest waiter so a
/// later acquire() cannot jump the queue.
class Semaphore {
 public:
  /// Holds one permit and releases it when destroyed (RAII):
  ///   auto guard = co_await sem.acquire();
  class [[nodiscard]] Guard {
   public:
    Guard() = default;
    /// `holder` names this permit in trace events (the waiter id, or 0).
    explicit Guard(Semaphore* sem, std::uint64_t holder = 0) : sem_(sem), holder_(holder) {}
    Guard(Guard&& other) noexcept
        : sem_(std::exchange(other.sem_, nullptr)), holder_(other.holder_) {}
    Guard& operator=(Guard&& other) noexcept;
    /// Releases the permit (a failure to release is logged, not thrown).
    ~Guard();
    /// Releases now rather than at destruction.
    void release();
    /// Keeps the permit held but stops this guard from releasing it: for the
    /// Tornado-style pairing of acquire() with an explicit release() later.
    void dismiss() noexcept { sem_ = nullptr; }
    bool owns() const noexcept { return sem_ != nullptr; }

   private:
    Semaphore* sem_ = nullptr;
    std::uint64_t holder_ = 0;
  };

  /// Throws ValueError if value is negative.
  explicit Semaphore(int value = 1, std::string name = {});

  struct [[nodiscard]] Acquire : detail::WaitAwaiter {
    Acquire(Semaphore& s, Deadline d, std::source_location where)
        : WaitAwaiter(s.waiters_, std::move(d), where), sem(&s) {}
    bool await_ready();
    Guard await_resume();
    Semaphore* sem;
    std::uint64_t holder = 0;  // trace id of this acquisition
  };
  /// `co_await sem.acquire()` yields a Guard; throws TimeoutError if
  /// `timeout` passes first (and then holds no permit).
  Acquire acquire(Deadline timeout = {},
                  std::source_location where = std::source_location::current());
  /// Gives a permit back (prefer letting a Guard do it).
  void release() { release_holder(0); }

  int value() const noexcept { return value_; }
  std::size_t waiters() const noexcept { return waiters_.size(); }
  /// "Semaphore 'pool' (value 0, 3 waiters)"
  std::string describe() const;

 protected:
  Semaphore(int value, std::string name, trace::SyncKind kind, bool bounded);

 private:
  void release_holder(std::uint64_t holder);

  friend class Lock;
  detail::SyncIdentity identity_;
  detail::WaitQueue waiters_;
  int value_;
  std::optional<int> bound_;  // BoundedSemaphore: the initial value
};

/// A Semaphore whose release() throws ValueError if it would raise the
/// value above its initial value (checked before any waiter is woken).
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(int value = 1, std::string name = {});
};

/// A mutex for coroutines: a BoundedSemaphore(1). FIFO.
///   auto guard = co_await lock.acquire();
class Lock {
 public:
  using Guard = Semaphore::Guard;

  explicit Lock(std::string name = {});
  /// Yields a Guard; throws TimeoutError if `timeout` passes first.
  Semaphore::Acquire acquire(Deadline timeout = {},
                             std::source_location where = std::source_location::current()) {
    return sem_.acquire(std::move(timeout), where);
  }
  /// Throws UsageError if the lock is not held.
  void release();
  bool locked() const noexcept { return sem_.value() == 0; }
  std::size_t waiters() const noexcept { return sem_.waiters(); }
  /// "Lock 'name' (locked, 1 waiter)"
  std::string describe() const;

 private:
  Semaphore sem_;
};

}  // namespace tornado
