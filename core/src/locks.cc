#include "tornado/locks.h"

#include "tornado/log.h"

namespace tornado {

using trace::Kind;

namespace {
std::string count_of(std::size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}
}  // namespace

using trace::SyncKind;
using trace::WaitKind;

// ---- Condition --------------------------------------------------------------

Condition::Condition(std::string name)
    : identity_(SyncKind::condition, std::move(name), 0), waiters_(identity_, WaitKind::notify) {}

Condition::Wait Condition::wait(Deadline timeout, std::source_location where) {
  return Wait(waiters_, std::move(timeout), where);
}

void Condition::notify(std::size_t n) { waiters_.wake_oldest(n); }

void Condition::notify_all() { waiters_.wake_oldest(waiters_.size()); }

std::string Condition::describe() const {
  return log::cat(identity_.title(), " (", count_of(waiters_.size(), "waiter"), ")");
}

// ---- Event ------------------------------------------------------------------

Event::Event(std::string name)
    : identity_(SyncKind::event, std::move(name), 0), waiters_(identity_, WaitKind::set) {
  identity_.report_value(this, [](const void* self) -> std::uint64_t {
    return static_cast<const Event*>(self)->value_ ? 1 : 0;
  });
}

void Event::Wait::await_resume() {
  node.finish();
  throw_if_timed_out("wait()");
}

void Event::set() {
  if (value_) return;
  value_ = true;
  identity_.trace(Kind::event_set);
  waiters_.wake_oldest(waiters_.size());
}

void Event::clear() {
  if (!value_) return;
  value_ = false;
  identity_.trace(Kind::event_cleared);
}

Event::Wait Event::wait(Deadline timeout, std::source_location where) {
  return Wait(*this, std::move(timeout), where);
}

std::string Event::describe() const {
  return log::cat(identity_.title(), " (", value_ ? "set" : "unset", ", ",
                  count_of(waiters_.size(), "waiter"), ")");
}

// ---- Semaphore ----------------------------------------------------------------

Semaphore::Semaphore(int value, std::string name)
    : Semaphore(value, std::move(name), SyncKind::semaphore, false) {}

Semaphore::Semaphore(int value, std::string name, SyncKind kind, bool bounded)
    : identity_(kind, std::move(name), static_cast<std::uint64_t>(value < 0 ? 0 : value)),
      waiters_(identity_, WaitKind::acquire),
      value_(value) {
  identity_.report_value(this, [](const void* self) -> std::uint64_t {
    return static_cast<std::uint64_t>(static_cast<const Semaphore*>(self)->value_);
  });
  if (value < 0) {
    throw ValueError(identity_.title() + ": initial value must be >= 0, not " +
                     std::to_string(value));
  }
  if (bounded) bound_ = value;
}

bool Semaphore::Acquire::await_ready() {
  if (sem->value_ == 0 || !sem->waiters_.empty()) return false;
  --sem->value_;
  holder = trace::new_object_id();
  if (holder != 0) {
    sem->identity_.trace(Kind::sync_acquired, holder, static_cast<std::uint64_t>(sem->value_),
                         trace::intern(site));
  }
  return true;
}

Semaphore::Guard Semaphore::Acquire::await_resume() {
  node.finish();
  throw_if_timed_out("acquire()");
  if (woken()) {
    holder = node.id;
    if (holder != 0) {
      sem->identity_.trace(Kind::sync_acquired, holder, static_cast<std::uint64_t>(sem->value_),
                           trace::intern(site));
    }
  }
  return Guard(sem, holder);
}

Semaphore::Acquire Semaphore::acquire(Deadline timeout, std::source_location where) {
  return Acquire(*this, std::move(timeout), where);
}

void Semaphore::release_holder(std::uint64_t holder) {
  if (bound_ && value_ >= *bound_) {
    throw ValueError(identity_.title() + ": released too many times (value " +
                     std::to_string(value_) + " is already its initial value)");
  }
  detail::WaitNode* oldest = waiters_.front();
  if (oldest == nullptr) ++value_;
  // Traced before the wake it causes, as Event::set() and the queues' hand-offs are.
  identity_.trace(Kind::sync_released, holder, static_cast<std::uint64_t>(value_));
  if (oldest != nullptr) waiters_.wake(*oldest);  // the permit goes to the waiter; value_ stays
}

std::string Semaphore::describe() const {
  return log::cat(identity_.title(), " (value ", value_, ", ", count_of(waiters_.size(), "waiter"),
                  ")");
}

Semaphore::Guard& Semaphore::Guard::operator=(Guard&& other) noexcept {
  if (this != &other) {
    Guard old(std::exchange(sem_, std::exchange(other.sem_, nullptr)), holder_);  // released here
    holder_ = other.holder_;
  }
  return *this;
}

Semaphore::Guard::~Guard() {
  try {
    release();
  } catch (const std::exception& e) {
    log::error(std::string("Semaphore::Guard: ") + e.what());
  }
}

void Semaphore::Guard::release() {
  if (Semaphore* sem = std::exchange(sem_, nullptr)) sem->release_holder(holder_);
}

BoundedSemaphore::BoundedSemaphore(int value, std::string name)
    : Semaphore(value, std::move(name), SyncKind::bounded_semaphore, true) {}

// ---- Lock -----------------------------------------------------------------------

Lock::Lock(std::string name) : sem_(1, std::move(name), SyncKind::lock, true) {}

void Lock::release() {
  if (!locked()) throw UsageError(sem_.identity_.title() + ": release() of an unlocked lock");
  sem_.release();
}

std::string Lock::describe() const {
  return log::cat(sem_.identity_.title(), " (", locked() ? "locked" : "unlocked", ", ",
                  count_of(sem_.waiters(), "waiter"), ")");
}

}  // namespace tornado
