// Helpers shared by the test files (GoogleTest-aware, so not in the library's
// tornado/testing.h).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <string>

#include "tornado/ioloop.h"

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

}  // namespace tornado::test_support
