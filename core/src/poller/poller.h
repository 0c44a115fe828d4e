// The one interface the loop waits through. Backends live beside this file
// and are chosen in make_poller() (poller.cc), nowhere else.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tornado/ioloop.h"

namespace tornado::detail {

/// One ready fd: the token it was registered with, and IOLoop::READ/WRITE/ERROR bits.
struct PollEvent {
  std::uint64_t token;
  std::uint32_t events;
};

class Poller {
 public:
  virtual ~Poller() = default;
  virtual const char* name() const = 0;
  /// Starts watching fd for `events` (IOLoop bits). Throws std::system_error.
  virtual void add(int fd, std::uint32_t events, std::uint64_t token) = 0;
  virtual void modify(int fd, std::uint32_t events, std::uint64_t token) = 0;
  /// Stops watching fd; an fd already closed is not an error.
  virtual void remove(int fd) = 0;
  /// Waits up to timeout_ms (-1: no limit) and appends the ready fds to `out`.
  /// A signal interrupting the wait is not an error: it returns nothing.
  virtual void poll(int timeout_ms, std::vector<PollEvent>& out) = 0;
};

std::unique_ptr<Poller> make_epoll_poller();
std::unique_ptr<Poller> make_poll_poller();
std::unique_ptr<Poller> make_poller(PollerKind kind);

}  // namespace tornado::detail
