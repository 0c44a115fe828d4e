// The reading end of a live trace. A program run with
// TORNADO_TRACE=unix:PATH (or tcp:HOST:PORT) dials PATH every 250 ms until a
// reader listens there; the reader answers the program's header with a
// hello, and then receives a snapshot of each loop's state followed by the
// event stream (docs/trace-format.md, "Live traces"). tornado-viz --listen
// and `tornado-trace record` are built on this.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "tornado/trace_file.h"

namespace tornado::trace {

/// Listens for traced programs and decodes one at a time. Its calls block
/// for at most the timeout they are given. One thread only.
class LiveListener {
 public:
  /// Listens on "unix:PATH" or "tcp:HOST:PORT" (port 0 picks a free one).
  /// Throws tornado::Error saying why it cannot.
  explicit LiveListener(std::string_view spec);
  ~LiveListener();
  LiveListener(const LiveListener&) = delete;
  LiveListener& operator=(const LiveListener&) = delete;

  /// The spec a program should use to reach this listener ("tcp:127.0.0.1:40123").
  const std::string& spec() const noexcept { return spec_; }

  /// Waits up to `timeout` for a program and its header. True when one is
  /// connected and its header accepted; a program whose header is garbage or
  /// a newer major version is refused (error() says which) and false returned.
  bool accept(std::chrono::milliseconds timeout);
  /// Reads and decodes what arrives within `timeout`. False once the program
  /// has gone (decoder().trace().complete tells a clean end from a cut) or
  /// sent bytes that do not decode (error()).
  bool read(std::chrono::milliseconds timeout);
  /// Hangs up on the current program; it runs on untraced and dials again.
  void disconnect();

  /// Also hands every byte received, as received, to `tap` (e.g. to save
  /// the session: the bytes are a trace file). Set before accept().
  void set_tap(std::function<void(std::string_view)> tap) { tap_ = std::move(tap); }

  bool connected() const noexcept { return conn_ >= 0; }
  StreamDecoder& decoder() noexcept { return decoder_; }
  const std::string& error() const noexcept { return error_; }
  /// The connected program's socket, e.g. to poll it with other fds; -1 if none.
  int connection_fd() const noexcept { return conn_; }
  int listen_fd() const noexcept { return listen_; }

 private:
  bool receive(std::chrono::milliseconds timeout);
  std::string spec_;
  int listen_ = -1;
  int conn_ = -1;
  StreamDecoder decoder_;
  std::string error_;
  std::function<void(std::string_view)> tap_;
};

}  // namespace tornado::trace
