// tornado-viz attached to a running program: started by it (`-- PROGRAM`), or
// found by --listen when the program dials TORNADO_TRACE; the session can be
// saved, and the saved file replays to the same state.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "json_peek.h"
#include "png_check.h"
#include "tornado/trace_file.h"
#include "viz_process.h"

namespace tornado::viz::testing {
namespace {

TEST(VizLive, RunsTheProgramAndKeepsItsLastStateAfterItExits) {
  TempDir dir;
  std::string json = dir / "state.json", png = dir / "shot.png";
  ASSERT_EQ(
      run_viz({"--headless", "--dump-state", json, "--screenshot", png, "--", TORNADO_SAMPLE}), 0);
  std::string state = read_all(json);
  std::string viewer = member(state, "viewer");
  EXPECT_EQ(member(viewer, "mode"), "\"program\"");
  EXPECT_EQ(member(viewer, "program"), "\"exited with status 0\"");
  EXPECT_EQ(member(viewer, "sessions"), "1");
  EXPECT_EQ(member(viewer, "trace_complete"), "true");
  EXPECT_EQ(member(state, "error"), "\"\"");
  // The program does not wait for the viewer, so its first iterations may
  // pass before it attaches; the last tick, which stops the loop, is seen.
  std::string loops = member(state, "loops");
  EXPECT_EQ(member(loops, "closed"), "true");
  EXPECT_NE(member(loops, "iterations_total"), "0");
  EXPECT_NE(member(member(state, "callbacks"), "recent").find("tick at main.cc"),
            std::string::npos);
  EXPECT_GE(png_facts(png).colours, 40u);
}

TEST(VizLive, ListenSeesAProgramThatDialsItWithTornadoTrace) {
  TempDir dir;
  std::string json = dir / "state.json", socket = dir / "viz.sock";
  std::vector<std::string> argv = {"xvfb-run",
                                   "-a",
                                   "-s",
                                   "-screen 0 1920x1200x24",
                                   TORNADO_VIZ,
                                   "--listen",
                                   "unix:" + socket,
                                   "--headless",
                                   "--dump-state",
                                   json,
                                   "--after-seconds",
                                   "6"};
  Child viz(argv, viz_env());
  // The program dials every 250 ms until the listener is there.
  Child sample({TORNADO_SAMPLE}, {"TORNADO_TRACE=unix:" + socket});
  EXPECT_EQ(sample.wait(std::chrono::seconds(30)), 0);
  ASSERT_EQ(viz.wait(), 0);
  std::string state = read_all(json);
  std::string viewer = member(state, "viewer");
  EXPECT_EQ(member(viewer, "mode"), "\"listen\"");
  EXPECT_EQ(member(viewer, "sessions"), "1");
  std::string loops = member(state, "loops");
  EXPECT_EQ(member(loops, "closed"), "true");
  EXPECT_NE(member(loops, "iterations_total"), "0");
  EXPECT_NE(member(member(state, "callbacks"), "recent").find("tick at main.cc"),
            std::string::npos);
  EXPECT_EQ(member(viewer, "trace_complete"), "true");
}

TEST(VizLive, SaveWritesTheSessionAsATraceThatReplaysToTheSameState) {
  TempDir dir;
  std::string saved = dir / "saved.trace", live = dir / "live.json", replay = dir / "replay.json";
  ASSERT_EQ(run_viz({"--save", saved, "--headless", "--dump-state", live, "--", TORNADO_SAMPLE}),
            0);
  trace::Trace t = trace::read_file(saved);
  EXPECT_EQ(t.error, "");
  EXPECT_TRUE(t.complete);
  EXPECT_FALSE(t.events.empty());
  ASSERT_EQ(run_viz({saved, "--headless", "--dump-state", replay}), 0);
  // Everything after the "viewer" object is the model's state: the same.
  std::string a = read_all(live), b = read_all(replay);
  EXPECT_EQ(a.substr(a.find("\"cursor\"")), b.substr(b.find("\"cursor\"")));
}

TEST(VizLive, AProgramThatCannotStartIsAnErrorOnScreen) {
  TempDir dir;
  std::string json = dir / "state.json";
  ASSERT_EQ(run_viz({"--headless", "--dump-state", json, "--", dir / "no-such-program"}), 0);
  std::string error = member(member(read_all(json), "viewer"), "error");
  EXPECT_NE(error.find("cannot start"), std::string::npos) << error;
}

}  // namespace
}  // namespace tornado::viz::testing
