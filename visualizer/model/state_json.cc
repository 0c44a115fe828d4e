// [SECTION] index: helpers, loops, callbacks, timers, fds, waiters, streams,
// events, observer, entry points.
#include "model/state_json.h"

#include <sstream>

#include "model/json_writer.h"
#include "model/names.h"

namespace tornado::viz {

namespace {

using U = std::uint64_t;
constexpr std::size_t kEventsShown = 16;

// ---- [SECTION] helpers -------------------------------------------------------

struct Dump {
  JsonWriter& w;
  const Model& model;
  const State& state;

  std::string_view str(std::uint32_t id) const { return model.string(id); }
};

void write_run(Dump& d, const CallbackRun& run, std::string_view key = {}) {
  JsonWriter& w = d.w;
  w.begin_object(key);
  w.field("object", U{run.object});
  w.field("loop", U{run.loop});
  w.field("name", d.str(run.name));
  w.field("via", name_of(run.via));
  w.field("start_ns", U{run.start_ns});
  w.field("duration_ns", U{run.duration_ns});
  w.field("iteration", U{run.iteration});
  w.field("index", U{run.start_index});
  w.field("blocking", run.blocking);
  w.field("threw", run.threw);
  w.end_object();
}

// ---- [SECTION] loops ---------------------------------------------------------

void write_iteration(Dump& d, const Iteration& it, std::string_view key = {}) {
  JsonWriter& w = d.w;
  w.begin_object(key);
  w.field("number", U{it.number});
  w.field("begin_ns", U{it.begin_ns});
  w.field("end_ns", U{it.end_ns});
  w.field("ready_callbacks", U{it.ready_callbacks});
  w.field("due_timers", U{it.due_timers});
  w.field("callbacks_ns", U{it.callbacks_ns});
  w.field("timers_ns", U{it.timers_ns});
  w.field("poll_ns", U{it.poll_ns});
  w.field("handlers_ns", U{it.handlers_ns});
  w.field("poll_timeout_ns", it.poll_timeout_ns == UINT64_MAX
                                 ? std::int64_t{-1}
                                 : static_cast<std::int64_t>(it.poll_timeout_ns));
  w.field("poll_reason", name_of(it.reason));
  w.field("callbacks_run", U{it.callbacks_run});
  w.field("timers_run", U{it.timers_run});
  w.field("fds_ready", U{it.fds_ready});
  w.field("handlers_run", U{it.handlers_run});
  w.end_object();
}

void write_loop(Dump& d, const Loop& loop) {
  JsonWriter& w = d.w;
  w.begin_object();
  w.field("id", U{loop.id});
  w.field("running", loop.running);
  w.field("closed", loop.closed);
  w.field("in_iteration", loop.in_iteration);
  w.field("iterations_total", loop.iterations_total);
  write_iteration(d, loop.current, "current");
  w.begin_array("iterations");
  for (std::size_t i = 0; i < loop.iterations.size(); ++i) write_iteration(d, loop.iterations[i]);
  w.end_array();
  w.begin_array("ready");
  for (const ReadyCallback& c : loop.ready) {
    w.begin_object();
    w.field("id", U{c.id});
    w.field("name", d.str(c.name));
    w.field("via", name_of(c.via));
    w.field("scheduled_by", U{c.scheduled_by});
    w.field("scheduled_ns", U{c.scheduled_ns});
    w.end_object();
  }
  w.end_array();
  w.begin_array("utilization");
  for (std::size_t i = 0; i < loop.utilization.size(); ++i) {
    const UtilizationSlice& s = loop.utilization[i];
    w.begin_object();
    w.field("start_ns", U{s.start_ns});
    w.field("busy", static_cast<double>(s.busy_ns) / static_cast<double>(kUtilizationSliceNs));
    w.end_object();
  }
  w.end_array();
  if (loop.running_callback) {
    w.begin_object("running");
    w.field("object", U{loop.running_callback->object});
    w.field("name", d.str(loop.running_callback->name));
    w.field("via", name_of(loop.running_callback->via));
    w.field("start_ns", U{loop.running_callback->start_ns});
    w.end_object();
  }
  w.end_object();
}

void write_loops(Dump& d) {
  d.w.begin_array("loops");
  for (const auto& item : d.state.loops) write_loop(d, item.second);
  d.w.end_array();
}

// ---- [SECTION] callbacks -----------------------------------------------------

void write_blocking(Dump& d, const Blocking& b) {
  JsonWriter& w = d.w;
  w.begin_object();
  write_run(d, b.run, "run");
  w.field("threshold_ns", U{b.threshold_ns});
  w.field("index", U{b.index});
  w.begin_array("late_timers");
  for (const LateTimer& t : b.late_timers) {
    w.begin_object();
    w.field("id", U{t.id});
    w.field("name", d.str(t.name));
    w.field("deadline_ns", U{t.deadline_ns});
    w.field("fired", t.fired_ns != 0);
    w.field("late_ns", t.fired_ns > t.deadline_ns ? U{t.fired_ns - t.deadline_ns} : U{0});
    w.end_object();
  }
  w.end_array();
  w.begin_array("waiting_fds");
  for (const WaitingFd& f : b.waiting_fds) {
    w.begin_object();
    w.field("fd", std::int64_t{f.fd});
    w.field("events", events_string(f.events));
    w.field("ready_ns", U{f.ready_ns});
    w.end_object();
  }
  w.end_array();
  w.begin_array("deferred_waiters");
  for (const DeferredWaiter& dw : b.deferred_waiters) {
    w.begin_object();
    w.field("sync", U{dw.sync});
    w.field("waiter", U{dw.waiter});
    w.field("woken_ns", U{dw.woken_ns});
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_callbacks(Dump& d) {
  JsonWriter& w = d.w;
  const CallbacksState& cbs = d.state.callbacks;
  w.begin_object("callbacks");
  w.field("runs", cbs.runs);
  w.field("exceptions", cbs.exceptions);
  w.begin_array("recent");
  for (std::size_t i = 0; i < cbs.recent.size(); ++i) write_run(d, cbs.recent[i]);
  w.end_array();
  w.begin_array("histogram");
  for (const U count : cbs.histogram) w.element(count);
  w.end_array();
  w.begin_array("blocking");
  for (std::size_t i = 0; i < cbs.blocking.size(); ++i) write_blocking(d, cbs.blocking[i]);
  w.end_array();
  w.end_object();
}

// ---- [SECTION] timers --------------------------------------------------------

void write_timers(Dump& d) {
  JsonWriter& w = d.w;
  const TimersState& timers = d.state.timers;
  w.begin_object("timers");
  w.field("fired", timers.fired);
  w.field("cancelled", timers.cancelled);
  w.field("tombstones", U{timers.tombstones});
  w.begin_array("pending");
  for (const Timer* t : timers.by_deadline()) {
    w.begin_object();
    w.field("id", U{t->id});
    w.field("loop", U{t->loop});
    w.field("name", d.str(t->name));
    w.field("deadline_ns", U{t->deadline_ns});
    w.field("countdown_ns",
            static_cast<std::int64_t>(t->deadline_ns) - static_cast<std::int64_t>(d.state.ts_ns));
    w.field("added_by", U{t->added_by});
    w.field("cancelled", t->cancelled);
    w.end_object();
  }
  w.end_array();
  w.begin_array("periodic");
  for (const Periodic& p : timers.periodic) {
    w.begin_object();
    w.field("loop", U{p.loop});
    w.field("name", d.str(p.name));
    w.field("interval_ns", U{p.interval_ns});
    w.field("ticks", U{p.ticks});
    w.field("skipped", U{p.skipped});
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

// ---- [SECTION] fds -----------------------------------------------------------

void write_fds(Dump& d) {
  JsonWriter& w = d.w;
  w.begin_array("fds");
  for (const auto& item : d.state.fds.table) {
    const Fd& fd = item.second;
    w.begin_object();
    w.field("loop", U{fd.loop});
    w.field("fd", std::int64_t{fd.fd});
    w.field("name", d.str(fd.name));
    w.field("kind", name_of(d.model.fd_kind(fd)));
    w.field("registered", fd.registered);
    w.field("interest", events_string(fd.interest));
    w.field("ready", events_string(fd.last_ready));
    w.field("ready_iteration", U{fd.last_ready_iteration});
    w.field("handler_ran", fd.handler_ran);
    w.field("ready_count", fd.ready_count);
    w.field("handler_runs", fd.handler_runs);
    w.field("bytes_read", fd.bytes_read);
    w.field("bytes_written", fd.bytes_written);
    w.begin_array("cells");
    for (std::size_t i = 0; i < fd.cells.size(); ++i) {
      w.begin_object();
      w.field("iteration", U{fd.cells[i].iteration});
      w.field("ready", events_string(fd.cells[i].flags));
      w.field("handler_ran", (fd.cells[i].flags & kCellHandlerRan) != 0);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
}

// ---- [SECTION] waiters -------------------------------------------------------

void write_waiter(Dump& d, const Waiter& waiter) {
  JsonWriter& w = d.w;
  w.begin_object();
  w.field("id", U{waiter.id});
  w.field("site", d.str(waiter.site));
  w.field("kind", name_of(waiter.kind));
  w.field("since_ns", U{waiter.since_ns});
  const U until = waiter.left_ns != 0 ? waiter.left_ns : d.state.ts_ns;
  w.field("waited_ns", until > waiter.since_ns ? until - waiter.since_ns : U{0});
  w.end_object();
}

void write_ids(JsonWriter& w, std::string_view key, const std::vector<std::uint64_t>& ids) {
  w.begin_array(key);
  for (const U id : ids) w.element(id);
  w.end_array();
}

void write_sync(Dump& d, const SyncObject& obj) {
  JsonWriter& w = d.w;
  w.begin_object();
  w.field("id", U{obj.id});
  w.field("loop", U{obj.loop});
  w.field("name", d.str(obj.name));
  w.field("kind", name_of(obj.kind));
  w.field("initial", obj.initial);
  w.field("value", obj.value);
  w.field("unfinished", obj.unfinished);
  write_ids(w, "holders", obj.holders);
  write_ids(w, "in_flight", obj.in_flight);
  w.field("anonymous_releases", obj.anonymous_releases);
  w.field("from_snapshot", obj.from_snapshot);
  w.begin_array("waiters");
  for (const Waiter& waiter : obj.waiters) write_waiter(d, waiter);
  w.end_array();
  w.begin_array("timed_out");
  for (std::size_t i = 0; i < obj.timed_out.size(); ++i) write_waiter(d, obj.timed_out[i]);
  w.end_array();
  w.begin_object("last_handoff");
  w.field("index", obj.last_handoff.index);
  w.field("waiter", obj.last_handoff.waiter);
  w.field("cause", trace::kind_name(obj.last_handoff.cause));
  w.end_object();
  w.end_object();
}

void write_waiters(Dump& d) {
  d.w.begin_array("waiters");
  for (const auto& item : d.state.sync.objects) write_sync(d, item.second);
  d.w.end_array();
}

// ---- [SECTION] streams -------------------------------------------------------

void write_streams(Dump& d) {
  JsonWriter& w = d.w;
  w.begin_array("streams");
  for (const auto& item : d.state.streams.streams) {
    const Stream& s = item.second;
    w.begin_object();
    w.field("id", U{s.id});
    w.field("loop", U{s.loop});
    w.field("name", d.str(s.name));
    w.field("fd", std::int64_t{s.fd});
    w.field("kind", name_of(s.kind));
    w.field("state", name_of(s.phase));
    w.field("read_buffer", s.read_buffer);
    w.field("write_buffer", s.write_buffer);
    w.field("bytes_read", s.bytes_read);
    w.field("bytes_written", s.bytes_written);
    w.field("close_reason", d.str(s.close_reason));
    w.field("close_errno", s.close_errno);
    w.field("tls", d.str(s.tls));
    w.field("tls_failed", s.tls_failed);
    w.begin_array("history");
    for (std::size_t i = 0; i < s.history.size(); ++i) {
      w.begin_object();
      w.field("ts_ns", s.history[i].ts_ns);
      w.field("read_buffer", s.history[i].read_buffer);
      w.field("write_buffer", s.history[i].write_buffer);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
}

// ---- [SECTION] events --------------------------------------------------------

void write_events(Dump& d) {
  JsonWriter& w = d.w;
  const U cursor = d.state.index;
  const U from = std::max(d.model.first_index(), cursor > kEventsShown ? cursor - kEventsShown : 0);
  w.begin_array("events");
  for (U i = from; i < cursor; ++i) {
    const trace::Event& e = d.model.event(i);
    w.begin_object();
    w.field("index", i);
    w.field("ts_ns", U{e.ts_ns});
    w.field("kind", trace::kind_name(e.kind));
    w.field("loop", U{e.loop});
    w.field("object", U{e.object});
    w.field("name", d.str(e.name));
    w.field("a", U{e.a});
    w.field("b", U{e.b});
    w.end_object();
  }
  w.end_array();
}

// ---- [SECTION] observer ------------------------------------------------------

void write_observer(Dump& d) {
  JsonWriter& w = d.w;
  const ObserverState& o = d.state.observer;
  w.begin_object("observer");
  w.field("events", o.events);
  w.field("dropped", o.dropped);
  w.field("signal_dropped", o.signal_dropped);
  w.field("unknown_kinds", o.unknown_kinds);
  w.field("unknown_objects", o.unknown_objects);
  w.field("out_of_order", o.out_of_order);
  w.field("over_limit", o.over_limit);
  w.begin_array("rate");
  for (std::size_t i = 0; i < o.rate.size(); ++i) {
    w.begin_object();
    w.field("start_ns", o.rate[i].start_ns);
    w.field("events", o.rate[i].events);
    w.end_object();
  }
  w.end_array();
  w.begin_array("drops");
  for (std::size_t i = 0; i < o.drops.size(); ++i) {
    w.begin_object();
    w.field("index", o.drops[i].index);
    w.field("first_ns", o.drops[i].first_ns);
    w.field("last_ns", o.drops[i].last_ns);
    w.field("count", o.drops[i].count);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

}  // namespace

// ---- [SECTION] entry points --------------------------------------------------

void write_state_json(std::ostream& out, const Model& model) {
  JsonWriter w(out);
  Dump d{w, model, model.state()};
  w.begin_object();
  w.field("cursor", d.state.index);
  w.field("first", model.first_index());
  w.field("end", model.end());
  w.field("ts_ns", d.state.ts_ns);
  w.field("error", std::string_view{model.error()});
  write_loops(d);
  write_callbacks(d);
  write_timers(d);
  write_fds(d);
  write_waiters(d);
  write_streams(d);
  write_events(d);
  write_observer(d);
  w.end_object();
  out << '\n';
}

std::string state_json(const Model& model) {
  std::ostringstream out;
  write_state_json(out, model);
  return out.str();
}

}  // namespace tornado::viz
