// "File descriptors": the registered fds (kind, interest beside readiness,
// whether the handler ran, bytes moved) and a matrix of fds x iterations that
// shows a busy-spinning WRITE interest or a starved fd at a glance.
#pragma once

#include "model/model.h"
#include "view.h"

namespace tornado::viz {

struct FdsWindow {
  static constexpr const char* kTitle = "File descriptors";
  void draw(const Model& model, View& view);
};

}  // namespace tornado::viz
