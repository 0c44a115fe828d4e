// The late-attach snapshot: a registry of live loops, and what each loop
// says about itself when a reader attaches. The loop describes its own state
// on its own thread, between iterations, so nothing it reads can change
// underneath; objects made while tracing was off get their trace ids here,
// so the events that follow refer to them.
#include <algorithm>
#include <mutex>

#include "iostream/stream_registry.h"
#include "loop_impl.h"
#include "trace_registry.h"

namespace tornado::detail {
namespace {

std::mutex g_loops_mutex;
std::vector<LoopImpl*> g_loops;

std::uint64_t ensure_id(std::uint64_t& id) {
  if (id == 0) id = trace::detail::next_object_id();
  return id;
}

std::uint32_t ensure_name(std::uint32_t& name, const Site& site) {
  if (name == 0) name = trace::intern(site);
  return name;
}

}  // namespace

void register_loop(LoopImpl* loop) {
  std::lock_guard lock(g_loops_mutex);
  g_loops.push_back(loop);
}

void unregister_loop(LoopImpl* loop) {
  std::lock_guard lock(g_loops_mutex);
  std::erase(g_loops, loop);
}

std::vector<std::uint16_t> request_snapshots() {
  std::lock_guard lock(g_loops_mutex);  // a loop unregisters before its waker closes
  std::vector<std::uint16_t> ids;
  for (LoopImpl* loop : g_loops) {
    if (loop->closed.load(std::memory_order_relaxed)) continue;
    loop->snapshot_requested.store(true, std::memory_order_relaxed);
    loop->waker.wake();
    ids.push_back(loop->id);
  }
  return ids;
}

void LoopImpl::emit_snapshot() {
  snapshot_requested.store(false, std::memory_order_relaxed);
  if (!trace::enabled()) return;
  trace(trace::Kind::snapshot_begin, 0, 0, iterations);
  snapshot_callbacks(ready);
  {
    std::lock_guard lock(foreign_mutex);
    snapshot_callbacks(foreign);
  }
  timers.for_each_entry([this](std::int64_t deadline, const Site& site, std::uint64_t& trace_id,
                               std::uint32_t& name, bool live) {
    trace(trace::Kind::snapshot_timer, ensure_id(trace_id), ensure_name(name, site),
          static_cast<std::uint64_t>(deadline), live ? 0 : 1);
  });
  handlers.for_each_user([this](int fd, HandlerRecord& record) {
    trace(trace::Kind::snapshot_handler, static_cast<std::uint64_t>(fd),
          ensure_name(record.name, record.site), record.events);
  });
  snapshot_sync_objects(id);
  for_each_live_stream([this](std::uint64_t& stream_id, const std::string& description,
                              std::size_t read_buffer, std::size_t write_buffer) {
    trace(trace::Kind::snapshot_stream, ensure_id(stream_id), trace::intern(description),
          read_buffer, write_buffer);
  });
  trace(trace::Kind::snapshot_end, 0);
}

void LoopImpl::snapshot_callbacks(std::vector<ReadyCallback>& queue) {
  for (ReadyCallback& cb : queue) {
    trace(trace::Kind::snapshot_callback, ensure_id(cb.trace_id), ensure_name(cb.name, cb.site), 0,
          static_cast<std::uint64_t>(cb.via));
  }
}

}  // namespace tornado::detail
