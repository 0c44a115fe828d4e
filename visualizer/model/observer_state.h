// The Observer panel's data: events per second, ring drops placed on the
// timeline, and what the model found wrong with its input.
#pragma once

#include <cstdint>

#include "model/ring.h"
#include "tornado/trace.h"

namespace tornado::viz {

struct State;

struct Drop {
  std::uint64_t index = 0;     // event index of the events_dropped event
  std::uint64_t first_ns = 0;  // first and last lost event's time
  std::uint64_t last_ns = 0;
  std::uint64_t count = 0;
};

struct RateSlice {
  std::uint64_t start_ns = 0;  // one second of events
  std::uint64_t events = 0;
};

struct ObserverState {
  std::uint64_t events = 0;
  Ring<RateSlice> rate{120};
  Ring<Drop> drops{256};
  std::uint64_t dropped = 0;         // events lost in the transport
  std::uint64_t signal_dropped = 0;  // add_callback_from_signal calls lost
  // Malformed input, counted and otherwise ignored.
  std::uint64_t unknown_kinds = 0;
  std::uint64_t unknown_objects = 0;  // events about objects never created
  std::uint64_t out_of_order = 0;     // timestamps that went backwards
  std::uint64_t over_limit = 0;       // objects not tracked because a table was full
};

/// Counts every event (before its area applies it).
void apply_observer_event(State& state, const trace::Event& event, std::uint64_t index);

}  // namespace tornado::viz
