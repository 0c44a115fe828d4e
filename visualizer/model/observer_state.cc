#include "model/observer_state.h"

#include "model/state.h"

namespace tornado::viz {

namespace {

constexpr std::uint64_t kSecondNs = 1'000'000'000;

bool known_kind(trace::Kind kind) {
  const auto k = static_cast<std::uint16_t>(kind);
  return k >= static_cast<std::uint16_t>(trace::Kind::loop_started) &&
         k <= static_cast<std::uint16_t>(trace::Kind::snapshot_end);
}

void count_rate(ObserverState& observer, std::uint64_t ts) {
  // A jump in time starts a new slice; the gap is not filled, so a wild
  // timestamp costs one slice, not a loop over the gap.
  if (observer.rate.empty() || ts < observer.rate.back().start_ns ||
      ts - observer.rate.back().start_ns >= kSecondNs) {
    observer.rate.push(RateSlice{ts - ts % kSecondNs, 0});
  }
  ++observer.rate.back().events;
}

}  // namespace

void apply_observer_event(State& state, const trace::Event& event, std::uint64_t index) {
  ObserverState& observer = state.observer;
  ++observer.events;
  if (!known_kind(event.kind)) ++observer.unknown_kinds;
  if (event.ts_ns < state.ts_ns) {
    ++observer.out_of_order;
  } else {
    state.ts_ns = event.ts_ns;
  }
  count_rate(observer, event.ts_ns);
  if (event.kind == trace::Kind::events_dropped) {
    observer.drops.push(Drop{index, event.ts_ns, event.b, event.a});
    observer.dropped += event.a;
  } else if (event.kind == trace::Kind::signal_callbacks_dropped) {
    observer.signal_dropped += event.a;
  }
}

}  // namespace tornado::viz
