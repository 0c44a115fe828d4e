// The event loop (tornado.ioloop).
//
// An IOLoop waits for file descriptors to become ready and for timers to
// come due, and runs callbacks in response, one at a time, on one thread.
// Each iteration has fixed phases (docs/architecture.md draws them):
//
//   1. take the callbacks that are ready now (later ones wait a turn)
//   2. collect the timers that are due now
//   3. run those callbacks, then those timers, in order
//   4. poll the fds: no wait if callbacks are pending, else until the
//      next timer (or indefinitely)
//   5. run the handlers of the ready fds
//
// One loop per thread, one thread per loop: every method is for the loop's
// own thread, except add_callback() (any thread) and
// add_callback_from_signal() (a signal handler).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <type_traits>
#include <utility>

#include "tornado/concurrent.h"

namespace tornado {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::nanoseconds;

namespace detail {
struct LoopImpl;
template <class R>
struct FutureValue {
  using type = R;
};
template <class T>
struct FutureValue<Future<T>> {
  using type = T;
};
/// The event an owned handler gets when IOLoop::close(true) asks it to close
/// its fd (never reported by the poller).
inline constexpr std::uint32_t kCloseOwnedFd = 1u << 31;
/// add_handler for an fd whose owner closes it (streams, pidfds): close(true)
/// calls handler(fd, kCloseOwnedFd) instead of closing the fd itself, so it
/// is closed once. (No second callable: one less allocation per connection.)
void add_owned_handler(IOLoop& loop, int fd, Function<void(int, std::uint32_t)> handler,
                       std::uint32_t events, const Site& site);
}  // namespace detail

/// Names a pending timeout for remove_timeout(). Removing a timeout that
/// already ran, or was removed, is harmless.
class TimeoutHandle {
 public:
  TimeoutHandle() = default;
  explicit operator bool() const noexcept { return seq_ != 0; }

 private:
  friend class IOLoop;
  TimeoutHandle(std::uint32_t slot, std::uint64_t seq) : slot_(slot), seq_(seq) {}
  std::uint32_t slot_ = 0;
  std::uint64_t seq_ = 0;
};

/// When a wait gives up: never (the default), at a TimePoint (absolute), or
/// after a std::chrono duration (relative to when the Deadline is made).
class Deadline {
 public:
  Deadline() = default;
  Deadline(TimePoint at) : at_(at) {}  // NOLINT(google-explicit-constructor)
  template <class Rep, class Period>
  Deadline(std::chrono::duration<Rep, Period> after)  // NOLINT(google-explicit-constructor)
      : at_(Clock::now() + std::chrono::ceil<Duration>(after)) {}
  const std::optional<TimePoint>& at() const noexcept { return at_; }

 private:
  std::optional<TimePoint> at_;
};

/// How the loop waits for fds: level-triggered epoll(7), or poll(2), which is
/// slower with many fds but shows the idea in a few lines.
enum class PollerKind { epoll, poll };

class IOLoop {
 public:
  static constexpr std::uint32_t READ = 0x001;
  static constexpr std::uint32_t WRITE = 0x004;
  static constexpr std::uint32_t ERROR = 0x008;

  using Callback = detail::Function<void()>;
  using Handler = detail::Function<void(int fd, std::uint32_t events)>;

  /// A loop that waits with `poller` (default: as configure() set). It
  /// becomes its thread's current loop if that thread has none.
  explicit IOLoop(PollerKind poller = configured_poller());
  /// Closes the loop, leaving registered fds open, unless close() ran.
  ~IOLoop();
  IOLoop(const IOLoop&) = delete;
  IOLoop& operator=(const IOLoop&) = delete;

  // ---- Which loop is current ----------------------------------------------

  /// Chooses the poller of loops created from now on. Safe from any thread.
  static void configure(PollerKind poller);
  static PollerKind configured_poller();
  /// This thread's current loop, creating one if there is none.
  static IOLoop& current();
  /// This thread's current loop; with instance=false, nullptr if none.
  static IOLoop* current(bool instance);
  /// Same as current() (as in Tornado 6).
  static IOLoop& instance();
  /// Makes this loop its thread's current loop. Loop thread only.
  void make_current();
  /// Same as make_current() (as in Tornado 6).
  void install();
  /// Leaves this thread without a current loop.
  static void clear_current();

  // ---- Running ------------------------------------------------------------

  /// Runs iterations until stop(). Throws std::logic_error if the loop is
  /// running or closed. The loop is current while it runs. Loop thread only.
  void start();
  /// Makes start() return after the current iteration's callbacks and timers.
  /// Before start(), makes the next start() run one iteration. Loop thread only;
  /// from elsewhere use add_callback([&] { loop.stop(); }).
  void stop();
  /// Frees the loop's resources: pending callbacks and timers are dropped,
  /// coroutines still suspended on it are destroyed, and with all_fds the
  /// registered fds are closed (a stream's or a subprocess watcher's by its
  /// owner, so that no fd is closed twice). Later add_callback() calls are ignored.
  /// Loop thread only, not while running.
  void close(bool all_fds = false);
  /// Runs the loop until func()'s result is ready and returns it. func may
  /// return a Future (a coroutine) or a plain value. Throws what func threw,
  /// TimeoutError after `timeout`, or LoopStoppedError if stop() came first.
  template <class F>
  auto run_sync(F&& func, std::optional<Duration> timeout = std::nullopt,
                std::source_location where = std::source_location::current());

  // ---- Callbacks ----------------------------------------------------------

  /// Runs fn() on the next iteration. Callbacks run in the order they were
  /// added. If fn returns a Future, its exception (if any) is logged.
  /// Safe from any thread; wakes the loop if it is waiting.
  template <class F>
  void add_callback(F&& fn, std::source_location where = std::source_location::current()) {
    Site site{where, detail::label_of(fn)};
    schedule(wrap(std::forward<F>(fn), site), site);
  }
  /// Same as add_callback(), for callbacks that start independent work.
  template <class F>
  void spawn_callback(F&& fn, std::source_location where = std::source_location::current()) {
    Site site{where, detail::label_of(fn)};
    schedule(wrap(std::forward<F>(fn), site), site);
  }
  /// add_callback() for signal handlers: allocates nothing and takes no lock,
  /// so fn must fit inline (captures of up to 48 bytes). If more than 1024
  /// such callbacks wait at once, the extra ones are dropped and the loop
  /// logs how many. Safe in a signal handler, from any thread.
  template <class F>
  void add_callback_from_signal(F fn,
                                std::source_location where = std::source_location::current()) {
    static_assert(Callback::stores_inline<F>,
                  "add_callback_from_signal: the callable must fit in 48 bytes and be "
                  "nothrow-movable, because a signal handler may not allocate");
    schedule_from_signal(Callback(std::move(fn)), Site{where, nullptr});
  }
  /// Calls fn(future) on this loop once `future` is done.
  template <class T, class F>
  void add_future(Future<T> future, F fn,
                  std::source_location where = std::source_location::current()) {
    future.add_done_callback(
        [this, fn = std::move(fn), where](Future<T> done) mutable {
          if (current(false) == this) {
            fn(done);
          } else {
            add_callback([fn = std::move(fn), done]() mutable { fn(done); }, where);
          }
        },
        where);
  }

  // ---- Timers -------------------------------------------------------------

  /// The loop's clock: monotonic, unaffected by changes to the wall clock.
  TimePoint time() const { return Clock::now(); }
  /// Runs fn() at `when` (absolute time on the loop's clock).
  template <class F>
  TimeoutHandle call_at(TimePoint when, F&& fn,
                        std::source_location where = std::source_location::current()) {
    Site site{where, detail::label_of(fn)};
    return add_timer(when, wrap(std::forward<F>(fn), site), site);
  }
  /// Runs fn() after `delay` (a std::chrono duration, or seconds as a double).
  template <class Rep, class Period, class F>
  TimeoutHandle call_later(std::chrono::duration<Rep, Period> delay, F&& fn,
                           std::source_location where = std::source_location::current()) {
    return call_at(time() + std::chrono::ceil<Duration>(delay), std::forward<F>(fn), where);
  }
  template <class F>
  TimeoutHandle call_later(double seconds, F&& fn,
                           std::source_location where = std::source_location::current()) {
    return call_later(std::chrono::duration<double>(seconds), std::forward<F>(fn), where);
  }
  /// Runs fn() at a deadline: a TimePoint is absolute, a duration relative.
  template <class F>
  TimeoutHandle add_timeout(TimePoint deadline, F&& fn,
                            std::source_location where = std::source_location::current()) {
    return call_at(deadline, std::forward<F>(fn), where);
  }
  template <class Rep, class Period, class F>
  TimeoutHandle add_timeout(std::chrono::duration<Rep, Period> delay, F&& fn,
                            std::source_location where = std::source_location::current()) {
    return call_later(delay, std::forward<F>(fn), where);
  }
  /// Cancels a pending timeout; it will not run, even if it is due now.
  void remove_timeout(TimeoutHandle handle);

  // ---- File descriptors ---------------------------------------------------

  /// Calls handler(fd, events) whenever fd is ready for any of `events`
  /// (READ | WRITE; ERROR is always included). Throws std::logic_error if fd
  /// already has a handler. The loop does not own fd.
  template <class F>
  void add_handler(int fd, F&& handler, std::uint32_t events,
                   std::source_location where = std::source_location::current()) {
    add_handler_impl(fd, Handler(detail::unwrap_named(std::forward<F>(handler))), events,
                     Site{where, detail::label_of(handler)});
  }
  /// Changes the events fd's handler waits for.
  void update_handler(int fd, std::uint32_t events);
  /// Stops watching fd; a handler removed mid-iteration is not called again.
  /// Unknown fds are ignored.
  void remove_handler(int fd);

  // ---- Executors ----------------------------------------------------------

  /// Runs func(args...) on `executor` (nullptr: the default executor) and
  /// returns a Future resolved on this loop with its result or exception.
  template <class F, class... Args>
  auto run_in_executor(Executor* executor, F func, Args... args);
  /// Replaces the executor run_in_executor(nullptr, ...) uses.
  void set_default_executor(std::shared_ptr<Executor> executor);

  // ---- Diagnostics --------------------------------------------------------

  /// A callback running longer than this is logged with its name (while it
  /// still runs, and again with its duration when it ends) and traced as
  /// blocking_callback. Default 100 ms; zero turns the check off.
  void set_blocking_log_threshold(Duration threshold);

  struct Stats {
    std::size_t callbacks = 0;   // ready to run
    std::size_t timers = 0;      // pending, not cancelled
    std::size_t timer_heap = 0;  // heap entries, including cancelled ones
    std::size_t handlers = 0;    // registered fds
    std::size_t suspended = 0;   // coroutines waiting on this loop
    std::uint64_t iterations = 0;
  };
  Stats stats() const;
  /// "IOLoop#1 (epoll, running): 2 callbacks, 1 timer, 3 handlers, ..."
  std::string describe() const;
  /// The loop's id in trace events.
  std::uint16_t id() const noexcept;

 private:
  friend struct detail::LoopImpl;
  friend struct detail::SuspendedNode;
  friend void detail::schedule(IOLoop* loop, Callback fn, const Site& site);
  friend void detail::add_owned_handler(IOLoop& loop, int fd, Handler handler, std::uint32_t events,
                                        const Site& site);

  template <class F>
  Callback wrap(F&& fn, const Site& site);
  void schedule(Callback fn, const Site& site);
  void schedule_from_signal(Callback fn, const Site& site) noexcept;
  TimeoutHandle add_timer(TimePoint when, Callback fn, const Site& site);
  void add_handler_impl(int fd, Handler handler, std::uint32_t events, const Site& site);
  Executor& executor_or_default(Executor* executor);
  std::uint64_t executor_job_submitted(const Site& site);
  void executor_job_finished(std::uint64_t job, std::uint64_t ran_ns);
  void check_can_start() const;                             // throws start()'s std::logic_error
  bool run_until_stopped(std::optional<Duration> timeout);  // true if timed out

  std::unique_ptr<detail::LoopImpl> impl_;
};

// ---- Template definitions -------------------------------------------------

template <class F>
IOLoop::Callback IOLoop::wrap(F&& fn, const Site& site) {
  using Fn = std::decay_t<decltype(detail::unwrap_named(std::forward<F>(fn)))>;
  if constexpr (is_future_v<std::invoke_result_t<Fn&>>) {
    // As Tornado: a callback's Future is watched, and its failure logged,
    // under the name of the callback that returned it.
    return [f = Fn(detail::unwrap_named(std::forward<F>(fn))), site]() mutable {
      auto future = f();
      auto check = [](auto done) { (void)done.result(); };
      future.add_done_callback(Named<decltype(check)>{site.label, check}, site.where);
    };
  } else {
    return Callback(detail::unwrap_named(std::forward<F>(fn)));
  }
}

template <class F>
auto IOLoop::run_sync(F&& func, std::optional<Duration> timeout, std::source_location where) {
  using R = std::invoke_result_t<F&>;
  using T = typename detail::FutureValue<R>::type;
  check_can_start();  // before scheduling anything that refers to this frame
  IOLoop* previous = current(false);
  make_current();
  Future<T> result(Site{where, "run_sync"});
  add_callback([&func, result]() mutable {
    try {
      if constexpr (is_future_v<R>) {
        chain_future(func(), result);
      } else if constexpr (std::is_void_v<T>) {
        func();
        result.set_result();
      } else {
        result.set_result(func());
      }
    } catch (...) {
      result.set_exception(std::current_exception());
    }
  });
  result.add_done_callback([this](const Future<T>&) { stop(); });
  bool timed_out = run_until_stopped(timeout);
  if (previous != nullptr) previous->make_current();
  if (!result.done()) {
    if (!timed_out) throw LoopStoppedError();
    result.cancel();
    throw TimeoutError("Operation timed out");
  }
  return std::move(result).result();
}

template <class F, class... Args>
auto IOLoop::run_in_executor(Executor* executor, F func, Args... args) {
  using R = std::invoke_result_t<F&, Args&...>;
  Site site{std::source_location::current(), "run_in_executor"};
  Future<R> future(site);
  std::uint64_t job = executor_job_submitted(site);
  executor_or_default(executor).execute(
      [this, future, job, func = std::move(func), ... args = std::move(args)]() mutable {
        std::uint64_t started = job != 0 ? trace::now_ns() : 0;
        std::optional<detail::Stored<R>> value;
        std::exception_ptr error;
        try {
          if constexpr (std::is_void_v<R>) {
            std::invoke(func, args...);
            value.emplace();
          } else {
            value.emplace(std::invoke(func, args...));
          }
        } catch (...) {
          error = std::current_exception();
        }
        std::uint64_t ran = job != 0 ? trace::now_ns() - started : 0;
        // add_callback is the one call that is safe from a worker thread. Hand
        // over every reference, so the future and its exception are released
        // on the loop thread, not here.
        add_callback([this, future = std::move(future), job, ran, value = std::move(value),
                      error = std::move(error)]() mutable {
          executor_job_finished(job, ran);
          if (future.cancelled()) return;
          if (error) return future.set_exception(error);
          if constexpr (std::is_void_v<R>) {
            future.set_result();
          } else {
            future.set_result(std::move(*value));
          }
        });
      });
  return future;
}

/// Calls a function every `callback_time` (Tornado's PeriodicCallback). Runs
/// it missed while the loop was busy are skipped, not bunched. If the
/// function returns a Future (a coroutine), the next run is scheduled only
/// once it resolves, so runs never overlap. Loop thread only.
class PeriodicCallback {
 public:
  /// jitter: each interval is scaled by a random factor in
  /// [1 - jitter/2, 1 + jitter/2], so many callbacks do not fire in step.
  /// Throws std::invalid_argument unless callback_time is positive.
  template <class F>
  PeriodicCallback(F fn, Duration callback_time, double jitter = 0,
                   std::source_location where = std::source_location::current())
      : PeriodicCallback(make_run(std::move(fn)), callback_time, jitter,
                         Site{where, detail::label_of(fn)}) {}
  /// Stops it.
  ~PeriodicCallback();
  PeriodicCallback(const PeriodicCallback&) = delete;
  PeriodicCallback& operator=(const PeriodicCallback&) = delete;

  /// Starts on the current loop; the first run is one callback_time from now.
  void start();
  void stop();
  bool is_running() const noexcept;
  /// Runs skipped so far because the loop was late.
  std::uint64_t skipped() const noexcept;

 private:
  struct State;
  // Runs the function, then calls `done` (at once, or when its Future resolves).
  using Run = detail::Function<void(detail::Function<void()> done)>;

  template <class F>
  static Run make_run(F fn) {
    return [fn = std::move(fn)](detail::Function<void()> done) mutable {
      auto& call = detail::unwrap_named(fn);
      if constexpr (is_future_v<std::invoke_result_t<decltype(call)>>) {
        struct Finish {  // runs `done` even if the call throws
          detail::Function<void()>& done;
          bool armed = true;
          ~Finish() {
            if (armed) done();
          }
        } finish{done};
        auto future = call();
        finish.armed = false;
        future.add_done_callback([done = std::move(done)](auto f) mutable {
          done();
          (void)f.result();  // a failure is logged as an exception in this callback
        });
      } else {
        struct Finish {
          detail::Function<void()>& done;
          ~Finish() { done(); }
        } finish{done};
        call();
      }
    };
  }
  PeriodicCallback(Run run, Duration callback_time, double jitter, const Site& site);

  std::shared_ptr<State> state_;
};

/// Wraps func so that each call runs it on `executor` and returns a Future
/// (Tornado's `@run_on_executor`). The executor must outlive the wrapper.
template <class F>
auto run_on_executor(Executor& executor, F func) {
  return [&executor, func = std::move(func)](auto... args) {
    return IOLoop::current().run_in_executor(&executor, func, std::move(args)...);
  };
}

}  // namespace tornado
