#include "streams_window.h"

#include <vector>

#include "model/names.h"
#include "widgets.h"

namespace tornado::viz {
namespace {

// The buffer history as two small lines: read buffer, then write buffer.
void buffers(const Stream& s) {
  std::vector<float> read, write;
  for (std::size_t i = 0; i < s.history.size(); ++i) {
    read.push_back(static_cast<float>(s.history[i].read_buffer));
    write.push_back(static_cast<float>(s.history[i].write_buffer));
  }
  ImGui::PlotLines("##r", read.data(), static_cast<int>(read.size()), 0, nullptr, 0.0f, FLT_MAX,
                   ImVec2(70, 16));
  ImGui::SameLine();
  ImGui::PlotLines("##w", write.data(), static_cast<int>(write.size()), 0, nullptr, 0.0f, FLT_MAX,
                   ImVec2(70, 16));
}

std::string state_text(const Model& model, const Stream& s) {
  std::string text(name_of(s.phase));
  if (s.phase == StreamPhase::closed) {
    text += s.close_reason != 0 ? ": " + name_or(model, s.close_reason) : ": by the program";
  }
  if (s.tls != 0) text += " [" + name_or(model, s.tls) + "]";
  return text;
}

}  // namespace

void StreamsWindow::draw(const Model& model, View& /*view*/) {
  const StreamsState& streams = model.state().streams;
  ui::text(std::to_string(streams.opened) + " opened, " + std::to_string(streams.closed) +
           " closed");
  if (!ui::begin_table("streams", 7)) return;
  ui::headers("stream", "kind", "fd", "state", "read buf / write buf", "history r | w",
              "bytes in/out");
  for (const auto& [id, s] : streams.streams) {
    ImGui::TableNextRow();
    ImGui::PushID(static_cast<int>(id));
    ImGui::PushStyleColor(ImGuiCol_Text, s.phase == StreamPhase::closed
                                             ? ui::kDim
                                             : ImGui::GetStyleColorVec4(ImGuiCol_Text));
    ui::cell(name_or(model, s.name, ("stream " + std::to_string(id)).c_str()));
    ui::cell(name_of(s.kind));
    ui::cell(std::to_string(s.fd));
    ui::cell(state_text(model, s));
    ui::cell(std::to_string(s.read_buffer) + " / " + std::to_string(s.write_buffer));
    ImGui::TableNextColumn();
    buffers(s);
    ui::cell(std::to_string(s.bytes_read) + " / " + std::to_string(s.bytes_written));
    ImGui::PopStyleColor();
    ImGui::PopID();
  }
  ImGui::EndTable();
}

}  // namespace tornado::viz
