// A synthetic but realistic event stream, for tests and the benchmark that
// need millions of events: iterations that run callbacks, a periodic timer,
// a ready socket read by a stream handler, and coroutines taking turns on a
// lock, in the order the loop emits them.
#pragma once

#include <cstdint>
#include <vector>

#include "tornado/trace.h"

namespace tornado::viz::testing {

class Synthetic {
 public:
  /// Appends about `count` events (whole iterations) to `out`.
  void generate(std::vector<trace::Event>& out, std::size_t count);

 private:
  void setup(std::vector<trace::Event>& out);
  void iteration(std::vector<trace::Event>& out);
  void emit(std::vector<trace::Event>& out, trace::Kind kind, std::uint64_t object,
            std::uint32_t name = 0, std::uint64_t a = 0, std::uint64_t b = 0);
  void run(std::vector<trace::Event>& out, std::uint64_t object, std::uint32_t name, trace::Via via,
           std::uint64_t duration_ns);

  bool started_ = false;
  std::uint64_t ts_ = 1'000'000'000;
  std::uint64_t next_id_ = 100;
  std::uint64_t iteration_ = 0;
  std::uint64_t timer_ = 0;
  std::uint64_t lock_ = 0;
  std::uint64_t holder_ = 0;
  std::vector<std::uint64_t> ready_;
};

}  // namespace tornado::viz::testing

// ---- Implementation (header-only so both tests and bench can use it) ------

namespace tornado::viz::testing {

using trace::Kind;
using trace::Via;

// String ids the stream uses; tests that want names add them to the model.
inline constexpr std::uint32_t kTickName = 1, kHandlerName = 2, kLockName = 3, kWaitName = 4,
                               kWorkName = 5, kStreamName = 6;
inline constexpr int kSocketFd = 7;
inline constexpr std::uint64_t kStream = 50;

inline void Synthetic::emit(std::vector<trace::Event>& out, Kind kind, std::uint64_t object,
                            std::uint32_t name, std::uint64_t a, std::uint64_t b) {
  ts_ += 150;
  out.push_back(trace::Event{ts_, kind, 1, name, object, a, b});
}

inline void Synthetic::run(std::vector<trace::Event>& out, std::uint64_t object, std::uint32_t name,
                           Via via, std::uint64_t duration_ns) {
  emit(out, Kind::callback_started, object, name, 0, static_cast<std::uint64_t>(via));
  ts_ += duration_ns;
  emit(out, Kind::callback_finished, object, name, duration_ns, static_cast<std::uint64_t>(via));
}

inline void Synthetic::setup(std::vector<trace::Event>& out) {
  emit(out, Kind::handler_added, 3, 0, 0x9);  // the waker
  emit(out, Kind::loop_started, 0);
  emit(out, Kind::handler_added, kSocketFd, kHandlerName, 0x9);
  emit(out, Kind::stream_opened, kStream, kStreamName, kSocketFd,
       static_cast<std::uint64_t>(trace::StreamKind::tcp));
  lock_ = next_id_++;
  emit(out, Kind::sync_created, lock_, kLockName, static_cast<std::uint64_t>(trace::SyncKind::lock),
       1);
  timer_ = next_id_++;
  emit(out, Kind::timer_added, timer_, kTickName, ts_ + 1'000'000, 0);
  started_ = true;
}

// One iteration: the callbacks made ready last time, the timer (re-armed),
// a coroutine that takes the lock while another waits, and a socket read.
inline void Synthetic::iteration(std::vector<trace::Event>& out) {
  ++iteration_;
  const bool tick = iteration_ % 4 == 0;
  emit(out, Kind::iteration_begin, iteration_, 0, ready_.size(), tick ? 1 : 0);
  std::vector<std::uint64_t> batch;
  batch.swap(ready_);
  for (const std::uint64_t id : batch) {
    run(out, id, kWorkName, Via::callback, 2'000);
    const std::uint64_t next = next_id_++;
    emit(out, Kind::callback_scheduled, next, kWorkName, id, 0);
    ready_.push_back(next);
  }
  if (tick) {
    emit(out, Kind::timer_fired, timer_, kTickName);
    emit(out, Kind::callback_started, timer_, kTickName, 0, 1);
    const std::uint64_t waiter = next_id_++;
    emit(out, Kind::waiter_enqueued, lock_, kWaitName, waiter, 1);
    if (holder_ != 0) emit(out, Kind::sync_released, lock_, 0, holder_, 0);
    emit(out, Kind::waiter_woken, lock_, 0, waiter);
    emit(out, Kind::sync_acquired, lock_, kWaitName, waiter, 0);
    holder_ = waiter;
    const std::uint64_t old = timer_;
    timer_ = next_id_++;
    emit(out, Kind::timer_added, timer_, kTickName, ts_ + 1'000'000, old);
    emit(out, Kind::callback_finished, old, kTickName, 3'000, 1);
  }
  if (ready_.size() < 3) {
    const std::uint64_t id = next_id_++;
    emit(out, Kind::callback_scheduled, id, kWorkName, 0, 0);
    ready_.push_back(id);
  }
  emit(out, Kind::fd_ready, kSocketFd, kHandlerName, 0x1);
  emit(out, Kind::callback_started, kSocketFd, kHandlerName, 0, 2);
  emit(out, Kind::stream_read, kStream, 0, 512, iteration_ % 4096);
  emit(out, Kind::callback_finished, kSocketFd, kHandlerName, 4'000, 2);
  emit(out, Kind::iteration_end, iteration_, 0, 20'000, 0);
}

inline void Synthetic::generate(std::vector<trace::Event>& out, std::size_t count) {
  const std::size_t target = out.size() + count;
  if (!started_) setup(out);
  while (out.size() < target) iteration(out);
}

}  // namespace tornado::viz::testing
