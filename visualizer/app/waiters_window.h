// "Waiters": every Lock, Condition, Event, Semaphore and Queue by name with
// holders, value or size, the ordered waiter queue, timed-out waiters until
// purged, and the latest hand-off highlighted when the cursor steps onto it.
#pragma once

#include "model/model.h"
#include "view.h"

namespace tornado::viz {

struct WaitersWindow {
  static constexpr const char* kTitle = "Waiters";
  void draw(const Model& model, View& view);
};

}  // namespace tornado::viz
