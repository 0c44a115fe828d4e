// The exceptions tornado-cpp throws, one type per failure, all derived from
// tornado::Error so `catch (const tornado::Error&)` sees every one of them.
#pragma once

#include <stdexcept>
#include <string>

namespace tornado {

/// Base of every error a peer, a timeout or a cancellation can cause.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An operation did not finish before its deadline (Tornado's TimeoutError).
class TimeoutError : public Error {
 public:
  TimeoutError() : Error("Timeout") {}
  using Error::Error;
};

/// The future was cancelled, so it has no result (asyncio.CancelledError).
class CancelledError : public Error {
 public:
  CancelledError() : Error("Future was cancelled") {}
  using Error::Error;
};

/// The loop was stopped before the future given to run_sync() finished.
class LoopStoppedError : public Error {
 public:
  LoopStoppedError() : Error("Event loop stopped before Future completed.") {}
};

/// Misuse of a future: result() before it is done, set_result() twice.
class InvalidStateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace tornado
