// "Time cursor": the toolbar across the top. Says where the events come from
// and what went wrong, and moves the cursor: follow the live end, pause,
// step one event or one iteration either way, scrub, play at a chosen speed.
#pragma once

#include <cstdint>

#include "session.h"
#include "view.h"

namespace tornado::viz {

struct TimeCursorWindow {
  static constexpr const char* kTitle = "Time cursor";
  /// Draws the toolbar and moves the cursor (`seconds` since the last frame,
  /// for playing). UI thread only.
  void draw(Session& session, View& view, double seconds);

 private:
  void status(Session& session);
  void buttons(Model& model, bool live);
  void scrubber(Model& model, const View& view);
  void play(Model& model, bool live, double seconds);

  bool playing_ = false;
  int speed_ = 3;  // index into kSpeeds: 1x
};

}  // namespace tornado::viz
