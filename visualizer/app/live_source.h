// The live transport's reading end, on its own thread: a LiveListener's
// blocking reads decode what a traced program sends, and the decoded pieces
// wait in a mutex-protected queue until the UI thread takes them, once per
// frame. Saving the session is writing the raw bytes, which are a trace file.
#pragma once

#include <atomic>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tornado/trace_file.h"
#include "tornado/trace_live.h"

namespace tornado::viz {

/// What arrived from a program since the last take().
struct Batch {
  bool new_session = false;  // a program connected: what follows is a new trace
  std::optional<trace::FileHeader> header;
  std::vector<std::pair<std::uint32_t, std::string>> strings;
  std::vector<trace::Event> events;
};

/// How the connection is doing, for the toolbar and --dump-state.
struct LiveStatus {
  std::string spec;
  bool connected = false;
  std::uint64_t sessions = 0;  // programs accepted so far
  bool ended = false;          // the latest program has gone
  bool complete = false;       // ... and its trace ended with the end record
  std::string error;           // why the latest session or accept failed
  std::uint64_t bytes = 0;     // received in the latest session
};

class LiveSource {
 public:
  /// Listens on `spec` (throws tornado::Error saying why it cannot) and, if
  /// `save_path` is not empty, writes each session's bytes there (a new
  /// program's session replaces the previous one). Any thread.
  LiveSource(const std::string& spec, std::string save_path);
  ~LiveSource();
  LiveSource(const LiveSource&) = delete;
  LiveSource& operator=(const LiveSource&) = delete;

  /// The spec a program should dial. Any thread.
  const std::string& spec() const noexcept { return spec_; }
  /// Everything decoded since the last call, oldest first. Any thread.
  std::vector<Batch> take();
  LiveStatus status() const;
  /// Whether the save file could not be written ("" if fine). Any thread.
  std::string save_error() const;

 private:
  static constexpr std::uint64_t kMaxQueued = 1u << 20;  // events decoded, not yet taken
  bool queue_full() const;
  void run();
  void serve_one();
  void collect(bool new_session);
  void tap(std::string_view bytes);
  void start_saving();
  void write_saved(std::string_view bytes);

  trace::LiveListener listener_;  // the reader thread's alone after construction
  std::string spec_;
  std::string save_path_;
  std::ofstream save_;
  std::string unsaved_;  // bytes tapped before the session's file is open
  std::unordered_set<std::uint32_t> strings_sent_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mutex_;  // guards the members below
  std::vector<Batch> queue_;
  std::uint64_t queued_events_ = 0;
  LiveStatus status_;
  std::string save_error_;

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace tornado::viz
