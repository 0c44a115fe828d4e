// Specification of the model (model.h) on synthetic and malformed input:
// time travel with keyframes, live mode, bounded memory, the event-kind table
// of the header, filters, and input that is truncated, garbage, or wrong.
#include "model/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model/state_json.h"
#include "synthetic.h"
#include "tornado/trace_file.h"

namespace tornado::viz {
namespace {

using trace::Event;
using trace::Kind;

std::vector<Event> synthetic(std::size_t count) {
  std::vector<Event> events;
  testing::Synthetic().generate(events, count);
  return events;
}

Event event(Kind kind, std::uint64_t object, std::uint64_t a = 0, std::uint64_t b = 0,
            std::uint64_t ts = 1000, std::uint16_t loop = 1) {
  return Event{ts, kind, loop, 0, object, a, b};
}

// ---- Time travel ------------------------------------------------------------

TEST(Model, SeekGivesTheStateAfterExactlyThatManyEvents) {
  const std::vector<Event> events = synthetic(5000);
  Model model(Options{256, 0});
  model.add_events(events);
  for (const std::uint64_t at : {0ull, 1ull, 255ull, 256ull, 257ull, 4000ull}) {
    model.seek(at);
    EXPECT_EQ(model.cursor(), at);
    EXPECT_EQ(model.state().index, at);
    EXPECT_EQ(model.state().observer.events, at);
    EXPECT_FALSE(model.following());
  }
}

TEST(Model, RandomSeeksMatchAReplayFromTheStart) {
  const std::vector<Event> events = synthetic(20'000);
  Model model(Options{1024, 0});
  model.add_events(events);
  Model replay(Options{1u << 30, 0});  // one keyframe: every seek replays from 0
  replay.add_events(events);
  std::mt19937_64 random(7);
  for (int i = 0; i < 20; ++i) {
    const std::uint64_t at = random() % (events.size() + 1);
    model.seek(at);
    replay.seek(at);
    ASSERT_EQ(state_json(model), state_json(replay)) << "at " << at;
  }
}

TEST(Model, StepMovesOneEventEitherWayAndClampsAtTheEnds) {
  Model model(Options{8, 0});
  model.add_events(synthetic(100));
  model.seek(10);
  model.step(1);
  EXPECT_EQ(model.cursor(), 11u);
  model.step(-3);
  EXPECT_EQ(model.cursor(), 8u);
  model.step(-100);
  EXPECT_EQ(model.cursor(), 0u);
  model.step(1'000'000);
  EXPECT_TRUE(model.following());
  EXPECT_EQ(model.cursor(), model.end());
}

TEST(Model, NextAndPreviousIterationFindIterationBegins) {
  Model model;
  model.add_events(synthetic(1000));
  const std::uint64_t first = *model.next_iteration(0);
  EXPECT_EQ(model.event(first).kind, Kind::iteration_begin);
  const std::uint64_t second = *model.next_iteration(first);
  EXPECT_GT(second, first);
  EXPECT_EQ(model.previous_iteration(second), first);
  EXPECT_FALSE(model.previous_iteration(first).has_value());
}

// ---- Live mode ----------------------------------------------------------------

TEST(Model, FollowingCursorMovesWithIngestAndAPausedOneStays) {
  const std::vector<Event> events = synthetic(3000);
  const std::span<const Event> all(events);
  Model model(Options{128, 0});
  model.add_events(all.first(1000));
  EXPECT_TRUE(model.following());
  EXPECT_EQ(model.cursor(), 1000u);
  model.follow(false);
  const std::string paused = state_json(model);
  model.add_events(all.subspan(1000));
  EXPECT_EQ(model.cursor(), 1000u);
  EXPECT_EQ(model.end(), events.size());
  EXPECT_EQ(model.live_state().index, events.size());
  // The JSON names the end, so compare what the panels show: the state itself.
  EXPECT_EQ(model.state().observer.events, 1000u);
  model.seek(1000);
  EXPECT_EQ(model.state().observer.events, 1000u);
  model.follow(true);
  EXPECT_EQ(model.cursor(), events.size());
  EXPECT_NE(state_json(model), paused);
}

TEST(Model, LiveSessionKeepsAtMostMaxEventsAndForgetsTheOldest) {
  const std::vector<Event> events = synthetic(100'000);
  Model model(Options{1024, 4096});
  model.add_events(events);
  EXPECT_EQ(model.end(), events.size());
  EXPECT_GT(model.first_index(), 0u);
  EXPECT_LE(model.end() - model.first_index(), 4096u + 1024u);
  model.seek(0);
  EXPECT_EQ(model.cursor(), model.first_index()) << "clamped to the oldest kept";
  model.seek(model.end() - 1);
  Model whole(Options{1024, 0});
  whole.add_events(events);
  whole.seek(whole.end() - 1);
  EXPECT_EQ(state_json(model).substr(state_json(model).find("\"loops\"")),
            state_json(whole).substr(state_json(whole).find("\"loops\"")))
      << "forgetting old events does not change the state";
}

TEST(Model, HistoriesAreBoundedRings) {
  Model model;
  model.add_events(synthetic(200'000));
  const State& s = model.state();
  EXPECT_EQ(s.callbacks.recent.size(), s.callbacks.recent.capacity());
  EXPECT_GT(s.callbacks.runs, s.callbacks.recent.size());
  EXPECT_LE(s.loops.at(1).iterations.size(), s.loops.at(1).iterations.capacity());
  for (const auto& item : s.fds.table) EXPECT_LE(item.second.cells.size(), 128u);
  for (const auto& item : s.streams.streams) EXPECT_LE(item.second.history.size(), 256u);
}

// ---- Header ---------------------------------------------------------------------

TEST(Model, KindsAreMatchedByNameFromTheHeaderTable) {
  trace::FileHeader header;
  header.kinds = {{7, "timer_added"}, {9, "timer_cancelled"}, {11, "from_the_future"}};
  Model model;
  model.set_header(header);
  model.add_events(std::vector<Event>{
      Event{1, static_cast<Kind>(7), 1, 0, 42, 5000, 0},
      Event{2, static_cast<Kind>(9), 1, 0, 42, 0, 0},
      Event{3, static_cast<Kind>(11), 1, 0, 42, 0, 0},
  });
  EXPECT_EQ(model.event(0).kind, Kind::timer_added);
  ASSERT_EQ(model.state().timers.pending.size(), 1u);
  EXPECT_TRUE(model.state().timers.pending.at(42).cancelled);
  EXPECT_EQ(model.state().observer.unknown_kinds, 1u);
  EXPECT_TRUE(model.error().empty());
}

TEST(Model, AnotherMajorVersionIsReportedAsAnError) {
  trace::FileHeader header;
  header.major = 2;
  Model model;
  model.set_header(header);
  EXPECT_THAT(model.error(), ::testing::HasSubstr("trace format 2."));
}

// ---- Filters --------------------------------------------------------------------

TEST(Model, FindListsTheEventsThatPassTheFilter) {
  Model model;
  model.add_events(synthetic(2000));
  model.add_string(testing::kTickName, "tick at main.cc:9");
  EventFilter timers;
  timers.kinds.set(static_cast<std::size_t>(Kind::timer_fired));
  const auto fired = model.find(timers, 0, 5);
  ASSERT_EQ(fired.size(), 5u);
  for (const std::uint64_t i : fired) EXPECT_EQ(model.event(i).kind, Kind::timer_fired);

  EventFilter named;
  named.name_contains = "main.cc:9";
  const auto ticks = model.find(named, 0, 1'000'000);
  ASSERT_FALSE(ticks.empty());
  for (const std::uint64_t i : ticks) EXPECT_EQ(model.event(i).name, testing::kTickName);

  EventFilter object;
  object.match_object = true;
  object.object = testing::kSocketFd;
  object.kinds.set(static_cast<std::size_t>(Kind::fd_ready));
  EXPECT_EQ(model.find(object, fired[0], 3).size(), 3u);
}

// ---- Streams and their fds ----------------------------------------------------

TEST(Model, StreamsShowBuffersOverTimeStateCloseReasonAndBytesOnTheirFd) {
  Model model;
  model.add_string(1, "IOStream fd=9 127.0.0.1:5000");
  model.add_string(2, "connection reset");
  model.add_string(3, "TLSv1.3 TLS_AES_256_GCM_SHA384");
  const auto tcp = static_cast<std::uint64_t>(trace::StreamKind::tcp);
  model.add_events(std::vector<Event>{
      event(Kind::handler_added, 3, 0x9, 0, 10),  // the waker
      event(Kind::handler_added, 9, 0x9, 0, 11),
      Event{12, Kind::stream_opened, 1, 1, 70, 9, tcp},
      event(Kind::stream_connected, 70, 9, 0, 13),
      event(Kind::tls_handshake_begun, 70, 0, 0, 14),
      Event{15, Kind::tls_handshake_finished, 1, 3, 70, 0, 0},
      event(Kind::stream_read, 70, 100, 100, 16),
      event(Kind::stream_written, 70, 40, 60, 17),
      event(Kind::stream_read, 70, 20, 20, 18),
  });
  const Stream& open = model.state().streams.streams.at(70);
  EXPECT_EQ(open.phase, StreamPhase::connected);
  EXPECT_EQ(model.string(open.tls), "TLSv1.3 TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(open.read_buffer, 20u);
  EXPECT_EQ(open.write_buffer, 60u);
  ASSERT_EQ(open.history.size(), 3u);
  EXPECT_EQ(open.history[0].read_buffer, 100u);
  EXPECT_EQ(open.history[1].write_buffer, 60u);
  const Fd& fd = model.state().fds.table.at(fd_key(1, 9));
  EXPECT_EQ(fd.kind, FdKind::stream);
  EXPECT_EQ(fd.bytes_read, 120u);
  EXPECT_EQ(fd.bytes_written, 40u);

  model.add_events(std::vector<Event>{Event{19, Kind::stream_closed, 1, 2, 70, 104, 0}});
  const Stream& closed = model.state().streams.streams.at(70);
  EXPECT_EQ(closed.phase, StreamPhase::closed);
  EXPECT_EQ(model.string(closed.close_reason), "connection reset");
  EXPECT_EQ(closed.close_errno, 104u);
}

TEST(Model, OnlyTheLatestClosedStreamsAreKept) {
  Model model;
  std::vector<Event> events;
  for (std::uint64_t id = 1; id <= kClosedStreamsKept + 10; ++id) {
    events.push_back(event(Kind::stream_opened, id, 100 + id, 1));
    events.push_back(event(Kind::stream_closed, id));
  }
  events.push_back(event(Kind::stream_opened, 999, 5, 1));
  model.add_events(events);
  const auto& streams = model.state().streams.streams;
  EXPECT_EQ(streams.size(), kClosedStreamsKept + 1);
  EXPECT_FALSE(streams.contains(1)) << "the oldest closed one is forgotten";
  EXPECT_TRUE(streams.contains(999));
  EXPECT_EQ(model.state().streams.closed, kClosedStreamsKept + 10);
}

TEST(Model, TheWakerAndListenersAreToldApartFromUserFds) {
  Model model;
  model.add_string(1, "waker at ioloop.cc:40");
  model.add_string(2, "accept at netutil.cc:244");
  model.add_string(3, "on_stdin at main.cc:7");
  model.add_events(std::vector<Event>{
      Event{1, Kind::handler_added, 1, 1, 4, 0x9, 0},
      Event{2, Kind::loop_started, 1, 0, 0, 0, 0},
      Event{3, Kind::handler_added, 1, 2, 5, 0x9, 0},
      Event{4, Kind::handler_added, 1, 3, 0, 0x9, 0},
  });
  const auto& table = model.state().fds.table;
  EXPECT_EQ(model.fd_kind(table.at(fd_key(1, 4))), FdKind::waker);
  EXPECT_EQ(model.fd_kind(table.at(fd_key(1, 5))), FdKind::listener);
  EXPECT_EQ(model.fd_kind(table.at(fd_key(1, 0))), FdKind::user);
}

// ---- Malformed input ------------------------------------------------------------

TEST(Model, EventsAboutObjectsNeverCreatedAreCountedAndIgnored) {
  Model model;
  model.add_events(std::vector<Event>{
      event(Kind::waiter_woken, 12345, 1),
      event(Kind::sync_acquired, 12345, 1, 0),
      event(Kind::timer_fired, 777),
      event(Kind::timer_cancelled, 778),
      event(Kind::callback_finished, 5, 100),
      event(Kind::fd_ready, 9, 1),
      event(Kind::stream_read, 44, 10, 10),
      event(Kind::iteration_end, 3, 10, 10),
  });
  const State& s = model.state();
  EXPECT_EQ(s.observer.unknown_objects, 7u);
  EXPECT_TRUE(s.sync.objects.empty());
  EXPECT_TRUE(s.timers.pending.empty());
  EXPECT_TRUE(s.fds.table.empty());
  EXPECT_TRUE(s.streams.streams.empty());
  EXPECT_EQ(s.callbacks.runs, 0u);
}

TEST(Model, UnknownKindsBackwardTimeAndHugeValuesNeverCrash) {
  Model model(Options{4, 0});
  std::vector<Event> events{
      Event{UINT64_MAX, static_cast<Kind>(999), 1, 0, 1, 2, 3},
      Event{0, static_cast<Kind>(0), 7, 0, 1, 2, 3},
      event(Kind::iteration_begin, UINT64_MAX, UINT64_MAX, UINT64_MAX, 5),
      event(Kind::callback_started, 1, 0, 200, 6),  // a Via that does not exist
      event(Kind::callback_finished, 1, UINT64_MAX, 200, 4),
      event(Kind::iteration_end, UINT64_MAX, UINT64_MAX, UINT64_MAX, 3),
      event(Kind::events_dropped, 0, UINT64_MAX, UINT64_MAX, 2),
      event(Kind::sync_created, 9, 200, UINT64_MAX),  // a SyncKind that does not exist
      event(Kind::waiter_enqueued, 9, 1, 99),
      event(Kind::stream_opened, 10, UINT64_MAX, 99),
      event(Kind::stream_read, 10, UINT64_MAX, UINT64_MAX),
      event(Kind::handler_added, UINT64_MAX, UINT64_MAX),
      event(Kind::fd_ready, UINT64_MAX, UINT64_MAX),
      event(Kind::blocking_callback, 1, UINT64_MAX, UINT64_MAX),
  };
  model.add_events(events);
  const State& s = model.state();
  EXPECT_EQ(s.observer.unknown_kinds, 2u);
  EXPECT_GE(s.observer.out_of_order, 4u);
  EXPECT_EQ(s.observer.dropped, UINT64_MAX);
  EXPECT_EQ(s.callbacks.blocking.size(), 1u);
  EXPECT_FALSE(state_json(model).empty());
  for (std::uint64_t i = 0; i <= events.size(); ++i) {
    model.seek(i);
    EXPECT_FALSE(state_json(model).empty());
  }
}

TEST(Model, TablesStopGrowingAtTheirLimits) {
  std::vector<Event> events;
  events.push_back(
      event(Kind::sync_created, 1, static_cast<std::uint64_t>(trace::SyncKind::lock), 1));
  for (std::uint64_t i = 0; i < kMaxWaiters + 100; ++i) {
    events.push_back(event(Kind::waiter_enqueued, 1, 1000 + i, 1));
  }
  for (std::uint64_t i = 0; i < kMaxTimers + 100; ++i) {
    events.push_back(event(Kind::timer_added, 100'000 + i, 5000));
  }
  for (std::uint64_t i = 0; i < kMaxReady + 100; ++i) {
    events.push_back(event(Kind::callback_scheduled, 300'000 + i));
  }
  Model model(Options{1u << 20, 0});
  model.add_events(events);
  const State& s = model.state();
  EXPECT_EQ(s.sync.objects.at(1).waiters.size(), kMaxWaiters);
  EXPECT_EQ(s.timers.pending.size(), kMaxTimers);
  EXPECT_EQ(s.loops.at(1).ready.size(), kMaxReady);
  EXPECT_EQ(s.observer.over_limit, 300u);
}

TEST(Model, ALiveDecoderFedInPiecesGivesTheSameStateAsTheWholeFile) {
  const std::vector<Event> events = synthetic(3000);
  std::string bytes = trace::encode_header(trace::this_process_header());
  trace::append_strings(bytes, std::vector<std::pair<std::uint32_t, std::string>>{{1, "tick"}});
  trace::append_events(bytes, std::span(events).first(1000));
  trace::append_strings(bytes, std::vector<std::pair<std::uint32_t, std::string>>{{3, "lock"}});
  trace::append_events(bytes, std::span(events).subspan(1000));
  trace::append_end(bytes);

  Model whole;
  whole.ingest(trace::decode(bytes));
  Model live;
  trace::StreamDecoder decoder;
  for (std::size_t at = 0; at < bytes.size(); at += 333) {
    decoder.feed(std::string_view(bytes).substr(at, 333));
    live.ingest(decoder);  // once per frame
  }
  decoder.finish();
  live.ingest(decoder);
  EXPECT_TRUE(live.error().empty()) << live.error();
  EXPECT_EQ(live.end(), events.size());
  EXPECT_EQ(live.string(3), "lock");
  EXPECT_EQ(state_json(live), state_json(whole));
}

TEST(Model, RandomEventsOnAFewObjectsNeverCrashAndSeekConsistently) {
  std::mt19937_64 random(11);
  std::vector<Event> events;
  for (int i = 0; i < 50'000; ++i) {
    const auto kind = static_cast<Kind>(random() % 64);
    events.push_back(Event{random() % 100'000, kind, static_cast<std::uint16_t>(random() % 3),
                           static_cast<std::uint32_t>(random() % 4), random() % 16, random() % 16,
                           random() % 8});
  }
  Model model(Options{2048, 0});
  model.add_events(events);
  Model replay(Options{1u << 30, 0});
  replay.add_events(events);
  for (int i = 0; i < 10; ++i) {
    const std::uint64_t at = random() % events.size();
    model.seek(at);
    replay.seek(at);
    ASSERT_EQ(state_json(model), state_json(replay)) << "at " << at;
  }
}

TEST(Model, DecodedGarbageAndTruncatedTracesAreReadUpToTheFirstProblem) {
  const std::vector<Event> events = synthetic(300);
  std::string bytes = trace::encode_header(trace::this_process_header());
  trace::append_strings(bytes, std::vector<std::pair<std::uint32_t, std::string>>{{1, "tick"}});
  trace::append_events(bytes, events);
  trace::append_end(bytes);

  Model whole;
  whole.ingest(trace::decode(bytes));
  EXPECT_TRUE(whole.error().empty()) << whole.error();
  EXPECT_EQ(whole.end(), events.size());

  for (std::size_t cut = 0; cut < bytes.size(); cut += 97) {
    Model model;
    model.ingest(trace::decode(std::string_view(bytes).substr(0, cut)));
    EXPECT_FALSE(model.error().empty()) << "cut at " << cut;
    EXPECT_LE(model.end(), events.size());
    EXPECT_FALSE(state_json(model).empty());
  }
  std::mt19937_64 random(3);
  for (int round = 0; round < 50; ++round) {
    std::string garbage = bytes;
    for (int flips = 0; flips < 8; ++flips) {
      garbage[random() % garbage.size()] = static_cast<char>(random());
    }
    Model model(Options{64, 0});
    model.ingest(trace::decode(garbage));
    model.seek(model.end() / 2);
    EXPECT_FALSE(state_json(model).empty());
  }
}

}  // namespace
}  // namespace tornado::viz
