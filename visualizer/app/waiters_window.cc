#include "waiters_window.h"

#include "model/names.h"
#include "widgets.h"

namespace tornado::viz {
namespace {

constexpr std::uint64_t kFlashFrames =
    45;  // how long a hand-off glows after the cursor lands on it

std::string value_text(const SyncObject& s) {
  switch (s.kind) {
    case trace::SyncKind::event:
      return s.value != 0 ? "set" : "clear";
    case trace::SyncKind::queue:
      return "size " + std::to_string(s.value) +
             (s.initial ? "/" + std::to_string(s.initial) : "") + ", unfinished " +
             std::to_string(s.unfinished);
    case trace::SyncKind::condition:
      return "";
    default:
      return "value " + std::to_string(s.value) + " of " + std::to_string(s.initial);
  }
}

std::string id_list(const std::vector<std::uint64_t>& ids) {
  std::string out;
  for (std::uint64_t id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out.empty() ? "none" : out;
}

void waiter_rows(const Model& model, const SyncObject& s, const View& view) {
  if (s.waiters.empty() && s.timed_out.empty()) return;
  if (!ImGui::BeginTable("waiters", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit))
    return;
  ui::headers("#", "waits for", "waited", "waiter (where it waits)");
  const std::uint64_t now = model.state().ts_ns;
  for (std::size_t i = 0; i < s.waiters.size(); ++i) {
    const Waiter& w = s.waiters[i];
    ImGui::TableNextRow();
    ui::cell(i + 1);
    ui::cell(name_of(w.kind));
    ui::cell(duration(now > w.since_ns ? now - w.since_ns : 0));
    ui::cell(std::to_string(w.id) + ": " + name_or(model, w.site));
  }
  for (std::size_t i = 0; i < s.timed_out.size(); ++i) {
    const Waiter& w = s.timed_out[i];
    ImGui::TableNextRow();
    ImGui::PushStyleColor(ImGuiCol_Text, ui::kDim);
    ui::cell("-");
    ui::cell("timed out");
    ui::cell(view.at(w.left_ns));
    ui::cell(std::to_string(w.id) + ": " + name_or(model, w.site));
    ImGui::PopStyleColor();
  }
  ImGui::EndTable();
}

// The hand-off the cursor just stepped onto glows, then fades.
void handoff(const SyncObject& s, const Model& model, const View& view) {
  if (s.last_handoff.waiter == 0) return;
  std::string text = "last hand-off: " + std::string(trace::kind_name(s.last_handoff.cause)) +
                     " -> waiter " + std::to_string(s.last_handoff.waiter);
  bool fresh = s.last_handoff.index + 1 == model.cursor();
  std::uint64_t age = view.frame - view.cursor_changed_frame;
  if (!fresh || age >= kFlashFrames) {
    ui::text(ui::kDim, text);
    return;
  }
  ImVec4 c = ui::kHighlight;
  c.w = 1.0f - 0.7f * static_cast<float>(age) / static_cast<float>(kFlashFrames);
  ui::text(c, ">> " + text);
}

void one_object(const Model& model, const SyncObject& s, const View& view) {
  std::string title = name_or(model, s.name, std::string(name_of(s.kind)).c_str()) + "  [" +
                      std::to_string(s.waiters.size()) + " waiting]###" + std::to_string(s.id);
  if (!ImGui::CollapsingHeader(title.c_str(), ImGuiTreeNodeFlags_DefaultOpen)) return;
  ImGui::PushID(static_cast<int>(s.id));
  std::string line = value_text(s);
  if (s.kind == trace::SyncKind::lock || s.kind == trace::SyncKind::semaphore) {
    line += "; holders " + id_list(s.holders) + (s.from_snapshot ? " (attached late)" : "");
  }
  ui::text(line);
  handoff(s, model, view);
  waiter_rows(model, s, view);
  ImGui::PopID();
}

}  // namespace

void WaitersWindow::draw(const Model& model, View& view) {
  const SyncState& sync = model.state().sync;
  if (sync.objects.empty()) ui::text(ui::kDim, "no Lock, Condition, Event, Semaphore or Queue yet");
  for (const auto& item : sync.objects) one_object(model, item.second, view);
}

}  // namespace tornado::viz
