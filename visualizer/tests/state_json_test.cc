// Specification of state_json.h: --dump-state writes every panel, in a fixed
// key order, with names resolved, and the same state always dumps the same.
#include "model/state_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "synthetic.h"

namespace tornado::viz {
namespace {

using ::testing::HasSubstr;
using trace::Event;
using trace::Kind;

Model synthetic_model(std::size_t count) {
  Model model(Options{512, 0});
  std::vector<Event> events;
  testing::Synthetic().generate(events, count);
  model.add_string(testing::kTickName, "tick at main.cc:9");
  model.add_string(testing::kLockName, "Lock 'db'");
  model.add_string(testing::kWaitName, "worker at main.cc:20");
  model.add_events(events);
  return model;
}

TEST(StateJson, WritesEveryPanelInAFixedOrder) {
  Model model = synthetic_model(2000);
  const std::string json = state_json(model);
  std::size_t at = 0;
  for (const char* key : {"\"cursor\":", "\"first\":", "\"end\":", "\"ts_ns\":", "\"error\":",
                          "\"loops\":", "\"callbacks\":", "\"timers\":", "\"fds\":", "\"waiters\":",
                          "\"streams\":", "\"events\":", "\"observer\":"}) {
    const std::size_t found = json.find(key, at);
    ASSERT_NE(found, std::string::npos) << key << " missing or out of order";
    at = found;
  }
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.substr(json.size() - 2), "}\n");
}

TEST(StateJson, ResolvesNamesAndShowsCountdownsRelativeToTheCursor) {
  Model model = synthetic_model(2000);
  const std::string json = state_json(model);
  EXPECT_THAT(json, HasSubstr("\"name\":\"Lock 'db'\",\"kind\":\"lock\""));
  EXPECT_THAT(json, HasSubstr("\"name\":\"tick at main.cc:9\""));
  EXPECT_THAT(json, HasSubstr("\"countdown_ns\":"));
  const Timer* next = model.state().timers.by_deadline().front();
  const auto countdown = static_cast<std::int64_t>(next->deadline_ns - model.state().ts_ns);
  EXPECT_THAT(json, HasSubstr("\"countdown_ns\":" + std::to_string(countdown)));
}

TEST(StateJson, TheSameStateDumpsTheSameBytesWhicheverWayTheCursorCame) {
  Model model = synthetic_model(5000);
  model.seek(3333);
  const std::string direct = state_json(model);
  model.seek(4999);
  model.seek(100);
  model.seek(3333);
  EXPECT_EQ(state_json(model), direct);
  std::ostringstream out;
  write_state_json(out, model);
  EXPECT_EQ(out.str(), direct);
}

TEST(StateJson, EscapesQuotesBackslashesAndControlCharactersInNames) {
  Model model;
  model.add_string(1, "say \"hi\"\\\n\x01");
  model.add_events(std::vector<Event>{Event{
      1, Kind::sync_created, 1, 1, 9, static_cast<std::uint64_t>(trace::SyncKind::event), 0}});
  EXPECT_THAT(state_json(model), HasSubstr(R"("name":"say \"hi\"\\\n\u0001")"));
}

TEST(StateJson, ListsTheLastEventsBeforeTheCursor) {
  Model model = synthetic_model(100);
  model.seek(40);
  const std::string json = state_json(model);
  EXPECT_THAT(json, HasSubstr("\"index\":39,"));
  EXPECT_THAT(json, HasSubstr("\"index\":24,"));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("{\"index\":40,")));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("{\"index\":23,")));
}

}  // namespace
}  // namespace tornado::viz
