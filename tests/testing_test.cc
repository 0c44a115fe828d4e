// Tests for tornado/testing.h: the helpers for testing code on tornado-cpp.
#include "tornado/testing.h"

#include <gtest/gtest.h>

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

}  // namespace
