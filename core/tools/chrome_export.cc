// Chrome Trace Event JSON from a tornado trace.
//
// [SECTION] index
//   JSON text        string escaping, microsecond numbers, JsonObject
//   Exporter         the state carried from event to event, and one handler
//                    per event family: loop, callbacks, timers, fd handlers,
//                    sync objects, warnings
//   write_chrome_json
//
// Each loop is a thread track (tid = loop id) holding "iteration" slices,
// with the "poll" wait and the callbacks that ran nested inside them. Things
// that outlive a callback (pending timers, waiting coroutines, fd interest)
// are async spans; sizes are counters; "scheduled" flow arrows go from the
// callback that scheduled work to the slice where that work ran.
#include "chrome_export.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tornado::tools {
namespace {

using trace::Event;
using trace::Kind;

// ---- [SECTION] JSON text ---------------------------------------------------

// The length of the valid UTF-8 sequence at the start of `s`, or 0 if it is
// not one (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  std::size_t n = c < 0x80                 ? 1
                  : c >= 0xC2 && c <= 0xDF ? 2
                  : c >= 0xE0 && c <= 0xEF ? 3
                  : c >= 0xF0 && c <= 0xF4 ? 4
                                           : 0;
  if (n == 0 || s.size() < n) return 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  if (n > 1 && (byte(1) < lo || byte(1) > hi)) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return n;
}

// Appends `text` as a JSON string. Names come from the traced program and a
// damaged file may hold any bytes, so control characters are escaped and
// invalid UTF-8 becomes U+FFFD: the output is always valid JSON.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    auto c = static_cast<unsigned char>(text[0]);
    std::size_t n = utf8_sequence_length(text);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else if (n == 0) {
      out += "\\ufffd";
      n = 1;
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(std::max<std::size_t>(n, 1));
  }
  out += '"';
}

// Nanoseconds as microseconds with three exact decimals ("12.345").
void append_us(std::string& out, std::uint64_t ns) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%llu.%03llu", static_cast<unsigned long long>(ns / 1000),
                static_cast<unsigned long long>(ns % 1000));
  out += digits;
}

// One JSON object, built key by key.
class JsonObject {
 public:
  JsonObject& str(std::string_view k, std::string_view value) {
    key(k);
    append_json_string(text_, value);
    return *this;
  }
  JsonObject& num(std::string_view k, std::uint64_t value) {
    key(k);
    text_ += std::to_string(value);
    return *this;
  }
  JsonObject& us(std::string_view k, std::uint64_t ns) {
    key(k);
    append_us(text_, ns);
    return *this;
  }
  JsonObject& flag(std::string_view k, bool value) {
    key(k);
    text_ += value ? "true" : "false";
    return *this;
  }
  JsonObject& obj(std::string_view k, const JsonObject& value) {
    key(k);
    text_ += value.text();
    return *this;
  }
  bool empty() const { return text_.size() == 1; }
  std::string text() const { return text_ + '}'; }

 private:
  void key(std::string_view k) {
    if (!empty()) text_ += ',';
    append_json_string(text_, k);
    text_ += ':';
  }
  std::string text_ = "{";
};

// ---- [SECTION] Names for fields --------------------------------------------

std::string_view via_name(std::uint64_t via) {
  static constexpr std::string_view kNames[] = {"callback", "timer", "handler", "signal",
                                                "other_thread"};
  return via < std::size(kNames) ? kNames[via] : "other";
}

std::string_view wait_kind_name(std::uint64_t kind) {
  static constexpr std::string_view kNames[] = {"?",   "acquire", "notify", "set",
                                                "get", "put",     "join"};
  return kind < std::size(kNames) ? kNames[kind] : "?";
}

// "READ|WRITE|ERROR" for an IOLoop event mask (ioloop.h).
std::string events_text(std::uint64_t mask) {
  std::string text;
  auto add = [&](std::uint64_t bit, std::string_view name) {
    if ((mask & bit) == 0) return;
    if (!text.empty()) text += '|';
    text += name;
  };
  add(0x001, "READ");
  add(0x004, "WRITE");
  add(0x008, "ERROR");
  return text.empty() ? std::to_string(mask) : text;
}

// The "file:line" of a Site description ("tick at main.cc:9"), or "".
std::string_view location_of(std::string_view name) {
  std::size_t at = name.rfind(" at ");
  return at == std::string_view::npos ? std::string_view() : name.substr(at + 4);
}

// ---- [SECTION] Exporter ----------------------------------------------------

// The names of the flow arrows: to a scheduled callback, and to a timer.
constexpr std::string_view kCallbackFlow = "scheduled";
constexpr std::string_view kTimerFlow = "timer";

struct RunningCallback {
  std::uint64_t id = 0;
  std::uint64_t start = 0;
  std::uint32_t name = 0;
  std::uint64_t via = 0;
  std::string_view flow_in;  // the name of the arrow that ends here, if any
};

struct LoopState {
  std::optional<RunningCallback> running;  // callbacks never nest on a loop
  bool in_iteration = false;
  std::uint64_t iteration = 0;
  std::uint64_t iteration_start = 0;
  std::uint64_t ready = 0;
  std::uint64_t due = 0;
  std::uint64_t last_run = 0;             // latest loop-thread event before the poll
  std::optional<std::uint64_t> handlers;  // when phase 5 (run_handlers) began
  std::uint64_t floor = 0;                // callbacks start no earlier: slices must nest
  std::uint64_t pending_timers = 0;
};

// An async span that has begun ('b') and not yet ended ('e').
struct OpenSpan {
  std::string id;
  std::string name;
  std::string_view cat;
  std::uint16_t loop = 0;
  std::uint64_t owner = 0;  // for a wait: the sync object waited on
};

struct SyncObject {
  std::string title;
  std::uint64_t waiters = 0;
};

class Exporter {
 public:
  Exporter(const trace::Trace& trace, std::ostream& out) : trace_(trace), out_(out) {}

  void run() {
    out_ << "{\"traceEvents\":[\n";
    std::vector<std::size_t> order = time_order();
    if (!order.empty()) {
      t0_ = trace_.events[order.front()].ts_ns;
      last_ = trace_.events[order.back()].ts_ns;
    }
    write_metadata();
    for (std::size_t i : order) on_event(trace_.events[i]);
    close_everything();
    out_ << "\n],\n\"otherData\":" << other_data().text() << "}\n";
  }

 private:
  // Each thread's events reach the file in blocks, so sort them (stably: equal
  // times keep the order they were written in).
  std::vector<std::size_t> time_order() const {
    std::vector<std::size_t> order(trace_.events.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
      return trace_.events[x].ts_ns < trace_.events[y].ts_ns;
    });
    return order;
  }

  void on_event(const Event& e) {
    switch (e.kind) {
      case Kind::loop_started:
        return instant(e, "loop started", {});
      case Kind::loop_stopped:
        return instant(e, "loop stopped", {});
      case Kind::loop_closed:
        return instant(e, "loop closed", {});
      case Kind::iteration_begin:
        return on_iteration_begin(e);
      case Kind::iteration_end:
        return on_iteration_end(e);
      case Kind::callback_scheduled:
        return flow_start(e, e.a, kCallbackFlow);
      case Kind::callback_started:
        return on_callback_started(e);
      case Kind::callback_finished:
        return on_callback_finished(e);
      case Kind::timer_added:
        return on_timer_added(e);
      case Kind::timer_fired:
        return on_timer_done(e, "fired");
      case Kind::timer_cancelled:
        return on_timer_done(e, "cancelled");
      case Kind::handler_added:
      case Kind::handler_updated:
      case Kind::handler_removed:
        return on_handler(e);
      case Kind::fd_ready:
        return instant(e, "fd " + std::to_string(e.object) + " ready",
                       JsonObject().str("events", events_text(e.a)));
      case Kind::sync_created:
        sync(e.object).title = std::string(trace_.string(e.name));
        return;
      case Kind::sync_destroyed:
        return on_sync_destroyed(e);
      case Kind::waiter_enqueued:
        return on_wait_begin(e);
      case Kind::waiter_woken:
        return on_wait_end(e, "woken");
      case Kind::waiter_timed_out:
        return on_wait_end(e, "timed out");
      case Kind::queue_put:
      case Kind::queue_got:
        return counter(e, title(e.object) + " size", e.a);
      default:
        return on_warning(e);
    }
  }

  // ---- The loop: iterations and the poll inside them ----

  // Events lost to a full ring (events_dropped) or a damaged file can leave a
  // callback or an iteration without its end: each is then ended where the
  // next one begins, so that slices on a track always nest.
  void on_iteration_begin(const Event& e) {
    LoopState& loop = loops_[e.loop];
    if (loop.running) end_callback(e.loop, *loop.running, e.ts_ns, "finished event lost");
    if (loop.in_iteration) end_iteration(loop, e.loop, e.ts_ns, false);
    loop.in_iteration = true;
    loop.iteration = e.object;
    loop.iteration_start = e.ts_ns;
    loop.ready = e.a;
    loop.due = e.b;
    loop.last_run = e.ts_ns;
    loop.handlers.reset();
    loop.floor = std::max(loop.floor, e.ts_ns);
    counter(e, "IOLoop " + std::to_string(e.loop) + " ready callbacks", e.a);
  }

  void on_iteration_end(const Event& e) {
    LoopState& loop = loops_[e.loop];
    if (!loop.in_iteration) return;  // tracing began inside this iteration
    if (loop.running) {
      end_callback(e.loop, *loop.running, e.ts_ns, "finished event lost");
    } else if (e.a > 0) {
      write_poll(loop, e);
    }
    end_iteration(loop, e.loop, e.ts_ns, true);
  }

  void end_iteration(LoopState& loop, std::uint16_t id, std::uint64_t end, bool seen_end) {
    JsonObject args;
    args.num("iteration", loop.iteration).num("ready callbacks", loop.ready);
    args.num("due timers", loop.due);
    if (!seen_end) args.flag("end event lost", true);
    slice(id, "iteration", "loop", loop.iteration_start, end, args);
    loop.in_iteration = false;
  }

  // The poll ended just before the first handler ran (or, with none, just
  // before iteration_end) and lasted iteration_end.a ns. Clamped so that it
  // never overlaps the callbacks before it.
  void write_poll(const LoopState& loop, const Event& e) {
    std::uint64_t end = loop.handlers.value_or(e.ts_ns);
    std::uint64_t start = end > e.a ? end - e.a : 0;
    start = std::max(start, loop.last_run);
    if (start >= end) return;
    JsonObject args;
    if (e.b == UINT64_MAX) {
      args.str("timeout", "none");
    } else {
      args.us("timeout (us)", e.b);
    }
    slice(e.loop, "poll", "loop", start, end, args);
  }

  // Marks loop-thread activity at `ts`, to place the poll and the handlers phase.
  void note_run(LoopState& loop, std::uint64_t ts, bool handler) {
    if (handler && !loop.handlers) loop.handlers = ts;
    if (!loop.handlers) loop.last_run = std::max(loop.last_run, ts);
  }

  static bool is_handler(const Event& e) {
    return e.b == static_cast<std::uint64_t>(trace::Via::handler);
  }

  // ---- Callbacks, and the arrows from where they were scheduled ----

  // A flow arrow starts in the running callback (`running` is its id, 0 for
  // none) and ends where callback or timer `e.object` runs. Handlers run
  // under their fd, which may equal a callback's id, so the two kinds of
  // arrow are kept apart.
  void flow_start(const Event& e, std::uint64_t running, std::string_view name) {
    if (running == 0 || !loops_[e.loop].running) return;  // no slice to start from
    JsonObject ev = base('s', name, "flow", e.ts_ns, e.loop);
    write(ev.num("id", e.object));
    (name == kTimerFlow ? timer_flows_ : callback_flows_).insert(e.object);
  }

  // The arrow (if any) that ends where this callback runs.
  std::string_view flow_end(const Event& e) {
    switch (static_cast<trace::Via>(e.b)) {
      case trace::Via::timer:
        return timer_flows_.erase(e.object) > 0 ? kTimerFlow : "";
      case trace::Via::callback:
      case trace::Via::other_thread:
        return callback_flows_.erase(e.object) > 0 ? kCallbackFlow : "";
      default:
        return "";
    }
  }

  void on_callback_started(const Event& e) {
    LoopState& loop = loops_[e.loop];
    note_run(loop, e.ts_ns, is_handler(e));
    if (loop.running) end_callback(e.loop, *loop.running, e.ts_ns, "finished event lost");
    std::uint64_t start = std::max(e.ts_ns, loop.floor);
    loop.running = RunningCallback{e.object, start, e.name, e.b, flow_end(e)};
  }

  void on_callback_finished(const Event& e) {
    LoopState& loop = loops_[e.loop];
    if (loop.running && loop.running->id == e.object) {
      note_run(loop, e.ts_ns, is_handler(e));
      return end_callback(e.loop, *loop.running, e.ts_ns, {});
    }
    // Its start was not traced (tracing began while it ran, or the event was
    // dropped): its duration, in `a`, says when it began.
    std::uint64_t start = e.ts_ns > e.a ? std::max(e.ts_ns - e.a, t0_) : t0_;
    if (loop.running) {
      end_callback(e.loop, *loop.running, std::max(start, loop.running->start),
                   "finished event lost");
    }
    start = std::max(start, loop.floor);
    note_run(loop, start, is_handler(e));
    note_run(loop, e.ts_ns, is_handler(e));
    end_callback(e.loop, RunningCallback{e.object, start, e.name, e.b, {}}, e.ts_ns,
                 "start not traced");
  }

  void end_callback(std::uint16_t loop, const RunningCallback& cb, std::uint64_t end,
                    std::string_view problem) {
    std::string name = callback_title(cb);
    JsonObject args;
    args.num("id", cb.id).str("via", via_name(cb.via));
    if (std::string_view loc = location_of(trace_.string(cb.name)); !loc.empty()) {
      args.str("loc", loc);
    }
    if (!problem.empty()) args.flag(problem, true);
    slice(loop, name, via_name(cb.via), cb.start, end, args);
    if (!cb.flow_in.empty()) {
      // Strictly inside the slice, so that the arrow binds to it and not to
      // the iteration around it.
      std::uint64_t at = end > cb.start + 1 ? cb.start + 1 : cb.start;
      JsonObject ev = base('f', cb.flow_in, "flow", at, loop);
      write(ev.str("bp", "e").num("id", cb.id));
    }
    LoopState& state = loops_[loop];
    state.floor = std::max(state.floor, end);
    state.running.reset();
  }

  std::string callback_title(const RunningCallback& cb) const {
    std::string_view name = trace_.string(cb.name);
    if (!name.empty()) return std::string(name);
    std::string id = std::to_string(cb.id);
    switch (static_cast<trace::Via>(cb.via)) {
      case trace::Via::handler:
        return "handler for fd " + id;
      case trace::Via::timer:
        return "timer #" + id;
      case trace::Via::signal:
        return "signal callback";
      default:
        return "callback #" + id;
    }
  }

  // ---- Timers: pending from added to fired or cancelled ----

  void on_timer_added(const Event& e) {
    flow_start(e, e.b, kTimerFlow);
    std::string name(trace_.string(e.name));
    if (name.empty()) name = "timer #" + std::to_string(e.object);
    JsonObject args;
    args.num("id", e.object).us("deadline (us)", e.a > t0_ ? e.a - t0_ : 0);
    begin_span(timers_, e.object, {"timer " + std::to_string(e.object), name, "timer", e.loop},
               e.ts_ns, args);
    counter(e, pending_timers_name(e.loop), ++loops_[e.loop].pending_timers);
  }

  void on_timer_done(const Event& e, std::string_view outcome) {
    if (e.kind == Kind::timer_fired) note_run(loops_[e.loop], e.ts_ns, false);
    auto it = timers_.find(e.object);
    if (it == timers_.end()) return;  // added before tracing began
    std::uint16_t loop = it->second.loop;
    end_span(timers_, it, e.ts_ns, JsonObject().str("outcome", outcome));
    LoopState& state = loops_[loop];
    if (state.pending_timers > 0) --state.pending_timers;
    counter(e, pending_timers_name(loop), state.pending_timers);
  }

  static std::string pending_timers_name(std::uint16_t loop) {
    return "IOLoop " + std::to_string(loop) + " pending timers";
  }

  // ---- fd handlers: interest from add_handler to remove_handler ----

  void on_handler(const Event& e) {
    std::uint64_t key = (std::uint64_t{e.loop} << 32) | (e.object & 0xffffffffu);
    if (e.kind == Kind::handler_removed) {
      if (auto it = fds_.find(key); it != fds_.end()) end_span(fds_, it, e.ts_ns, {});
      return;
    }
    auto it = fds_.find(key);
    if (e.kind == Kind::handler_updated && it != fds_.end()) {
      // 'n' is an instant on the span's own track (same name, id and cat).
      JsonObject ev = base('n', it->second.name, it->second.cat, e.ts_ns, e.loop);
      ev.str("id", it->second.id).obj("args", JsonObject().str("events", events_text(e.a)));
      return write(ev);
    }
    if (it != fds_.end()) end_span(fds_, it, e.ts_ns, {});  // its removal was lost
    std::string fd = std::to_string(e.object);
    std::string name(trace_.string(e.name));
    name = "fd " + fd + (name.empty() ? "" : ": " + name);
    OpenSpan span{"loop " + std::to_string(e.loop) + " fd " + fd, name, "fd", e.loop};
    begin_span(fds_, key, std::move(span), e.ts_ns, JsonObject().str("events", events_text(e.a)));
  }

  // ---- Locks, conditions, events, semaphores, queues ----

  SyncObject& sync(std::uint64_t id) { return syncs_[id]; }

  std::string title(std::uint64_t id) {
    SyncObject& s = sync(id);
    if (s.title.empty()) s.title = "sync object";
    return s.title + " #" + std::to_string(id);
  }

  void on_wait_begin(const Event& e) {
    std::string name(trace_.string(e.name));
    std::string kind(wait_kind_name(e.b));
    if (name.empty()) name = kind;
    JsonObject args;
    args.str("object", title(e.object)).str("waits for", kind).num("waiter", e.a);
    OpenSpan span{"waiter " + std::to_string(e.a), name, "wait", e.loop, e.object};
    begin_span(waits_, e.a, std::move(span), e.ts_ns, args);
    counter(e, title(e.object) + " waiters", ++sync(e.object).waiters);
  }

  void on_wait_end(const Event& e, std::string_view outcome) {
    auto it = waits_.find(e.a);
    if (it == waits_.end()) return;  // enqueued before tracing began
    end_span(waits_, it, e.ts_ns, JsonObject().str("outcome", outcome));
    SyncObject& s = sync(e.object);
    if (s.waiters > 0) --s.waiters;
    counter(e, title(e.object) + " waiters", s.waiters);
  }

  // A waiter still queued when its object is destroyed gets no further event
  // (architecture.md: waiter_timed_out is not emitted then): its wait ends here.
  void on_sync_destroyed(const Event& e) {
    for (auto it = waits_.begin(); it != waits_.end();) {
      auto next = std::next(it);
      if (it->second.owner == e.object) {
        end_span(waits_, it, e.ts_ns, JsonObject().str("outcome", "object destroyed"));
      }
      it = next;
    }
    SyncObject& s = sync(e.object);
    if (s.waiters == 0) return;
    s.waiters = 0;
    counter(e, title(e.object) + " waiters", 0);
  }

  // ---- Warnings: instants a reader should not miss ----

  void on_warning(const Event& e) {
    switch (e.kind) {
      case Kind::blocking_callback:
        return instant(e, "blocking callback",
                       JsonObject()
                           .str("callback", trace_.string(e.name))
                           .us("took (us)", e.a)
                           .us("threshold (us)", e.b));
      case Kind::exception_in_callback:
        return instant(e, "exception in callback",
                       JsonObject().num("id", e.object).str("callback", trace_.string(e.name)));
      case Kind::signal_callbacks_dropped:
        return instant(e, "signal callbacks dropped", JsonObject().num("count", e.a));
      case Kind::events_dropped: {
        JsonObject ev = base('i', "events dropped", "trace", e.ts_ns, 0);
        JsonObject args;
        args.num("count", e.a).us("last lost at (us)", e.b > t0_ ? e.b - t0_ : 0);
        return write(ev.str("s", "g").obj("args", args));
      }
      default:
        return;  // futures, executors and the rest have no Chrome form here
    }
  }

  // ---- Writing events ----

  JsonObject base(char phase, std::string_view name, std::string_view cat, std::uint64_t ts,
                  std::uint16_t loop) const {
    JsonObject ev;
    ev.str("name", name).str("cat", cat).str("ph", std::string_view(&phase, 1));
    ev.us("ts", ts > t0_ ? ts - t0_ : 0).num("pid", trace_.header.pid);
    if (loop != 0) ev.num("tid", loop);
    return ev;
  }

  void write(const JsonObject& ev) {
    if (!first_) out_ << ",\n";
    first_ = false;
    out_ << ev.text();
  }

  void slice(std::uint16_t loop, std::string_view name, std::string_view cat, std::uint64_t start,
             std::uint64_t end, const JsonObject& args) {
    JsonObject ev = base('X', name, cat, start, loop);
    ev.us("dur", end > start ? end - start : 0);
    if (!args.empty()) ev.obj("args", args);
    write(ev);
  }

  // A thread-scoped instant on the loop's track (process-scoped for loop 0).
  void instant(const Event& e, std::string_view name, const JsonObject& args) {
    JsonObject ev = base('i', name, "loop", e.ts_ns, e.loop);
    ev.str("s", e.loop != 0 ? "t" : "p");
    if (!args.empty()) ev.obj("args", args);
    write(ev);
  }

  void counter(const Event& e, std::string_view name, std::uint64_t value) {
    JsonObject ev = base('C', name, "counter", e.ts_ns, e.loop);
    write(ev.obj("args", JsonObject().num("value", value)));
  }

  using Spans = std::unordered_map<std::uint64_t, OpenSpan>;

  void begin_span(Spans& spans, std::uint64_t key, OpenSpan span, std::uint64_t ts,
                  const JsonObject& args) {
    if (auto it = spans.find(key); it != spans.end()) {
      end_span(spans, it, ts, JsonObject().flag("end event lost", true));
    }
    JsonObject ev = base('b', span.name, span.cat, ts, span.loop);
    ev.str("id", span.id);
    if (!args.empty()) ev.obj("args", args);
    write(ev);
    spans[key] = std::move(span);
  }

  void end_span(Spans& spans, Spans::iterator it, std::uint64_t ts, const JsonObject& args) {
    const OpenSpan& span = it->second;
    JsonObject ev = base('e', span.name, span.cat, ts, span.loop);
    ev.str("id", span.id);
    if (!args.empty()) ev.obj("args", args);
    write(ev);
    spans.erase(it);
  }

  // Ends what was still open when the trace stopped, at its last event, so
  // that every slice and span has an end.
  void close_everything() {
    for (auto& [id, loop] : loops_) {
      if (loop.running) end_callback(id, *loop.running, last_, "still running at end of trace");
      if (loop.in_iteration) end_iteration(loop, id, last_, false);
    }
    for (Spans* spans : {&timers_, &waits_, &fds_}) {
      while (!spans->empty()) {
        end_span(*spans, spans->begin(), last_, JsonObject().flag("open at end of trace", true));
      }
    }
  }

  void write_metadata() {
    std::string process = trace_.header.process.empty() ? "tornado" : trace_.header.process;
    JsonObject ev = base('M', "process_name", "__metadata", t0_, 0);
    write(ev.obj("args", JsonObject().str("name", process)));
    std::unordered_set<std::uint16_t> seen;
    for (const Event& e : trace_.events) {
      if (e.loop == 0 || !seen.insert(e.loop).second) continue;
      JsonObject name = base('M', "thread_name", "__metadata", t0_, e.loop);
      write(name.obj("args", JsonObject().str("name", "IOLoop " + std::to_string(e.loop))));
      JsonObject order = base('M', "thread_sort_index", "__metadata", t0_, e.loop);
      write(order.obj("args", JsonObject().num("sort_index", e.loop)));
    }
  }

  // Enough to turn a "ts" back into the wall clock: unix ns =
  // ts * 1000 + steady origin + wall-clock offset.
  JsonObject other_data() const {
    const trace::FileHeader& h = trace_.header;
    JsonObject data;
    data.str("source", "tornado-trace export --chrome");
    data.str("format", std::to_string(h.major) + "." + std::to_string(h.minor));
    data.str("process", h.process).num("pid", h.pid);
    data.str("steady origin (ns)", std::to_string(t0_));
    data.str("wall-clock offset (ns)", std::to_string(h.wall_offset_ns));
    data.str("complete", trace_.complete && trace_.error.empty() ? "yes" : "no");
    return data;
  }

  const trace::Trace& trace_;
  std::ostream& out_;
  bool first_ = true;
  std::uint64_t t0_ = 0;
  std::uint64_t last_ = 0;
  std::unordered_map<std::uint16_t, LoopState> loops_;
  std::unordered_set<std::uint64_t> callback_flows_;  // ids whose arrow has started
  std::unordered_set<std::uint64_t> timer_flows_;
  Spans timers_;  // by timer id
  Spans waits_;   // by waiter id
  Spans fds_;     // by loop << 32 | fd
  std::unordered_map<std::uint64_t, SyncObject> syncs_;
};

}  // namespace

void write_chrome_json(const trace::Trace& trace, std::ostream& out) { Exporter(trace, out).run(); }

}  // namespace tornado::tools
