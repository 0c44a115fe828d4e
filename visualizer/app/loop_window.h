// "Loop": each loop's iterations split into their phases, the poll timeout
// and why it was chosen, and utilization over time.
#pragma once

#include "model/model.h"
#include "view.h"

namespace tornado::viz {

struct LoopWindow {
  static constexpr const char* kTitle = "Loop";
  void draw(const Model& model, View& view);
};

}  // namespace tornado::viz
