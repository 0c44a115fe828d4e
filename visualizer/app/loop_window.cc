#include "loop_window.h"

#include <algorithm>
#include <vector>

#include "model/names.h"
#include "widgets.h"

namespace tornado::viz {
namespace {

// One bar, split in proportion to the time each phase took.
void phase_bar(const Iteration& it, float width) {
  const std::uint64_t parts[] = {it.callbacks_ns, it.timers_ns, it.handlers_ns, it.poll_ns};
  const ImVec4 colours[] = {ui::kCallbacks, ui::kTimers, ui::kHandlers, ui::kPoll};
  std::uint64_t total = 0;
  for (std::uint64_t p : parts) total += p;
  ImVec2 at = ImGui::GetCursorScreenPos();
  float h = ImGui::GetTextLineHeight();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  float x = at.x;
  for (int i = 0; i < 4 && total > 0; ++i) {
    float w =
        width * static_cast<float>(static_cast<double>(parts[i]) / static_cast<double>(total));
    draw->AddRectFilled(ImVec2(x, at.y + 2), ImVec2(x + w, at.y + h - 1),
                        ImGui::ColorConvertFloat4ToU32(colours[i]));
    x += w;
  }
  ImGui::Dummy(ImVec2(width, h));
}

std::string timeout_text(const Iteration& it) {
  if (it.reason == PollReason::not_polled) return "-";
  if (it.poll_timeout_ns == UINT64_MAX) return "none";
  return duration(it.poll_timeout_ns);
}

void utilization(const Loop& loop) {
  std::vector<float> busy;
  for (std::size_t i = 0; i < loop.utilization.size(); ++i) {
    busy.push_back(static_cast<float>(static_cast<double>(loop.utilization[i].busy_ns) /
                                      static_cast<double>(kUtilizationSliceNs)));
  }
  ImGui::PlotLines("utilization", busy.data(), static_cast<int>(busy.size()), 0,
                   "busy share per 100 ms", 0.0f, 1.0f, ImVec2(-90, 36));
}

void iterations(const Loop& loop, View& view, std::uint64_t cursor) {
  if (!ui::begin_table("iterations", 8)) return;
  ui::headers("#", "began", "phases", "took", "ready/timers/fds", "timeout", "why", "");
  std::size_t n = loop.iterations.size();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(n));
  while (clipper.Step()) {
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
      const Iteration& it = loop.iterations[n - 1 - static_cast<std::size_t>(row)];  // newest first
      ImGui::TableNextRow();
      ImGui::PushID(row);
      bool here =
          cursor > it.first_event &&
          (row == 0 || cursor <= loop.iterations[n - static_cast<std::size_t>(row)].first_event);
      if (ui::row_button(std::to_string(it.number), here)) view.seek_after(it.first_event);
      ui::cell(view.at(it.begin_ns));
      ImGui::TableNextColumn();
      phase_bar(it, 90.0f);
      ui::cell(duration(it.end_ns > it.begin_ns ? it.end_ns - it.begin_ns : 0));
      ui::cell(std::to_string(it.callbacks_run) + "/" + std::to_string(it.timers_run) + "/" +
               std::to_string(it.fds_ready));
      ui::cell(timeout_text(it));
      ui::cell(name_of(it.reason));
      ui::cell("");
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
}

void one_loop(const Model& model, const Loop& loop, View& view) {
  ui::text("loop " + std::to_string(loop.id) + ": " +
           (loop.closed    ? "closed"
            : loop.running ? "running"
                           : "not running") +
           ", " + std::to_string(loop.iterations_total) + " iterations" +
           (loop.in_iteration ? ", in iteration " + std::to_string(loop.current.number) : ""));
  if (loop.running_callback) {
    ui::text(ui::kHighlight, "running now: " + name_or(model, loop.running_callback->name) + " (" +
                                 std::string(name_of(loop.running_callback->via)) + ")");
  }
  ImGui::SameLine();
  ui::text(ui::kCallbacks, " callbacks");
  ImGui::SameLine();
  ui::text(ui::kTimers, "timers");
  ImGui::SameLine();
  ui::text(ui::kHandlers, "fd handlers");
  ImGui::SameLine();
  ui::text(ui::kPoll, "poll");
  utilization(loop);
  iterations(loop, view, model.cursor());
}

}  // namespace

void LoopWindow::draw(const Model& model, View& view) {
  const State& state = model.state();
  if (state.loops.empty()) ui::text(ui::kDim, "no loop yet");
  bool tabs = state.loops.size() > 1 && ImGui::BeginTabBar("loops");
  for (const auto& [id, loop] : state.loops) {
    if (tabs && !ImGui::BeginTabItem(("loop " + std::to_string(id)).c_str())) continue;
    ImGui::PushID(id);
    one_loop(model, loop, view);
    ImGui::PopID();
    if (tabs) ImGui::EndTabItem();
    if (!tabs) break;  // one loop: no tabs needed
  }
  if (tabs) ImGui::EndTabBar();
}

}  // namespace tornado::viz
