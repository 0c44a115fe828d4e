// The model on recordings of the tutorials' own programs, run as a learner
// runs them (`--demo`, traced through TORNADO_TRACE with no code change):
// what the panels show must be what the lesson says happened.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>
#include <vector>

#include "recording.h"
#include "tornado/trace_file.h"

extern char** environ;

namespace tornado::viz::testing {
namespace {

using ::testing::HasSubstr;
using trace::Kind;

// Runs `program --demo` with TORNADO_TRACE=file:..., and loads the recording.
Model record(const std::string& program, const std::string& name) {
  std::string path = (std::filesystem::temp_directory_path() / (name + ".trace")).string();
  std::string variable = "TORNADO_TRACE=file:" + path;
  std::vector<std::string> env_strings{variable, "PATH=/usr/bin:/bin"};
  std::vector<char*> env;
  for (std::string& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  std::string demo = "--demo";
  char* argv[] = {const_cast<char*>(program.c_str()), demo.data(), nullptr};
  pid_t pid = -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  EXPECT_EQ(::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, env.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << program << " failed";
  trace::Trace t = trace::read_file(path);
  std::filesystem::remove(path);
  EXPECT_EQ(t.error, "");
  EXPECT_TRUE(t.complete);
  Model model;
  model.ingest(t);
  return model;
}

TEST(ModelOnTheTutorials, Step4sBlockingCallbackNamesTheTimerItMadeLate) {
  Model model = record(TORNADO_TUTORIAL_04, "viz-tutorial-04");
  model.follow(true);
  const auto& reports = model.state().callbacks.blocking;
  ASSERT_EQ(reports.size(), 1u) << "part 1 blocks once; part 2's run_in_executor does not";
  const Blocking& report = reports[0];
  EXPECT_THAT(std::string(model.string(report.run.name)), HasSubstr("slow_handler"));
  EXPECT_GE(report.run.duration_ns, 300'000'000u);
  ASSERT_EQ(report.late_timers.size(), 1u) << "the victim's 50 ms sleep";
  EXPECT_THAT(std::string(model.string(report.late_timers[0].name)), HasSubstr("main.cc"));
  EXPECT_GT(report.late_timers[0].fired_ns, report.late_timers[0].deadline_ns + 200'000'000u)
      << "it fired after the 300 ms of blocking, not 50 ms in";
}

TEST(ModelOnTheTutorials, Step6sPermitsQueueHoldsTheThreeLateWorkersInArrivalOrder) {
  Model model = record(TORNADO_TUTORIAL_06, "viz-tutorial-06");
  const SyncObject* permits = nullptr;
  std::uint64_t id = 0;
  for (std::uint64_t i = model.first_index(); i < model.end() && id == 0; ++i) {
    const trace::Event& e = model.event(i);
    if (e.kind == Kind::sync_created && model.string(e.name) == "Semaphore 'permits'")
      id = e.object;
  }
  ASSERT_NE(id, 0u);
  auto third = nth_event(model, Kind::waiter_enqueued, 2,
                         [&](const trace::Event& e) { return e.object == id; });
  ASSERT_TRUE(third.has_value()) << "five workers, two permits: three wait";
  model.seek(*third + 1);
  permits = sync_titled(model, "Semaphore 'permits'");
  ASSERT_NE(permits, nullptr);
  EXPECT_EQ(permits->value, 0u) << "both permits are held";
  ASSERT_EQ(permits->waiters.size(), 3u);
  EXPECT_LT(permits->waiters[0].id, permits->waiters[1].id);
  EXPECT_LT(permits->waiters[1].id, permits->waiters[2].id);
  for (const std::string& site : waiter_sites(model, *permits)) {
    EXPECT_THAT(site, HasSubstr("main.cc:32")) << "co_await team.permits.acquire()";
  }
}

TEST(ModelOnTheTutorials, Step5sRecordingReadsTheSameWhetherReachedForwardOrBackward) {
  Model model = record(TORNADO_TUTORIAL_05, "viz-tutorial-05");
  ASSERT_GT(model.end(), 100u);
  std::vector<std::string> forward;
  const std::uint64_t step = model.end() / 25 + 1;
  for (std::uint64_t i = 0; i <= model.end(); i += step) {
    model.seek(i);
    forward.push_back(state_json(model));
  }
  std::size_t k = forward.size();
  for (std::uint64_t i = (k - 1) * step + 1; i-- > 0;) {
    if (i % step != 0) continue;
    model.seek(i);
    EXPECT_EQ(state_json(model), forward[--k]) << "at event " << i;
  }
}

}  // namespace
}  // namespace tornado::viz::testing
