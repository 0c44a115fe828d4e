// Specification of httpclient.h: AsyncHTTPClient against our HTTPServer
// (plain and TLS), against hand-written raw servers (close-delimited and
// broken responses), and against Python's http.server; HTTPClient, the
// blocking one, against a server on another thread.
#include "tornado/httpclient.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support.h"
#include "tls_support.h"
#include "tornado/gen.h"
#include "tornado/httpserver.h"
#include "tornado/ioloop.h"
#include "tornado/tcpserver.h"
#include "tornado/testing.h"
#include "tornado/web.h"

namespace tornado {
namespace {

using namespace std::chrono_literals;
using test_support::TempDir;
using test_support::wait;

// Every field has a default, so a designated initializer may name any subset
// (this file is built with -Wextra -Werror).
TEST(HTTPRequestOptions, DesignatedInitializersMayNameAnySubset) {
  HTTPRequest request{.url = "http://127.0.0.1/", .method = "POST", .body = "x"};
  HTTPClientOptions options{.max_clients = 2};
  EXPECT_EQ(request.url, "http://127.0.0.1/");
  EXPECT_TRUE(request.follow_redirects);
  EXPECT_EQ(options.max_clients, 2u);
  EXPECT_EQ(options.resolver, nullptr);
}

// ---- Handlers ------------------------------------------------------------------------

struct Seen {
  std::vector<std::uint16_t> ports;  // the client's port, per request
  int in_flight = 0;
  int most_in_flight = 0;
};

class EchoHandler : public RequestHandler {
 public:
  explicit EchoHandler(Seen* seen) : seen_(seen) {}

 private:
  Future<void> prepare() override {
    seen_->ports.push_back(request().remote_address.port());
    co_return;
  }
  Future<void> get(Args) override {
    write("hello " + get_argument("name", "world"));
    co_return;
  }
  Future<void> post(Args) override {
    set_header("X-Method", request().method);
    set_header("X-Content-Type", request().headers.get("Content-Type", "-"));
    write(request().headers.get("X-Custom", "-") + ":" + request().body);
    co_return;
  }
  Future<void> put(Args args) override { return post(std::move(args)); }
  Seen* seen_;
};

class SlowHandler : public RequestHandler {
 public:
  explicit SlowHandler(Seen* seen) : seen_(seen) {}

 private:
  Future<void> get(Args) override {
    seen_->most_in_flight = std::max(seen_->most_in_flight, ++seen_->in_flight);
    co_await gen::sleep(std::stod(get_argument("ms", "30")) / 1000.0);
    --seen_->in_flight;
    write("slow");
  }
  Seen* seen_;
};

class StreamHandler : public RequestHandler {
  Future<void> get(Args) override {
    write(std::string(1000, 'a'));
    co_await flush();
    write(std::string(1000, 'b'));
  }
};

class RedirectHandler : public RequestHandler {
  Future<void> get(Args args) override {
    int n = std::stoi(args.at(0));
    std::string next = "/echo?name=end";
    if (n > 0) next = "/redirect/" + std::to_string(n - 1);
    co_await redirect(next);
  }
  Future<void> post(Args) override {
    set_status(303);
    set_header("Location", "/echo?name=after-post");
    co_return;
  }
};

class MissingHandler : public RequestHandler {
  Future<void> get(Args) override {
    set_status(404);
    write("no such thing");
    co_return;
  }
};

template <class F>
HTTPClientOptions client_options(F set) {
  HTTPClientOptions o;
  set(o);
  return o;
}

// ---- Fixture ---------------------------------------------------------------------------

class HTTPClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = tls_support::open_fd_count();
    start_server(std::nullopt);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    raw_.reset();
    loop_.run_sync([] { return gen::sleep(10ms); });
    EXPECT_EQ(tls_support::open_fd_count(), fds_before_) << "an fd was left open";
  }

  void start_server(std::optional<SSLOptions> ssl) {
    Application app({tornado::url<EchoHandler>("/echo", &seen_),
                     tornado::url<SlowHandler>("/slow", &seen_),
                     tornado::url<StreamHandler>("/stream"),
                     tornado::url<RedirectHandler>("/redirect/([0-9]+)"),
                     tornado::url<MissingHandler>("/missing")});
    HTTPServerOptions options;
    options.ssl_options = std::move(ssl);
    server_ = std::make_unique<HTTPServer>(app, options);
    server_->listen(0, "127.0.0.1", AF_INET);
    port_ = server_->addresses().at(0).port();
  }
  std::string link(std::string_view path, std::string_view scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  // A TCP server that answers every connection with `response` and closes.
  std::uint16_t raw_server(std::string response) {
    raw_ = std::make_unique<TCPServer>(
        [response](std::shared_ptr<IOStream> stream, SocketAddress) -> Future<void> {
          co_await stream->read_until("\r\n\r\n");
          co_await stream->write(response);
          stream->close();
        });
    raw_->listen(0, "127.0.0.1", AF_INET);
    return raw_->addresses().at(0).port();
  }
  HTTPResponse fetch(HTTPRequest request, bool raise_error = true) {
    return wait(loop_, client_->fetch(std::move(request), raise_error));
  }
  HTTPResponse fetch(std::string u, bool raise_error = true) {
    HTTPRequest request;
    request.url = std::move(u);
    return fetch(std::move(request), raise_error);
  }
  template <class E>
  E failure(HTTPRequest request) {
    try {
      (void)fetch(std::move(request));
    } catch (const E& e) {
      return e;
    }
    ADD_FAILURE() << "the fetch did not fail as expected";
    throw std::runtime_error("no failure");
  }
  template <class E>
  E failure(std::string u) {
    HTTPRequest request;
    request.url = std::move(u);
    return failure<E>(std::move(request));
  }

  testing::CurrentLoop loop_;
  std::size_t fds_before_ = 0;
  Seen seen_;
  std::unique_ptr<HTTPServer> server_;
  std::unique_ptr<TCPServer> raw_;
  std::unique_ptr<AsyncHTTPClient> client_ = std::make_unique<AsyncHTTPClient>();
  std::uint16_t port_ = 0;
};

// ---- Against our server -------------------------------------------------------------------

TEST_F(HTTPClientTest, GetReturnsCodeHeadersAndBody) {
  HTTPResponse response = fetch(link("/echo?name=C%2B%2B"));
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.reason, "OK");
  EXPECT_EQ(response.body, "hello C++");
  EXPECT_EQ(response.headers.get("content-type"), "text/html; charset=UTF-8");
  EXPECT_EQ(response.effective_url, link("/echo?name=C%2B%2B"));
  EXPECT_GE(response.request_time, 0.0);
}

TEST_F(HTTPClientTest, PostSendsMethodHeadersAndBody) {
  HTTPRequest request;
  request.url = link("/echo");
  request.method = "POST";
  request.headers.add("X-Custom", "abc");
  request.body = "payload";
  HTTPResponse response = fetch(request);
  EXPECT_EQ(response.body, "abc:payload");
  EXPECT_EQ(response.headers.get("X-Method"), "POST");
}

TEST_F(HTTPClientTest, PostWithoutContentTypeSendsFormEncodedAsTornadoDoes) {
  auto content_type = [&](std::string method, std::string given) {
    HTTPRequest request;
    request.url = link("/echo");
    request.method = std::move(method);
    if (!given.empty()) request.headers.add("Content-Type", given);
    request.body = "a=1";
    return fetch(request).headers.get("X-Content-Type", "");
  };
  EXPECT_EQ(content_type("POST", ""), "application/x-www-form-urlencoded");
  EXPECT_EQ(content_type("POST", "application/json"), "application/json") << "a given one is kept";
  EXPECT_EQ(content_type("PUT", ""), "-") << "only POST gets the default";
}

TEST_F(HTTPClientTest, KeptAliveConnectionIsReusedForTheSameHost) {
  (void)fetch(link("/echo"));
  EXPECT_EQ(client_->idle_connections(), 1u);
  (void)fetch(link("/echo"));
  ASSERT_EQ(seen_.ports.size(), 2u);
  EXPECT_EQ(seen_.ports[0], seen_.ports[1]);
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(HTTPClientTest, StalePooledConnectionIsRetriedOnANewOne) {
  (void)fetch(link("/echo"));
  server_->close_all_connections();
  loop_.run_sync([] { return gen::sleep(20ms); });
  EXPECT_EQ(fetch(link("/echo?name=again")).body, "hello again");
  ASSERT_EQ(seen_.ports.size(), 2u);
  EXPECT_NE(seen_.ports[0], seen_.ports[1]);
}

TEST_F(HTTPClientTest, ChunkedResponseIsDecoded) {
  HTTPResponse response = fetch(link("/stream"));
  EXPECT_EQ(response.headers.get("Transfer-Encoding"), "chunked");
  EXPECT_EQ(response.body, std::string(1000, 'a') + std::string(1000, 'b'));
}

TEST_F(HTTPClientTest, HeadResponseHasNoBody) {
  HTTPRequest request;
  request.url = link("/echo");
  request.method = "HEAD";
  HTTPResponse response = fetch(request, false);
  EXPECT_EQ(response.code, 405);
  EXPECT_EQ(response.body, "");
  // The connection is still usable: the HEAD response's length was not read as a body.
  EXPECT_EQ(fetch(link("/echo")).body, "hello world");
}

TEST_F(HTTPClientTest, NonSuccessCodeFailsWithHTTPClientError) {
  auto error = failure<HTTPClientError>(link("/missing"));
  EXPECT_EQ(error.code(), 404);
  ASSERT_TRUE(error.response());
  EXPECT_EQ(error.response()->body, "no such thing");
}

TEST_F(HTTPClientTest, RaiseErrorFalseReturnsTheErrorResponse) {
  HTTPResponse response = fetch(link("/missing"), false);
  EXPECT_EQ(response.code, 404);
  EXPECT_EQ(response.body, "no such thing");
}

TEST_F(HTTPClientTest, RedirectsAreFollowedUpToMaxRedirects) {
  HTTPResponse response = fetch(link("/redirect/3"));
  EXPECT_EQ(response.body, "hello end");
  EXPECT_EQ(response.effective_url, link("/echo?name=end"));

  HTTPRequest limited;
  limited.url = link("/redirect/3");
  limited.max_redirects = 2;
  auto error = failure<HTTPClientError>(limited);
  EXPECT_EQ(error.code(), 302);

  HTTPRequest unfollowed;
  unfollowed.url = link("/redirect/0");
  unfollowed.follow_redirects = false;
  HTTPResponse raw = fetch(unfollowed, false);
  EXPECT_EQ(raw.code, 302);
  EXPECT_EQ(raw.headers.get("Location"), "/echo?name=end");
}

TEST_F(HTTPClientTest, SeeOtherAfterPostBecomesAGet) {
  HTTPRequest request;
  request.url = link("/redirect/0");
  request.method = "POST";
  request.body = "data";
  HTTPResponse response = fetch(request);
  EXPECT_EQ(response.body, "hello after-post");
  EXPECT_EQ(response.request.method, "GET");
  EXPECT_FALSE(response.request.body.has_value());
}

TEST_F(HTTPClientTest, RequestTimeoutFailsWith599) {
  HTTPRequest request;
  request.url = link("/slow?ms=2000");
  request.request_timeout = 100ms;
  auto error = failure<HTTPClientError>(request);
  EXPECT_EQ(error.code(), 599);
  EXPECT_NE(std::string(error.what()).find("Timeout"), std::string::npos) << error.what();
}

TEST_F(HTTPClientTest, MaxClientsQueuesTheRest) {
  client_ = std::make_unique<AsyncHTTPClient>(
      client_options([](HTTPClientOptions& o) { o.max_clients = 1; }));
  auto all = [&]() -> Future<std::vector<HTTPResponse>> {
    std::vector<Future<HTTPResponse>> futures;
    for (int i = 0; i < 3; ++i) futures.push_back(client_->fetch(link("/slow?ms=20")));
    co_return co_await gen::multi(futures);
  };
  auto responses = wait(loop_, all());
  ASSERT_EQ(responses.size(), 3u);
  for (const auto& response : responses) EXPECT_EQ(response.body, "slow");
  EXPECT_EQ(seen_.most_in_flight, 1);
}

TEST_F(HTTPClientTest, ConnectionRefusedFails) {
  auto listener = bind_sockets(0, "127.0.0.1", AF_INET);
  std::uint16_t port = SocketAddress().port();
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(listener[0], reinterpret_cast<sockaddr*>(&storage), &length);
  port = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length).port();
  ::close(listener[0]);  // nothing listens there now
  EXPECT_THROW(fetch("http://127.0.0.1:" + std::to_string(port) + "/"), StreamClosedError);
}

TEST_F(HTTPClientTest, UnsupportedUrlIsAValueError) {
  EXPECT_THROW(fetch("ftp://127.0.0.1/"), ValueError);
  EXPECT_THROW(fetch("http://127.0.0.1:99999/"), ValueError);
  EXPECT_THROW(fetch("http:///path"), ValueError);
}

// ---- Against raw servers ------------------------------------------------------------------

TEST_F(HTTPClientTest, CloseDelimitedResponseEndsAtTheClose) {
  std::uint16_t port = raw_server("HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nall of it");
  HTTPResponse response = fetch("http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_EQ(response.body, "all of it");
  EXPECT_EQ(client_->idle_connections(), 0u);
}

TEST_F(HTTPClientTest, InterimContinueResponseIsSkipped) {
  std::uint16_t port = raw_server(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
      "Connection: close\r\n\r\nok");
  EXPECT_EQ(fetch("http://127.0.0.1:" + std::to_string(port) + "/").body, "ok");
}

TEST_F(HTTPClientTest, BodyOverMaxBodySizeFails) {
  client_ = std::make_unique<AsyncHTTPClient>(
      client_options([](HTTPClientOptions& o) { o.max_body_size = 10; }));
  for (std::string response : {"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n01234567890",
                               "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                               "chunked\r\n\r\n6\r\n012345\r\n6\r\n012345\r\n0\r\n\r\n",
                               "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n01234567890"}) {
    std::uint16_t port = raw_server(response);
    auto error = failure<HTTPClientError>("http://127.0.0.1:" + std::to_string(port) + "/");
    EXPECT_EQ(error.code(), 599);
    EXPECT_NE(std::string(error.what()).find("too large"), std::string::npos) << error.what();
    raw_.reset();
  }
}

TEST_F(HTTPClientTest, MalformedResponseFailsWithHTTPInputError) {
  std::uint16_t port = raw_server("HTTP/1.1 OK\r\n\r\n");
  (void)failure<HTTPInputError>("http://127.0.0.1:" + std::to_string(port) + "/");
  raw_.reset();
  port = raw_server("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n");
  (void)failure<HTTPInputError>("http://127.0.0.1:" + std::to_string(port) + "/");
}

TEST_F(HTTPClientTest, ConnectionClosedBeforeAnyResponseFails) {
  std::uint16_t port = raw_server("");
  auto error = failure<HTTPClientError>("http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_EQ(error.code(), 599);
}

// ---- TLS ------------------------------------------------------------------------------

TEST_F(HTTPClientTest, HttpsVerifiesTheServerCertificate) {
  tls_support::TestCertificates certs;
  start_server(certs.server());
  HTTPRequest trusted;
  trusted.url = link("/echo?name=tls", "https");
  trusted.ssl_options = certs.client();
  EXPECT_EQ(fetch(trusted).body, "hello tls");

  testing::LogCapture logs;                                // the failed handshakes log a line each
  auto error = failure<SSLError>(link("/echo", "https"));  // system CAs do not know the test CA
  EXPECT_NE(error.reason().find("certificate verify failed"), std::string::npos) << error.what();

  HTTPRequest unchecked;
  unchecked.url = link("/echo?name=unchecked", "https");
  unchecked.validate_cert = false;
  EXPECT_EQ(fetch(unchecked).body, "hello unchecked");
}

// ---- A real server other than ours: Python's http.server ---------------------------------------

// Python's http.server on a free loopback port, serving `dir`; with a
// certificate and key it speaks TLS (Python's ssl module, i.e. OpenSSL on
// the other side too). Stopped when this goes out of scope.
class PythonHttpServer {
 public:
  explicit PythonHttpServer(const std::string& dir, const SSLOptions* tls = nullptr) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      const char* program =
          "import http.server, os, ssl, sys\n"
          "os.chdir(sys.argv[1])\n"
          "class H(http.server.SimpleHTTPRequestHandler):\n"
          "    def log_message(self, *a): pass\n"
          "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
          "if len(sys.argv) > 3:\n"
          "    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
          "    c.load_cert_chain(sys.argv[2], sys.argv[3])\n"
          "    s.socket = c.wrap_socket(s.socket, server_side=True)\n"
          "print(s.server_address[1], flush=True)\n"
          "s.serve_forever()\n";
      if (tls != nullptr) {
        ::execlp("python3", "python3", "-c", program, dir.c_str(), tls->certfile.c_str(),
                 tls->keyfile.c_str(), nullptr);
      } else {
        ::execlp("python3", "python3", "-c", program, dir.c_str(), nullptr);
      }
      ::_exit(127);
    }
    ::close(out[1]);
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') port_ += c;
    ::close(out[0]);
  }
  ~PythonHttpServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  PythonHttpServer(const PythonHttpServer&) = delete;
  PythonHttpServer& operator=(const PythonHttpServer&) = delete;

  /// "" if python3 did not start.
  const std::string& port() const { return port_; }

 private:
  pid_t pid_ = -1;
  std::string port_;
};

TEST_F(HTTPClientTest, FetchesAFileFromPythonHttpServer) {
  TempDir dir;
  std::ofstream(dir.file("hello.txt")) << "from python\n";
  PythonHttpServer python(dir.file(""));
  ASSERT_FALSE(python.port().empty()) << "python3 did not start";
  std::string base = "http://127.0.0.1:" + python.port();
  HTTPResponse response = fetch(base + "/hello.txt");
  EXPECT_EQ(response.body, "from python\n");
  EXPECT_EQ(response.headers.get("Content-Length"), "12");
  EXPECT_EQ(fetch(base + "/nope", false).code, 404);
}

// The same over TLS: a server whose TLS is not ours, verified against the
// test CA; a client trusting only the system CAs is refused.
TEST_F(HTTPClientTest, FetchesAFileFromPythonHttpsServer) {
  TempDir dir;
  std::ofstream(dir.file("hello.txt")) << "from python over tls\n";
  tls_support::TestCertificates certs;
  SSLOptions server = certs.server();
  PythonHttpServer python(dir.file(""), &server);
  ASSERT_FALSE(python.port().empty()) << "python3 did not start";
  HTTPRequest request;
  request.url = "https://127.0.0.1:" + python.port() + "/hello.txt";
  request.ssl_options = certs.client();
  HTTPResponse response = fetch(request);
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.body, "from python over tls\n");
  testing::LogCapture logs;  // the refused handshake logs a line
  auto error = failure<SSLError>("https://127.0.0.1:" + python.port() + "/hello.txt");
  EXPECT_NE(std::string(error.what()).find("certificate verify failed"), std::string::npos)
      << error.what();
}

// ---- HTTPClient ------------------------------------------------------------------------

TEST(HTTPClient, BlockingFetchRunsItsOwnLoop) {
  std::promise<std::uint16_t> port;
  IOLoop* server_loop = nullptr;
  std::thread server_thread([&] {
    IOLoop loop;
    loop.make_current();
    HTTPServer server([](HTTPServerRequest& request) { request.response().write("blocking ok"); });
    server.listen(0, "127.0.0.1", AF_INET);
    server_loop = &loop;
    port.set_value(server.addresses().at(0).port());
    auto watchdog = loop.call_later(test_support::kTestTimeout, [&] { loop.stop(); });
    loop.start();
    loop.remove_timeout(watchdog);
    server.stop();
    server.close_all_connections();
    loop.close();
  });
  std::uint16_t p = port.get_future().get();
  {
    HTTPClient client;
    EXPECT_EQ(client.fetch("http://127.0.0.1:" + std::to_string(p) + "/").body, "blocking ok");
  }
  server_loop->add_callback([server_loop] { server_loop->stop(); });
  server_thread.join();
}

}  // namespace
}  // namespace tornado
