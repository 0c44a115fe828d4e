// Queues for coroutines (tornado.queues): Queue (FIFO), PriorityQueue
// (lowest first), LifoQueue.
//
//   Queue<Job> q(10);
//   co_await q.put(job);          // waits while the queue is full
//   Job next = co_await q.get();  // waits while it is empty
//   q.task_done();                // join() resolves when every item is done
//
// As in Tornado, a put while getters wait hands the item straight to the
// oldest getter, and a get while putters wait admits the oldest putter's
// item. A put that times out never enqueues its item; a get that times out
// never takes one. Like locks.h, waits are co_awaited, take a Deadline, and
// resume on a later loop iteration. Loop thread only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tornado/locks.h"

namespace tornado {

namespace detail {

template <class T>
struct FifoStorage {
  static constexpr trace::SyncKind kKind = trace::SyncKind::queue;
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.front());
    items.pop_front();
    return v;
  }
  std::size_t size() const { return items.size(); }
  std::deque<T> items;
};

template <class T>
struct LifoStorage {
  static constexpr trace::SyncKind kKind = trace::SyncKind::lifo_queue;
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  std::size_t size() const { return items.size(); }
  std::vector<T> items;
};

template <class T, class Compare>
struct PriorityStorage {
  static constexpr trace::SyncKind kKind = trace::SyncKind::priority_queue;
  // std::push_heap keeps the greatest on top; reversing puts the lowest there.
  bool after(const T& a, const T& b) const { return compare(b, a); }
  void push(T&& v) {
    items.push_back(std::move(v));
    std::push_heap(items.begin(), items.end(),
                   [this](const T& a, const T& b) { return after(a, b); });
  }
  T pop() {
    std::pop_heap(items.begin(), items.end(),
                  [this](const T& a, const T& b) { return after(a, b); });
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  std::size_t size() const { return items.size(); }
  std::vector<T> items;
  Compare compare;
};

}  // namespace detail

/// The queue machinery; use Queue, PriorityQueue or LifoQueue.
template <class T, class Storage>
class BasicQueue {
 public:
  /// maxsize 0 means unbounded.
  explicit BasicQueue(std::size_t maxsize = 0, std::string name = {})
      : identity_(Storage::kKind, name, maxsize),
        getters_(identity_, trace::WaitKind::get),
        putters_(identity_, trace::WaitKind::put),
        joiners_(identity_, trace::WaitKind::join),
        maxsize_(maxsize) {
    identity_.report_value(this, [](const void* self) -> std::uint64_t {
      return static_cast<const BasicQueue*>(self)->qsize();
    });
  }

  std::size_t maxsize() const noexcept { return maxsize_; }
  std::size_t qsize() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.size() == 0; }
  bool full() const noexcept { return maxsize_ > 0 && items_.size() >= maxsize_; }

  struct [[nodiscard]] Put : detail::WaitAwaiter {
    Put(BasicQueue& q, T v, Deadline d, std::source_location where)
        : WaitAwaiter(q.putters_, std::move(d), where), queue(&q), item(std::move(v)) {}
    bool await_ready() { return queue->try_put(item); }
    void await_suspend(std::coroutine_handle<> h) {
      node.payload = &item;
      WaitAwaiter::await_suspend(h);
    }
    void await_resume() {
      node.finish();
      throw_if_timed_out("put()");
    }
    BasicQueue* queue;
    std::optional<T> item;
  };
  /// `co_await q.put(item)` waits while the queue is full; throws
  /// TimeoutError if `timeout` passes first (and the item is not enqueued).
  Put put(T item, Deadline timeout = {},
          std::source_location where = std::source_location::current()) {
    return Put(*this, std::move(item), std::move(timeout), where);
  }
  /// Enqueues without waiting; throws QueueFull if the queue is full.
  void put_nowait(T item) {
    std::optional<T> slot(std::move(item));
    if (!try_put(slot)) throw QueueFull(identity_.title() + " is full");
  }

  struct [[nodiscard]] Get : detail::WaitAwaiter {
    Get(BasicQueue& q, Deadline d, std::source_location where)
        : WaitAwaiter(q.getters_, std::move(d), where), queue(&q) {}
    bool await_ready() { return queue->try_get(item); }
    void await_suspend(std::coroutine_handle<> h) {
      node.payload = &item;
      WaitAwaiter::await_suspend(h);
    }
    T await_resume() {
      node.finish();
      throw_if_timed_out("get()");
      return std::move(*item);
    }
    BasicQueue* queue;
    std::optional<T> item;
  };
  /// `co_await q.get()` yields the next item, waiting while the queue is
  /// empty; throws TimeoutError if `timeout` passes first.
  Get get(Deadline timeout = {}, std::source_location where = std::source_location::current()) {
    return Get(*this, std::move(timeout), where);
  }
  /// Takes an item without waiting; throws QueueEmpty if there is none.
  T get_nowait() {
    std::optional<T> item;
    if (!try_get(item)) throw QueueEmpty(identity_.title() + " is empty");
    return std::move(*item);
  }

  /// Marks one item taken with get() as processed. Throws ValueError if
  /// called more times than items were put.
  void task_done() {
    if (unfinished_ == 0) {
      throw ValueError(identity_.title() + ": task_done() called more times than items were put");
    }
    --unfinished_;
    identity_.trace(trace::Kind::queue_task_done, unfinished_);
    if (unfinished_ == 0) joiners_.wake_oldest(joiners_.size());
  }

  struct [[nodiscard]] Join : detail::WaitAwaiter {
    Join(BasicQueue& q, Deadline d, std::source_location where)
        : WaitAwaiter(q.joiners_, std::move(d), where), queue(&q) {}
    bool await_ready() const noexcept { return queue->unfinished_ == 0; }
    void await_resume() {
      node.finish();
      throw_if_timed_out("join()");
    }
    BasicQueue* queue;
  };
  /// `co_await q.join()` returns once every item put has been task_done();
  /// throws TimeoutError if `timeout` passes first.
  Join join(Deadline timeout = {}, std::source_location where = std::source_location::current()) {
    return Join(*this, std::move(timeout), where);
  }

  std::size_t unfinished_tasks() const noexcept { return unfinished_; }
  std::size_t getters() const noexcept { return getters_.size(); }
  std::size_t putters() const noexcept { return putters_.size(); }
  std::size_t joiners() const noexcept { return joiners_.size(); }
  /// "Queue 'jobs' (3/10 items, 0 getters, 0 putters, 3 unfinished)"
  std::string describe() const {
    return identity_.title() + " (" + std::to_string(qsize()) + "/" +
           (maxsize_ == 0 ? std::string("unbounded") : std::to_string(maxsize_)) + " items, " +
           std::to_string(getters()) + " getters, " + std::to_string(putters()) + " putters, " +
           std::to_string(unfinished_) + " unfinished)";
  }

 private:
  // Puts `item` if it can without waiting: straight to the oldest getter, or
  // into the queue if there is room.
  bool try_put(std::optional<T>& item) {
    if (detail::WaitNode* getter = getters_.front()) {
      count_new_item();  // counts toward join() even though it skips the queue
      identity_.trace(trace::Kind::queue_put, items_.size(), unfinished_);
      *static_cast<std::optional<T>*>(getter->payload) = std::move(*item);
      identity_.trace(trace::Kind::queue_got, items_.size());
      getters_.wake(*getter);
      return true;
    }
    if (full()) return false;
    enqueue(std::move(*item));
    return true;
  }

  // Takes an item if it can without waiting, first admitting the oldest
  // putter's item (putters only wait while the queue is full).
  bool try_get(std::optional<T>& out) {
    if (detail::WaitNode* putter = putters_.front()) {
      auto& slot = *static_cast<std::optional<T>*>(putter->payload);
      enqueue(std::move(*slot));
      slot.reset();
      putters_.wake(*putter);
    }
    if (items_.size() == 0) return false;
    out.emplace(items_.pop());
    identity_.trace(trace::Kind::queue_got, items_.size());
    return true;
  }

  void enqueue(T&& item) {
    count_new_item();
    items_.push(std::move(item));
    identity_.trace(trace::Kind::queue_put, items_.size(), unfinished_);
  }

  void count_new_item() { ++unfinished_; }

  detail::SyncIdentity identity_;
  detail::WaitQueue getters_;
  detail::WaitQueue putters_;
  detail::WaitQueue joiners_;
  Storage items_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
};

/// First in, first out.
template <class T>
class Queue : public BasicQueue<T, detail::FifoStorage<T>> {
 public:
  using BasicQueue<T, detail::FifoStorage<T>>::BasicQueue;
};

/// Lowest first, by Compare (default std::less): put (priority, item) pairs.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public BasicQueue<T, detail::PriorityStorage<T, Compare>> {
 public:
  using BasicQueue<T, detail::PriorityStorage<T, Compare>>::BasicQueue;
};

/// Last in, first out.
template <class T>
class LifoQueue : public BasicQueue<T, detail::LifoStorage<T>> {
 public:
  using BasicQueue<T, detail::LifoStorage<T>>::BasicQueue;
};

}  // namespace tornado
