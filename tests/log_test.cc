// Specification of tornado/log.h (the logging facade) and tornado/name.h
// (Site, intern_label, named).
#include "tornado/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <mutex>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tornado/concurrent.h"
#include "tornado/errors.h"
#include "tornado/name.h"
#include "tornado/testing.h"

namespace {

namespace log = tornado::log;
using tornado::intern_label;
using tornado::Site;

struct Entry {
  log::Level level;
  std::string message;
};

// A sink that appends to `entries` (which must outlive it).
log::Sink recorder(std::vector<Entry>& entries) {
  return [&entries](log::Level level, std::string_view message) {
    entries.push_back({level, std::string(message)});
  };
}

// Installs a sink for one test and puts the previous one (and the level) back.
class SinkScope {
 public:
  explicit SinkScope(log::Sink sink) : previous_(log::set_sink(std::move(sink))) {}
  ~SinkScope() {
    log::set_sink(std::move(previous_));
    log::set_level(log::Level::info);
  }
  SinkScope(const SinkScope&) = delete;
  SinkScope& operator=(const SinkScope&) = delete;

 private:
  log::Sink previous_;
};

// Runs fn with fd 2 pointing into a pipe, then restores it and returns what
// was written there. The pipe is drained after its last write end closes.
std::string capture_stderr(const std::function<void()>& fn) {
  int fds[2];
  if (::pipe(fds) != 0) {
    ADD_FAILURE() << "pipe() failed";
    return {};
  }
  std::fflush(stderr);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(fds[1], STDERR_FILENO);
  ::close(fds[1]);
  fn();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string out;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  return out;
}

std::source_location where_am_i(std::source_location here = std::source_location::current()) {
  return here;
}

std::source_location inside_a_named_function() { return std::source_location::current(); }

// ---- sinks and levels --------------------------------------------------------

TEST(Log, SinkReceivesLevelAndMessage) {
  std::vector<Entry> entries;
  SinkScope scope(recorder(entries));
  log::write(log::Level::warning, "written");
  log::info("info line");
  log::warning("warning line");
  log::error("error line");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].level, log::Level::warning);
  EXPECT_EQ(entries[0].message, "written");
  EXPECT_EQ(entries[1].level, log::Level::info);
  EXPECT_EQ(entries[1].message, "info line");
  EXPECT_EQ(entries[2].level, log::Level::warning);
  EXPECT_EQ(entries[3].level, log::Level::error);
  EXPECT_EQ(entries[3].message, "error line");
}

TEST(Log, SetSinkReturnsThePreviousSinkAndReplacesTheOutput) {
  std::vector<Entry> first;
  std::vector<Entry> second;
  SinkScope scope(recorder(first));
  log::error("to first");
  log::Sink returned = log::set_sink(recorder(second));
  log::error("to second");
  EXPECT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].message, "to second");

  // What set_sink returned is the first sink itself.
  ASSERT_TRUE(static_cast<bool>(returned));
  returned(log::Level::info, "via the returned sink");
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[1].message, "via the returned sink");
}

TEST(Log, DefaultLevelIsInfo) {
  std::vector<Entry> entries;
  SinkScope scope(recorder(entries));
  EXPECT_EQ(log::level(), log::Level::info);
  log::debug("dropped");
  log::info("kept");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].message, "kept");
}

TEST(Log, SetLevelDropsMessagesBelowIt) {
  std::vector<Entry> entries;
  SinkScope scope(recorder(entries));
  log::set_level(log::Level::warning);
  EXPECT_EQ(log::level(), log::Level::warning);
  log::debug("debug");
  log::info("info");
  log::warning("warning");
  log::error("error");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].message, "warning");
  EXPECT_EQ(entries[1].message, "error");

  log::set_level(log::Level::debug);
  log::debug("now kept");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].message, "now kept");
}

TEST(Log, EmptySinkRestoresStderr) {
  std::vector<Entry> entries;
  SinkScope scope(recorder(entries));
  log::Sink replaced = log::set_sink({});
  EXPECT_TRUE(static_cast<bool>(replaced));  // the recorder came back
  std::string written = capture_stderr([] { log::warning("to stderr"); });
  EXPECT_TRUE(entries.empty());
  // "[W hh:mm:ss.mmm] message", like Tornado's LogFormatter.
  EXPECT_NE(written.find("] to stderr\n"), std::string::npos) << written;
  ASSERT_GE(written.size(), 17u);
  EXPECT_EQ(written.substr(0, 3), "[W ");
  EXPECT_EQ(written[5], ':');
  EXPECT_EQ(written[8], ':');
  EXPECT_EQ(written[11], '.');
  EXPECT_EQ(written[15], ']');
}

TEST(Log, SinkIsSafeToWriteFromManyThreads) {
  std::mutex mutex;
  int received = 0;
  SinkScope scope([&](log::Level, std::string_view) {
    std::lock_guard lock(mutex);
    ++received;
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 100; ++i) log::info("from a thread");
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(received, 400);
}

// ---- cat and describe -------------------------------------------------------

TEST(Log, CatJoinsItsPartsWithStreamOutput) {
  EXPECT_EQ(log::cat("IOLoop#", 3, ": ", 2.5, ' ', std::string("ms")), "IOLoop#3: 2.5 ms");
}

TEST(Log, DescribeGivesWhatOfAStdException) {
  EXPECT_EQ(log::describe(std::make_exception_ptr(std::runtime_error("boom"))), "boom");
  EXPECT_EQ(log::describe(std::make_exception_ptr(tornado::TimeoutError())), "Timeout");
}

TEST(Log, DescribeNamesAnExceptionNotDerivedFromStdException) {
  EXPECT_EQ(log::describe(std::make_exception_ptr(42)),
            "unknown exception (not derived from std::exception)");
}

TEST(Log, DescribeOfNoExceptionSaysSo) { EXPECT_EQ(log::describe(nullptr), "no exception"); }

// ---- Site ---------------------------------------------------------------------

TEST(Site, DescribeUsesTheLabelWhenThereIsOne) {
  const std::source_location here = std::source_location::current();
  Site site{here, intern_label("heartbeat")};
  EXPECT_EQ(site.describe(), "heartbeat at log_test.cc:" + std::to_string(here.line()));
}

TEST(Site, DescribeUsesTheFunctionNameWithoutALabel) {
  const std::source_location here = inside_a_named_function();
  const std::string function = here.function_name();
  EXPECT_NE(function.find("inside_a_named_function"), std::string::npos) << function;
  EXPECT_EQ(Site{here}.describe(), function + " at log_test.cc:" + std::to_string(here.line()));
}

// Inside a coroutine GCC reports the function running its body, with a
// mangled frame type in it; describe() shows the coroutine as written.
tornado::Future<std::source_location> site_inside_a_coroutine(int) {
  co_return std::source_location::current();
}

TEST(Site, DescribeNamesACoroutineAsWritten) {
  tornado::testing::CurrentLoop loop;
  const std::source_location here = site_inside_a_coroutine(1).result();
  const std::string described = Site{here}.describe();
  EXPECT_EQ(described.find("Frame"), std::string::npos) << described;
  EXPECT_EQ(described.find("_Z"), std::string::npos) << described;
  EXPECT_EQ(described.rfind("site_inside_a_coroutine(int) at log_test.cc:", 0), 0u) << described;
}

TEST(Site, DescribeKeepsOnlyTheFileName) {
  const std::source_location here = where_am_i();
  const std::string path = here.file_name();
  ASSERT_NE(path.find('/'), std::string::npos) << "the build passes full paths";
  const std::string described = Site{here, intern_label("x")}.describe();
  EXPECT_EQ(described.find('/'), std::string::npos) << described;
  EXPECT_EQ(described, "x at log_test.cc:" + std::to_string(here.line()));
}

TEST(Site, EmptySiteIsCalledCallback) { EXPECT_EQ(Site{}.describe(), "callback"); }

// ---- intern_label and named ---------------------------------------------------

TEST(Named, EqualLabelsAreInternedToOnePointer) {
  std::string built = std::string("tick") + "er";
  const char* a = intern_label("ticker");
  const char* b = intern_label(built);
  EXPECT_EQ(a, b);
  EXPECT_STREQ(a, "ticker");
  EXPECT_NE(intern_label("tock"), a);
  EXPECT_EQ(tornado::named("ticker", [] {}).label, a);
}

TEST(Named, InternedLabelOutlivesTheStringItCameFrom) {
  const char* label = nullptr;
  {
    std::string temporary = "made for a moment";
    label = intern_label(temporary);
    temporary = "overwritten";
  }
  EXPECT_STREQ(label, "made for a moment");
}

TEST(Named, InterningFromManyThreadsGivesOnePointer) {
  std::vector<const char*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&seen, t] {
      for (int i = 0; i < 100; ++i) intern_label("label " + std::to_string(i));
      seen[t] = intern_label("shared by threads");
    });
  }
  for (std::thread& t : threads) t.join();
  for (const char* p : seen) EXPECT_EQ(p, intern_label("shared by threads"));
}

TEST(Named, LabelOfAndUnwrapNamedSeeThroughTheWrapper) {
  int calls = 0;
  auto plain = [&calls] { ++calls; };
  auto labelled = tornado::named("counter", plain);
  EXPECT_TRUE(tornado::detail::label_of(plain) == nullptr);
  EXPECT_STREQ(tornado::detail::label_of(labelled), "counter");
  tornado::detail::unwrap_named(labelled)();
  tornado::detail::unwrap_named(plain)();
  EXPECT_EQ(calls, 2);
}

}  // namespace
