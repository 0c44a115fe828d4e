#include "observer_window.h"

#include <cstdio>
#include <vector>

#include "widgets.h"

namespace tornado::viz {
namespace {

void counters(const ObserverState& o) {
  ui::text(std::to_string(o.events) + " events at the cursor");
  ImGui::TextColored(o.dropped > 0 ? ui::kError : ImGui::GetStyleColorVec4(ImGuiCol_Text),
                     "dropped in transport: %llu, signal callbacks lost: %llu",
                     static_cast<unsigned long long>(o.dropped),
                     static_cast<unsigned long long>(o.signal_dropped));
  std::uint64_t bad = o.unknown_kinds + o.unknown_objects + o.out_of_order + o.over_limit;
  ImGui::TextColored(bad > 0 ? ui::kTimers : ui::kDim,
                     "unknown kinds %llu, unknown objects %llu, out of order %llu, over limit %llu",
                     static_cast<unsigned long long>(o.unknown_kinds),
                     static_cast<unsigned long long>(o.unknown_objects),
                     static_cast<unsigned long long>(o.out_of_order),
                     static_cast<unsigned long long>(o.over_limit));
}

void rate(const ObserverState& o) {
  std::vector<float> per_second;
  for (std::size_t i = 0; i < o.rate.size(); ++i)
    per_second.push_back(static_cast<float>(o.rate[i].events));
  ImGui::PlotHistogram("##rate", per_second.data(), static_cast<int>(per_second.size()), 0,
                       "events per second", 0.0f, FLT_MAX, ImVec2(-1, 60));
}

void drops(const ObserverState& o, View& view) {
  if (o.drops.empty()) return;
  if (!ui::begin_table("drops", 3)) return;
  ui::headers("drop at", "events lost", "between");
  for (std::size_t i = 0; i < o.drops.size(); ++i) {
    const Drop& d = o.drops[i];
    ImGui::TableNextRow();
    ImGui::PushID(static_cast<int>(i));
    if (ui::row_button("event " + std::to_string(d.index), false)) view.seek_after(d.index);
    ui::cell(d.count);
    ui::cell(view.at(d.first_ns) + " .. " + view.at(d.last_ns));
    ImGui::PopID();
  }
  ImGui::EndTable();
}

}  // namespace

void ObserverWindow::draw(const Model& model, View& view) {
  const ObserverState& o = model.state().observer;
  counters(o);
  char line[160];
  std::snprintf(line, sizeof line, "viewer: %.1f frames/s, model ingest %.0f ns/event",
                static_cast<double>(ImGui::GetIO().Framerate), ingest_ns_per_event);
  ui::text(line);
  rate(o);
  drops(o, view);
}

}  // namespace tornado::viz
