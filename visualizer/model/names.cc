#include "model/names.h"

#include <array>

namespace tornado::viz {

namespace {

// Looks `value` up in a table indexed from `first`; "?" when out of range.
template <std::size_t N>
std::string_view pick(const std::array<std::string_view, N>& names, std::size_t value,
                      std::size_t first = 0) {
  return value >= first && value - first < N ? names[value - first] : "?";
}

}  // namespace

std::string_view name_of(PollReason reason) {
  static constexpr std::array<std::string_view, 4> names{"not_polled", "pending_callbacks",
                                                         "next_timer", "no_limit"};
  return pick(names, static_cast<std::size_t>(reason));
}

std::string_view name_of(FdKind kind) {
  static constexpr std::array<std::string_view, 5> names{"user", "waker", "listener", "stream",
                                                         "pipe"};
  return pick(names, static_cast<std::size_t>(kind));
}

std::string_view name_of(StreamPhase phase) {
  static constexpr std::array<std::string_view, 4> names{"open", "connected", "handshaking",
                                                         "closed"};
  return pick(names, static_cast<std::size_t>(phase));
}

std::string_view name_of(CauseKind kind) {
  static constexpr std::array<std::string_view, 8> names{
      "scheduled", "timer", "fd_ready", "signal", "trigger", "other_thread", "program", "unknown"};
  return pick(names, static_cast<std::size_t>(kind));
}

std::string_view name_of(trace::Via via) {
  static constexpr std::array<std::string_view, 5> names{"callback", "timer", "handler", "signal",
                                                         "other_thread"};
  return pick(names, static_cast<std::size_t>(via));
}

std::string_view name_of(trace::SyncKind kind) {
  static constexpr std::array<std::string_view, 8> names{
      "lock",  "condition",      "event",     "semaphore", "bounded_semaphore",
      "queue", "priority_queue", "lifo_queue"};
  return pick(names, static_cast<std::size_t>(kind), 1);
}

std::string_view name_of(trace::WaitKind kind) {
  static constexpr std::array<std::string_view, 6> names{"acquire", "notify", "set",
                                                         "get",     "put",    "join"};
  return pick(names, static_cast<std::size_t>(kind), 1);
}

std::string_view name_of(trace::StreamKind kind) {
  static constexpr std::array<std::string_view, 4> names{"tcp", "unix", "pipe", "tls"};
  return pick(names, static_cast<std::size_t>(kind), 1);
}

std::string events_string(std::uint64_t events) {
  std::string out;
  if (events & 0x1) out += 'R';
  if (events & 0x4) out += 'W';
  if (events & 0x8) out += 'E';
  return out;
}

}  // namespace tornado::viz
