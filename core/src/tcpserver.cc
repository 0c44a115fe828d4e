// TCPServer: accept handlers on listening sockets, one stream per
// connection, handed to handle_stream() (tornado/tcpserver.py).
#include "tornado/tcpserver.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "tls/tls_context.h"
#include "tornado/errors.h"
#include "tornado/ioloop.h"
#include "tornado/log.h"
#include "tornado/process.h"

namespace tornado {

namespace {

StreamOptions stream_options(std::optional<std::size_t> max_buffer_size,
                             std::optional<std::size_t> read_chunk_size) {
  StreamOptions options;
  if (max_buffer_size) options.max_buffer_size = *max_buffer_size;
  if (read_chunk_size) options.read_chunk_size = *read_chunk_size;
  return options;
}

// The peer's address for the log line, kept small so that the done-callback
// holding it and the stream fits Function's inline buffer: with thousands of
// idle connections, every allocation per connection shows. IPv4 and IPv6
// addresses are kept whole; a Unix socket peer (almost always unnamed) is
// kept as its family alone.
class PeerName {
 public:
  explicit PeerName(const SocketAddress& address)
      : size_(address.family() == AF_UNIX ? sizeof(sa_family_t)
                                          : std::min<socklen_t>(address.size(), sizeof bytes_)) {
    std::memcpy(bytes_, address.data(), size_);
  }
  std::string to_string() const {
    return SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(bytes_), size_)
        .to_string();
  }

 private:
  alignas(sockaddr_in6) unsigned char bytes_[sizeof(sockaddr_in6)];
  socklen_t size_;
};

// Logs what ended a connection's handler badly, and closes the connection.
void finish_connection(const std::shared_ptr<IOStream>& stream, const PeerName& address,
                       const std::exception_ptr& error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const StreamClosedError&) {
    // The peer left (or the handshake failed, already logged): a normal end.
  } catch (...) {
    log::error(log::cat("Error in connection handler for ", address.to_string(), ": ",
                        log::describe(error)));
  }
  stream->close();
}

}  // namespace

TCPServer::TCPServer(std::optional<SSLOptions> ssl_options,
                     std::optional<std::size_t> max_buffer_size,
                     std::optional<std::size_t> read_chunk_size)
    : TCPServer(StreamHandler{}, std::move(ssl_options), max_buffer_size, read_chunk_size) {}

TCPServer::TCPServer(StreamHandler handler, std::optional<SSLOptions> ssl_options,
                     std::optional<std::size_t> max_buffer_size,
                     std::optional<std::size_t> read_chunk_size)
    : handler_(std::move(handler)),
      stream_options_(stream_options(max_buffer_size, read_chunk_size)) {
  // One context for every connection: certificates are read once, and a bad
  // one fails here rather than on each handshake.
  if (ssl_options) tls_context_ = detail::TlsContext::create(*ssl_options, detail::TlsSide::server);
}

TCPServer::~TCPServer() {
  stop();
  for (int fd : pending_sockets_) ::close(fd);
}

void TCPServer::listen(std::uint16_t port, std::string_view address, int family, int backlog,
                       bool reuse_port) {
  add_sockets(bind_sockets(port, address, family, backlog, reuse_port));
}

void TCPServer::add_sockets(const std::vector<int>& sockets) {
  for (int fd : sockets) {
    sockets_.push_back(fd);
    stop_accepting_.push_back(add_accept_handler(
        fd, [this](int connection, SocketAddress peer) { handle_connection(connection, peer); }));
  }
}

void TCPServer::bind(std::uint16_t port, std::string_view address, int family, int backlog,
                     bool reuse_port) {
  std::vector<int> sockets = bind_sockets(port, address, family, backlog, reuse_port);
  pending_sockets_.insert(pending_sockets_.end(), sockets.begin(), sockets.end());
}

void TCPServer::start(int num_processes, int max_restarts) {
  if (started_) throw UsageError("TCPServer::start() called twice");
  started_ = true;
  if (num_processes != 1) (void)fork_processes(num_processes, max_restarts);
  std::vector<int> sockets = std::exchange(pending_sockets_, {});
  add_sockets(sockets);
}

void TCPServer::stop() {
  for (auto& stop_accepting : stop_accepting_) stop_accepting();
  stop_accepting_.clear();
  for (int fd : sockets_) ::close(fd);
  sockets_.clear();
}

std::vector<SocketAddress> TCPServer::addresses() const {
  std::vector<SocketAddress> out;
  for (int fd : sockets_.empty() ? pending_sockets_ : sockets_) {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) == 0) {
      out.push_back(SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length));
    }
  }
  return out;
}

Future<void> TCPServer::handle_stream(std::shared_ptr<IOStream> stream, SocketAddress address) {
  if (!handler_) {
    throw UsageError("TCPServer: override handle_stream() or pass a handler to the constructor");
  }
  return handler_(std::move(stream), std::move(address));
}

std::shared_ptr<IOStream> TCPServer::make_stream(int fd) {
  if (tls_context_) return std::make_shared<SSLIOStream>(fd, tls_context_, "", stream_options_);
  return std::make_shared<IOStream>(fd, stream_options_);
}

void TCPServer::handle_connection(int fd, const SocketAddress& address) {
  std::shared_ptr<IOStream> stream;
  try {
    stream = make_stream(fd);  // owns fd, even if it throws
  } catch (const std::exception& e) {
    log::error(log::cat("Error setting up connection from ", address.to_string(), ": ", e.what()));
    return;
  }
  Future<void> done = [&] {
    try {
      return handle_stream(stream, address);
    } catch (...) {  // a handler that throws before its first co_await
      Future<void> failed;
      failed.set_exception(std::current_exception());
      return failed;
    }
  }();
  done.add_done_callback([stream, peer = PeerName(address)](Future<void> f) {
    finish_connection(stream, peer, f.cancelled() ? nullptr : f.exception());
  });
}

}  // namespace tornado
