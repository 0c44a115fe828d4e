// The File descriptors panel's data: the registered fds with interest beside
// readiness, whether the handler ran, bytes moved, and per fd the recent
// iterations (the fds x iterations matrix).
#pragma once

#include <cstdint>
#include <map>

#include "model/ring.h"
#include "tornado/trace.h"

namespace tornado::viz {

struct State;

enum class FdKind : std::uint8_t { user, waker, listener, stream, pipe };

/// Bits of a matrix cell, besides the ready events (READ 0x1, WRITE 0x4, ERROR 0x8).
inline constexpr std::uint8_t kCellHandlerRan = 0x80;

/// One fd in one iteration: the events the poller returned and whether its
/// handler ran. Iterations where nothing happened have no cell.
struct FdCell {
  std::uint64_t iteration = 0;
  std::uint8_t flags = 0;
};

struct Fd {
  std::uint16_t loop = 0;
  int fd = -1;
  std::uint32_t name = 0;  // the handler's site
  FdKind kind = FdKind::user;
  bool registered = false;
  std::uint32_t interest = 0;
  std::uint32_t last_ready = 0;            // events returned by the last poll that saw it
  std::uint64_t last_ready_iteration = 0;  // 0: never ready
  bool handler_ran = false;                // in that iteration
  std::uint64_t ready_count = 0, handler_runs = 0;
  std::uint64_t bytes_read = 0, bytes_written = 0;  // from the stream on it
  std::uint64_t stream = 0;                         // stream id on this fd, 0 for none
  Ring<FdCell> cells{128};
};

inline constexpr std::size_t kMaxFds = 65536;

/// Key of an fd in the table: loops have their own fd numbers in principle.
inline std::uint64_t fd_key(std::uint16_t loop, std::uint64_t fd) {
  return (std::uint64_t{loop} << 32) | (fd & 0xffffffffu);
}

struct FdsState {
  std::map<std::uint64_t, Fd> table;  // by fd_key: loop, then fd
};

/// Applies handler_*, fd_ready, snapshot_handler, the handler's
/// callback_started, and stream events that move bytes.
void apply_fds_event(State& state, const trace::Event& event);

}  // namespace tornado::viz
