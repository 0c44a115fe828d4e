// Helpers for testing code built on tornado-cpp (tornado.testing's role);
// the library's own tests use them too.
#pragma once

#include "tornado/ioloop.h"
#include "tornado/trace.h"

namespace tornado::testing {

/// An IOLoop that is its thread's current loop from construction, so futures
/// and timers made in a test bind to it.
class CurrentLoop : public IOLoop {
 public:
  CurrentLoop() { make_current(); }
};

/// Runs exactly one iteration of `loop`: stop() before start() makes start()
/// return after the first. Loop thread only.
inline void run_one_iteration(IOLoop& loop) {
  loop.stop();
  loop.start();
}

/// Attaches `sink` for one scope, so a failed assertion never leaves a
/// destroyed sink attached for the next test.
class ScopedTrace {
 public:
  explicit ScopedTrace(trace::Sink& sink) { trace::attach(&sink); }
  ~ScopedTrace() { trace::detach(); }
  ScopedTrace(const ScopedTrace&) = delete;
  ScopedTrace& operator=(const ScopedTrace&) = delete;
};

}  // namespace tornado::testing
