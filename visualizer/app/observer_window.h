// "Observer": events per second, ring drops placed on the timeline, what the
// model found wrong with its input, and the viewer's own cost per event and
// frame rate.
#pragma once

#include "model/model.h"
#include "view.h"

namespace tornado::viz {

struct ObserverWindow {
  static constexpr const char* kTitle = "Observer";
  double ingest_ns_per_event = 0;  // measured by the session, set each frame
  void draw(const Model& model, View& view);
};

}  // namespace tornado::viz
