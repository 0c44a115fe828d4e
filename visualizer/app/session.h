// Where the events come from (a file, a listener, or a program we started)
// and the model they go into. The UI thread calls pump() once per frame: it
// moves what the reader thread decoded into the model, then panels draw from
// model().state().
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "child_process.h"
#include "live_source.h"
#include "model/model.h"
#include "options.h"

namespace tornado::viz {

class Session {
 public:
  /// Opens the source the options name. Never throws: a source that cannot
  /// be opened leaves error() set and an empty model. UI thread only.
  explicit Session(const AppOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Ingests what arrived since the last call, for at most `budget`: what
  /// is left waits for the next frame, so a flood cannot stall drawing.
  /// UI thread only.
  void pump(std::chrono::milliseconds budget = std::chrono::milliseconds(15));
  /// Whether some of what was received is not yet ingested. UI thread only.
  bool has_backlog() const noexcept { return !pending_.empty(); }

  Model& model() noexcept { return *model_; }
  const Model& model() const noexcept { return *model_; }
  SourceMode mode() const noexcept { return mode_; }
  /// The file, the listen spec, or the program's command line.
  const std::string& source() const noexcept { return source_; }
  bool live() const noexcept { return mode_ != SourceMode::file; }
  /// Why the source failed ("" if it did not): file unreadable, listen failed,
  /// program could not start, bad trace bytes. Includes the model's error.
  std::string error() const;
  LiveStatus live_status() const;
  /// "running", "exited with status 0", ... ("" without a program).
  std::string program_status() const;
  /// The program we started has exited and its trace has ended (or 5 s passed).
  bool program_done();
  /// Nanoseconds the model spent per event ingested, averaged over the session.
  double ingest_ns_per_event() const;
  /// Events ingested in the latest pump().
  std::uint64_t last_pump_events() const noexcept { return last_pump_events_; }

 private:
  void open(const AppOptions& options);
  bool ingest_some(Batch& batch);

  SourceMode mode_;
  std::string source_;
  std::string open_error_;
  std::string temp_dir_;  // holds the private socket for -- PROGRAM
  std::unique_ptr<Model> model_;
  std::unique_ptr<LiveSource> live_;
  std::deque<Batch> pending_;       // taken from the reader, not yet ingested
  std::uint64_t backlog_ = 0;       // events in pending_ not yet ingested
  std::size_t pending_offset_ = 0;  // events of pending_.front() already ingested
  std::unique_ptr<ChildProcess> child_;
  std::chrono::steady_clock::time_point child_exit_{};
  std::chrono::nanoseconds ingest_time_{0};
  std::uint64_t ingested_ = 0;
  std::uint64_t last_pump_events_ = 0;
};

}  // namespace tornado::viz
