#include "run.h"

#include <imgui.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "app.h"
#include "dump.h"
#include "session.h"
#include "window.h"

namespace tornado::viz {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> stop_requested{false};  // lock-free, so a signal handler may set it
using Seconds = std::chrono::duration<double>;

// How long a headless live run waits at most for the moment it was asked for.
constexpr std::chrono::seconds kHeadlessLimit{40};
// Frames drawn after the last ingest: ImGui sizes tables and tabs over a couple.
constexpr int kSettleFrames = 3;

// One frame: with a window, drawn; without, the model still ingests.
void one_frame(App& app, Window* window, double seconds) {
  if (window == nullptr) {
    app.update();
    return;
  }
  window->begin_frame(seconds);
  app.frame(static_cast<float>(window->width()), static_cast<float>(window->height()), seconds);
  window->end_frame();
}

// Whether a headless live run has reached the moment to capture.
bool ready_to_capture(const AppOptions& o, Session& session, Clock::time_point started) {
  if (stop_requested) return true;
  if (o.after_seconds) return Seconds(Clock::now() - started).count() >= *o.after_seconds;
  if (o.at_event && session.model().end() >= *o.at_event) return true;
  if (o.mode == SourceMode::program) return session.program_done();
  return false;
}

int write_outputs(const AppOptions& o, const Session& session, const App& app, Window* window,
                  const std::string& window_error) {
  int status = 0;
  DumpExtras extras{app.frames(), 0, 0, window_error};
  if (!o.screenshot.empty()) {
    std::string error = window_error;
    if (window != nullptr && window->write_png(o.screenshot, error)) {
      extras.width = window->width();
      extras.height = window->height();
    } else {
      std::cerr << "tornado-viz: no screenshot: " << error << '\n';
      status = 1;
    }
  }
  if (!o.dump_state.empty() && !write_dump(o.dump_state, session, extras)) {
    std::cerr << "tornado-viz: cannot write " << o.dump_state << '\n';
    status = 1;
  }
  std::string error = session.error();
  if (!error.empty()) std::cerr << "tornado-viz: " << session.source() << ": " << error << '\n';
  return status;
}

}  // namespace

void request_stop() noexcept { stop_requested = true; }

int run_headless(const AppOptions& o) {
  Session session(o);
  std::unique_ptr<Window> window;
  std::string window_error;
  try {
    window = std::make_unique<Window>(o.width, o.height, true);
  } catch (const std::exception& e) {
    window_error = e.what();  // the dump is still written, from the model alone
  }
  App app(session);
  const auto started = Clock::now();
  if (session.live()) {
    while (!ready_to_capture(o, session, started) && Clock::now() - started < kHeadlessLimit) {
      one_frame(app, window.get(), 1.0 / 60);
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
    do {
      session.pump();  // what arrived with the end
    } while (session.has_backlog());
  }
  if (o.at_event) session.model().seek(*o.at_event);
  for (int i = 0; i < kSettleFrames; ++i) one_frame(app, window.get(), 1.0 / 60);
  return write_outputs(o, session, app, window.get(), window_error);
}

int run_interactive(const AppOptions& o) {
  Session session(o);
  std::unique_ptr<Window> window;
  try {
    window = std::make_unique<Window>(o.width, o.height, false);
  } catch (const std::exception& e) {
    std::cerr << "tornado-viz: " << e.what() << '\n';
    return 1;
  }
  App app(session);
  // live: once that many have arrived. (Two plain values, not an optional:
  // GCC 12 at -O2 wrongly reports the optional's value maybe-uninitialized.)
  bool seek_pending = o.at_event.has_value();
  std::uint64_t seek_to = o.at_event.value_or(0);
  auto last = Clock::now();
  while (!window->should_close() && !stop_requested) {
    if (seek_pending && session.model().end() >= seek_to) {
      session.model().seek(seek_to);
      seek_pending = false;
    }
    auto now = Clock::now();
    one_frame(app, window.get(), Seconds(now - last).count());
    last = now;
  }
  return 0;
}

}  // namespace tornado::viz
