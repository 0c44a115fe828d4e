// "Why did this run?": the cause chain of the selected callback run (Callbacks
// or Events), back to its origin: add_callback at file:line, a timer, fd
// readiness, a future or a notify/release/put.
#pragma once

#include "model/model.h"
#include "view.h"

namespace tornado::viz {

struct WhyWindow {
  static constexpr const char* kTitle = "Why did this run?";
  void draw(const Model& model, View& view);
};

}  // namespace tornado::viz
