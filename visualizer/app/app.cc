#include "app.h"

#include <imgui.h>

namespace tornado::viz {
namespace {

constexpr float kToolbarHeight = 84;
constexpr int kColumns = 3, kRows = 3;

}  // namespace

void App::update() {
  session_.pump();
  Model& model = session_.model();
  if (&model != model_seen_) {
    std::uint64_t frame = view_.frame;
    view_ = View{};
    view_.frame = frame;
    model_seen_ = &model;
  }
  if (view_.seek_to) model.seek(*view_.seek_to);
  view_.seek_to.reset();
  if (view_.origin_ns == 0 && model.end() > model.first_index()) {
    view_.origin_ns = model.event(model.first_index()).ts_ns;
  }
  if (model.cursor() != cursor_seen_) {
    cursor_seen_ = model.cursor();
    view_.cursor_changed_frame = view_.frame;
  }
  ++view_.frame;
}

// Panels start in a 3 x 3 grid under the toolbar; the user may move them.
template <class Window>
void App::panel(Window& window, int column, int row, float width, float height) {
  const float w = width / kColumns, h = (height - kToolbarHeight) / kRows;
  ImGui::SetNextWindowPos(
      ImVec2(w * static_cast<float>(column), kToolbarHeight + h * static_cast<float>(row)),
      ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(w, h), ImGuiCond_FirstUseEver);
  if (ImGui::Begin(Window::kTitle)) window.draw(session_.model(), view_);
  ImGui::End();
}

void App::frame(float width, float height, double seconds) {
  update();
  ImGui::SetNextWindowPos(ImVec2(0, 0), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(width, kToolbarHeight), ImGuiCond_FirstUseEver);
  if (ImGui::Begin(TimeCursorWindow::kTitle)) time_cursor_.draw(session_, view_, seconds);
  ImGui::End();
  observer_.ingest_ns_per_event = session_.ingest_ns_per_event();
  panel(loop_, 0, 0, width, height);
  panel(callbacks_, 1, 0, width, height);
  panel(why_, 2, 0, width, height);
  panel(timers_, 0, 1, width, height);
  panel(fds_, 1, 1, width, height);
  panel(waiters_, 2, 1, width, height);
  panel(events_, 0, 2, width, height);
  panel(streams_, 1, 2, width, height);
  panel(observer_, 2, 2, width, height);
}

}  // namespace tornado::viz
