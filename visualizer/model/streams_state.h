// The Streams panel's data: each stream's state, buffer sizes over time,
// bytes moved and close reason.
#pragma once

#include <cstdint>
#include <map>

#include "model/ring.h"
#include "tornado/trace.h"

namespace tornado::viz {

struct State;

enum class StreamPhase : std::uint8_t { open, connected, handshaking, closed };

struct BufferSample {
  std::uint64_t ts_ns = 0;
  std::uint64_t read_buffer = 0, write_buffer = 0;
};

struct Stream {
  std::uint64_t id = 0;
  std::uint16_t loop = 0;
  std::uint32_t name = 0;  // describe() when opened
  int fd = -1;
  trace::StreamKind kind = trace::StreamKind::tcp;
  StreamPhase phase = StreamPhase::open;
  std::uint64_t read_buffer = 0, write_buffer = 0;
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::uint32_t close_reason = 0;  // string id, 0: closed by the program
  std::uint64_t close_errno = 0;
  std::uint32_t tls = 0;  // "TLSv1.3 ..." once the handshake finished, or the failure
  bool tls_failed = false;
  std::uint64_t closed_ns = 0;
  Ring<BufferSample> history{256};
};

inline constexpr std::size_t kMaxStreams = 65536;
inline constexpr std::size_t kClosedStreamsKept = 64;

struct StreamsState {
  std::map<std::uint64_t, Stream> streams;  // open ones and the latest closed ones
  std::uint64_t opened = 0, closed = 0;
};

/// Applies stream_*, tls_* and snapshot_stream.
void apply_streams_event(State& state, const trace::Event& event);

}  // namespace tornado::viz
