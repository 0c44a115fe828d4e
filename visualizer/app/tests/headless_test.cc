// tornado-viz --headless on a recording of tutorial-02-ioloop: the PNG is the
// whole UI, --dump-state says what the panels show at the chosen event, and
// bad input is shown as an error rather than a crash.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

#include "json_peek.h"
#include "png_check.h"
#include "tornado/trace_file.h"
#include "viz_process.h"

namespace tornado::viz::testing {
namespace {

// Distinct colours in a render of the UI; a blank frame has one or two.
constexpr std::size_t kManyColours = 40;

class VizHeadless : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(record_sample(recording), 0); }

  // The index of the first event of `kind` whose name contains `name`.
  std::optional<std::uint64_t> find_event(trace::Kind kind, std::string_view name) const {
    trace::Trace t = trace::read_file(recording);
    for (std::size_t i = 0; i < t.events.size(); ++i) {
      if (t.events[i].kind == kind &&
          t.string(t.events[i].name).find(name) != std::string_view::npos) {
        return i;
      }
    }
    return std::nullopt;
  }

  TempDir dir;
  std::string recording = dir / "t02.trace";
  std::string png = dir / "shot.png";
  std::string json = dir / "state.json";
};

TEST_F(VizHeadless, ScreenshotIsTheWholeWindowInManyColours) {
  ASSERT_EQ(run_viz({recording, "--headless", "--screenshot", png, "--size", "1024x700"}), 0);
  PngFacts facts = png_facts(png);
  ASSERT_TRUE(facts.loaded);
  EXPECT_EQ(facts.width, 1024);
  EXPECT_EQ(facts.height, 700);
  EXPECT_GE(facts.colours, kManyColours);
}

TEST_F(VizHeadless, DumpAtTheEndShowsTheFinishedLoopAndNoPendingTimer) {
  ASSERT_EQ(run_viz({recording, "--headless", "--dump-state", json}), 0);
  std::string state = read_all(json);
  EXPECT_EQ(member(member(state, "viewer"), "mode"), "\"file\"");
  EXPECT_EQ(member(state, "error"), "\"\"");
  EXPECT_EQ(member(state, "cursor"), member(state, "end"));
  std::string loops = member(state, "loops");
  EXPECT_EQ(member(loops, "closed"), "true");
  EXPECT_EQ(member(loops, "iterations_total"), "7");  // the tutorial's fixed schedule
  std::string timers = member(state, "timers");
  EXPECT_EQ(member(timers, "pending"), "[]");
  EXPECT_NE(member(timers, "periodic").find("\"ticks\":3"), std::string::npos) << timers;
}

TEST_F(VizHeadless, TimersPanelListsTheGreetingBetweenItsAddingAndFiring) {
  auto added = find_event(trace::Kind::timer_added, "greeting");
  auto fired = find_event(trace::Kind::timer_fired, "greeting");
  ASSERT_TRUE(added && fired);
  ASSERT_EQ(run_viz({recording, "--headless", "--dump-state", json, "--screenshot", png,
                     "--at-event", std::to_string(*added + 1)}),
            0);
  std::string state = read_all(json);
  EXPECT_EQ(member(state, "cursor"), std::to_string(*added + 1));
  std::string pending = member(member(state, "timers"), "pending");
  EXPECT_NE(pending.find("greeting at main.cc"), std::string::npos) << pending;
  EXPECT_GE(png_facts(png).colours, kManyColours);

  ASSERT_EQ(run_viz({recording, "--headless", "--dump-state", json, "--at-event",
                     std::to_string(*fired + 1)}),
            0);
  pending = member(member(read_all(json), "timers"), "pending");
  EXPECT_EQ(pending.find("greeting"), std::string::npos) << pending;
}

TEST_F(VizHeadless, TruncatedFileShowsWhatItReadAndTheErrorThenExitsCleanly) {
  std::string bytes = read_all(recording);
  std::string cut = dir / "cut.trace";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() * 2 / 3);
  ASSERT_EQ(run_viz({cut, "--headless", "--dump-state", json, "--screenshot", png}), 0);
  std::string state = read_all(json);
  EXPECT_NE(member(member(state, "viewer"), "error"), "\"\"");
  EXPECT_NE(member(state, "error"), "\"\"");
  EXPECT_NE(member(state, "end"), "0");  // the events before the cut are kept
  EXPECT_GE(png_facts(png).colours, kManyColours);
}

TEST_F(VizHeadless, GarbageAndMissingFilesAreErrorsNotCrashes) {
  std::string garbage = dir / "garbage.trace";
  std::ofstream(garbage, std::ios::binary) << std::string(5000, '\x7f');
  ASSERT_EQ(run_viz({garbage, "--headless", "--dump-state", json, "--screenshot", png}), 0);
  std::string state = read_all(json);
  EXPECT_NE(member(state, "error"), "\"\"");
  EXPECT_EQ(member(state, "end"), "0");
  EXPECT_TRUE(png_facts(png).loaded);

  ASSERT_EQ(run_viz({dir / "missing.trace", "--headless", "--dump-state", json}), 0);
  EXPECT_NE(member(read_all(json), "error"), "\"\"");
}

TEST_F(VizHeadless, NewerFormatVersionIsReportedAsAnError) {
  std::string bytes = read_all(recording);
  bytes[8] = 9;  // the u16 major version after the 8-byte magic
  std::string newer = dir / "newer.trace";
  std::ofstream(newer, std::ios::binary) << bytes;
  ASSERT_EQ(run_viz({newer, "--headless", "--dump-state", json}), 0);
  std::string error = member(read_all(json), "error");
  EXPECT_NE(error.find('9'), std::string::npos) << error;
}

TEST_F(VizHeadless, UsageErrorsExitWithStatusTwo) {
  EXPECT_EQ(run_viz({recording, "--headless"}), 2);
  EXPECT_EQ(run_viz({"--listen", "tcp:1", "--headless", "--dump-state", json}), 2);
}

}  // namespace
}  // namespace tornado::viz::testing
