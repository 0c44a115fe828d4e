// Which raw events the Events panel lists.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>

#include "tornado/trace.h"

namespace tornado::viz {

struct EventFilter {
  std::bitset<64> kinds;      // by Kind value; none set: every kind
  std::uint16_t loop = 0;     // 0: every loop
  std::uint64_t object = 0;   // 0: every object
  bool match_object = false;  // compare object (so object 0 can be asked for)
  std::string name_contains;  // "" : any name

  /// Whether `event` (whose name is `name`) passes.
  bool passes(const trace::Event& event, std::string_view name) const;
};

}  // namespace tornado::viz
