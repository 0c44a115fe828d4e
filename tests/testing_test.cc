// Tests for tornado/testing.h: the helpers for testing code on tornado-cpp.
#include "tornado/testing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tornado/concurrent.h"

namespace {

using tornado::IOLoop;
using tornado::testing::CurrentLoop;
using tornado::testing::run_one_iteration;
using tornado::testing::ScopedTrace;

TEST(CurrentLoop, IsTheThreadsCurrentLoopEvenWhenAnotherExists) {
  IOLoop first;  // becomes current: the thread had none
  CurrentLoop second;
  EXPECT_EQ(IOLoop::current(false), &second);
}

TEST(RunOneIteration, RunsTheReadyCallbacksButNotTheOnesTheyAdd) {
  CurrentLoop loop;
  int first = 0, second = 0;
  loop.add_callback([&] {
    ++first;
    loop.add_callback([&] { ++second; });
  });
  run_one_iteration(loop);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);
  run_one_iteration(loop);
  EXPECT_EQ(second, 1);
}

TEST(ScopedTrace, AttachesForItsScopeOnly) {
  tornado::trace::MemorySink sink;
  {
    ScopedTrace attached(sink);
    EXPECT_TRUE(tornado::trace::enabled());
    tornado::trace::emit(tornado::trace::Kind::loop_started, 1, 0);
  }
  EXPECT_FALSE(tornado::trace::enabled());
  tornado::trace::emit(tornado::trace::Kind::loop_stopped, 1, 0);
  ASSERT_EQ(sink.events().size(), 1u);
  EXPECT_EQ(sink.events()[0].kind, tornado::trace::Kind::loop_started);
}

TEST(LogCapture, CollectsLinesCountsErrorsAndRestoresThePreviousSink) {
  std::vector<std::string> outer;
  tornado::log::Sink previous = tornado::log::set_sink(
      [&](tornado::log::Level, std::string_view m) { outer.emplace_back(m); });
  {
    tornado::testing::LogCapture log;
    tornado::log::warning("first line");
    tornado::log::error("second line");
    tornado::log::error("third line");
    EXPECT_EQ(log.find("second"), 1u);
    EXPECT_FALSE(log.contains("fourth"));
    EXPECT_EQ(log.count("line"), 3u);
    EXPECT_EQ(log.errors(), 2u);
    EXPECT_EQ(log.text(), "\n  first line\n  second line\n  third line");
  }
  tornado::log::info("after");
  tornado::log::set_sink(std::move(previous));
  EXPECT_EQ(outer, std::vector<std::string>{"after"});
}

TEST(WithoutLoopEvents, KeepsOnlyWhatIsNotLoopBookkeeping) {
  using tornado::trace::Kind;
  std::vector<tornado::trace::Event> events;
  for (Kind k :
       {Kind::loop_started, Kind::iteration_begin, Kind::callback_started, Kind::sync_created,
        Kind::timer_added, Kind::waiter_enqueued, Kind::future_resolved, Kind::iteration_end}) {
    events.push_back({0, k, 1, 0, 0, 0, 0});
  }
  std::vector<Kind> kept;
  for (const auto& e : tornado::testing::without_loop_events(events)) kept.push_back(e.kind);
  EXPECT_EQ(kept,
            (std::vector<Kind>{Kind::loop_started, Kind::sync_created, Kind::waiter_enqueued}));
}

}  // namespace
