// Helpers shared by the test files (GoogleTest-aware, so not in the library's
// tornado/testing.h).
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include <stdlib.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tornado/ioloop.h"
#include "tornado/testing.h"

namespace tornado::test_support {

// Upper bound for anything a test waits for, far below ctest's 60 s.
inline constexpr Duration kTestTimeout = std::chrono::seconds(10);

// Runs the loop until `f` is done (bounded by kTestTimeout) and returns its result.
template <class T>
T wait(IOLoop& loop, Future<T> f) {
  return loop.run_sync([f] { return f; }, kTestTimeout);
}

// The message of the exception `f` fails with, once the loop has finished it.
template <class T>
std::string failure_of(IOLoop& loop, Future<T> f) {
  try {
    wait(loop, f);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

// Awaits `awaitable`, expecting E; yields E's message ("" after a failure).
template <class E, class Awaitable>
Future<std::string> message_of(Awaitable awaitable) {
  try {
    (void)co_await awaitable;
  } catch (const E& e) {
    co_return std::string(e.what());
  }
  ADD_FAILURE() << "the wait did not throw";
  co_return std::string();
}

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tornado_test.XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// How many fds this process has open, to check that a test closed its own.
inline std::size_t open_fd_count() {
  auto entries = std::filesystem::directory_iterator("/proc/self/fd");
  return static_cast<std::size_t>(std::distance(begin(entries), end(entries)));
}

// A fixture: each test gets a fresh current loop and must leave no fd behind.
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = open_fd_count();
    loop_.emplace();
  }
  void TearDown() override {
    loop_.reset();
    EXPECT_EQ(open_fd_count(), fds_before_) << "an fd was left open";
  }
  IOLoop& loop() { return *loop_; }

 private:
  std::size_t fds_before_ = 0;
  std::optional<testing::CurrentLoop> loop_;
};

}  // namespace tornado::test_support
