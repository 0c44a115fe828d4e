// Specification of the model (model.h) on traces recorded from real programs
// run here: coroutines contending a Lock, a Condition and a Queue, a callback
// that blocks while timers are due and a pipe is ready, a periodic callback
// that falls behind, cancelled timers, the cause chain of a coroutine's
// resumption, and a late attach that starts from snapshot_* events.
#include "model/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "model/names.h"
#include "model/state_json.h"
#include "recording.h"
#include "tornado/concurrent.h"
#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/locks.h"
#include "tornado/queues.h"
#include "tornado/testing.h"

namespace tornado::viz {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::nth_event;
using testing::Recording;
using testing::sync_titled;
using testing::waiter_sites;
using trace::Kind;

constexpr Duration kTimeout = 10s;

template <class... F>
Future<void> all_of(F... futures) {
  return gen::multi(std::vector<Future<void>>{futures...});
}

// ---- Programs ---------------------------------------------------------------
// Each waits at its own line, so the waiter queue can be read by site.

Future<void> holder(Lock& lock, Event& go) {
  Lock::Guard guard = co_await lock.acquire();
  co_await go.wait();
}
Future<void> reader(Lock& lock, std::vector<std::string>& order) {
  Lock::Guard guard = co_await lock.acquire();
  order.push_back("reader");
}
Future<void> writer(Lock& lock, std::vector<std::string>& order) {
  Lock::Guard guard = co_await lock.acquire();
  order.push_back("writer");
}
Future<void> auditor(Lock& lock, std::vector<std::string>& order) {
  Lock::Guard guard = co_await lock.acquire();
  order.push_back("auditor");
}

Future<void> consumer(Queue<int>& queue, std::vector<int>& got) {
  got.push_back(co_await queue.get());
  queue.task_done();
}

Future<void> waits_for_notify(Condition& cond) { (void)co_await cond.wait(); }

std::uint64_t sync_id(const Model& model, std::string_view title) {
  auto made = nth_event(model, Kind::sync_created, 0,
                        [&](const trace::Event& e) { return model.string(e.name) == title; });
  return made ? model.event(*made).object : 0;
}

// The index just after the n-th event of `kind` on sync object `id`.
std::uint64_t after_nth_on(const Model& model, Kind kind, std::uint64_t id, std::size_t n) {
  auto at = nth_event(model, kind, n, [id](const trace::Event& e) { return e.object == id; });
  EXPECT_TRUE(at.has_value()) << trace::kind_name(kind) << " #" << n << " not found";
  return at ? *at + 1 : 0;
}

// ---- Waiters ----------------------------------------------------------------

TEST(ModelOnARecordedProgram, LockWaiterQueueListsWaitersInArrivalOrderWithTheirSites) {
  std::vector<std::string> order;
  Recording rec([&] {
    Lock lock("db");
    Event go("go");
    IOLoop loop;
    loop.run_sync(
        [&]() -> Future<void> {
          Future<void> h = holder(lock, go);
          Future<void> r = reader(lock, order);
          Future<void> w = writer(lock, order);
          Future<void> a = auditor(lock, order);
          co_await gen::moment;
          go.set();
          co_await all_of(h, r, w, a);
        },
        kTimeout);
  });
  ASSERT_THAT(order, ElementsAre("reader", "writer", "auditor"));
  Model& model = rec.model;
  const std::uint64_t lock = sync_id(model, "Lock 'db'");
  ASSERT_NE(lock, 0u);

  model.seek(after_nth_on(model, Kind::waiter_enqueued, lock, 2));
  const SyncObject* obj = sync_titled(model, "Lock 'db'");
  ASSERT_NE(obj, nullptr);
  EXPECT_EQ(obj->kind, trace::SyncKind::lock);
  EXPECT_EQ(obj->value, 0u) << "locked";
  EXPECT_EQ(obj->holders.size(), 1u);
  EXPECT_THAT(waiter_sites(model, *obj),
              ElementsAre(HasSubstr("reader"), HasSubstr("writer"), HasSubstr("auditor")));

  // The holder's release hands the permit to the oldest waiter, which holds it
  // in flight until it resumes.
  model.seek(after_nth_on(model, Kind::waiter_woken, lock, 0));
  obj = sync_titled(model, "Lock 'db'");
  ASSERT_NE(obj, nullptr);
  EXPECT_TRUE(obj->holders.empty());
  ASSERT_EQ(obj->in_flight.size(), 1u);
  EXPECT_EQ(obj->in_flight[0], obj->last_handoff.waiter);
  EXPECT_EQ(obj->last_handoff.cause, Kind::sync_released);
  EXPECT_THAT(waiter_sites(model, *obj), ElementsAre(HasSubstr("writer"), HasSubstr("auditor")));

  // At the end of the recording the lock is gone (destroyed with the program).
  model.follow(true);
  EXPECT_EQ(sync_titled(model, "Lock 'db'"), nullptr);
  model.seek(*nth_event(model, Kind::sync_destroyed, 0,
                        [&](const trace::Event& e) { return e.object == lock; }));
  obj = sync_titled(model, "Lock 'db'");
  ASSERT_NE(obj, nullptr);
  EXPECT_EQ(obj->value, 1u) << "unlocked";
  EXPECT_TRUE(obj->holders.empty());
  EXPECT_TRUE(obj->in_flight.empty());
  EXPECT_TRUE(obj->waiters.empty());
}

TEST(ModelOnARecordedProgram, ConditionShowsTimedOutWaiterAndWakesTheOldestFirst) {
  Recording rec([&] {
    Condition cond("cv");
    IOLoop loop;
    loop.run_sync(
        [&]() -> Future<void> {
          Future<bool> first = to_future(cond.wait());
          Future<bool> impatient = to_future(cond.wait(1ms));
          Future<bool> last = to_future(cond.wait());
          co_await gen::sleep(20ms);
          cond.notify(1);
          EXPECT_TRUE(co_await first);
          EXPECT_FALSE(co_await impatient);
          cond.notify(1);
          EXPECT_TRUE(co_await last);
        },
        kTimeout);
  });
  Model& model = rec.model;
  const std::uint64_t cv = sync_id(model, "Condition 'cv'");
  ASSERT_NE(cv, 0u);
  model.seek(after_nth_on(model, Kind::waiter_enqueued, cv, 2));
  const SyncObject* obj = sync_titled(model, "Condition 'cv'");
  ASSERT_NE(obj, nullptr);
  ASSERT_EQ(obj->waiters.size(), 3u);
  const std::uint64_t first = obj->waiters[0].id, impatient = obj->waiters[1].id,
                      last = obj->waiters[2].id;
  for (const Waiter& w : obj->waiters) EXPECT_EQ(w.kind, trace::WaitKind::notify);

  model.seek(after_nth_on(model, Kind::waiter_timed_out, cv, 0));
  obj = sync_titled(model, "Condition 'cv'");
  ASSERT_NE(obj, nullptr);
  ASSERT_EQ(obj->timed_out.size(), 1u);
  EXPECT_EQ(obj->timed_out[0].id, impatient);
  ASSERT_EQ(obj->waiters.size(), 2u);
  EXPECT_EQ(obj->waiters[0].id, first);
  EXPECT_EQ(obj->waiters[1].id, last);

  model.seek(after_nth_on(model, Kind::waiter_woken, cv, 0));
  obj = sync_titled(model, "Condition 'cv'");
  ASSERT_NE(obj, nullptr);
  EXPECT_EQ(obj->last_handoff.waiter, first);
  ASSERT_EQ(obj->waiters.size(), 1u);
  EXPECT_EQ(obj->waiters[0].id, last);
  EXPECT_EQ(obj->timed_out.size(), 1u) << "kept on display until it ages out";
}

TEST(ModelOnARecordedProgram, QueueShowsGettersThenSizeAndUnfinishedTasks) {
  std::vector<int> got;
  Recording rec([&] {
    Queue<int> queue(0, "jobs");
    IOLoop loop;
    loop.run_sync(
        [&]() -> Future<void> {
          Future<void> c1 = consumer(queue, got);
          Future<void> c2 = consumer(queue, got);
          co_await gen::moment;
          queue.put_nowait(1);
          queue.put_nowait(2);
          queue.put_nowait(3);
          co_await all_of(c1, c2);
        },
        kTimeout);
  });
  ASSERT_THAT(got, ElementsAre(1, 2));
  Model& model = rec.model;
  const std::uint64_t jobs = sync_id(model, "Queue 'jobs'");
  ASSERT_NE(jobs, 0u) << "titles: the first sync_created is "
                      << model.string(model.event(*nth_event(model, Kind::sync_created)).name);
  model.seek(after_nth_on(model, Kind::waiter_enqueued, jobs, 1));
  const SyncObject* obj = sync_titled(model, "Queue 'jobs'");
  ASSERT_NE(obj, nullptr);
  ASSERT_EQ(obj->waiters.size(), 2u);
  EXPECT_EQ(obj->waiters[0].kind, trace::WaitKind::get);
  EXPECT_THAT(waiter_sites(model, *obj), ElementsAre(HasSubstr("consumer"), HasSubstr("consumer")));

  // The third put finds no getter: it stays in the queue.
  model.seek(after_nth_on(model, Kind::queue_put, jobs, 2));
  obj = sync_titled(model, "Queue 'jobs'");
  ASSERT_NE(obj, nullptr);
  EXPECT_TRUE(obj->waiters.empty());
  EXPECT_EQ(obj->value, 1u) << "size";
  EXPECT_EQ(obj->unfinished, 3u);
}

// ---- Blocking callbacks and their victims -------------------------------------

TEST(ModelOnARecordedProgram, BlockingCallbackNamesTheLateTimersTheWaitingFdAndTheDeferredWaiter) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int handled = 0, fired = 0;
  Recording rec([&] {
    tornado::testing::LogCapture quiet;  // the blocking warnings
    Condition cond("cv");
    IOLoop loop;
    loop.set_blocking_log_threshold(50ms);
    loop.add_handler(fds[0],
                     named("pipe reader",
                           [&](int fd, std::uint32_t) {
                             char c;
                             if (::read(fd, &c, 1) == 1) ++handled;
                           }),
                     IOLoop::READ);
    loop.run_sync(
        [&]() -> Future<void> {
          loop.call_later(30ms, named("early tick", [&] { ++fired; }));
          loop.call_later(40ms, named("second tick", [&] { ++fired; }));
          TimeoutHandle far = loop.call_later(1h, named("far tick", [] {}));
          Future<void> waiting = waits_for_notify(cond);
          loop.add_callback(named("blocker", [&] {
            EXPECT_EQ(::write(fds[1], "x", 1), 1);
            cond.notify();
            std::this_thread::sleep_for(300ms);
          }));
          co_await waiting;
          while (handled == 0 || fired < 2) co_await gen::sleep(1ms);
          loop.remove_timeout(far);
        },
        kTimeout);
    loop.remove_handler(fds[0]);
  });
  ::close(fds[0]);
  ::close(fds[1]);

  const Model& model = rec.model;
  const auto& reports = model.state().callbacks.blocking;
  ASSERT_EQ(reports.size(), 1u);
  const Blocking& report = reports[0];
  EXPECT_THAT(std::string(model.string(report.run.name)), HasSubstr("blocker"));
  EXPECT_GE(report.run.duration_ns, 300'000'000u);
  EXPECT_EQ(report.threshold_ns, 50'000'000u);

  std::vector<std::string> late;
  for (const LateTimer& t : report.late_timers) {
    late.emplace_back(model.string(t.name));
    EXPECT_GT(t.fired_ns, t.deadline_ns) << "fired late";
  }
  EXPECT_THAT(late, ElementsAre(HasSubstr("early tick"), HasSubstr("second tick")));

  ASSERT_EQ(report.waiting_fds.size(), 1u);
  EXPECT_EQ(report.waiting_fds[0].fd, fds[0]);
  EXPECT_EQ(report.waiting_fds[0].events & IOLoop::READ, IOLoop::READ);

  auto enqueued = nth_event(model, Kind::waiter_enqueued, 0, [&](const trace::Event& e) {
    return e.object == sync_id(model, "Condition 'cv'");
  });
  ASSERT_TRUE(enqueued.has_value());
  ASSERT_EQ(report.deferred_waiters.size(), 1u);
  EXPECT_EQ(report.deferred_waiters[0].waiter, model.event(*enqueued).a);

  // The run itself is flagged in the recent runs.
  const auto& recent = model.state().callbacks.recent;
  std::size_t flagged = 0;
  for (std::size_t i = 0; i < recent.size(); ++i) flagged += recent[i].blocking;
  EXPECT_EQ(flagged, 1u);
}

// ---- Timers -------------------------------------------------------------------

TEST(ModelOnARecordedProgram, PeriodicCallbackSkippedTicksMatchWhatItReports) {
  std::uint64_t skipped = 0;
  Recording rec([&] {
    tornado::testing::LogCapture quiet;
    IOLoop loop;
    int ticks = 0;
    PeriodicCallback pc(named("heartbeat",
                              [&] {
                                if (++ticks == 3) std::this_thread::sleep_for(45ms);
                                if (ticks == 6) loop.stop();
                              }),
                        10ms);
    pc.start();
    loop.call_later(kTimeout, [&] { loop.stop(); });
    loop.start();
    skipped = pc.skipped();
  });
  ASSERT_GT(skipped, 0u) << "a 45 ms tick makes a 10 ms periodic skip ticks";
  const auto& periodic = rec.model.state().timers.periodic;
  ASSERT_EQ(periodic.size(), 1u);
  EXPECT_THAT(std::string(rec.model.string(periodic[0].name)), HasSubstr("heartbeat"));
  EXPECT_EQ(periodic[0].interval_ns, 10'000'000u);
  EXPECT_EQ(periodic[0].skipped, skipped);
  EXPECT_EQ(periodic[0].ticks, 6u);
}

TEST(ModelOnARecordedProgram, CancelledTimersStayAsTombstonesSortedByDeadline) {
  Recording rec([&] {
    IOLoop loop;
    loop.run_sync(
        [&]() -> Future<void> {
          std::vector<TimeoutHandle> handles;
          for (int i = 0; i < 6; ++i) {
            handles.push_back(loop.call_later(std::chrono::hours(6 - i), named("later", [] {})));
          }
          for (int i = 0; i < 6; i += 2) loop.remove_timeout(handles[static_cast<std::size_t>(i)]);
          co_await gen::moment;
          for (int i = 1; i < 6; i += 2) loop.remove_timeout(handles[static_cast<std::size_t>(i)]);
        },
        kTimeout);
  });
  Model& model = rec.model;
  model.seek(*nth_event(model, Kind::timer_cancelled, 2) + 1);
  std::vector<const Timer*> later;
  for (const Timer* t : model.state().timers.by_deadline()) {
    if (model.string(t->name).find("later") != std::string_view::npos) later.push_back(t);
  }
  ASSERT_EQ(later.size(), 6u);
  for (std::size_t i = 1; i < later.size(); ++i) {
    EXPECT_LT(later[i - 1]->deadline_ns, later[i]->deadline_ns);
  }
  // Added 6h, 5h, ... 1h: cancelled were the 6h, 4h and 2h ones.
  EXPECT_THAT(std::vector<bool>({later[0]->cancelled, later[1]->cancelled, later[2]->cancelled,
                                 later[3]->cancelled, later[4]->cancelled, later[5]->cancelled}),
              ElementsAre(false, true, false, true, false, true));
  EXPECT_EQ(model.state().timers.tombstones, 3u);
  // Closing the loop frees its heap, tombstones and all.
  model.follow(true);
  EXPECT_TRUE(model.state().timers.pending.empty());
  EXPECT_EQ(model.state().timers.tombstones, 0u);
}

// ---- The loop ---------------------------------------------------------------------

TEST(ModelOnARecordedProgram, IterationsShowTheirPhasesAndWhyThePollTimeoutWasChosen) {
  Recording rec([&] {
    IOLoop loop;
    loop.run_sync(
        [&]() -> Future<void> {
          co_await gen::sleep(5ms);  // nothing else pending: poll until the timer
          loop.add_callback([] {});  // then a callback scheduled from a callback
        },
        kTimeout);
  });
  const Loop& loop = rec.model.state().loops.begin()->second;
  ASSERT_GE(loop.iterations.size(), 2u);
  EXPECT_FALSE(loop.running) << "start() returned";
  std::size_t next_timer = 0, with_timer_run = 0;
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < loop.iterations.size(); ++i) {
    const Iteration& it = loop.iterations[i];
    EXPECT_GT(it.number, previous) << "in order";
    previous = it.number;
    EXPECT_GE(it.end_ns, it.begin_ns);
    EXPECT_EQ(it.callbacks_run, it.ready_callbacks) << "iteration " << it.number;
    EXPECT_EQ(it.timers_run, it.due_timers) << "iteration " << it.number;
    if (it.reason == PollReason::next_timer) {
      ++next_timer;
      EXPECT_GT(it.poll_timeout_ns, 0u);
      EXPECT_LE(it.poll_timeout_ns, 6'000'000u) << "5 ms rounded up to whole ms";
    }
    with_timer_run += it.timers_run;
  }
  EXPECT_GE(next_timer, 1u);
  EXPECT_GE(with_timer_run, 1u) << "the sleep's timer ran";
  EXPECT_EQ(loop.ready.size(), 0u);
  EXPECT_FALSE(loop.utilization.empty());
}

// ---- Why did this run? --------------------------------------------------------

TEST(ModelOnARecordedProgram, CauseChainOfAResumptionGoesThroughNotifyAndTheTimerToTheOrigin) {
  Recording rec([&] {
    Condition cond("cv");
    IOLoop loop;
    loop.run_sync(
        [&]() -> Future<void> {
          Future<void> waiting = waits_for_notify(cond);
          loop.call_later(1ms, named("notifier", [&] { cond.notify(); }));
          co_await waiting;
        },
        kTimeout);
  });
  const Model& model = rec.model;
  const std::uint64_t cv = sync_id(model, "Condition 'cv'");
  auto woken = nth_event(model, Kind::waiter_woken, 0,
                         [cv](const trace::Event& e) { return e.object == cv; });
  ASSERT_TRUE(woken.has_value());
  auto resumed = nth_event(model, Kind::callback_scheduled, 0, [&](const trace::Event& e) {
    return model.string(e.name).find("coroutine resume") != std::string_view::npos;
  });
  ASSERT_TRUE(resumed.has_value());
  const CallbackRun* run = nullptr;
  const auto& recent = model.state().callbacks.recent;
  for (std::size_t i = 0; i < recent.size(); ++i) {
    if (recent[i].object == model.event(*resumed).object) run = &recent[i];
  }
  ASSERT_NE(run, nullptr);

  const std::vector<CauseLink> chain = model.cause_chain(*run);
  ASSERT_GE(chain.size(), 4u);
  EXPECT_EQ(chain[0].kind, CauseKind::scheduled);
  EXPECT_EQ(chain[1].kind, CauseKind::trigger);
  EXPECT_EQ(chain[1].event, Kind::waiter_woken);
  EXPECT_EQ(chain[1].index, *woken);
  EXPECT_EQ(model.string(chain[1].name), "Condition 'cv'");
  EXPECT_EQ(chain[2].kind, CauseKind::timer);
  EXPECT_THAT(std::string(model.string(chain[2].name)), HasSubstr("notifier"));
  EXPECT_THAT(std::string(model.string(chain[3].name)), HasSubstr("run_sync"));
  EXPECT_TRUE(chain.back().kind == CauseKind::other_thread ||
              chain.back().kind == CauseKind::program)
      << name_of(chain.back().kind);
}

// ---- File descriptors -----------------------------------------------------------

TEST(ModelOnARecordedProgram, FdTableShowsInterestReadinessAndTheHandlerRunEachIteration) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int reads = 0;
  Recording rec([&] {
    IOLoop loop;
    loop.add_handler(fds[0],
                     named("pipe reader",
                           [&](int fd, std::uint32_t) {
                             char c;
                             if (::read(fd, &c, 1) == 1 && ++reads == 3) loop.stop();
                           }),
                     IOLoop::READ);
    EXPECT_EQ(::write(fds[1], "abc", 3), 3);
    loop.call_later(kTimeout, [&] { loop.stop(); });
    loop.start();
    loop.remove_handler(fds[0]);
  });
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_EQ(reads, 3);
  Model& model = rec.model;
  model.seek(*nth_event(model, Kind::handler_removed));
  const auto& table = model.state().fds.table;
  std::size_t wakers = 0;
  const Fd* pipe = nullptr;
  for (const auto& item : table) {
    wakers += item.second.kind == FdKind::waker;
    if (item.second.fd == fds[0]) pipe = &item.second;
  }
  EXPECT_EQ(wakers, 1u);
  ASSERT_NE(pipe, nullptr);
  EXPECT_TRUE(pipe->registered);
  EXPECT_EQ(pipe->interest & IOLoop::READ, IOLoop::READ);
  EXPECT_EQ(pipe->ready_count, 3u) << "level-triggered: one byte per handler call";
  EXPECT_EQ(pipe->handler_runs, 3u);
  ASSERT_EQ(pipe->cells.size(), 3u) << "one cell per iteration it was ready in";
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(pipe->cells[i].flags, IOLoop::READ | kCellHandlerRan);
  }
  const std::uint64_t key = fd_key(pipe->loop, static_cast<std::uint64_t>(fds[0]));
  model.follow(true);
  EXPECT_FALSE(model.state().fds.table.at(key).registered);
}

// ---- Time travel ----------------------------------------------------------------

// The lock program, recorded with a keyframe every 16 events.
Recording contended_lock(std::vector<std::string>& order) {
  return Recording(
      [&] {
        Lock lock("db");
        Event go("go");
        IOLoop loop;
        loop.run_sync(
            [&]() -> Future<void> {
              Future<void> h = holder(lock, go);
              Future<void> r = reader(lock, order);
              Future<void> w = writer(lock, order);
              co_await gen::sleep(2ms);
              go.set();
              co_await all_of(h, r, w);
            },
            kTimeout);
      },
      Options{16, 0});
}

TEST(ModelTimeTravel, SeekingBackwardThenForwardGivesTheSameStateAtEveryEvent) {
  std::vector<std::string> order;
  Recording rec = contended_lock(order);
  Model& model = rec.model;
  ASSERT_GT(model.end(), 64u) << "several keyframes";
  std::vector<std::string> forward;
  for (std::uint64_t i = 0; i <= model.end(); ++i) {
    model.seek(i);
    forward.push_back(state_json(model));
  }
  for (std::uint64_t i = model.end() + 1; i-- > 0;) {
    model.seek(i);
    ASSERT_EQ(state_json(model), forward[i]) << "backward to " << i;
  }
  for (std::uint64_t i = 0, j = model.end(); i < j; ++i, --j) {  // zig-zag
    model.seek(j);
    ASSERT_EQ(state_json(model), forward[j]) << "to " << j;
    model.seek(i);
    ASSERT_EQ(state_json(model), forward[i]) << "to " << i;
  }
}

// ---- Late attach ----------------------------------------------------------------

// What a program would send a reader attaching at `state`: the snapshot_*
// events for each loop (docs/trace-format.md), everything at `ts`.
std::vector<trace::Event> snapshot_of(const State& state, std::uint64_t ts) {
  std::vector<trace::Event> out;
  auto add = [&](Kind kind, std::uint16_t loop, std::uint64_t object, std::uint32_t name,
                 std::uint64_t a, std::uint64_t b) {
    out.push_back(trace::Event{ts, kind, loop, name, object, a, b});
  };
  for (const auto& [id, loop] : state.loops) {
    add(Kind::snapshot_begin, id, 0, 0, loop.current.number, 0);
    for (const ReadyCallback& c : loop.ready) {
      add(Kind::snapshot_callback, id, c.id, c.name, 0, static_cast<std::uint64_t>(c.via));
    }
    for (const Timer* t : state.timers.by_deadline()) {
      if (t->loop == id)
        add(Kind::snapshot_timer, id, t->id, t->name, t->deadline_ns, t->cancelled);
    }
    for (const auto& [key, fd] : state.fds.table) {
      if (fd.loop == id && fd.registered) {
        add(Kind::snapshot_handler, id, static_cast<std::uint64_t>(fd.fd), fd.name, fd.interest, 0);
      }
    }
    for (const auto& [sid, obj] : state.sync.objects) {
      if (obj.loop != id && !(obj.loop == 0 && id == state.loops.begin()->first)) continue;
      add(Kind::snapshot_sync, id, sid, obj.name, static_cast<std::uint64_t>(obj.kind), obj.value);
      for (const Waiter& w : obj.waiters) {
        add(Kind::snapshot_waiter, id, sid, w.site, w.id, static_cast<std::uint64_t>(w.kind));
      }
    }
    add(Kind::snapshot_end, id, 0, 0, 0, 0);
  }
  return out;
}

// What a late attach must reproduce: ready queue, timers, handlers, and each
// sync object's value and waiters; holders too once every permit taken before
// the attach was released (a snapshot does not name holders), and not times
// (a snapshot resets them).
std::string attach_view(const Model& model, bool with_holders) {
  std::string out;
  const State& s = model.state();
  for (const auto& [id, loop] : s.loops) {
    out += "loop " + std::to_string(id) + " ready:";
    for (const ReadyCallback& c : loop.ready) out += " " + std::to_string(c.id);
    out += "\n";
  }
  for (const Timer* t : s.timers.by_deadline()) {
    out += "timer " + std::to_string(t->id) + " " + std::string(model.string(t->name)) +
           (t->cancelled ? " cancelled\n" : "\n");
  }
  for (const auto& [key, fd] : s.fds.table) {
    if (fd.registered)
      out += "fd " + std::to_string(fd.fd) + " " + events_string(fd.interest) + "\n";
  }
  for (const auto& [id, obj] : s.sync.objects) {
    out += std::string(model.string(obj.name)) + " value " + std::to_string(obj.value);
    if (with_holders) {
      out += " holders";
      for (const std::uint64_t h : obj.holders) out += " " + std::to_string(h);
    }
    out += " waiters";
    for (const Waiter& w : obj.waiters) {
      out += " " + std::to_string(w.id) + "@" + std::string(model.string(w.site));
    }
    out += "\n";
  }
  return out;
}

TEST(ModelLateAttach, SnapshotEventsReproduceTheStateAndWhatFollowsApplies) {
  std::vector<std::string> order;
  Recording rec = contended_lock(order);
  Model& full = rec.model;
  const std::uint64_t lock = sync_id(full, "Lock 'db'");
  // A program snapshots between iterations: cut before an iteration_begin,
  // the first one after two coroutines wait on the held lock, and others.
  const std::uint64_t waiting = after_nth_on(full, Kind::waiter_enqueued, lock, 1);
  std::vector<std::uint64_t> cuts;
  for (std::uint64_t i = 1; i < full.end(); ++i) {
    if (full.event(i).kind == Kind::iteration_begin && (cuts.empty() || i > waiting)) {
      cuts.push_back(i);
    }
  }
  ASSERT_GE(cuts.size(), 3u);
  for (const std::uint64_t cut : {cuts[0], cuts[1], cuts[cuts.size() / 2], cuts.back()}) {
    full.seek(cut);
    const std::string at_cut = attach_view(full, false);
    const State state_at_cut = full.state();
    std::vector<trace::Event> stream = snapshot_of(state_at_cut, state_at_cut.ts_ns);
    const std::uint64_t snapshot_size = stream.size();
    stream.insert(stream.end(), rec.events.begin() + static_cast<std::ptrdiff_t>(cut),
                  rec.events.end());

    Model late(Options{16, 0});
    for (const trace::Event& e : rec.events) {
      if (e.name != 0) late.add_string(e.name, rec.sink.string(e.name));
    }
    late.add_events(stream);
    late.seek(snapshot_size);
    EXPECT_EQ(attach_view(late, false), at_cut) << "at the snapshot, cut " << cut;
    const SyncObject* attached = sync_titled(late, "Lock 'db'");
    ASSERT_NE(attached, nullptr);
    EXPECT_TRUE(attached->from_snapshot);
    // Just before the lock is destroyed every permit is back: holders agree too.
    const std::uint64_t destroyed = *nth_event(
        full, Kind::sync_destroyed, 0, [&](const trace::Event& e) { return e.object == lock; });
    full.seek(destroyed);
    late.seek(destroyed - cut + snapshot_size);
    EXPECT_EQ(attach_view(late, true), attach_view(full, true))
        << "before destruction, cut " << cut;
    full.follow(true);
    late.follow(true);
    EXPECT_EQ(attach_view(late, true), attach_view(full, true)) << "at the end, cut " << cut;
    EXPECT_EQ(late.state().observer.unknown_objects, full.state().observer.unknown_objects);
  }
}

}  // namespace
}  // namespace tornado::viz
