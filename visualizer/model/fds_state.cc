#include "model/fds_state.h"

#include "model/state.h"

namespace tornado::viz {

using trace::Kind;

namespace {

Fd* find_fd(State& state, std::uint16_t loop, std::uint64_t fd) {
  auto it = state.fds.table.find(fd_key(loop, fd));
  return it == state.fds.table.end() ? nullptr : &it->second;
}

// Makes room by forgetting unregistered fds; refuses when all are registered.
bool has_room(State& state) {
  auto& table = state.fds.table;
  if (table.size() < kMaxFds) return true;
  std::erase_if(table, [](const auto& item) { return !item.second.registered; });
  if (table.size() < kMaxFds) return true;
  ++state.observer.over_limit;
  return false;
}

void registered(State& state, const trace::Event& e, bool internal) {
  Fd* fd = find_fd(state, e.loop, e.object);
  if (fd == nullptr) {
    if (!has_room(state)) return;
    fd = &state.fds.table[fd_key(e.loop, e.object)];
    fd->loop = e.loop;
    fd->fd = static_cast<int>(e.object & 0x7fffffff);
  }
  if (!fd->registered && internal) fd->kind = FdKind::waker;
  fd->registered = true;
  fd->name = e.name;
  fd->interest = static_cast<std::uint32_t>(e.a);
}

// Marks this iteration's cell of the fd, adding the cell on first use.
FdCell& cell(Fd& fd, std::uint64_t iteration) {
  if (fd.cells.empty() || fd.cells.back().iteration != iteration)
    fd.cells.push(FdCell{iteration, 0});
  return fd.cells.back();
}

std::uint64_t iteration_of(State& state, std::uint16_t loop_id) {
  Loop* loop = state.loop(loop_id);
  return loop == nullptr ? 0 : loop->current.number;
}

void ready(State& state, const trace::Event& e) {
  Fd* fd = find_fd(state, e.loop, e.object);
  if (fd == nullptr) {
    ++state.observer.unknown_objects;
    return;
  }
  const std::uint64_t iteration = iteration_of(state, e.loop);
  fd->last_ready = static_cast<std::uint32_t>(e.a);
  fd->last_ready_iteration = iteration;
  fd->handler_ran = false;
  ++fd->ready_count;
  cell(*fd, iteration).flags |= static_cast<std::uint8_t>(e.a & 0x0f);
}

void handler_ran(State& state, const trace::Event& e) {
  if (static_cast<trace::Via>(e.b) != trace::Via::handler) return;
  Fd* fd = find_fd(state, e.loop, e.object);
  if (fd == nullptr) return;
  fd->handler_ran = true;
  ++fd->handler_runs;
  cell(*fd, iteration_of(state, e.loop)).flags |= kCellHandlerRan;
}

void bytes_moved(State& state, const trace::Event& e) {
  auto stream = state.streams.streams.find(e.object);
  if (stream == state.streams.streams.end()) return;
  Fd* fd = find_fd(state, stream->second.loop, static_cast<std::uint64_t>(stream->second.fd));
  if (fd == nullptr) return;
  fd->stream = e.object;
  fd->kind = stream->second.kind == trace::StreamKind::pipe ? FdKind::pipe : FdKind::stream;
  (e.kind == Kind::stream_read ? fd->bytes_read : fd->bytes_written) += e.a;
}

}  // namespace

void apply_fds_event(State& state, const trace::Event& e) {
  switch (e.kind) {
    case Kind::handler_added: {
      // The loop registers its waker first, when it is made.
      Loop* loop = state.loop(e.loop);
      const bool waker = loop != nullptr && !loop->waker_seen && !loop->running;
      if (loop != nullptr) loop->waker_seen = true;
      registered(state, e, waker);
      break;
    }
    case Kind::snapshot_handler:
      registered(state, e, false);
      break;
    case Kind::handler_updated:
      registered(state, e, false);
      break;
    case Kind::handler_removed:
      if (Fd* fd = find_fd(state, e.loop, e.object)) {
        fd->registered = false;
        fd->interest = 0;
      }
      break;
    case Kind::fd_ready:
      ready(state, e);
      break;
    case Kind::loop_closed:
      for (auto& item : state.fds.table) {
        if (item.second.loop == e.loop) item.second.registered = false;
      }
      break;
    case Kind::callback_started:
      handler_ran(state, e);
      break;
    case Kind::stream_read:
    case Kind::stream_written:
      bytes_moved(state, e);
      break;
    default:
      break;
  }
}

}  // namespace tornado::viz
