// A non-blocking TCP server (tornado.tcpserver).
//
//   class EchoServer : public TCPServer {
//     Future<void> handle_stream(std::shared_ptr<IOStream> stream, SocketAddress) override {
//       for (;;) co_await stream->write(co_await stream->read_until("\n"));
//     }
//   };
//   EchoServer server;
//   server.listen(8888);
//   IOLoop::current().start();
//
// Or, without a subclass: TCPServer server([](auto stream, auto address) -> Future<void> {...});
//
// Each accepted connection becomes an IOStream (an SSLIOStream when
// ssl_options are given) handed to handle_stream(). One connection's
// trouble stays its own: an exception escaping handle_stream() is logged and
// closes that connection only (StreamClosedError, the normal end of a
// connection whose peer left, is not logged); a failed TLS handshake is
// logged once by its stream and closes it.
//
// Three ways to start, as Tornado:
//   listen(port)                      one process
//   add_sockets(bind_sockets(port))   sockets made elsewhere (port 0, Unix sockets)
//   bind(port); start(n)              n processes sharing the sockets (fork_processes)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "tornado/concurrent.h"
#include "tornado/iostream.h"
#include "tornado/netutil.h"
#include "tornado/ssl_options.h"

namespace tornado {

namespace detail {
class TlsContext;
}

class TCPServer {
 public:
  /// What handle_stream() does, for a server made without a subclass.
  using StreamHandler =
      std::function<Future<void>(std::shared_ptr<IOStream> stream, SocketAddress address)>;

  /// ssl_options: serve TLS (a server needs its certfile); they are checked
  /// here, so a missing or bad file throws SSLError now. max_buffer_size and
  /// read_chunk_size go to every connection's stream (StreamOptions).
  explicit TCPServer(std::optional<SSLOptions> ssl_options = std::nullopt,
                     std::optional<std::size_t> max_buffer_size = std::nullopt,
                     std::optional<std::size_t> read_chunk_size = std::nullopt);
  /// The same, with `handler` in place of a handle_stream() override.
  explicit TCPServer(StreamHandler handler, std::optional<SSLOptions> ssl_options = std::nullopt,
                     std::optional<std::size_t> max_buffer_size = std::nullopt,
                     std::optional<std::size_t> read_chunk_size = std::nullopt);
  /// Calls stop().
  virtual ~TCPServer();
  TCPServer(const TCPServer&) = delete;
  TCPServer& operator=(const TCPServer&) = delete;

  /// Binds to `port` on `address` ("" for every interface) and starts
  /// accepting on the current loop. Throws std::system_error if the port is
  /// taken. Loop thread only.
  void listen(std::uint16_t port, std::string_view address = {}, int family = AF_UNSPEC,
              int backlog = kDefaultBacklog, bool reuse_port = false);
  /// Starts accepting on listening sockets (from bind_sockets or
  /// bind_unix_socket); the server owns them from now on and closes them in
  /// stop(). Loop thread only.
  void add_sockets(const std::vector<int>& sockets);
  void add_socket(int socket) { add_sockets({socket}); }
  /// Binds sockets to accept on once start() runs. May be called several
  /// times. Throws std::system_error. Any thread, before start().
  void bind(std::uint16_t port, std::string_view address = {}, int family = AF_UNSPEC,
            int backlog = kDefaultBacklog, bool reuse_port = false);
  /// Starts accepting on what bind() bound. num_processes > 1 (or <= 0: one
  /// per CPU) first forks that many workers with fork_processes() (the
  /// parent never returns from it), so call it before making any IOLoop, and
  /// make the loop afterwards; with 1, it accepts on the current loop.
  /// max_restarts as fork_processes(). Throws UsageError if called twice.
  void start(int num_processes = 1, int max_restarts = -1);
  /// Stops accepting and closes the listening sockets. Connections already
  /// accepted go on. Safe to call more than once. Loop thread only.
  void stop();

  /// The addresses the listening sockets are bound to ("127.0.0.1:41234"),
  /// e.g. to learn the port after binding port 0.
  std::vector<SocketAddress> addresses() const;

 protected:
  /// Called for each new connection, on the loop thread. Override it, or
  /// pass a StreamHandler to the constructor. Its Future failing with
  /// anything but StreamClosedError is logged and closes the stream.
  virtual Future<void> handle_stream(std::shared_ptr<IOStream> stream, SocketAddress address);

 private:
  void handle_connection(int fd, const SocketAddress& address);
  std::shared_ptr<IOStream> make_stream(int fd);

  StreamHandler handler_;
  std::shared_ptr<const detail::TlsContext> tls_context_;
  StreamOptions stream_options_;
  std::vector<int> sockets_;  // listening, owned
  std::vector<std::function<void()>> stop_accepting_;
  std::vector<int> pending_sockets_;  // bound by bind(), waiting for start()
  bool started_ = false;
};

}  // namespace tornado
