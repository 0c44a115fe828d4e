// Helpers for testing code built on tornado-cpp (tornado.testing's role);
// the library's own tests use them too.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tornado/ioloop.h"
#include "tornado/log.h"
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

/// `events` without the loop's own bookkeeping (iterations, callbacks,
/// timers, futures), which depends on how the loop scheduled the work rather
/// than on the objects a test is about.
std::vector<trace::Event> without_loop_events(const std::vector<trace::Event>& events);

/// Collects every log message while it exists, then restores the previous
/// sink. Safe from any thread (executor workers log too).
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> lines() const;
  /// The index of the first line containing `text`, if any.
  std::optional<std::size_t> find(std::string_view text) const;
  bool contains(std::string_view text) const { return find(text).has_value(); }
  /// How many lines contain `text`.
  std::size_t count(std::string_view text) const;
  /// How many lines were logged at Level::error.
  std::size_t errors() const;
  /// Everything captured, one indented line each, for failure messages.
  std::string text() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::size_t errors_ = 0;
  log::Sink previous_;
};

}  // namespace tornado::testing
