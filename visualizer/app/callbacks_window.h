// "Callbacks": the ready queue in order, recent runs with duration, name and
// source location, a histogram of durations, and every blocking callback with
// what it cost others (late timers, waiting fds, deferred wake-ups).
#pragma once

#include <cstdint>

#include "model/model.h"
#include "view.h"

namespace tornado::viz {

struct CallbacksWindow {
  static constexpr const char* kTitle = "Callbacks";
  void draw(const Model& model, View& view);

 private:
  std::uint64_t shown_block_ = UINT64_MAX;  // the block whose tab was last opened for the user
};

}  // namespace tornado::viz
