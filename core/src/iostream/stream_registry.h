// Every live stream of this thread, for a trace reader that attaches late
// and needs a snapshot of what exists (trace::Kind::snapshot_stream). Each
// BaseIOStream links itself in on construction and out on destruction; the
// list is per thread because a stream belongs to its loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tornado/iostream.h"

namespace tornado::detail {

struct LiveStream {
  const BaseIOStream* stream = nullptr;
  std::uint64_t trace_id = 0;  // the stream's id in trace events (0: made untraced)
  LiveStream* prev = nullptr;
  LiveStream* next = nullptr;
};

/// This thread's list head (a sentinel: head.next is the first stream).
LiveStream& live_streams();
void link_stream(LiveStream& node, const BaseIOStream* stream) noexcept;
void unlink_stream(LiveStream& node) noexcept;

/// Calls fn(id, description, read_buffer, write_buffer) for each live stream
/// of the calling thread, oldest first; `id` is a reference (0 for a stream
/// made while untraced; the trace snapshot gives it one). fn must not create
/// or destroy streams.
template <class F>
void for_each_live_stream(F fn) {
  LiveStream& head = live_streams();
  for (LiveStream* n = head.next; n != nullptr && n != &head; n = n->next) {
    BaseIOStream::Stats s = n->stream->stats();
    fn(n->trace_id, n->stream->describe(), s.read_buffer, s.write_buffer);
  }
}

}  // namespace tornado::detail
