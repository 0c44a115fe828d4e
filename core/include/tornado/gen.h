// Coroutine helpers (tornado.gen): sleeping, timeouts, waiting for many
// futures at once, and yielding to the loop.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "tornado/ioloop.h"
#include "tornado/log.h"

namespace tornado::gen {

/// A Future that resolves after `duration`:  co_await gen::sleep(100ms);
/// Loop thread only.
template <class Rep, class Period>
Future<void> sleep(std::chrono::duration<Rep, Period> duration,
                   std::source_location where = std::source_location::current()) {
  Future<void> done(Site{where, "sleep"});
  IOLoop::current().call_later(
      duration, [done]() mutable { future_set_result_unless_cancelled(done); }, where);
  return done;
}
/// sleep() for a duration in seconds.
inline Future<void> sleep(double seconds,
                          std::source_location where = std::source_location::current()) {
  return sleep(std::chrono::duration<double>(seconds), where);
}

/// A Future that mirrors `future`, or fails with TimeoutError at `deadline`
/// (absolute) or after a duration. The inner future is not cancelled; if it
/// fails after the timeout, its exception is logged. Loop thread only.
template <class T>
Future<T> with_timeout(TimePoint deadline, Future<T> future,
                       std::source_location where = std::source_location::current()) {
  IOLoop& loop = IOLoop::current();
  Future<T> result(Site{where, "with_timeout"});
  TimeoutHandle timer = loop.call_at(
      deadline,
      [result]() mutable {
        if (!result.done()) result.set_exception(TimeoutError("Timeout"));
      },
      where);
  future.add_done_callback(
      [&loop, result, timer](Future<T> inner) mutable {
        loop.remove_timeout(timer);
        if (!result.done()) return chain_future(inner, result);
        if (!inner.cancelled() && inner.exception()) {
          log::error("Exception in Future " + inner.describe() +
                     " after timeout: " + log::describe(inner.exception()));
        }
      },
      where);
  return result;
}
template <class T, class Rep, class Period>
Future<T> with_timeout(std::chrono::duration<Rep, Period> timeout, Future<T> future,
                       std::source_location where = std::source_location::current()) {
  return with_timeout(IOLoop::current().time() + std::chrono::ceil<Duration>(timeout),
                      std::move(future), where);
}

namespace detail {

using tornado::detail::Stored;

// Awaits f, keeping its value or exception instead of throwing.
template <class T>
Future<void> settle(Future<T> f, std::optional<Stored<T>>& value, std::exception_ptr& error) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await f;
      value.emplace();
    } else {
      value.emplace(co_await f);
    }
  } catch (...) {
    error = std::current_exception();
  }
}

// Throws the first error in input order and logs the others (as Tornado's
// "Multiple exceptions in yield list").
template <std::size_t N>
void raise_first(const std::array<std::exception_ptr, N>& errors) {
  std::exception_ptr first;
  for (const std::exception_ptr& e : errors) {
    if (!e) continue;
    if (!first) {
      first = e;
    } else {
      log::error("Multiple exceptions in yield list: " + log::describe(e));
    }
  }
  if (first) std::rethrow_exception(first);
}

template <std::size_t... I, class... Ts>
Future<std::tuple<Stored<Ts>...>> multi_pack(std::index_sequence<I...>, Future<Ts>... futures) {
  std::tuple<std::optional<Stored<Ts>>...> values;
  std::array<std::exception_ptr, sizeof...(Ts)> errors;
  (co_await settle(futures, std::get<I>(values), errors[I]), ...);
  raise_first(errors);
  co_return std::tuple<Stored<Ts>...>{std::move(*std::get<I>(values))...};
}

}  // namespace detail

/// Waits for every future, then yields their results in input order. If any
/// failed, throws the first failure in input order and logs the rest.
/// Loop thread only.
template <class T>
Future<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> multi(
    std::vector<Future<T>> futures) {
  std::vector<std::optional<detail::Stored<T>>> values(futures.size());
  std::vector<std::exception_ptr> errors(futures.size());
  for (std::size_t i = 0; i < futures.size(); ++i) {
    co_await detail::settle(futures[i], values[i], errors[i]);
  }
  std::exception_ptr first;
  for (const std::exception_ptr& e : errors) {
    if (e && first) log::error("Multiple exceptions in yield list: " + log::describe(e));
    if (e && !first) first = e;
  }
  if (first) std::rethrow_exception(first);
  if constexpr (!std::is_void_v<T>) {
    std::vector<T> results;
    results.reserve(values.size());
    for (auto& v : values) results.push_back(std::move(*v));
    co_return results;
  }
}

/// multi() over futures of different types; yields a tuple (a void future
/// contributes std::monostate).
template <class... Ts>
Future<std::tuple<detail::Stored<Ts>...>> multi(Future<Ts>... futures) {
  return detail::multi_pack(std::index_sequence_for<Ts...>{}, std::move(futures)...);
}

/// `co_await gen::moment;` lets the callbacks already waiting run first,
/// resuming on the next loop iteration.
struct Moment {
  struct Awaiter {
    tornado::detail::SuspendedNode node;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      IOLoop& loop = IOLoop::current();
      node.link(&loop, h);
      static const char* const label = intern_label("moment");
      auto resume = [h] { h.resume(); };
      loop.add_callback(Named<decltype(resume)>{label, resume});
    }
    void await_resume() noexcept { node.unlink(); }
  };
  Awaiter operator co_await() const noexcept { return {}; }
};
inline constexpr Moment moment{};

/// Yields futures in the order they finish:
///
///   WaitIterator<int> it(std::move(futures));
///   while (!it.done()) { int r = co_await it.next(); use(it.current_index(), r); }
///
/// Loop thread only.
template <class T>
class WaitIterator {
 public:
  explicit WaitIterator(std::vector<Future<T>> futures) : state_(std::make_shared<State>()) {
    state_->futures = std::move(futures);
    state_->unfinished = state_->futures.size();
    for (std::size_t i = 0; i < state_->futures.size(); ++i) {
      state_->futures[i].add_done_callback([s = std::weak_ptr<State>(state_), i](const Future<T>&) {
        if (auto state = s.lock()) state->on_done(i);
      });
    }
  }

  /// True when every future has been returned by next().
  bool done() const {
    if (!state_->finished.empty() || state_->returned < state_->futures.size()) return false;
    state_->current.reset();
    return true;
  }
  /// A Future with the result of the next future to finish.
  Future<T> next() {
    state_->running.emplace();
    if (!state_->finished.empty()) {
      std::size_t i = state_->finished.front();
      state_->finished.pop_front();
      return state_->hand_over(i);
    }
    ++state_->waiting;
    return *state_->running;
  }
  /// Index (in the input vector) of the future next() last yielded.
  std::optional<std::size_t> current_index() const { return state_->current; }
  /// The future next() last yielded.
  std::optional<Future<T>> current_future() const {
    if (!state_->current) return std::nullopt;
    return state_->futures[*state_->current];
  }

 private:
  struct State {
    std::vector<Future<T>> futures;
    std::deque<std::size_t> finished;
    std::optional<Future<T>> running;
    std::optional<std::size_t> current;
    std::size_t unfinished = 0;
    std::size_t returned = 0;
    std::size_t waiting = 0;

    void on_done(std::size_t i) {
      --unfinished;
      if (waiting > 0 && running && !running->done()) {
        --waiting;
        (void)hand_over(i);  // the waiter already holds the future
      } else {
        finished.push_back(i);
      }
    }
    Future<T> hand_over(std::size_t i) {
      Future<T> out = *running;
      chain_future(futures[i], out);
      running.reset();
      current = i;
      ++returned;
      return out;
    }
  };
  std::shared_ptr<State> state_;
};

}  // namespace tornado::gen
