#include "model/event_filter.h"

namespace tornado::viz {

bool EventFilter::passes(const trace::Event& event, std::string_view name) const {
  const auto kind = static_cast<std::size_t>(event.kind);
  if (kinds.any() && (kind >= kinds.size() || !kinds.test(kind))) return false;
  if (loop != 0 && event.loop != loop) return false;
  if (match_object && event.object != object) return false;
  return name_contains.empty() || name.find(name_contains) != std::string_view::npos;
}

}  // namespace tornado::viz
