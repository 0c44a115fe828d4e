// --dump-state: what each panel shows at the model's cursor, as JSON with a
// stable key order, for the app's headless mode and for tests.
#pragma once

#include <ostream>
#include <string>

#include "model/model.h"

namespace tornado::viz {

/// Writes the state at model.cursor(): one key per panel (loops, callbacks,
/// timers, fds, waiters, streams, events, observer). Names are resolved to
/// their strings; timer countdowns are relative to the cursor's time.
void write_state_json(std::ostream& out, const Model& model);
/// write_state_json() into a string.
std::string state_json(const Model& model);

}  // namespace tornado::viz
