// Everything a BaseIOStream holds, kept out of the public header.
#pragma once

#include <re2/re2.h>

#include <climits>
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
/// The parts most reads never use live in ReadExtras.
struct ReadRequest {
  enum class Kind : std::uint8_t { none, bytes, delimiter, regex, until_close };
  Kind kind = Kind::none;
  bool partial = false;
  std::size_t bytes = 0;    // Kind::bytes: still wanted (streaming reads count down)
  std::size_t scanned = 0;  // Kind::delimiter: bytes searched without a match
  std::optional<std::size_t> max_bytes;
  std::optional<Future<std::string>> future;
};

/// The rest of a pending read: read_until's delimiter, a streaming callback,
/// read_into's target and future.
struct ReadExtras {
  std::string delimiter;
  std::shared_ptr<BaseIOStream::StreamingCallback> streaming;
  std::optional<Future<std::size_t>> into_future;
  std::span<char> into;

  // Cleared field by field: the delimiter keeps its capacity for the next read.
  void clear() noexcept {
    delimiter.clear();
    streaming.reset();
    into_future.reset();
    into = {};
  }
};

/// What a stream needs only once it uses it: made on first use and kept.
/// An idle connection waiting in read_bytes never makes it, which keeps the
/// memory per idle connection small (docs/performance.md, "Echo server").
struct ColdStreamState {
  ReadExtras read;
  std::unique_ptr<re2::RE2> regex;  // the last pattern, reused when asked again
  std::optional<Future<void>> connect_future;
  BaseIOStream::CloseCallback close_callback;
  std::string name;
};

struct StreamState {
  StreamState(IOLoop& l, const StreamOptions& o)
      : loop(l),
        max_buffer_size(o.max_buffer_size),
        read_chunk_size(o.read_chunk_size),
        max_write_buffer_size(o.max_write_buffer_size.value_or(SIZE_MAX)) {}

  ColdStreamState& cold_state() {
    if (!cold) cold = std::make_unique<ColdStreamState>();
    return *cold;
  }
  /// The pending read's extras, or null if the stream never needed any.
  ReadExtras* read_extras() noexcept { return cold ? &cold->read : nullptr; }
  void clear_read() noexcept {
    read = ReadRequest{};
    if (cold) cold->read.clear();
  }

  IOLoop& loop;
  std::size_t max_buffer_size;
  std::size_t read_chunk_size;
  std::size_t max_write_buffer_size;  // SIZE_MAX: unlimited
  ReadBuffer read_buffer;
  WriteBuffer write_buffer;
  ReadRequest read;
  std::unique_ptr<ColdStreamState> cold;

  // Write futures in order, each with the total byte count that must have
  // been sent for it to resolve (Tornado's _write_futures).
  std::vector<std::pair<std::uint64_t, Future<void>>> write_futures;
  std::size_t write_futures_head = 0;
  std::uint64_t total_write_index = 0;
  std::uint64_t total_write_done_index = 0;

  std::uint32_t io_state = 0;  // events registered with the loop; 0: not registered
  std::uint16_t loop_id = 0;
  bool closed : 1 = false;
  bool connecting : 1 = false;
  // The last read from the fd found it empty (nothing, or less than asked),
  // and the loop has not reported it readable since: a new read waits for
  // the loop instead of trying the fd first (a recv that would find nothing:
  // in a ping-pong, half of all recv calls). Level-triggered polling still
  // reports data that arrived in between.
  bool drained : 1 = false;
  std::exception_ptr error;

  std::uint64_t bytes_read = 0;  // Stats, apart from the buffer sizes
  std::uint64_t bytes_written = 0;
  std::uint64_t bytes_scanned = 0;
  LiveStream node;  // holds the stream's trace id
};

}  // namespace tornado::detail
