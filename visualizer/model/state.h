// Everything the panels show, as of one event index. A State is a plain value:
// the model copies it into keyframes and the app reads it once per frame.
#pragma once

#include <cstdint>
#include <map>

#include "model/callbacks_state.h"
#include "model/fds_state.h"
#include "model/loop_state.h"
#include "model/observer_state.h"
#include "model/streams_state.h"
#include "model/sync_state.h"
#include "model/timers_state.h"
#include "tornado/trace.h"

namespace tornado::viz {

struct State {
  std::uint64_t index = 0;  // events applied: the state is "after events [0, index)"
  std::uint64_t ts_ns = 0;  // the latest timestamp applied
  std::map<std::uint16_t, Loop> loops;
  CallbacksState callbacks;
  TimersState timers;
  FdsState fds;
  SyncState sync;
  StreamsState streams;
  ObserverState observer;

  /// The loop with this id, created on first use (nullptr past kMaxLoops).
  Loop* loop(std::uint16_t id);
};

/// Applies one event (its index is `state.index`) and advances the index.
/// Never throws on malformed input: unknown kinds and objects are counted.
void apply(State& state, const trace::Event& event);

}  // namespace tornado::viz
