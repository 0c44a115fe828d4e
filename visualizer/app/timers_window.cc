#include "timers_window.h"

#include "widgets.h"

namespace tornado::viz {
namespace {

// "in 12.3 ms", or "due 4.00 ms ago" when the loop has not fired it yet.
std::string countdown(std::uint64_t deadline_ns, std::uint64_t now_ns) {
  if (deadline_ns >= now_ns) return "in " + duration(deadline_ns - now_ns);
  return "due " + duration(now_ns - deadline_ns) + " ago";
}

void pending(const Model& model, const View& view) {
  const State& state = model.state();
  ui::text(std::to_string(state.timers.pending.size() - state.timers.tombstones) + " pending, " +
           std::to_string(state.timers.tombstones) +
           " cancelled still in the heap (compaction past " + std::to_string(kTombstoneCompaction) +
           " and half the heap); fired " + std::to_string(state.timers.fired) + ", cancelled " +
           std::to_string(state.timers.cancelled));
  if (!ui::begin_table("pending", 5, ImGui::GetContentRegionAvail().y * 0.6f)) return;
  ui::headers("deadline", "countdown", "timer", "id", "added");
  for (const Timer* t : state.timers.by_deadline()) {
    ImGui::TableNextRow();
    ImGui::PushStyleColor(ImGuiCol_Text,
                          t->cancelled ? ui::kDim : ImGui::GetStyleColorVec4(ImGuiCol_Text));
    ui::cell(view.at(t->deadline_ns));
    ui::cell(t->cancelled ? "cancelled (tombstone)" : countdown(t->deadline_ns, state.ts_ns));
    ui::cell(name_or(model, t->name));
    ui::cell(t->id);
    ui::cell(view.at(t->added_ns));
    ImGui::PopStyleColor();
  }
  ImGui::EndTable();
}

void periodic(const Model& model) {
  if (!ui::begin_table("periodic", 4)) return;
  ui::headers("periodic", "every", "ticks", "skipped");
  for (const Periodic& p : model.state().timers.periodic) {
    ImGui::TableNextRow();
    ui::cell(name_or(model, p.name));
    ui::cell(duration(p.interval_ns));
    ui::cell(p.ticks);
    ImGui::TableNextColumn();
    ui::text(p.skipped > 0 ? ui::kError : ImGui::GetStyleColorVec4(ImGuiCol_Text),
             std::to_string(p.skipped));
  }
  ImGui::EndTable();
}

}  // namespace

void TimersWindow::draw(const Model& model, View& view) {
  pending(model, view);
  periodic(model);
}

}  // namespace tornado::viz
