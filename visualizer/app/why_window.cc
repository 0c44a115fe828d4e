#include "why_window.h"

#include "model/names.h"
#include "widgets.h"

namespace tornado::viz {
namespace {

// What a link says in words: "scheduled at main.cc:42 (callback 7)".
std::string describe(const Model& model, const CauseLink& link) {
  std::string what(name_of(link.kind));
  std::string name = name_or(model, link.name, "");
  if (!name.empty()) what += " at " + name;
  if (link.kind == CauseKind::fd_ready) what += " (fd " + std::to_string(link.object) + ")";
  if (link.kind == CauseKind::trigger) {
    what += " (" + std::string(trace::kind_name(link.event)) + " on " +
            std::to_string(link.object) + ")";
  }
  return what;
}

// The latest run before the cursor, when nothing is selected.
std::optional<CallbackRun> latest_run(const Model& model) {
  const auto& recent = model.state().callbacks.recent;
  if (recent.empty()) return std::nullopt;
  return recent.back();
}

}  // namespace

void WhyWindow::draw(const Model& model, View& view) {
  std::optional<CallbackRun> run = view.selected_run;
  if (run && run->start_index >= model.cursor()) run.reset();  // not yet run at the cursor
  bool chosen = run.has_value();
  if (!run) run = latest_run(model);
  if (!run) {
    ui::text(ui::kDim, "no callback has run yet");
    return;
  }
  ui::text((chosen ? "selected: " : "latest run (select one in Callbacks): ") +
           name_or(model, run->name) + ", " + std::string(name_of(run->via)) + ", took " +
           duration(run->duration_ns));
  std::vector<CauseLink> chain = model.cause_chain(*run);
  if (chain.empty()) ui::text(ui::kDim, "no cause recorded");
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const CauseLink& link = chain[i];
    ImGui::PushID(static_cast<int>(i));
    ImGui::Indent(static_cast<float>(i == 0 ? 0 : 12));
    std::string label = (i == 0 ? "because: " : "which was ") + describe(model, link) + "  @ " +
                        view.at(link.ts_ns) + ", event " + std::to_string(link.index);
    if (ImGui::Selectable(label.c_str())) view.seek_after(link.index);
    ImGui::PopID();
  }
  ImGui::Unindent(static_cast<float>(chain.size() > 1 ? 12 * (chain.size() - 1) : 0));
}

}  // namespace tornado::viz
