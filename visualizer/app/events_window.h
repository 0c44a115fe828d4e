// "Events": the raw event log, filterable; clicking a row moves the cursor
// there.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.h"
#include "view.h"

namespace tornado::viz {

struct EventsWindow {
  static constexpr const char* kTitle = "Events";
  void draw(const Model& model, View& view);

 private:
  void filter_bar();
  void all_events(const Model& model, View& view);
  void matches(const Model& model, View& view);
  void row(const Model& model, View& view, std::uint64_t index);

  int kind_ = 0;  // 0: every kind
  char name_[64] = "";
  char object_[24] = "";
  std::uint64_t followed_cursor_ = UINT64_MAX;  // scroll to the cursor when it moves
  // The filtered list, recomputed when the filter or the log changes.
  EventFilter cached_filter_;
  std::uint64_t cached_end_ = UINT64_MAX, cached_from_ = UINT64_MAX;
  std::vector<std::uint64_t> cached_;
};

}  // namespace tornado::viz
