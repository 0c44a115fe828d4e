// The whole UI, one frame at a time: take in what arrived, apply a seek a
// panel asked for, then draw the toolbar and the nine panels from the state
// at the cursor. The model is read once per frame, never written by panels.
#pragma once

#include <cstdint>

#include "callbacks_window.h"
#include "events_window.h"
#include "fds_window.h"
#include "loop_window.h"
#include "observer_window.h"
#include "session.h"
#include "streams_window.h"
#include "time_cursor_window.h"
#include "timers_window.h"
#include "view.h"
#include "waiters_window.h"
#include "why_window.h"

namespace tornado::viz {

class App {
 public:
  explicit App(Session& session) : session_(session) {}

  /// Ingests, then draws every window into a `width` x `height` screen.
  /// Between ImGui::NewFrame() and ImGui::Render(). UI thread only.
  void frame(float width, float height, double seconds);
  /// Ingests and moves the cursor without drawing (no window). UI thread only.
  void update();
  std::uint64_t frames() const noexcept { return view_.frame; }

 private:
  template <class Window>
  void panel(Window& window, int column, int row, float width, float height);

  Session& session_;
  View view_;
  const Model* model_seen_ = nullptr;  // a new program's model resets the view
  std::uint64_t cursor_seen_ = UINT64_MAX;
  TimeCursorWindow time_cursor_;
  LoopWindow loop_;
  CallbacksWindow callbacks_;
  WhyWindow why_;
  TimersWindow timers_;
  FdsWindow fds_;
  WaitersWindow waiters_;
  EventsWindow events_;
  StreamsWindow streams_;
  ObserverWindow observer_;
};

}  // namespace tornado::viz
