#include "callbacks_window.h"

#include <algorithm>
#include <vector>

#include "model/names.h"
#include "widgets.h"

namespace tornado::viz {
namespace {

bool same_run(const std::optional<CallbackRun>& a, const CallbackRun& b) {
  return a && a->start_index == b.start_index;
}

void ready_queue(const Model& model, const View& view) {
  if (!ui::begin_table("ready", 5)) return;
  ui::headers("#", "callback", "via", "scheduled by", "since");
  for (const auto& [id, loop] : model.state().loops) {
    for (std::size_t i = 0; i < loop.ready.size(); ++i) {
      const ReadyCallback& c = loop.ready[i];
      ImGui::TableNextRow();
      ui::cell(i + 1);
      ui::cell(name_or(model, c.name));
      ui::cell(name_of(c.via));
      ui::cell(c.scheduled_by == 0 ? "-" : std::to_string(c.scheduled_by));
      ui::cell(view.at(c.scheduled_ns));
    }
  }
  ImGui::EndTable();
}

void recent_runs(const Model& model, View& view) {
  const auto& recent = model.state().callbacks.recent;
  if (!ui::begin_table("recent", 5)) return;
  ui::headers("started", "callback", "via", "took", "iteration");
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(recent.size()));
  while (clipper.Step()) {
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
      const CallbackRun& run = recent[recent.size() - 1 - static_cast<std::size_t>(row)];
      ImGui::TableNextRow();
      ImGui::PushID(row);
      if (ui::row_button(view.at(run.start_ns), same_run(view.selected_run, run))) {
        view.selected_run = run;
      }
      ImGui::TableNextColumn();
      ui::text(run.blocking ? ui::kError : ImGui::GetStyleColorVec4(ImGuiCol_Text),
               name_or(model, run.name) + (run.threw ? "  (threw)" : ""));
      ui::cell(name_of(run.via));
      ui::cell(duration(run.duration_ns));
      ui::cell(run.iteration);
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
}

void histogram(const CallbacksState& callbacks) {
  std::vector<float> counts;
  for (std::uint64_t c : callbacks.histogram) counts.push_back(static_cast<float>(c));
  while (counts.size() > 8 && counts.back() == 0) counts.pop_back();
  ImGui::PlotHistogram("##durations", counts.data(), static_cast<int>(counts.size()), 0,
                       "runs per duration (bar i: 2^i ns)", 0.0f, FLT_MAX, ImVec2(-1, 120));
  ui::text(std::to_string(callbacks.runs) + " runs, " + std::to_string(callbacks.exceptions) +
           " threw");
}

void one_block(const Model& model, const Blocking& b, View& view, bool newest) {
  std::string title = name_or(model, b.run.name) + " blocked for " + duration(b.run.duration_ns) +
                      " (threshold " + duration(b.threshold_ns) + ")##" + std::to_string(b.index);
  if (!ImGui::TreeNodeEx(title.c_str(), newest ? ImGuiTreeNodeFlags_DefaultOpen : 0)) return;
  if (ImGui::SmallButton("go to it")) view.seek_after(b.index);
  for (const LateTimer& t : b.late_timers) {
    std::string when =
        t.fired_ns == 0
            ? "not fired yet"
            : "fired " + duration(t.fired_ns - std::min(t.fired_ns, t.deadline_ns)) + " late";
    ui::text("timer " + when + ": " + name_or(model, t.name));
  }
  for (const WaitingFd& f : b.waiting_fds) {
    ui::text("fd " + std::to_string(f.fd) + " ready (" + events_string(f.events) + ") waited");
  }
  for (const DeferredWaiter& w : b.deferred_waiters) {
    auto sync = model.state().sync.objects.find(w.sync);
    std::string of = sync != model.state().sync.objects.end() ? name_or(model, sync->second.name)
                                                              : "sync " + std::to_string(w.sync);
    ui::text("waiter " + std::to_string(w.waiter) + " of " + of + " woken but could not resume");
  }
  ImGui::TreePop();
}

void blocking(const Model& model, View& view) {
  const auto& blocks = model.state().callbacks.blocking;
  if (blocks.empty()) ui::text(ui::kDim, "no callback ran past the blocking threshold");
  for (std::size_t i = blocks.size(); i-- > 0;)
    one_block(model, blocks[i], view, i + 1 == blocks.size());
}

}  // namespace

void CallbacksWindow::draw(const Model& model, View& view) {
  if (!ImGui::BeginTabBar("callbacks")) return;
  std::size_t ready = 0;
  for (const auto& item : model.state().loops) ready += item.second.ready.size();
  const std::size_t blocks = model.state().callbacks.blocking.size();
  if (ImGui::BeginTabItem("Recent runs")) {
    recent_runs(model, view);
    ImGui::EndTabItem();
  }
  if (ImGui::BeginTabItem(("Ready (" + std::to_string(ready) + ")###ready").c_str())) {
    ready_queue(model, view);
    ImGui::EndTabItem();
  }
  if (ImGui::BeginTabItem("Durations")) {
    histogram(model.state().callbacks);
    ImGui::EndTabItem();
  }
  // A new blocking callback at the cursor opens its tab: what it cost is the point.
  ImGuiTabItemFlags open_blocking = 0;
  if (blocks > 0) {
    const Blocking& last = model.state().callbacks.blocking.back();
    if (shown_block_ != last.index) {
      open_blocking = ImGuiTabItemFlags_SetSelected;
      shown_block_ = last.index;
    }
  }
  if (ImGui::BeginTabItem(("Blocking (" + std::to_string(blocks) + ")###blocking").c_str(), nullptr,
                          open_blocking)) {
    blocking(model, view);
    ImGui::EndTabItem();
  }
  ImGui::EndTabBar();
}

}  // namespace tornado::viz
