// tornado-viz's command line (options.h), parsed without running anything.
#include "options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tornado::viz {
namespace {

std::optional<AppOptions> parse(const std::vector<std::string>& args,
                                std::string* error = nullptr) {
  std::string ignored;
  return parse_options(args, error != nullptr ? *error : ignored);
}

TEST(VizOptions, DoubleDashRunsTheRestAsTheProgram) {
  auto o = parse({"--save", "s.trace", "--", "./server", "--port", "8888"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->mode, SourceMode::program);
  EXPECT_EQ(o->program, (std::vector<std::string>{"./server", "--port", "8888"}));
  EXPECT_EQ(o->save, "s.trace");
}

TEST(VizOptions, TcpPortAloneMeansLoopback) {
  auto o = parse({"--listen", "tcp:9999"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->mode, SourceMode::listen);
  EXPECT_EQ(o->listen, "tcp:127.0.0.1:9999");
  EXPECT_EQ(parse({"--listen", "unix:/tmp/v.sock"})->listen, "unix:/tmp/v.sock");
  EXPECT_EQ(parse({"--listen", "tcp:0.0.0.0:1"})->listen, "tcp:0.0.0.0:1");
}

TEST(VizOptions, AFileReplaysWithHeadlessOutputs) {
  auto o = parse({"run.trace", "--headless", "--screenshot", "a.png", "--dump-state", "a.json",
                  "--at-event", "42", "--size", "800x600"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->mode, SourceMode::file);
  EXPECT_EQ(o->file, "run.trace");
  EXPECT_TRUE(o->headless);
  EXPECT_EQ(o->screenshot, "a.png");
  EXPECT_EQ(o->dump_state, "a.json");
  EXPECT_EQ(o->at_event, 42u);
  EXPECT_EQ(o->width, 800);
  EXPECT_EQ(o->height, 600);
}

TEST(VizOptions, DefaultsToA1280By800Window) {
  auto o = parse({"run.trace"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->width, 1280);
  EXPECT_EQ(o->height, 800);
  EXPECT_FALSE(o->headless);
}

TEST(VizOptions, RefusesWhatCannotWorkAndSaysWhy) {
  std::string error;
  EXPECT_FALSE(parse({}, &error));
  EXPECT_NE(error.find("exactly one"), std::string::npos);
  EXPECT_FALSE(parse({"a.trace", "b.trace"}, &error));
  EXPECT_FALSE(parse({"a.trace", "--listen", "tcp:1"}, &error));
  EXPECT_FALSE(parse({"--"}, &error));
  EXPECT_NE(error.find("PROGRAM"), std::string::npos);
  EXPECT_FALSE(parse({"a.trace", "--headless"}, &error));
  EXPECT_NE(error.find("--screenshot"), std::string::npos);
  EXPECT_FALSE(parse({"a.trace", "--screenshot", "x.png"}, &error));
  EXPECT_NE(error.find("--headless"), std::string::npos);
  EXPECT_FALSE(parse({"a.trace", "--save", "b.trace"}, &error));
  EXPECT_FALSE(
      parse({"a.trace", "--headless", "--dump-state", "x", "--after-seconds", "1"}, &error));
  EXPECT_FALSE(parse({"--listen", "tcp:1", "--headless", "--dump-state", "x"}, &error));
  EXPECT_NE(error.find("--after-seconds"), std::string::npos);
  EXPECT_FALSE(parse({"a.trace", "--size", "12"}, &error));
  EXPECT_FALSE(parse({"a.trace", "--at-event", "-3"}, &error));
  EXPECT_FALSE(parse({"a.trace", "--bogus"}, &error));
  EXPECT_NE(error.find("--bogus"), std::string::npos);
  EXPECT_FALSE(parse({"a.trace", "--dump-state"}, &error));
  EXPECT_NE(error.find("needs a value"), std::string::npos);
}

TEST(VizOptions, OptionsAfterDoubleDashBelongToTheProgram) {
  auto o = parse({"--headless", "--dump-state", "d.json", "--", "prog", "--headless"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->program, (std::vector<std::string>{"prog", "--headless"}));
}

}  // namespace
}  // namespace tornado::viz
