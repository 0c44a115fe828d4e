// A move-only std::function with inline storage.
//
// Every callback the loop holds is one of these. Callables up to kInlineSize
// bytes (a lambda capturing a few pointers) live inside the object, so
// scheduling them allocates nothing; larger ones go to the heap. Unlike
// std::function it accepts move-only callables (a lambda owning a
// unique_ptr), which C++20 has no standard type for.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace tornado::detail {

template <class Signature>
class Function;

template <class R, class... Args>
class Function<R(Args...)> {
 public:
  static constexpr std::size_t kInlineSize = 48;

  /// True when F is stored without allocating.
  template <class F>
  static constexpr bool stores_inline =
      sizeof(F) <= kInlineSize &&
      alignof(F) <= alignof(void*) && std::is_nothrow_move_constructible_v<F>;

  Function() noexcept = default;
  Function(std::nullptr_t) noexcept {}

  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, Function> &&
           std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
      Function(F&& f) {  // NOLINT(google-explicit-constructor): used like std::function
    using Fn = std::decay_t<F>;
    if constexpr (stores_inline<Fn>) {
      ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
      ops_ = &kInlineOps<Fn>;
    } else {
      *reinterpret_cast<Fn**>(storage_) = new Fn(std::forward<F>(f));
      ops_ = &kHeapOps<Fn>;
    }
  }

  Function(Function&& other) noexcept { take(other); }
  Function& operator=(Function&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Function(const Function&) = delete;
  Function& operator=(const Function&) = delete;
  ~Function() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  R operator()(Args... args) { return ops_->call(storage_, std::forward<Args>(args)...); }

  void reset() noexcept {
    if (ops_ != nullptr) {
      if (ops_->destroy != nullptr) ops_->destroy(storage_);
      ops_ = nullptr;
    }
  }

 private:
  // move and destroy are null when a byte copy moves the callable and
  // destroying it does nothing, the common case of a lambda capturing
  // pointers: then moving a Function is a memcpy and destroying it is free.
  struct Ops {
    R (*call)(void*, Args&&...);
    void (*move)(void* dst, void* src) noexcept;  // move-constructs dst, destroys src
    void (*destroy)(void*) noexcept;
  };

  // Calls f; with R = void, drops what f returns (as std::function does).
  template <class Fn>
  static R invoke(Fn& f, Args&&... a) {
    if constexpr (std::is_void_v<R>) {
      f(std::forward<Args>(a)...);
    } else {
      return f(std::forward<Args>(a)...);
    }
  }

  template <class Fn>
  static constexpr bool kTrivial = std::is_trivially_copyable_v<Fn>;

  template <class Fn>
  static constexpr Ops kInlineOps = {
      [](void* s, Args&&... a) -> R { return invoke<Fn>(*static_cast<Fn*>(s), std::forward<Args>(a)...); },
      kTrivial<Fn> ? nullptr
                   : +[](void* dst, void* src) noexcept {
                       ::new (dst) Fn(std::move(*static_cast<Fn*>(src)));
                       static_cast<Fn*>(src)->~Fn();
                     },
      kTrivial<Fn> ? nullptr : +[](void* s) noexcept { static_cast<Fn*>(s)->~Fn(); },
  };

  template <class Fn>
  static constexpr Ops kHeapOps = {
      [](void* s, Args&&... a) -> R {
        return invoke<Fn>(**static_cast<Fn**>(s), std::forward<Args>(a)...);
      },
      nullptr,  // the pointer moves by copying it
      [](void* s) noexcept { delete *static_cast<Fn**>(s); },
  };

  void take(Function& other) noexcept {
    if (other.ops_ != nullptr) {
      if (other.ops_->move != nullptr) {
        other.ops_->move(storage_, other.storage_);
      } else {
        std::memcpy(storage_, other.storage_, kInlineSize);
      }
      ops_ = other.ops_;
      other.ops_ = nullptr;
    }
  }

  // Pointer alignment, not max_align_t: a Function is then 56 bytes, not 64,
  // which every callback, timer and fd handler the loop holds pays for.
  alignas(void*) unsigned char storage_[kInlineSize];
  const Ops* ops_ = nullptr;
};

}  // namespace tornado::detail
