// PeriodicCallback keeps its state in a shared State so that timers and
// coroutine futures that outlive the object find it stopped, not freed.
#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>

#include "tornado/ioloop.h"

namespace tornado {

struct PeriodicCallback::State : std::enable_shared_from_this<State> {
  Run run;
  Duration callback_time;
  double jitter;
  Site site;
  IOLoop* loop = nullptr;
  TimeoutHandle timeout;
  TimePoint next_timeout;
  bool running = false;
  std::uint64_t generation = 0;  // bumped by start(), so a stale run cannot reschedule
  std::uint64_t skipped = 0;

  void fire(std::uint64_t gen) {
    if (!running || gen != generation) return;
    run([self = shared_from_this(), gen] { self->schedule_next(gen); });
  }

  void schedule_next(std::uint64_t gen) {
    if (!running || gen != generation) return;
    update_next(loop->time());
    auto tick = [weak = weak_from_this(), gen] {
      if (auto self = weak.lock()) self->fire(gen);
    };
    // Named, so logs and traces show the label given with named().
    timeout =
        loop->call_at(next_timeout, Named<decltype(tick)>{site.label, std::move(tick)}, site.where);
  }

  // Tornado's _update_next: the next deadline on the original grid, skipping
  // the ticks that are already past.
  void update_next(TimePoint now) {
    Duration period = callback_time;
    if (jitter != 0) {
      thread_local std::mt19937_64 random{std::random_device{}()};
      double factor = 1 + jitter * (std::uniform_real_distribution<double>(0, 1)(random) - 0.5);
      period = std::chrono::duration_cast<Duration>(period * factor);
    }
    if (next_timeout <= now) {
      auto missed = static_cast<std::uint64_t>((now - next_timeout) / period);
      skipped += missed;
      next_timeout += period * static_cast<std::int64_t>(missed + 1);
    } else {
      next_timeout += period;  // the clock moved back: still advance
    }
  }
};

PeriodicCallback::PeriodicCallback(Run run, Duration callback_time, double jitter, const Site& site)
    : state_(std::make_shared<State>()) {
  if (callback_time <= Duration::zero()) {
    throw std::invalid_argument("PeriodicCallback: callback_time must be positive");
  }
  state_->run = std::move(run);
  state_->callback_time = callback_time;
  state_->jitter = jitter;
  state_->site = site;
}

PeriodicCallback::~PeriodicCallback() { stop(); }

void PeriodicCallback::start() {
  State& s = *state_;
  if (s.running) return;
  s.loop = &IOLoop::current();
  s.running = true;
  ++s.generation;
  s.next_timeout = s.loop->time();
  s.schedule_next(s.generation);
}

void PeriodicCallback::stop() {
  State& s = *state_;
  s.running = false;
  if (s.loop != nullptr) s.loop->remove_timeout(s.timeout);
  s.timeout = {};
}

bool PeriodicCallback::is_running() const noexcept { return state_->running; }
std::uint64_t PeriodicCallback::skipped() const noexcept { return state_->skipped; }

}  // namespace tornado
