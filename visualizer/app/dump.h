// --dump-state: the model's state_json (what each panel shows at the cursor)
// with a "viewer" object in front saying where the events came from and what
// went wrong, so a test can assert on both.
#pragma once

#include <cstdint>
#include <string>

#include "session.h"

namespace tornado::viz {

struct DumpExtras {
  std::uint64_t frames = 0;
  int width = 0, height = 0;  // of the screenshot, 0 without one
  std::string window_error;   // why no window could be opened
};

/// Writes the dump to `path`; false if the file cannot be written.
bool write_dump(const std::string& path, const Session& session, const DumpExtras& extras);

}  // namespace tornado::viz
