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

  SuspendedNode* prev = nullptr;
  SuspendedNode* next = nullptr;
  IOLoop* loop = nullptr;
  std::coroutine_handle<> handle;
};

template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
struct FutureState : std::enable_shared_from_this<FutureState<T>> {
  enum class Status : std::uint8_t { pending, result, exception, cancelled };
  // Either a coroutine to resume or a done-callback to call with the future.
  // Neither holds the future itself while it is pending, so an abandoned
  // future is freed rather than kept alive by its own callbacks.
  struct Waiter {
    std::coroutine_handle<> resume;
    Function<void(Future<T>)> fn;
    Site site;
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
  }

  bool done() const noexcept { return status != Status::pending; }

  void resolve(Status s) {
    if (done()) throw InvalidStateError("Future is already done: " + site.describe());
    status = s;
    if (trace_id != 0) {
      trace::emit(trace::Kind::future_resolved, trace_loop_id(loop), trace_id, 0,
                  static_cast<std::uint64_t>(s) - 1);
    }
    std::vector<Waiter> now = std::move(waiters);
    for (Waiter& w : now) dispatch(w);
  }

  void on_done(Waiter w) {
    if (done()) {
      dispatch(w);
    } else {
      waiters.push_back(std::move(w));
    }
  }

  void dispatch(Waiter& w) {
    if (w.resume) {
      schedule(
          loop, [h = w.resume] { h.resume(); }, w.site);
    } else {
      schedule(
          loop,
          [fn = std::move(w.fn), self = Future<T>(this->shared_from_this())]() mutable {
            fn(self);
          },
          w.site);
    }
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

  Status status = Status::pending;
  bool retrieved = false;
  IOLoop* loop;
  Site site;
  std::uint64_t trace_id;
  std::optional<Stored<T>> value;
  std::exception_ptr error;
  std::vector<Waiter> waiters;
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
      : state_(std::make_shared<State>(Site{where})) {}
  /// A pending future whose name in logs and traces is `site`.
  explicit Future(const Site& site) : state_(std::make_shared<State>(site)) {}

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
        if (state_.use_count() > 1) return value;
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
    state_->on_done(
        {{},
         [fn = std::move(fn)](Future<T> self) mutable { detail::unwrap_named(fn)(self); },
         site});
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
  explicit Future(std::shared_ptr<State> state) : state_(std::move(state)) {}

  struct Awaiter {
    Future future;
    detail::SuspendedNode node;

    bool await_ready() const noexcept { return future.done(); }
    void await_suspend(std::coroutine_handle<> h) {
      State& s = *future.state_;
      node.link(s.loop, h);
      s.on_done({h, {}, Site{s.site.where, detail::resume_label()}});
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

  std::shared_ptr<State> state_;
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
