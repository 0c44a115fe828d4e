#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tornado/errors.h"
#include "tornado/trace_live.h"
#include "trace_endpoint.h"

namespace tornado::trace {

using std::chrono::milliseconds;

LiveListener::LiveListener(std::string_view spec) {
  detail::Endpoint endpoint;
  std::string why;
  if (!detail::parse_endpoint(spec, endpoint, why) ||
      endpoint.kind == detail::Endpoint::Kind::file) {
    throw Error("cannot listen on \"" + std::string(spec) +
                "\": " + (why.empty() ? "expected unix:PATH or tcp:HOST:PORT" : why));
  }
  listen_ = detail::listen_endpoint(endpoint);
  if (listen_ < 0) {
    throw Error("cannot listen on \"" + std::string(spec) + "\": " + std::strerror(errno));
  }
  spec_ = detail::describe_listener(endpoint, listen_);
}

LiveListener::~LiveListener() {
  disconnect();
  ::close(listen_);
}

bool LiveListener::accept(milliseconds timeout) {
  disconnect();
  error_.clear();  // an earlier attempt's error is not this one's
  pollfd p{listen_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
    error_ = "no program connected within " + std::to_string(timeout.count()) + " ms";
    return false;
  }
  conn_ = ::accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (conn_ < 0) {
    error_ = std::string("accept failed: ") + std::strerror(errno);
    return false;
  }
  decoder_ = StreamDecoder();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!decoder_.has_header()) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !receive(left)) {
      if (error_.empty()) error_ = "the program sent no complete header";
      disconnect();
      return false;
    }
  }
  std::string hello = encode_reader_hello();
  if (::send(conn_, hello.data(), hello.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(hello.size())) {
    error_ = std::string("sending the hello failed: ") + std::strerror(errno);
    disconnect();
    return false;
  }
  return true;
}

bool LiveListener::read(milliseconds timeout) { return conn_ >= 0 && receive(timeout); }

// Waits up to `timeout` for bytes and feeds them all to the decoder.
bool LiveListener::receive(milliseconds timeout) {
  pollfd p{conn_, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return ready == 0;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::recv(conn_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) {
      if (n < 0) error_ = std::string("reading failed: ") + std::strerror(errno);
      decoder_.finish();
      if (error_.empty() && decoder_.failed()) error_ = decoder_.trace().error;
      disconnect();
      return false;
    }
    std::string_view bytes(buf, static_cast<std::size_t>(n));
    if (tap_) tap_(bytes);
    if (!decoder_.feed(bytes)) {
      error_ = decoder_.trace().error;
      disconnect();
      return false;
    }
  }
}

void LiveListener::disconnect() {
  if (conn_ >= 0) ::close(conn_);
  conn_ = -1;
}

}  // namespace tornado::trace
