#include "waker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace tornado::detail {

Waker::Waker() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::system_category(), "eventfd");
}

Waker::~Waker() { ::close(fd_); }

void Waker::wake() const noexcept {
  int saved = errno;  // a signal handler must not change errno under the code it interrupted
  std::uint64_t one = 1;
  // EAGAIN means the counter is full, so the fd is readable already.
  [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
  errno = saved;
}

void Waker::drain() const noexcept {
  std::uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(fd_, &count, sizeof count);
}

}  // namespace tornado::detail
