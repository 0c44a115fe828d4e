// tornado-viz's model: ingests a trace (header, strings, events, from a file
// or a live socket alike) and answers "what did each panel show at event N".
//
//   viz::Model model;
//   model.ingest(trace::read_file("run.trace"));
//   model.seek(1234);                    // state after events [0, 1234)
//   for (auto* t : model.state().timers.by_deadline()) ...
//
// Time travel keeps a copy of the state every Options::keyframe_interval
// events, so a seek replays at most that many events from the nearest
// keyframe. Live sessions keep at most Options::max_events events: older
// ones (and their keyframes) are forgotten, so memory stays bounded.
//
// Not thread-safe: one thread (the app's UI thread) ingests and reads, e.g.
// ingest what arrived, then draw from state(), once per frame.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/cause.h"
#include "model/event_filter.h"
#include "model/state.h"
#include "tornado/trace.h"
#include "tornado/trace_file.h"

namespace tornado::viz {

struct Options {
  std::uint64_t keyframe_interval = 65536;  // events between state copies
  std::uint64_t max_events = 1ull << 25;    // events kept for time travel (0: all)
};

class Model {
 public:
  explicit Model(Options options = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  // ---- Ingest ---------------------------------------------------------------

  /// Reads the event-kind table: kinds are matched by name, so a trace from a
  /// program with another numbering still decodes; kinds this build does not
  /// know are counted (observer.unknown_kinds). A different major version
  /// sets error() and the events that follow are still read as best it can.
  void set_header(const trace::FileHeader& header);
  void add_string(std::uint32_t id, std::string_view text);
  void add_strings(std::span<const std::pair<std::uint32_t, std::string>> strings);
  /// Appends events; a cursor that follows the live end moves with them.
  void add_events(std::span<const trace::Event> events);
  /// set_header, strings and events of a decoded trace, and its error if any.
  void ingest(const trace::Trace& trace);
  /// Whatever a live decoder has decoded since the last call: the header
  /// once, new strings, and the events it hands over (take_events()).
  void ingest(trace::StreamDecoder& decoder);

  // ---- The log --------------------------------------------------------------

  /// Events ingested so far: indices run from first_index() to end() - 1.
  std::uint64_t end() const noexcept { return end_; }
  /// The oldest event still kept (0 until max_events is passed).
  std::uint64_t first_index() const noexcept { return first_; }
  /// The event at `index` (first_index() <= index < end()).
  const trace::Event& event(std::uint64_t index) const;
  /// The text of a string id ("" for 0 or unknown).
  std::string_view string(std::uint32_t id) const;
  /// What `fd` is: its kind in the state, refined by its handler's name (the
  /// loop's "waker", netutil.h's "accept" handler of a listener).
  FdKind fd_kind(const Fd& fd) const;
  /// Indices of up to `max` events at or after `from` that pass `filter`.
  std::vector<std::uint64_t> find(const EventFilter& filter, std::uint64_t from,
                                  std::size_t max) const;
  /// The index of the next (or previous) iteration_begin of `loop` (0: any)
  /// strictly after (before) `from`, if any.
  std::optional<std::uint64_t> next_iteration(std::uint64_t from, std::uint16_t loop = 0) const;
  std::optional<std::uint64_t> previous_iteration(std::uint64_t from, std::uint16_t loop = 0) const;
  /// Why the model could not read something ("" when all was well).
  const std::string& error() const noexcept { return error_; }

  // ---- The cursor -----------------------------------------------------------

  /// Moves the cursor: state() becomes the state after events [0, index),
  /// clamped to [first_index(), end()]. Stops following the live end unless
  /// index >= end().
  void seek(std::uint64_t index);
  /// Moves the cursor by `delta` events (negative: back).
  void step(std::int64_t delta);
  /// Follow the live end (the cursor moves with every ingest) or stay put.
  void follow(bool live);
  bool following() const noexcept { return following_; }
  std::uint64_t cursor() const noexcept { return view().index; }
  /// Everything the panels show, at the cursor.
  const State& state() const noexcept { return view(); }
  /// The state after every event ingested, whatever the cursor.
  const State& live_state() const noexcept { return live_; }

  /// Why `run` ran: its cause, then that cause's cause, back to the origin,
  /// read from the events before the cursor.
  std::vector<CauseLink> cause_chain(const CallbackRun& run) const;

 private:
  const State& view() const noexcept { return following_ ? live_ : cursor_; }
  void add_event(trace::Event event);
  void index_event(const trace::Event& event, std::uint64_t index);
  void forget_oldest_chunk();
  trace::Kind map_kind(std::uint16_t raw) const;

  Options options_;
  std::deque<std::vector<trace::Event>> chunks_;  // keyframe_interval events each
  std::deque<State> keyframes_;                   // keyframes_[i]: state at first_ + i * interval
  std::uint64_t first_ = 0, end_ = 0;
  State live_;
  State cursor_;
  bool following_ = true;
  std::unordered_map<std::uint32_t, std::string> strings_;
  std::vector<std::uint16_t> kind_map_;  // raw kind -> our kind, empty: identity
  std::string error_;
  CauseIndex causes_;
  bool header_seen_ = false;      // from a StreamDecoder
  std::size_t strings_seen_ = 0;  // the decoder's string count at the last ingest
};

}  // namespace tornado::viz
