// PipeIOStream: a BaseIOStream over one end of a pipe.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "tornado/ioloop.h"
#include "tornado/iostream.h"

namespace tornado {

namespace {

// Writing to a pipe whose reader has gone raises SIGPIPE, which would kill
// the process; pipes have no MSG_NOSIGNAL. Block it around the write and
// swallow the one that write raised, leaving the process's handling alone.
long write_without_sigpipe(int fd, std::span<const iovec> chunks) {
  sigset_t pipe_only;
  sigset_t previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  long n = ::writev(fd, chunks.data(), static_cast<int>(chunks.size()));
  int saved = errno;
  if (n < 0 && saved == EPIPE && !sigismember(&previous, SIGPIPE)) {
    timespec zero{};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = saved;
  return n;
}

}  // namespace

PipeIOStream::PipeIOStream(int fd, const StreamOptions& options)
    : BaseIOStream(IOLoop::current(), options), fd_(fd) {
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  opened();
}

PipeIOStream::~PipeIOStream() {
  if (fd_ >= 0) ::close(fd_);
}

BaseIOStream::IoResult PipeIOStream::read_from_fd(std::span<char> buffer) {
  ssize_t n = ::read(fd_, buffer.data(), buffer.size());
  if (n == 0) return {IoResult::Status::eof, 0, {}};
  return IoResult::from_syscall(n);
}

BaseIOStream::IoResult PipeIOStream::write_to_fd(std::span<const iovec> chunks) {
  return IoResult::from_syscall(write_without_sigpipe(fd_, chunks));
}

void PipeIOStream::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string PipeIOStream::default_name() const { return "PipeIOStream"; }

}  // namespace tornado
