// A non-blocking HTTP/1.1 client (tornado.httpclient + simple_httpclient).
//
//   Future<void> show() {
//     AsyncHTTPClient client;
//     HTTPResponse response = co_await client.fetch("http://127.0.0.1:8888/");
//     std::cout << response.code << " " << response.body << "\n";
//   }
//   IOLoop::current().run_sync(show);
//
// Or, without a loop of your own: HTTPClient().fetch(url) blocks.
//
// https:// checks the server's certificate against the system CA store and
// its name by default. Responses may be Content-Length, chunked or
// close-delimited. Kept-alive connections are reused per host (a reused one
// that turns out closed is retried once on a new one); at most max_clients
// requests run at once, the rest wait in order. Redirects are followed up to
// max_redirects. A final code outside 2xx fails the fetch with
// HTTPClientError unless raise_error is false.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "tornado/concurrent.h"
#include "tornado/errors.h"
#include "tornado/httputil.h"
#include "tornado/ioloop.h"
#include "tornado/netutil.h"
#include "tornado/ssl_options.h"

namespace tornado {

namespace detail {
struct ClientState;
}

/// One request (tornado.httpclient.HTTPRequest's common arguments).
struct HTTPRequest {
  std::string url{};
  std::string method = "GET";
  HTTPHeaders headers{};
  /// Sent with a Content-Length; POST, PUT and PATCH send an empty one if unset.
  std::optional<std::string> body{};
  /// Resolving, connecting and the TLS handshake.
  Duration connect_timeout = std::chrono::seconds(20);
  /// The whole request, from the first connection attempt to the last byte.
  Duration request_timeout = std::chrono::seconds(20);
  bool follow_redirects = true;
  int max_redirects = 5;
  /// For https: false skips certificate and hostname checks.
  bool validate_cert = true;
  /// For https: CA files, client certificates (default: system CAs).
  std::optional<SSLOptions> ssl_options{};
  std::string user_agent = "tornado-cpp";
};

/// What came back. request is the one finally fetched (after redirects).
struct HTTPResponse {
  HTTPRequest request{};
  int code = 0;
  std::string reason{};
  HTTPHeaders headers{};
  std::string body{};
  /// The URL after redirects.
  std::string effective_url{};
  /// Seconds from the start of fetch() to the end of the response.
  double request_time = 0;
};

/// A fetch that failed with an HTTP status (code) or without one (599:
/// timeouts, "Stream closed"). response() is there when a response came.
class HTTPClientError : public Error {
 public:
  HTTPClientError(int code, std::string message, std::shared_ptr<const HTTPResponse> response = {});
  int code() const noexcept { return code_; }
  const std::shared_ptr<const HTTPResponse>& response() const noexcept { return response_; }

 private:
  int code_;
  std::shared_ptr<const HTTPResponse> response_;
};

/// Limits of one AsyncHTTPClient.
struct HTTPClientOptions {
  /// Requests in flight at once; more wait in a queue.
  std::size_t max_clients = 10;
  /// A response body larger than this fails the fetch (HTTPClientError 599).
  std::uint64_t max_body_size = 100 * 1024 * 1024;
  /// The response's status line and headers.
  std::size_t max_header_size = 64 * 1024;
  /// Idle kept-alive connections kept per host.
  std::size_t max_idle_per_host = 4;
  /// Null: a DefaultExecutorResolver.
  std::shared_ptr<Resolver> resolver{};
};

class AsyncHTTPClient {
 public:
  explicit AsyncHTTPClient(HTTPClientOptions options = {});
  /// Closes idle connections. Fetches still running must have finished.
  ~AsyncHTTPClient();
  AsyncHTTPClient(const AsyncHTTPClient&) = delete;
  AsyncHTTPClient& operator=(const AsyncHTTPClient&) = delete;

  /// Fetches `request`. Fails with HTTPClientError (a non-2xx code when
  /// raise_error, 599 for a timeout or a connection lost mid-response),
  /// HTTPInputError for a malformed response, SSLError for a failed TLS
  /// handshake, the resolver's or connect's error otherwise; ValueError for
  /// a URL that is not http:// or https://. Loop thread only.
  [[nodiscard]] Future<HTTPResponse> fetch(HTTPRequest request, bool raise_error = true);
  [[nodiscard]] Future<HTTPResponse> fetch(std::string url, bool raise_error = true);
  /// Closes the idle kept-alive connections.
  void close();
  /// Idle kept-alive connections held now (all hosts).
  std::size_t idle_connections() const noexcept;

 private:
  std::shared_ptr<detail::ClientState> state_;
};

/// The blocking client: each fetch runs a private IOLoop until it is done.
/// Not for use on a thread whose loop is running.
class HTTPClient {
 public:
  explicit HTTPClient(HTTPClientOptions options = {});
  ~HTTPClient();
  HTTPClient(const HTTPClient&) = delete;
  HTTPClient& operator=(const HTTPClient&) = delete;

  /// As AsyncHTTPClient::fetch, but returns (or throws) when done.
  HTTPResponse fetch(HTTPRequest request, bool raise_error = true);
  HTTPResponse fetch(std::string url, bool raise_error = true);

 private:
  std::unique_ptr<IOLoop> loop_;
  std::unique_ptr<AsyncHTTPClient> client_;
};

}  // namespace tornado
