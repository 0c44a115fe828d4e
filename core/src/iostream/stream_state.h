// Everything a BaseIOStream holds, kept out of the public header.
#pragma once

#include <re2/re2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "iostream/read_buffer.h"
#include "iostream/stream_registry.h"
#include "iostream/write_buffer.h"
#include "tornado/iostream.h"

namespace tornado::detail {

/// The one pending read: what would satisfy it and where its result goes.
struct ReadRequest {
  enum class Kind : std::uint8_t { none, bytes, delimiter, regex, until_close };
  Kind kind = Kind::none;
  std::size_t bytes = 0;  // Kind::bytes: still wanted (streaming reads count down)
  bool partial = false;
  std::string delimiter;
  std::optional<std::size_t> max_bytes;
  std::size_t scanned = 0;  // Kind::delimiter: bytes searched without a match
  std::shared_ptr<BaseIOStream::StreamingCallback> streaming;
  std::optional<Future<std::string>> future;
  std::optional<Future<std::size_t>> into_future;  // read_into
  std::span<char> into;
};

struct StreamState {
  StreamState(IOLoop& l, const StreamOptions& o) : loop(l), options(o) {}

  IOLoop& loop;
  StreamOptions options;
  ReadBuffer read_buffer;
  WriteBuffer write_buffer;
  ReadRequest read;
  std::unique_ptr<re2::RE2> regex;  // the last pattern, reused when asked again

  // Write futures in order, each with the total byte count that must have
  // been sent for it to resolve (Tornado's _write_futures).
  std::vector<std::pair<std::uint64_t, Future<void>>> write_futures;
  std::size_t write_futures_head = 0;
  std::uint64_t total_write_index = 0;
  std::uint64_t total_write_done_index = 0;
  std::optional<Future<void>> connect_future;

  std::uint32_t io_state = 0;  // events registered with the loop; 0: not registered
  bool closed = false;
  bool connecting = false;
  std::exception_ptr error;
  BaseIOStream::CloseCallback close_callback;

  std::string name;
  std::uint64_t trace_id = 0;
  std::uint16_t loop_id = 0;
  BaseIOStream::Stats counters;
  LiveStream node;
};

}  // namespace tornado::detail
