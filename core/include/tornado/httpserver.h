// A non-blocking HTTP/1.1 server (tornado.httpserver + http1connection).
//
//   HTTPServer server([](HTTPServerRequest& request) {
//     request.response().write("Hello, world!");  // finished when the callback returns
//   });
//   server.listen(8888);
//   IOLoop::current().start();
//
// The callback may also be a coroutine (returning Future<void>); the
// response is finished when its Future resolves, unless it called finish()
// earlier. A callback that throws before anything was sent gets a 500; after
// that, the connection is closed.
//
// Each connection reads requests one after the other, so pipelined requests
// are answered in order. HTTP/1.1 connections stay open unless a side says
// "Connection: close"; HTTP/1.0 ones only with "Connection: keep-alive".
// Request bodies come with Content-Length or chunked, and a client that
// sent "Expect: 100-continue" is told to go on once the head is accepted.
//
// Limits (HTTPServerOptions) answer with a status, "Connection: close", and
// close the connection: a head over max_header_size gets 431, a body over
// max_body_size 413, a malformed head 400. A head that has not fully arrived
// header_timeout after it began (slowloris), and a kept-alive connection
// with no new request for idle_connection_timeout, are closed silently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tornado/concurrent.h"
#include "tornado/httputil.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/netutil.h"
#include "tornado/ssl_options.h"
#include "tornado/tcpserver.h"

namespace tornado {

namespace detail {
struct HTTPServerState;
struct ResponseState;
}  // namespace detail

/// How an HTTPServer treats its connections (Tornado's HTTPServer arguments).
struct HTTPServerOptions {
  /// Serve TLS (see TCPServer).
  std::optional<SSLOptions> ssl_options;
  /// Close every connection after one request.
  bool no_keep_alive = false;
  /// Request line plus headers, in bytes; more gets 431.
  std::size_t max_header_size = 64 * 1024;
  /// Request body, in bytes; more gets 413.
  std::uint64_t max_body_size = 100 * 1024 * 1024;
  /// The most a head may take to arrive: from the connection's start for its
  /// first request, from the first byte for later ones.
  Duration header_timeout = std::chrono::seconds(60);
  /// How long a kept-alive connection may wait for its next request.
  Duration idle_connection_timeout = std::chrono::seconds(3600);
};

/// Builds the response to one request: status, headers, body. Data given to
/// write() is buffered until flush() or finish(). If nothing was flushed,
/// finish() sends a Content-Length; after a flush without one, the body goes
/// chunked (HTTP/1.1) or until the connection closes (HTTP/1.0). HEAD, 204
/// and 304 responses send no body. Loop thread only.
class HTTPResponseWriter {
 public:
  explicit HTTPResponseWriter(std::shared_ptr<detail::ResponseState> state);
  ~HTTPResponseWriter();
  HTTPResponseWriter(const HTTPResponseWriter&) = delete;
  HTTPResponseWriter& operator=(const HTTPResponseWriter&) = delete;

  /// The status; reason defaults to the standard phrase. Throws UsageError
  /// once the headers are sent.
  void set_status(int code, std::string reason = {});
  int status() const noexcept;
  /// The response headers, to change before the first flush.
  HTTPHeaders& headers();
  /// Buffers body data. Throws UsageError after finish().
  void write(std::string_view chunk);
  /// The same; a moved string is kept without a copy.
  void write(std::string&& chunk);
  void write(const char* chunk) { write(std::string_view(chunk)); }
  /// Sends the headers (the first time) and what is buffered. Resolves once
  /// the stream has taken it; fails with StreamClosedError if the peer left.
  [[nodiscard]] Future<void> flush();
  /// Sends the rest and ends the response. Calls after the first do nothing.
  [[nodiscard]] Future<void> finish();
  bool headers_sent() const noexcept;
  bool finished() const noexcept;

 private:
  std::shared_ptr<detail::ResponseState> s_;
};

/// One request, as the server read it. Lives until the response is finished.
struct HTTPServerRequest {
  std::string method;   // "GET"
  std::string uri;      // "/path?x=1", as sent
  std::string path;     // "/path" (still %-escaped)
  std::string query;    // "x=1"
  std::string version;  // "HTTP/1.1"
  HTTPHeaders headers;
  std::string body;
  std::string host;  // the Host header, else the server's address
  std::string protocol = "http";
  std::string remote_ip;  // "127.0.0.1"
  SocketAddress remote_address;
  /// From the query string; body_arguments from an
  /// application/x-www-form-urlencoded body; arguments has both.
  QueryArguments query_arguments;
  QueryArguments body_arguments;
  QueryArguments arguments;
  TimePoint start_time;

  /// True for HTTP/1.1 (chunked responses, keep-alive by default).
  bool supports_http_1_1() const { return version == "HTTP/1.1"; }
  /// Seconds since the head arrived.
  double request_time() const;
  /// The response to this request.
  HTTPResponseWriter& response() { return *response_; }

  /// For the server: the request owns its response's writer.
  std::unique_ptr<HTTPResponseWriter> response_;
};

class HTTPServer : public TCPServer {
 public:
  using RequestCallback = std::function<Future<void>(HTTPServerRequest& request)>;

  /// `callback` handles every request; it may return Future<void> or void.
  /// Throws SSLError for bad ssl_options. Loop thread only, as TCPServer.
  template <class F>
  requires std::is_invocable_v<F&, HTTPServerRequest&>
  explicit HTTPServer(F callback, HTTPServerOptions options = {})
      : HTTPServer(wrap(std::move(callback)), std::move(options), 0) {}
  /// Stops listening and closes every connection.
  ~HTTPServer() override;

  /// Closes every open connection (requests in progress are cut off).
  /// Loop thread only.
  void close_all_connections();
  /// Connections open now.
  std::size_t connection_count() const noexcept;
  const HTTPServerOptions& options() const noexcept;

 protected:
  Future<void> handle_stream(std::shared_ptr<IOStream> stream, SocketAddress address) override;

 private:
  HTTPServer(RequestCallback callback, HTTPServerOptions options, int);
  template <class F>
  static RequestCallback wrap(F callback) {
    if constexpr (std::is_same_v<std::invoke_result_t<F&, HTTPServerRequest&>, void>) {
      return [callback = std::move(callback)](HTTPServerRequest& request) mutable {
        callback(request);
        Future<void> done;
        done.set_result();
        return done;
      };
    } else {
      return RequestCallback(std::move(callback));
    }
  }

  std::shared_ptr<detail::HTTPServerState> state_;
};

}  // namespace tornado
