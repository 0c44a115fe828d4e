// A non-blocking TCP connection factory (tornado.tcpclient).
//
//   TCPClient client;
//   std::shared_ptr<IOStream> stream = co_await client.connect("example.com", 443, {
//       .ssl_options = SSLOptions{}, .timeout = std::chrono::seconds(10)});
//
// connect() resolves the host, then dials its addresses with Happy Eyeballs
// (RFC 6555, as Tornado's _Connector): the addresses of the first family
// the resolver returned are tried one after another; the other family's
// start after initial_connect_timeout (300 ms), or at once if the first
// family fails. The first connection up wins and every other attempt is
// closed. With ssl_options, the winner then does a TLS handshake (SNI and
// hostname check against `host`) and the result is an SSLIOStream.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tornado/concurrent.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/netutil.h"
#include "tornado/ssl_options.h"

namespace tornado {

/// connect()'s optional arguments (Tornado's keyword arguments).
struct ConnectOptions {
  /// AF_INET or AF_INET6 to use only that family; AF_UNSPEC: both.
  int family = AF_UNSPEC;
  /// Set: connect with TLS (an SSLIOStream), checking the server against `host`.
  std::optional<SSLOptions> ssl_options{};
  std::optional<std::size_t> max_buffer_size{};
  /// Bind the local end first: to this IP and/or port. A port without an IP
  /// binds the loopback address of the family being tried (as Tornado).
  std::string source_ip{};
  std::uint16_t source_port = 0;
  /// For everything (resolving, connecting, the TLS handshake): after it,
  /// connect() fails with TimeoutError and every attempt is closed.
  std::optional<Duration> timeout{};
};

class TCPClient {
 public:
  /// How long the first family has before the second is tried too.
  static constexpr std::chrono::milliseconds kInitialConnectTimeout{300};

  /// `resolver` turns host names into addresses; null: a
  /// DefaultExecutorResolver. Tests pass one that returns chosen addresses.
  explicit TCPClient(std::shared_ptr<Resolver> resolver = nullptr,
                     Duration initial_connect_timeout = kInitialConnectTimeout);

  /// Connects to host:port. Fails with TimeoutError after options.timeout,
  /// with the last attempt's error (StreamClosedError holding the
  /// std::system_error) if every address failed, with the resolver's error
  /// if the name does not resolve, with SSLError if the handshake fails.
  /// Throws std::system_error at once if source_ip/source_port cannot be
  /// bound. Loop thread only.
  [[nodiscard]] Future<std::shared_ptr<IOStream>> connect(std::string_view host,
                                                          std::uint16_t port);
  /// GCC 12 note: inside a coroutine, pass a named ConnectOptions, not a
  /// temporary built in the co_await expression (GCC 12 relocates such
  /// temporaries bitwise, which breaks the strings inside).
  [[nodiscard]] Future<std::shared_ptr<IOStream>> connect(std::string_view host, std::uint16_t port,
                                                          ConnectOptions options);

 private:
  Future<std::shared_ptr<IOStream>> connect_impl(std::string host, std::uint16_t port,
                                                 ConnectOptions options);
  std::shared_ptr<Resolver> resolver_;
  Duration initial_connect_timeout_;
};

}  // namespace tornado
