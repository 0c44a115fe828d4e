// "Timers": the timer heap as a list sorted by deadline with countdowns
// relative to the cursor, cancelled timers as tombstones until compaction, and
// periodic callbacks with their skipped ticks.
#pragma once

#include "model/model.h"
#include "view.h"

namespace tornado::viz {

struct TimersWindow {
  static constexpr const char* kTitle = "Timers";
  void draw(const Model& model, View& view);
};

}  // namespace tornado::viz
