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

/// get_nowait() on an empty queue.
class QueueEmpty : public Error {
 public:
  QueueEmpty() : Error("Queue is empty") {}
  using Error::Error;
};

/// put_nowait() on a full queue.
class QueueFull : public Error {
 public:
  QueueFull() : Error("Queue is full") {}
  using Error::Error;
};

/// A call the object's state does not allow; the message says what to do.
class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Misuse of a future: result() before it is done, set_result() twice.
class InvalidStateError : public UsageError {
 public:
  using UsageError::UsageError;
};

/// A bad value: a negative semaphore, a release or task_done() too many
/// (Python's ValueError).
class ValueError : public UsageError {
 public:
  using UsageError::UsageError;
};

}  // namespace tornado
