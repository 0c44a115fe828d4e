#include "events_window.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "widgets.h"

namespace tornado::viz {
namespace {

constexpr auto kLastKind = static_cast<int>(trace::Kind::snapshot_end);
constexpr std::size_t kMaxMatches = 5000;
constexpr std::uint64_t kSearchBack = 200'000;  // filtered: search from this far before the cursor

bool same(const EventFilter& a, const EventFilter& b) {
  return a.kinds == b.kinds && a.loop == b.loop && a.object == b.object &&
         a.match_object == b.match_object && a.name_contains == b.name_contains;
}

const char* kind_label(int k) {
  return k == 0 ? "every kind" : trace::kind_name(static_cast<trace::Kind>(k)).data();
}

}  // namespace

void EventsWindow::filter_bar() {
  ImGui::SetNextItemWidth(150);
  if (ImGui::BeginCombo("##kind", kind_label(kind_))) {
    for (int k = 0; k <= kLastKind; ++k) {
      if (ImGui::Selectable(kind_label(k), k == kind_)) kind_ = k;
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(90);
  ImGui::InputTextWithHint("##object", "object id", object_, sizeof object_,
                           ImGuiInputTextFlags_CharsDecimal);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  ImGui::InputTextWithHint("##name", "name contains", name_, sizeof name_);
}

void EventsWindow::row(const Model& model, View& view, std::uint64_t index) {
  const trace::Event& e = model.event(index);
  ImGui::TableNextRow();
  ImGui::PushID(static_cast<int>(index & 0x7fffffff));
  bool at_cursor = index + 1 == model.cursor();
  if (ui::row_button(std::to_string(index), at_cursor)) view.seek_after(index);
  ui::cell(view.at(e.ts_ns));
  ui::cell(trace::kind_name(e.kind));
  ui::cell(e.object);
  ui::cell(name_or(model, e.name, ""));
  ui::cell(std::to_string(e.a) + ", " + std::to_string(e.b));
  ImGui::PopID();
  if (at_cursor && followed_cursor_ != model.cursor()) {
    ImGui::SetScrollHereY(0.5f);
    followed_cursor_ = model.cursor();
  }
}

// Every event, drawn only where visible; the cursor's row is scrolled to.
void EventsWindow::all_events(const Model& model, View& view) {
  const std::uint64_t first = model.first_index(), count = model.end() - first;
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(std::min<std::uint64_t>(count, INT32_MAX)));
  if (model.cursor() > first && followed_cursor_ != model.cursor()) {
    auto at = static_cast<int>(model.cursor() - 1 - first);
    clipper.ForceDisplayRangeByIndices(at, at + 1);
  }
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      row(model, view, first + static_cast<std::uint64_t>(i));
    }
  }
}

void EventsWindow::matches(const Model& model, View& view) {
  EventFilter filter;
  if (kind_ != 0) filter.kinds.set(static_cast<std::size_t>(kind_));
  std::size_t object_len = std::strlen(object_);
  if (object_len > 0) {
    filter.match_object = true;
    std::from_chars(object_, object_ + object_len, filter.object);
  }
  filter.name_contains = name_;
  std::uint64_t cursor = model.cursor();
  std::uint64_t from =
      std::max(model.first_index(), cursor > kSearchBack ? cursor - kSearchBack : 0);
  if (!same(filter, cached_filter_) || cached_end_ != model.end() || cached_from_ != from) {
    cached_ = model.find(filter, from, kMaxMatches);
    cached_filter_ = filter;
    cached_end_ = model.end();
    cached_from_ = from;
  }
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(cached_.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      row(model, view, cached_[static_cast<std::size_t>(i)]);
    }
  }
}

void EventsWindow::draw(const Model& model, View& view) {
  filter_bar();
  if (!ui::begin_table("events", 6)) return;
  ui::headers("#", "time", "kind", "object", "name", "a, b");
  bool filtered = kind_ != 0 || object_[0] != '\0' || name_[0] != '\0';
  if (filtered) {
    matches(model, view);
  } else {
    all_events(model, view);
  }
  ImGui::EndTable();
}

}  // namespace tornado::viz
