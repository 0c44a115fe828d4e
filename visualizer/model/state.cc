#include "model/state.h"

namespace tornado::viz {

using trace::Kind;

Loop* State::loop(std::uint16_t id) {
  auto it = loops.find(id);
  if (it != loops.end()) return &it->second;
  if (loops.size() >= kMaxLoops) {
    ++observer.over_limit;
    return nullptr;
  }
  Loop& made = loops[id];
  made.id = id;
  return &made;
}

void apply(State& state, const trace::Event& event) {
  const std::uint64_t index = state.index++;
  apply_observer_event(state, event, index);
  switch (event.kind) {
    case Kind::loop_closed:
      apply_loop_event(state, event, index);
      apply_timers_event(state, event);
      apply_fds_event(state, event);
      break;
    case Kind::loop_started:
    case Kind::loop_stopped:
    case Kind::callback_scheduled:
    case Kind::snapshot_begin:
    case Kind::snapshot_callback:
    case Kind::snapshot_end:
      apply_loop_event(state, event, index);
      break;
    case Kind::iteration_begin:
      apply_loop_event(state, event, index);
      apply_timers_event(state, event);
      break;
    case Kind::iteration_end:
      apply_loop_event(state, event, index);
      apply_callbacks_event(state, event, index);
      break;
    case Kind::callback_started:
      apply_loop_event(state, event, index);
      apply_fds_event(state, event);
      break;
    case Kind::callback_finished:
      apply_callbacks_event(state, event, index);  // reads the run before the loop ends it
      apply_loop_event(state, event, index);
      break;
    case Kind::blocking_callback:
    case Kind::exception_in_callback:
      apply_callbacks_event(state, event, index);
      break;
    case Kind::timer_fired:
      apply_callbacks_event(state, event, index);
      apply_timers_event(state, event);
      break;
    case Kind::timer_added:
    case Kind::timer_cancelled:
    case Kind::snapshot_timer:
      apply_timers_event(state, event);
      break;
    case Kind::handler_added:
    case Kind::handler_updated:
    case Kind::handler_removed:
    case Kind::snapshot_handler:
      apply_fds_event(state, event);
      break;
    case Kind::fd_ready:
      apply_loop_event(state, event, index);
      apply_fds_event(state, event);
      apply_callbacks_event(state, event, index);
      break;
    case Kind::waiter_woken:
      apply_loop_event(state, event, index);
      apply_sync_event(state, event, index);
      break;
    case Kind::sync_created:
    case Kind::sync_destroyed:
    case Kind::waiter_enqueued:
    case Kind::waiter_timed_out:
    case Kind::sync_acquired:
    case Kind::sync_released:
    case Kind::event_set:
    case Kind::event_cleared:
    case Kind::queue_put:
    case Kind::queue_got:
    case Kind::queue_task_done:
    case Kind::snapshot_sync:
    case Kind::snapshot_waiter:
      apply_sync_event(state, event, index);
      break;
    case Kind::stream_opened:
    case Kind::stream_connected:
    case Kind::stream_closed:
    case Kind::tls_handshake_begun:
    case Kind::tls_handshake_finished:
    case Kind::tls_handshake_failed:
    case Kind::snapshot_stream:
      apply_streams_event(state, event);
      break;
    case Kind::stream_read:
    case Kind::stream_written:
      apply_streams_event(state, event);
      apply_fds_event(state, event);
      break;
    case Kind::future_created:
    case Kind::future_resolved:
    case Kind::executor_submitted:
    case Kind::executor_finished:
    case Kind::signal_callbacks_dropped:
    case Kind::events_dropped:
      break;  // the observer counts them; the cause chain reads them from the log
  }
}

}  // namespace tornado::viz
