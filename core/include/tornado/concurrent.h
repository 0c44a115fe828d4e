// Futures, coroutines and executors (tornado.concurrent).
//
// A Future<T> is a result that is not there yet. It is also the return type
// of a coroutine:
//
//   Future<int> answer() { co_await gen::sleep(1s); co_return 42; }
//
// Calling answer() runs its body at once, up to the first co_await of
// something unfinished, and returns the Future its co_return will resolve.
// `co_await future` continues immediately if the future is done; otherwise the
// coroutine is suspended and resumed later by a callback on the loop, never
// from inside set_result(). Done-callbacks likewise run on a later loop
// iteration. Futures belong to one loop thread; only their reference count is
// safe to touch from other threads.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "tornado/detail/function.h"
#include "tornado/errors.h"
#include "tornado/name.h"
#include "tornado/trace.h"

namespace tornado {

class IOLoop;
template <class T = void>
class Future;

namespace detail {

// Implemented by the loop (core/src), so futures need no IOLoop definition.
IOLoop* current_loop_or_null();
void schedule(IOLoop* loop, Function<void()> fn, const Site& site);
std::uint16_t trace_loop_id(IOLoop* loop);
void log_unretrieved_exception(const std::exception_ptr& error, const Site& site);
const char* resume_label();  // "coroutine resume"

// A coroutine suspended on a loop. The awaiter is the node, so suspending
// allocates nothing. IOLoop::close() destroys coroutines still linked here,
// which would otherwise leak with the futures they wait for.
struct SuspendedNode {
  SuspendedNode() = default;
  SuspendedNode(const SuspendedNode&) noexcept {}  // a copy is a fresh, unlinked node
  SuspendedNode& operator=(const SuspendedNode&) = delete;
  ~SuspendedNode() { unlink(); }

  void link(IOLoop* loop, std::coroutine_handle<> handle);
  void unlink() noexcept;

  SuspendedNode* prev = nullptr;  // null while not linked
  SuspendedNode* next = nullptr;
  std::coroutine_handle<> handle;
};

template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
struct FutureState {
  enum class Status : std::uint8_t { pending, result, exception, cancelled };
  // A done-callback, or a coroutine to resume that found another waiter
  // already there, in a list. Neither holds the future itself while it is
  // pending, so an abandoned future is freed rather than kept alive by its
  // own callbacks.
  struct Waiter {
    Function<void(Future<T>)> fn;
    Site site;
    Waiter* next = nullptr;
  };

  explicit FutureState(const Site& s)
      : loop(current_loop_or_null()), site(s), trace_id(trace::new_object_id()) {
    if (trace_id != 0) {
      trace::emit(trace::Kind::future_created, trace_loop_id(loop), trace_id, trace::intern(site));
    }
  }
  FutureState(const FutureState&) = delete;
  FutureState& operator=(const FutureState&) = delete;
  ~FutureState() {
    if (status == Status::exception && !retrieved) log_unretrieved_exception(error, site);
    while (waiters != nullptr) delete std::exchange(waiters, waiters->next);
  }

  // Futures are shared by count; the count alone may be touched from other
  // threads (a Future copied into a job for an executor, say).
  void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  bool done() const noexcept { return status != Status::pending; }

  void resolve(Status s) {
    if (done()) throw InvalidStateError("Future is already done: " + site.describe());
    status = s;
    if (trace_id != 0) {
      trace::emit(trace::Kind::future_resolved, trace_loop_id(loop), trace_id, 0,
                  static_cast<std::uint64_t>(s) - 1);
    }
    if (awaiter) dispatch_resume(std::exchange(awaiter, {}));
    // The list is newest first: reverse it to dispatch in the order added.
    Waiter* oldest = nullptr;
    while (waiters != nullptr) {
      Waiter* w = std::exchange(waiters, waiters->next);
      w->next = oldest;
      oldest = w;
    }
    while (oldest != nullptr)
      dispatch(std::unique_ptr<Waiter>(std::exchange(oldest, oldest->next)));
  }

  // The usual waiter, one coroutine, is kept in place: awaiting allocates
  // nothing. Waiters are dispatched in the order they came.
  void on_resume(std::coroutine_handle<> h) {
    if (done()) {
      dispatch_resume(h);
    } else if (!awaiter && waiters == nullptr) {
      awaiter = h;
    } else {
      on_done(std::make_unique<Waiter>([h](const Future<T>&) { h.resume(); },
                                       Site{site.where, resume_label()}));
    }
  }

  void on_done(std::unique_ptr<Waiter> w) {
    if (done()) {
      dispatch(std::move(w));
    } else {
      w->next = waiters;
      waiters = w.release();
    }
  }

  void dispatch_resume(std::coroutine_handle<> h) {
    schedule(
        loop, [h] { h.resume(); }, Site{site.where, resume_label()});
  }

  // The node travels with the callback: scheduling it allocates nothing more.
  void dispatch(std::unique_ptr<Waiter> w) {
    add_ref();
    Site s = w->site;
    schedule(
        loop, [w = std::move(w), self = Future<T>(this)]() mutable { w->fn(self); }, s);
  }

  void rethrow_if_failed() {
    retrieved = true;
    if (status == Status::exception) std::rethrow_exception(error);
    if (status == Status::cancelled) throw CancelledError();
    if (status == Status::pending) {
      throw InvalidStateError("Future is not done yet (" + site.describe() +
                              "): co_await it or use add_done_callback");
    }
  }

  std::atomic<std::uint32_t> refs{1};
  Status status = Status::pending;
  bool retrieved = false;
  IOLoop* loop;
  Site site;
  std::uint64_t trace_id;
  std::optional<Stored<T>> value;
  std::exception_ptr error;
  std::coroutine_handle<> awaiter;  // the first coroutine waiting, if any
  Waiter* waiters = nullptr;        // the others and every done-callback, newest first
};

template <class T>
struct Promise;

}  // namespace detail

/// A result that will be ready later. Copies share one state. Loop thread only.
template <class T>
class [[nodiscard]] Future {
  using State = detail::FutureState<T>;
  using Status = typename State::Status;

 public:
  using value_type = T;
  using promise_type = detail::Promise<T>;

  /// A pending future, bound to the current loop (done-callbacks run there).
  explicit Future(std::source_location where = std::source_location::current())
      : state_(new State(Site{where})) {}
  /// A pending future whose name in logs and traces is `site`.
  explicit Future(const Site& site) : state_(new State(site)) {}

  Future(const Future& other) noexcept : state_(other.state_) { add_ref(state_); }
  Future(Future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Future& operator=(const Future& other) noexcept {
    add_ref(other.state_);
    reset(std::exchange(state_, other.state_));
    return *this;
  }
  Future& operator=(Future&& other) noexcept {
    if (this != &other) reset(std::exchange(state_, std::exchange(other.state_, nullptr)));
    return *this;
  }
  ~Future() { reset(state_); }

  bool done() const noexcept { return state_->done(); }
  bool cancelled() const noexcept { return state_->status == Status::cancelled; }

  /// The value. Throws the future's exception, CancelledError if it was
  /// cancelled, or InvalidStateError if it is not done yet.
  decltype(auto) result() const& {
    state_->rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) return static_cast<const T&>(*state_->value);
  }
  /// On an rvalue (std::move(future).result()), the value is moved out when
  /// this is the only reference to it, or when T cannot be copied.
  T result() && {
    state_->rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) {
      T& value = *state_->value;
      if constexpr (std::is_copy_constructible_v<T>) {
        if (state_->refs.load(std::memory_order_relaxed) > 1) return value;
      }
      return std::move(value);
    }
  }

  /// The exception the future failed with, or null if it has a result.
  /// Throws CancelledError or InvalidStateError like result().
  std::exception_ptr exception() const {
    if (state_->status == Status::exception) {
      state_->retrieved = true;
      return state_->error;
    }
    state_->rethrow_if_failed();
    return nullptr;
  }

  /// Resolves the future; done-callbacks are scheduled, not run here.
  /// Throws InvalidStateError if it is already done.
  void set_result(detail::Stored<T> value) requires(!std::is_void_v<T>) {
    check_pending();
    state_->value.emplace(std::move(value));
    state_->resolve(Status::result);
  }
  void set_result() requires std::is_void_v<T> {
    check_pending();
    state_->value.emplace();
    state_->resolve(Status::result);
  }

  /// Fails the future with `error`. Throws InvalidStateError if it is done.
  void set_exception(std::exception_ptr error) {
    check_pending();
    state_->error = std::move(error);
    state_->resolve(Status::exception);
  }
  template <class E>
  requires std::is_base_of_v<std::exception, std::decay_t<E>>
  void set_exception(E&& error) { set_exception(std::make_exception_ptr(std::forward<E>(error))); }

  /// Cancels a pending future (its result becomes CancelledError). Returns
  /// false if it was already done. Does not stop the coroutine producing it.
  bool cancel() {
    if (done()) return false;
    state_->resolve(Status::cancelled);
    return true;
  }

  /// Calls fn(future) on the loop once the future is done (on a later
  /// iteration, even if it is done already).
  template <class F>
  requires std::is_invocable_v<decltype(detail::unwrap_named(std::declval<F&>()))&, Future<T>>
  void add_done_callback(F fn, std::source_location where = std::source_location::current()) {
    Site site{where, detail::label_of(fn)};
    state_->on_done(std::make_unique<typename State::Waiter>(
        [fn = std::move(fn)](Future<T> self) mutable { detail::unwrap_named(fn)(self); }, site));
  }

  /// "Future(pending) of main() at main.cc:12", for logs and test failures.
  std::string describe() const {
    static constexpr const char* kNames[] = {"pending", "result", "exception", "cancelled"};
    return std::string("Future(") + kNames[static_cast<int>(state_->status)] + ") of " +
           state_->site.describe();
  }

  /// The id trace events use for this future (0 when created untraced).
  std::uint64_t trace_id() const noexcept { return state_->trace_id; }

  friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

  /// `co_await future` yields the value (as std::move(future).result()) or
  /// throws the future's exception.
  auto operator co_await() const& noexcept { return Awaiter{*this, {}}; }
  auto operator co_await() && noexcept { return Awaiter{std::move(*this), {}}; }

 private:
  template <class>
  friend struct detail::Promise;
  friend struct detail::FutureState<T>;
  // Adopts one reference the caller already counted.
  explicit Future(State* state) noexcept : state_(state) {}
  static void add_ref(State* state) noexcept {
    if (state != nullptr) state->add_ref();
  }
  static void reset(State* state) noexcept {
    if (state != nullptr) state->release();
  }

  struct Awaiter {
    Future future;
    detail::SuspendedNode node;

    bool await_ready() const noexcept { return future.done(); }
    void await_suspend(std::coroutine_handle<> h) {
      State& s = *future.state_;
      node.link(s.loop, h);
      s.on_resume(h);
    }
    T await_resume() {
      node.unlink();
      return std::move(future).result();
    }
  };

  void check_pending() const {
    if (done()) {
      throw InvalidStateError("Future is already done (" + state_->site.describe() +
                              "): use future_set_result_unless_cancelled?");
    }
  }

  State* state_;  // never null, except in a moved-from Future
};

namespace detail {

/// The Site of futures returned by coroutines.
const Site& coroutine_site();

template <class T>
struct PromiseBase {
  Future<T> future{coroutine_site()};

  Future<T> get_return_object() { return future; }
  std::suspend_never initial_suspend() noexcept { return {}; }
  std::suspend_never final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept {
    if (!future.done()) future.set_exception(std::current_exception());
  }
};

template <class T>
struct Promise : PromiseBase<T> {
  template <class U = T>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) {
    if (!this->future.done()) this->future.set_result(T(std::forward<U>(value)));
  }
};

template <>
struct Promise<void> : PromiseBase<void> {
  void return_void() {
    if (!this->future.done()) this->future.set_result();
  }
};

template <class T>
struct IsFuture : std::false_type {};
template <class T>
struct IsFuture<Future<T>> : std::true_type {};

}  // namespace detail

/// True for every Future<T>.
template <class T>
inline constexpr bool is_future_v = detail::IsFuture<std::remove_cvref_t<T>>::value;

/// is_future(x): whether x is a Future (decided at compile time).
template <class T>
constexpr bool is_future(const T&) noexcept {
  return is_future_v<T>;
}

/// Sets the result unless the future was cancelled (then does nothing).
template <class T, class V>
void future_set_result_unless_cancelled(Future<T>& future, V&& value) {
  if (!future.cancelled()) future.set_result(std::forward<V>(value));
}
template <class T>
void future_set_result_unless_cancelled(Future<T>& future) requires std::is_void_v<T> {
  if (!future.cancelled()) future.set_result();
}

/// Sets the exception unless the future was cancelled (then does nothing).
template <class T>
void future_set_exception_unless_cancelled(Future<T>& future, std::exception_ptr error) {
  if (!future.cancelled()) future.set_exception(std::move(error));
}

/// When `a` finishes, copies its result or exception to `b`, unless `b` is
/// already done by then.
template <class T>
void chain_future(Future<T> a, Future<T> b) {
  a.add_done_callback([b](Future<T> done) mutable {
    if (b.done()) return;
    if (done.cancelled()) {
      b.cancel();
    } else if (auto error = done.exception()) {
      b.set_exception(error);
    } else if constexpr (std::is_void_v<T>) {
      b.set_result();
    } else {
      b.set_result(std::move(done).result());
    }
  });
}

/// Runs jobs somewhere else. IOLoop::run_in_executor() turns a job into a
/// Future resolved back on the loop thread.
class Executor {
 public:
  virtual ~Executor() = default;
  /// Runs `job` eventually, on some thread. Safe from any thread.
  virtual void execute(detail::Function<void()> job) = 0;
};

/// A fixed pool of worker threads with one FIFO job queue.
class ThreadPoolExecutor final : public Executor {
 public:
  /// Starts `max_workers` threads (at least one).
  explicit ThreadPoolExecutor(std::size_t max_workers);
  /// Finishes the queued jobs, then joins the workers.
  ~ThreadPoolExecutor() override;
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  /// Safe from any thread. Throws std::logic_error after shutdown().
  void execute(detail::Function<void()> job) override;
  /// Runs what is queued, then stops the workers. Safe from any thread.
  void shutdown();
  std::size_t max_workers() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Runs each job at once, on the calling thread (Tornado's DummyExecutor).
class DummyExecutor final : public Executor {
 public:
  void execute(detail::Function<void()> job) override { job(); }
};

}  // namespace tornado
