// Names for callbacks, timers and handlers.
//
// Everything the loop runs carries a Site: where it was scheduled (captured
// automatically with std::source_location) and, optionally, a label the
// caller chose with named(). Sites appear in log lines ("Exception in
// callback tick at main.cc:12") and in trace events.
#pragma once

#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tornado {

/// Where a callback was scheduled, and the label it was given (if any).
struct Site {
  std::source_location where;
  const char* label = nullptr;  // interned: lives as long as the process

  /// "label at file:line", or "function at file:line" when there is no label.
  std::string describe() const;
};

/// Interns `label` so a Site can point at it for the life of the process.
/// Safe from any thread.
const char* intern_label(std::string_view label);

/// A callable with a label, made by named(). The loop unwraps it.
template <class F>
struct Named {
  const char* label;
  F fn;
};

/// Gives a callable a label for logs and traces:
///   loop.call_later(1s, named("heartbeat", [] { ... }));
template <class F>
Named<std::decay_t<F>> named(std::string_view label, F&& fn) {
  return {intern_label(label), std::forward<F>(fn)};
}

namespace detail {

template <class F>
struct IsNamed : std::false_type {};
template <class F>
struct IsNamed<Named<F>> : std::true_type {};

/// The label of `f` if it is Named, else nullptr.
template <class F>
const char* label_of(const F& f) {
  if constexpr (IsNamed<std::remove_cvref_t<F>>::value) {
    return f.label;
  } else {
    return nullptr;
  }
}

/// The callable inside `f` if it is Named, else `f` itself.
template <class F>
decltype(auto) unwrap_named(F&& f) {
  if constexpr (IsNamed<std::remove_cvref_t<F>>::value) {
    // Parenthesised so decltype(auto) yields a reference to the member, not
    // a copy: callers call it in place or move it out.
    return (std::forward<F>(f).fn);
  } else {
    return std::forward<F>(f);
  }
}

}  // namespace detail
}  // namespace tornado
