// The exceptions tornado-cpp throws, one type per failure, all derived from
// tornado::Error so `catch (const tornado::Error&)` sees every one of them.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

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

// ---- Streams (iostream.h) ---------------------------------------------------

/// An operation on a closed stream (Tornado's StreamClosedError).
/// real_error() is why it closed: a std::system_error for an fd error
/// (code() gives its std::error_code), an UnsatisfiableReadError or
/// StreamBufferFullError for a broken limit, or null when the program or a
/// clean EOF closed it. what() names the cause.
class StreamClosedError : public Error {
 public:
  explicit StreamClosedError(std::exception_ptr real_error = nullptr)
      : Error(message_for(real_error)), real_error_(std::move(real_error)) {}
  const std::exception_ptr& real_error() const noexcept { return real_error_; }
  /// The cause's error code if it is a std::system_error, else empty.
  std::error_code code() const noexcept {
    if (!real_error_) return {};
    try {
      std::rethrow_exception(real_error_);
    } catch (const std::system_error& e) {
      return e.code();
    } catch (...) {
      return {};
    }
  }

 private:
  static std::string message_for(const std::exception_ptr& cause) {
    if (!cause) return "Stream is closed";
    try {
      std::rethrow_exception(cause);
    } catch (const std::exception& e) {
      return std::string("Stream is closed: ") + e.what();
    } catch (...) {
      return "Stream is closed: unknown error";
    }
  }
  std::exception_ptr real_error_;
};

/// A read_until/read_until_regex whose delimiter was not found within
/// max_bytes; the stream closes with this as its cause.
class UnsatisfiableReadError : public Error {
 public:
  using Error::Error;
};

/// The read buffer passed max_buffer_size (the stream closes with this as its
/// cause), or a write would pass max_write_buffer_size (write() throws it).
class StreamBufferFullError : public Error {
 public:
  using Error::Error;
};

}  // namespace tornado
