// Small ImGui helpers the panels share: std::string text, table cells and
// the colours that mean the same thing in every panel.
#pragma once

#include <imgui.h>

#include <string>
#include <string_view>

namespace tornado::viz::ui {

inline void text(std::string_view s) { ImGui::TextUnformatted(s.data(), s.data() + s.size()); }
inline void text(const ImVec4& colour, std::string_view s) {
  ImGui::PushStyleColor(ImGuiCol_Text, colour);
  text(s);
  ImGui::PopStyleColor();
}
/// The next table cell, holding `s`.
inline void cell(std::string_view s) {
  ImGui::TableNextColumn();
  text(s);
}
inline void cell(std::uint64_t n) { cell(std::to_string(n)); }
/// A table row that can be clicked; true when it was.
inline bool row_button(const std::string& label, bool selected) {
  ImGui::TableNextColumn();
  return ImGui::Selectable(label.c_str(), selected, ImGuiSelectableFlags_SpanAllColumns);
}
/// Starts a table whose columns fit their contents and that scrolls both ways.
inline bool begin_table(const char* id, int columns, float height = 0) {
  return ImGui::BeginTable(id, columns,
                           ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                               ImGuiTableFlags_ScrollX | ImGuiTableFlags_ScrollY |
                               ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingFixedFit,
                           ImVec2(0, height));
}
/// Column headers, frozen at the top of a scrolling table.
template <class... Names>
void headers(Names... names) {
  ImGui::TableSetupScrollFreeze(0, 1);
  (ImGui::TableSetupColumn(names), ...);
  ImGui::TableHeadersRow();
}

// Colours: phases of an iteration, readiness, trouble.
inline const ImVec4 kCallbacks{0.35f, 0.65f, 0.95f, 1.0f};
inline const ImVec4 kTimers{0.95f, 0.70f, 0.25f, 1.0f};
inline const ImVec4 kHandlers{0.55f, 0.85f, 0.40f, 1.0f};
inline const ImVec4 kPoll{0.35f, 0.35f, 0.40f, 1.0f};
inline const ImVec4 kRead{0.30f, 0.80f, 0.45f, 1.0f};
inline const ImVec4 kWrite{0.95f, 0.55f, 0.20f, 1.0f};
inline const ImVec4 kError{1.0f, 0.35f, 0.35f, 1.0f};
inline const ImVec4 kDim{0.55f, 0.55f, 0.55f, 1.0f};
inline const ImVec4 kHighlight{1.0f, 0.90f, 0.30f, 1.0f};

}  // namespace tornado::viz::ui
