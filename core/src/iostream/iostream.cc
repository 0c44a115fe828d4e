// IOStream: a BaseIOStream over a socket (TCP or Unix), with connect().
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "tornado/ioloop.h"
#include "tornado/iostream.h"

namespace tornado {

namespace {

void set_non_blocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

SocketAddress local_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return {};
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

SocketAddress peer_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return {};
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

}  // namespace

IOStream::IOStream(int socket, const StreamOptions& options) : IOStream(socket, options, true) {}

IOStream::IOStream(int socket, const StreamOptions& options, bool trace_opened)
    : BaseIOStream(IOLoop::current(), options), fd_(socket) {
  set_non_blocking(fd_);
  kind_ = local_address(fd_).family() == AF_UNIX ? trace::StreamKind::unix_socket
                                                 : trace::StreamKind::tcp;
  if (trace_opened) opened();
}

IOStream::~IOStream() {
  if (fd_ >= 0) ::close(fd_);
}

Future<void> IOStream::connect(const SocketAddress& address, std::string /*server_hostname*/) {
  Future<void> future = begin_connect();
  if (::connect(fd_, address.data(), address.size()) != 0 && errno != EINPROGRESS &&
      errno != EAGAIN) {
    close(std::error_code(errno, std::system_category()));
    return future;
  }
  add_io_state(IOLoop::WRITE);
  return future;
}

void IOStream::handle_connect() {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    error = errno == ENOPROTOOPT ? 0 : errno;
  }
  if (error != 0) return close(std::error_code(error, std::system_category()));
  end_connect();
}

void IOStream::set_nodelay(bool value) {
  if (fd_ < 0 || kind_ != trace::StreamKind::tcp) return;
  int flag = value ? 1 : 0;
  // EINVAL: the connection was reset meanwhile; the next read or write reports it.
  (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &flag, sizeof flag);
}

BaseIOStream::IoResult IOStream::read_from_fd(std::span<char> buffer) {
  ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
  if (n == 0) return {IoResult::Status::eof, 0, {}};
  return IoResult::from_syscall(n);
}

BaseIOStream::IoResult IOStream::write_to_fd(std::span<const iovec> chunks) {
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(chunks.data());
  message.msg_iovlen = chunks.size();
  // MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE.
  return IoResult::from_syscall(::sendmsg(fd_, &message, MSG_NOSIGNAL));
}

void IOStream::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::exception_ptr IOStream::get_fd_error() {
  int error = 0;
  socklen_t length = sizeof error;
  if (fd_ < 0 || ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error == 0) {
    return nullptr;
  }
  return std::make_exception_ptr(std::system_error(std::error_code(error, std::system_category())));
}

trace::StreamKind IOStream::kind() const noexcept { return kind_; }

std::string IOStream::default_name() const {
  if (fd_ < 0) return "IOStream";
  SocketAddress peer = peer_address(fd_);
  std::string name = "IOStream " + local_address(fd_).to_string();
  if (peer.family() != AF_UNSPEC) name += " -> " + peer.to_string();
  return name;
}

int IOStream::detach_socket() {
  detach();
  return std::exchange(fd_, -1);
}

}  // namespace tornado
