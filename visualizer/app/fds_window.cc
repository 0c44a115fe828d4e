#include "fds_window.h"

#include <algorithm>

#include "model/names.h"
#include "widgets.h"

namespace tornado::viz {
namespace {

constexpr std::uint64_t kMatrixColumns = 48;

void table(const Model& model) {
  if (!ui::begin_table("fds", 9, ImGui::GetContentRegionAvail().y * 0.5f)) return;
  ui::headers("fd", "kind", "handler", "interest", "ready", "ran", "ready/runs", "read", "written");
  for (const auto& [key, fd] : model.state().fds.table) {
    ImGui::TableNextRow();
    ImGui::PushStyleColor(ImGuiCol_Text,
                          fd.registered ? ImGui::GetStyleColorVec4(ImGuiCol_Text) : ui::kDim);
    ui::cell(std::to_string(fd.fd) +
             (fd.loop > 1 ? " (loop " + std::to_string(fd.loop) + ")" : ""));
    ui::cell(name_of(model.fd_kind(fd)));
    ui::cell(name_or(model, fd.name));
    ui::cell(fd.registered ? events_string(fd.interest) : "removed");
    ui::cell(events_string(fd.last_ready));
    ui::cell(fd.handler_ran ? "yes" : "no");
    ui::cell(std::to_string(fd.ready_count) + "/" + std::to_string(fd.handler_runs));
    ui::cell(fd.bytes_read);
    ui::cell(fd.bytes_written);
    ImGui::PopStyleColor();
  }
  ImGui::EndTable();
}

ImU32 cell_colour(std::uint8_t flags) {
  ImVec4 c = (flags & 0x4)   ? ui::kWrite
             : (flags & 0x1) ? ui::kRead
             : (flags & 0x8) ? ui::kError
                             : ui::kPoll;
  return ImGui::ColorConvertFloat4ToU32(c);
}

// One row per fd, one column per iteration (newest on the right): a cell is
// coloured by what the poller returned and outlined when the handler ran.
void matrix(const Model& model) {
  std::uint64_t last = 0;
  for (const auto& item : model.state().loops) last = std::max(last, item.second.current.number);
  std::uint64_t first = last >= kMatrixColumns ? last - kMatrixColumns + 1 : 0;
  ui::text("fds x iterations " + std::to_string(first) + ".." + std::to_string(last) + "  ");
  ImGui::SameLine();
  ui::text(ui::kRead, "read ");
  ImGui::SameLine();
  ui::text(ui::kWrite, "write ");
  ImGui::SameLine();
  ui::text("(outlined: handler ran)");
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const float size = 9, label = 40;
  for (const auto& [key, fd] : model.state().fds.table) {
    ImVec2 at = ImGui::GetCursorScreenPos();
    ui::text(std::to_string(fd.fd));
    for (std::size_t i = 0; i < fd.cells.size(); ++i) {
      const FdCell& c = fd.cells[i];
      if (c.iteration < first || c.iteration > last) continue;
      float x = at.x + label + static_cast<float>(c.iteration - first) * (size + 1);
      ImVec2 a(x, at.y + 2), b(x + size, at.y + 2 + size);
      draw->AddRectFilled(a, b, cell_colour(c.flags));
      if (c.flags & kCellHandlerRan) draw->AddRect(a, b, IM_COL32(255, 255, 255, 220));
    }
  }
}

}  // namespace

void FdsWindow::draw(const Model& model, View& /*view*/) {
  if (model.state().fds.table.empty()) ui::text(ui::kDim, "no fd registered yet");
  table(model);
  matrix(model);
}

}  // namespace tornado::viz
