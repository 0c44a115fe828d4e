// IOLoop's public methods, which loop is current, scheduling, handlers and
// close(). The iteration itself is in loop_phases.cc.
#include "tornado/ioloop.h"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "loop_impl.h"
#include "tornado/log.h"
#include "trace_registry.h"

namespace tornado {
namespace {

std::atomic<PollerKind> g_poller{PollerKind::epoll};
std::atomic<std::uint16_t> g_next_loop_id{1};

thread_local IOLoop* t_current = nullptr;
thread_local IOLoop* t_running = nullptr;         // the loop inside start() on this thread
thread_local std::unique_ptr<IOLoop> t_implicit;  // made by current() when there was none

}  // namespace

namespace detail {

bool running_here(const IOLoop* loop) { return t_running == loop; }
void set_running_here(IOLoop* loop) { t_running = loop; }

LoopImpl::LoopImpl(IOLoop& owner, PollerKind poller_kind)
    : self(owner),
      id(g_next_loop_id.fetch_add(1, std::memory_order_relaxed)),
      kind(poller_kind),
      poller(make_poller(poller_kind)),
      watchdog("IOLoop#" + std::to_string(id)) {
  suspended.prev = suspended.next = &suspended;
  add_handler(
      waker.fd(), [this](int, std::uint32_t) { waker.drain(); }, IOLoop::READ,
      Site{std::source_location::current(), "waker"}, true);
  register_loop(this);
}

LoopImpl::~LoopImpl() { unregister_loop(this); }

void LoopImpl::schedule(IOLoop::Callback&& fn, const Site& site) {
  if (trace::enabled()) [[unlikely]] {
    ReadyCallback cb{std::move(fn), site};
    cb.trace_id = trace::new_object_id();
    cb.name = trace::intern(site);
    bool here = running_here(&self);
    bool same_thread = here || std::this_thread::get_id() == creator;  // e.g. before start()
    cb.via = same_thread ? trace::Via::callback : trace::Via::other_thread;
    trace(trace::Kind::callback_scheduled, cb.trace_id, cb.name, here ? running_trace_id : 0,
          static_cast<std::uint64_t>(cb.via));
    return here ? ready.push_back(std::move(cb)) : schedule_foreign(std::move(cb));
  }
  if (running_here(&self)) [[likely]] {
    ready.emplace_back(std::move(fn), site);
  } else {
    schedule_foreign({std::move(fn), site});
  }
}

void LoopImpl::schedule_foreign(ReadyCallback cb) {
  std::lock_guard lock(foreign_mutex);
  if (closed.load(std::memory_order_relaxed)) return;  // dropped, as Tornado does after close
  bool was_empty = foreign.empty();
  foreign.push_back(std::move(cb));
  foreign_pending.store(true, std::memory_order_release);
  // Wake under the lock: the loop cannot take this callback (which may stop
  // it, and its owner then destroy it) until this thread is done with the waker.
  if (was_empty) waker.wake();
}

void LoopImpl::schedule_from_signal(IOLoop::Callback fn, const Site& site) noexcept {
  if (closed.load(std::memory_order_relaxed)) return;
  if (signals.push(std::move(fn), site)) waker.wake();
}

void LoopImpl::add_handler(int fd, IOLoop::Handler fn, std::uint32_t mask, const Site& site,
                           bool internal, bool owned) {
  if (handlers.find(fd) != nullptr) {
    throw std::logic_error("IOLoop::add_handler: fd " + std::to_string(fd) +
                           " already has a handler; call remove_handler first");
  }
  HandlerRecord record{std::move(fn), site, mask | IOLoop::ERROR, 0, 0, internal, owned};
  if (trace::enabled()) record.name = trace::intern(site);
  HandlerRecord& r = handlers.insert(fd, std::move(record));
  try {
    poller->add(fd, r.events, HandlerTable::token(fd, r.generation));
  } catch (...) {
    handlers.retire(fd);
    handlers.clear_retired();
    throw;
  }
  trace(trace::Kind::handler_added, static_cast<std::uint64_t>(fd), r.name, r.events);
}

void LoopImpl::destroy_suspended() {
  while (suspended.next != &suspended) {
    SuspendedNode* node = suspended.next;
    std::coroutine_handle<> handle = node->handle;
    node->unlink();
    handle.destroy();  // runs the frame's destructors; its own node is already unlinked
  }
}

void LoopImpl::close(bool all_fds) {
  {
    std::lock_guard lock(foreign_mutex);
    closed.store(true, std::memory_order_relaxed);
  }
  // Workers may still be finishing jobs whose results would come back here;
  // wait for them now, while the loop's memory is still valid.
  default_executor.reset();
  destroy_suspended();
  ready.clear();
  batch.clear();
  foreign.clear();
  IOLoop::Callback fn;
  Site site;
  while (signals.pop(fn, site)) fn.reset();
  timers.clear();
  // An owner that closes its own fd (a stream) is asked to; closing the fd
  // here too would close it twice, the second time perhaps someone else's.
  if (all_fds) {
    handlers.for_each_user([](int fd, HandlerRecord& r) {
      if (r.owned) {
        r.fn(fd, kCloseOwnedFd);  // may remove the handler: r is kept alive until clear()
      } else {
        ::close(fd);
      }
    });
  }
  handlers.clear();
  trace(trace::Kind::loop_closed, 0);
}

void SuspendedNode::link(IOLoop* owner, std::coroutine_handle<> h) {
  if (owner == nullptr) owner = &IOLoop::current();
  LoopImpl& impl = *owner->impl_;
  handle = h;
  prev = &impl.suspended;
  next = impl.suspended.next;
  next->prev = this;
  prev->next = this;
}

void SuspendedNode::unlink() noexcept {
  if (prev == nullptr || prev == this) return;  // not linked, or the loop's empty sentinel
  prev->next = next;
  next->prev = prev;
  prev = next = nullptr;
}

IOLoop* current_loop_or_null() { return t_current; }

void schedule(IOLoop* loop, Function<void()> fn, const Site& site) {
  if (loop == nullptr) loop = &IOLoop::current();
  loop->schedule(std::move(fn), site);
}

std::uint16_t trace_loop_id(IOLoop* loop) { return loop != nullptr ? loop->id() : 0; }

void log_unretrieved_exception(const std::exception_ptr& error, const Site& site) {
  log::error("Future exception was never retrieved (future of " + site.describe() +
             "): " + log::describe(error));
}

const char* resume_label() {
  static const char* label = intern_label("coroutine resume");
  return label;
}

const Site& coroutine_site() {
  static const Site site{std::source_location::current(), intern_label("coroutine")};
  return site;
}

}  // namespace detail

// ---- IOLoop ----------------------------------------------------------------

IOLoop::IOLoop(PollerKind poller)
    : impl_((trace::detail::start_from_environment(),
             std::make_unique<detail::LoopImpl>(*this, poller))) {
  if (t_current == nullptr) t_current = this;
}

IOLoop::~IOLoop() {
  if (!impl_->closed.load(std::memory_order_relaxed)) close(false);
  if (t_current == this) t_current = nullptr;
}

void IOLoop::configure(PollerKind poller) { g_poller.store(poller, std::memory_order_relaxed); }
PollerKind IOLoop::configured_poller() { return g_poller.load(std::memory_order_relaxed); }

IOLoop& IOLoop::current() { return *current(true); }

IOLoop* IOLoop::current(bool instance) {
  if (t_current == nullptr && instance) {
    // Reuse the thread's implicit loop if there is one: someone may still
    // hold a reference to it.
    if (!t_implicit) t_implicit = std::make_unique<IOLoop>();
    t_current = t_implicit.get();
  }
  return t_current;
}

IOLoop& IOLoop::instance() { return current(); }
void IOLoop::make_current() { t_current = this; }
void IOLoop::install() { make_current(); }
void IOLoop::clear_current() { t_current = nullptr; }

void IOLoop::start() { impl_->start(); }

void IOLoop::stop() { impl_->stopping = true; }

void IOLoop::close(bool all_fds) {
  if (impl_->running) throw std::logic_error("IOLoop::close: the loop is running; stop() it first");
  if (impl_->closed.load(std::memory_order_relaxed)) return;
  impl_->close(all_fds);
  if (t_current == this) t_current = nullptr;
}

void IOLoop::check_can_start() const { impl_->check_can_start(); }

bool IOLoop::run_until_stopped(std::optional<Duration> timeout) {
  bool timed_out = false;
  TimeoutHandle timer;
  if (timeout) {
    timer = call_later(*timeout, named("run_sync timeout", [this, &timed_out] {
      timed_out = true;
      stop();
    }));
  }
  start();
  remove_timeout(timer);
  return timed_out;
}

void IOLoop::schedule(Callback fn, const Site& site) { impl_->schedule(std::move(fn), site); }

void IOLoop::schedule_from_signal(Callback fn, const Site& site) noexcept {
  impl_->schedule_from_signal(std::move(fn), site);
}

TimeoutHandle IOLoop::add_timer(TimePoint when, Callback fn, const Site& site) {
  if (impl_->closed.load(std::memory_order_relaxed)) return {};
  std::uint64_t trace_id = trace::new_object_id();
  std::uint32_t name = trace_id != 0 ? trace::intern(site) : 0;
  std::int64_t deadline = when.time_since_epoch().count();
  auto id = impl_->timers.add(deadline, std::move(fn), site, trace_id, name);
  impl_->trace(trace::Kind::timer_added, trace_id, name, static_cast<std::uint64_t>(deadline),
               impl_->running_trace_id);
  return {id.slot, id.seq};
}

void IOLoop::remove_timeout(TimeoutHandle handle) {
  if (!handle) return;
  if (auto trace_id = impl_->timers.cancel({handle.slot_, handle.seq_}); trace_id && *trace_id) {
    impl_->trace(trace::Kind::timer_cancelled, *trace_id);
  }
}

void IOLoop::add_handler_impl(int fd, Handler handler, std::uint32_t events, const Site& site) {
  impl_->add_handler(fd, std::move(handler), events, site, false);
}

void detail::add_owned_handler(IOLoop& loop, int fd, IOLoop::Handler handler, std::uint32_t events,
                               const Site& site) {
  loop.impl_->add_handler(fd, std::move(handler), events, site, false, true);
}

void IOLoop::update_handler(int fd, std::uint32_t events) {
  detail::HandlerRecord* r = impl_->handlers.find(fd);
  if (r == nullptr || r->internal) {
    throw std::logic_error("IOLoop::update_handler: fd " + std::to_string(fd) +
                           " has no handler; call add_handler first");
  }
  r->events = events | ERROR;
  impl_->poller->modify(fd, r->events, detail::HandlerTable::token(fd, r->generation));
  impl_->trace(trace::Kind::handler_updated, static_cast<std::uint64_t>(fd), r->name, r->events);
}

void IOLoop::remove_handler(int fd) {
  detail::HandlerRecord* r = impl_->handlers.find(fd);
  if (r == nullptr || r->internal) return;
  impl_->poller->remove(fd);
  impl_->trace(trace::Kind::handler_removed, static_cast<std::uint64_t>(fd), r->name);
  impl_->handlers.retire(fd);
}

Executor& IOLoop::executor_or_default(Executor* executor) {
  if (executor != nullptr) return *executor;
  if (!impl_->default_executor) {
    std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
    impl_->default_executor =
        std::make_shared<ThreadPoolExecutor>(std::min<std::size_t>(32, cpus + 4));
  }
  return *impl_->default_executor;
}

void IOLoop::set_default_executor(std::shared_ptr<Executor> executor) {
  impl_->default_executor = std::move(executor);
}

std::uint64_t IOLoop::executor_job_submitted(const Site& site) {
  std::uint64_t job = trace::new_object_id();
  if (job != 0) impl_->trace(trace::Kind::executor_submitted, job, trace::intern(site));
  return job;
}

void IOLoop::executor_job_finished(std::uint64_t job, std::uint64_t ran_ns) {
  if (job != 0) impl_->trace(trace::Kind::executor_finished, job, 0, ran_ns);
}

void IOLoop::set_blocking_log_threshold(Duration threshold) {
  impl_->blocking_threshold = threshold;
  if (impl_->running) {  // restart the watchdog with the new threshold
    impl_->watchdog.stop();
    impl_->watchdog.start(threshold);
  }
}

IOLoop::Stats IOLoop::stats() const {
  Stats s;
  {
    std::lock_guard lock(impl_->foreign_mutex);
    s.callbacks = impl_->ready.size() + impl_->foreign.size();
  }
  s.timers = impl_->timers.live();
  s.timer_heap = impl_->timers.heap_size();
  s.handlers = impl_->handlers.size();
  s.suspended = 0;  // counted here rather than kept: every coroutine's frame holds a node
  for (auto* n = impl_->suspended.next; n != &impl_->suspended; n = n->next) ++s.suspended;
  s.iterations = impl_->iterations;
  return s;
}

std::string IOLoop::describe() const {
  Stats s = stats();
  const char* state = impl_->closed ? "closed" : impl_->running ? "running" : "idle";
  return log::cat("IOLoop#", id(), " (", impl_->poller ? impl_->poller->name() : "no poller", ", ",
                  state, "): ", s.callbacks, " callbacks, ", s.timers, " timers (", s.timer_heap,
                  " in heap), ", s.handlers, " handlers, ", s.suspended, " suspended coroutines, ",
                  s.iterations, " iterations");
}

std::uint16_t IOLoop::id() const noexcept { return impl_->id; }

}  // namespace tornado
