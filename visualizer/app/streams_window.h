// "Streams": each stream's state, read and write buffer sizes over time, bytes
// moved and close reason.
#pragma once

#include "model/model.h"
#include "view.h"

namespace tornado::viz {

struct StreamsWindow {
  static constexpr const char* kTitle = "Streams";
  void draw(const Model& model, View& view);
};

}  // namespace tornado::viz
