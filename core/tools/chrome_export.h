// Converts a decoded trace to Chrome Trace Event JSON, the format that
// Perfetto (ui.perfetto.dev) and chrome://tracing open. docs/trace-format.md
// ("Chrome JSON") lists what each event kind becomes.
#pragma once

#include <ostream>

#include "tornado/trace_file.h"

namespace tornado::tools {

/// Writes `trace` to `out` as one JSON object {"traceEvents": [...], ...}.
/// Events may come in any order (each thread's ring is drained separately);
/// they are sorted by time first.
void write_chrome_json(const trace::Trace& trace, std::ostream& out);

}  // namespace tornado::tools
