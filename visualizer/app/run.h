// The two ways tornado-viz runs: with a window until it is closed, or
// headless until the moment the options name, then writes its outputs.
#pragma once

#include "options.h"

namespace tornado::viz {

/// Ends the run as if the window were closed (headless: captures now).
/// Safe from a signal handler.
void request_stop() noexcept;

/// A window until the user closes it. Returns the exit status.
int run_interactive(const AppOptions& options);
/// Renders off-screen, writes --screenshot and --dump-state, returns the exit status.
int run_headless(const AppOptions& options);

}  // namespace tornado::viz
