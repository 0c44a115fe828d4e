// Wakes a loop blocked in poll from another thread or a signal handler:
// an eventfd the loop watches for READ.
#pragma once

namespace tornado::detail {

class Waker {
 public:
  Waker();
  ~Waker();
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;

  int fd() const noexcept { return fd_; }
  /// Makes fd readable. Async-signal-safe (one write(2)); keeps errno.
  void wake() const noexcept;
  /// Makes fd unreadable again. Loop thread only.
  void drain() const noexcept;

 private:
  int fd_;
};

}  // namespace tornado::detail
