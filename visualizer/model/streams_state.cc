#include "model/streams_state.h"

#include "model/state.h"

namespace tornado::viz {

using trace::Kind;

namespace {

// Forgets the oldest closed streams beyond kClosedStreamsKept.
void forget_closed(StreamsState& streams) {
  std::size_t closed = 0;
  for (const auto& item : streams.streams) closed += item.second.phase == StreamPhase::closed;
  for (auto it = streams.streams.begin();
       closed > kClosedStreamsKept && it != streams.streams.end();) {
    if (it->second.phase == StreamPhase::closed) {
      it = streams.streams.erase(it);
      --closed;
    } else {
      ++it;
    }
  }
}

void open(State& state, const trace::Event& e, trace::Kind kind) {
  StreamsState& streams = state.streams;
  if (streams.streams.size() >= kMaxStreams) forget_closed(streams);
  if (streams.streams.size() >= kMaxStreams && !streams.streams.contains(e.object)) {
    ++state.observer.over_limit;
    return;
  }
  Stream& s = streams.streams[e.object] = Stream{};
  s.id = e.object;
  s.loop = e.loop;
  s.name = e.name;
  ++streams.opened;
  if (kind == Kind::stream_opened) {
    s.fd = static_cast<int>(e.a & 0x7fffffff);
    s.kind = static_cast<trace::StreamKind>(e.b);
  } else {  // snapshot_stream: buffers, and no fd
    s.read_buffer = e.a;
    s.write_buffer = e.b;
    s.history.push(BufferSample{e.ts_ns, e.a, e.b});
  }
}

void sample(Stream& s, std::uint64_t ts) {
  s.history.push(BufferSample{ts, s.read_buffer, s.write_buffer});
}

void close(StreamsState& streams, Stream& s, const trace::Event& e) {
  if (s.phase == StreamPhase::closed) return;
  s.phase = StreamPhase::closed;
  s.close_reason = e.name;
  s.close_errno = e.a;
  s.closed_ns = e.ts_ns;
  ++streams.closed;
  forget_closed(streams);  // may erase s
}

void change(StreamsState& streams, Stream& s, const trace::Event& e) {
  switch (e.kind) {
    case Kind::stream_connected:
      s.phase = StreamPhase::connected;
      s.fd = static_cast<int>(e.a & 0x7fffffff);
      break;
    case Kind::stream_read:
      s.bytes_read += e.a;
      s.read_buffer = e.b;
      sample(s, e.ts_ns);
      break;
    case Kind::stream_written:
      s.bytes_written += e.a;
      s.write_buffer = e.b;
      sample(s, e.ts_ns);
      break;
    case Kind::tls_handshake_begun:
      s.phase = StreamPhase::handshaking;
      break;
    case Kind::tls_handshake_finished:
      s.phase = StreamPhase::connected;
      s.tls = e.name;
      break;
    case Kind::tls_handshake_failed:
      s.tls = e.name;
      s.tls_failed = true;
      break;
    case Kind::stream_closed:
      close(streams, s, e);
      break;
    default:
      break;
  }
}

}  // namespace

void apply_streams_event(State& state, const trace::Event& e) {
  if (e.kind == Kind::stream_opened || e.kind == Kind::snapshot_stream) {
    return open(state, e, e.kind);
  }
  auto it = state.streams.streams.find(e.object);
  if (it == state.streams.streams.end()) {
    ++state.observer.unknown_objects;
    return;
  }
  change(state.streams, it->second, e);
}

}  // namespace tornado::viz
