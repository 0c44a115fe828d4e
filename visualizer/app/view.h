// What the panels share besides the model: the selected callback run, a seek
// a panel asks for (the toolbar applies it), and how times are written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/model.h"

namespace tornado::viz {

struct View {
  std::optional<CallbackRun> selected_run;  // for "Why did this run?"
  std::optional<std::uint64_t> seek_to;     // set by a panel, applied once per frame
  std::uint64_t origin_ns = 0;              // times are shown relative to the first event
  std::uint64_t cursor_changed_frame = 0;   // frame in which the cursor last moved
  std::uint64_t frame = 0;

  /// Asks the toolbar to put the cursor just after event `index`.
  void seek_after(std::uint64_t index) { seek_to = index + 1; }
  /// A trace timestamp as seconds since the first event ("1.234567 s").
  std::string at(std::uint64_t ts_ns) const;
};

/// "850 ns", "12.3 us", "4.56 ms", "1.23 s".
std::string duration(std::uint64_t ns);
/// A name from the model, or `fallback` when the id is 0 or unknown.
std::string name_or(const Model& model, std::uint32_t id, const char* fallback = "(unnamed)");

}  // namespace tornado::viz
