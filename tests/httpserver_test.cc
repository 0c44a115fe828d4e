// Specification of httpserver.h: HTTPServer against curl as a real client
// (keep-alive, chunked upload, 100-continue, HEAD), under wrk's load, and
// against raw sockets that pipeline, overflow the limits, dribble
// (slowloris), idle or leave mid-body (after Tornado's httpserver_test.py).
#include "tornado/httpserver.h"

#include <dirent.h>
#include <stdio.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support.h"
#include "tls_support.h"
#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/testing.h"

namespace tornado {
namespace {

using namespace std::chrono_literals;
using test_support::TempDir;
using test_support::wait;

// Runs a shell command on its own thread (curl blocks) and resolves with
// its stdout on the loop.
class Command {
 public:
  Command(IOLoop& loop, std::string command) {
    thread_ = std::thread([&loop, command = std::move(command), done = output_]() mutable {
      std::string out;
      if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        std::size_t n;
        while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
        ::pclose(pipe);
      }
      loop.add_callback(
          [done, out = std::move(out)]() mutable { done.set_result(std::move(out)); });
    });
  }
  ~Command() { thread_.join(); }
  Future<std::string> output() const { return output_; }

 private:
  Future<std::string> output_;
  std::thread thread_;
};

// Sends `request` on a new connection and reads until the server closes it.
Future<std::string> exchange(std::uint16_t port, std::string request) {
  auto stream = std::make_shared<IOStream>(::socket(AF_INET, SOCK_STREAM, 0));
  co_await stream->connect(SocketAddress::from_ip("127.0.0.1", port));
  co_await stream->write(std::move(request));
  co_return co_await stream->read_until_close();
}

std::string body_of(const std::string& response) {
  std::size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

template <class F>
HTTPServerOptions options(F set) {
  HTTPServerOptions o;
  set(o);
  return o;
}

class HTTPServerTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = test_support::open_fd_count(); }
  void TearDown() override {
    server_.reset();
    // Let closed streams finish their close callbacks before counting fds.
    loop_.run_sync([] { return gen::sleep(10ms); });
    EXPECT_EQ(test_support::open_fd_count(), fds_before_) << "an fd was left open";
  }

  template <class F>
  void start(F callback, HTTPServerOptions options = HTTPServerOptions()) {
    server_ = std::make_unique<HTTPServer>(std::move(callback), std::move(options));
    server_->listen(0, "127.0.0.1", AF_INET);
    port_ = server_->addresses().at(0).port();
  }
  std::string url(std::string_view path, std::string_view scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  // curl with a hard time limit, so a hang fails the test rather than ctest.
  std::string curl(const std::string& args) {
    Command command(loop_, "curl --max-time 8 -sS " + args + " 2>&1");
    return wait(loop_, command.output());
  }

  testing::CurrentLoop loop_;
  std::size_t fds_before_ = 0;
  std::unique_ptr<HTTPServer> server_;
  std::uint16_t port_ = 0;
};

auto echo_path = [](HTTPServerRequest& request) {
  request.response().write("path=" + request.path + ";");
};

// ---- With curl ------------------------------------------------------------------

TEST_F(HTTPServerTest, HelloWorldServesThirteenBytes) {
  start([](HTTPServerRequest& request) { request.response().write("Hello, world!"); });
  std::string out = curl("-i " + url("/"));
  EXPECT_NE(out.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 13\r\n"), std::string::npos) << out;
  EXPECT_EQ(body_of(out), "Hello, world!");
}

TEST_F(HTTPServerTest, CurlKeepAliveServesTwoUrlsOnOneConnection) {
  std::vector<std::uint16_t> ports;
  start([&](HTTPServerRequest& request) {
    ports.push_back(request.remote_address.port());
    echo_path(request);
  });
  std::string out = curl("-v " + url("/a") + " " + url("/b"));
  // curl -v interleaves its log (stderr) with the bodies (stdout).
  EXPECT_LT(out.find("path=/a;"), out.find("path=/b;")) << out;
  EXPECT_NE(out.find("path=/b;"), std::string::npos) << out;
  EXPECT_NE(out.find("Re-using existing connection"), std::string::npos) << out;
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0], ports[1]) << "both requests came on one connection";
}

TEST_F(HTTPServerTest, CurlChunkedUploadArrivesDecoded) {
  TempDir dir;
  std::string data;
  for (int i = 0; i < 20000; ++i) data += std::to_string(i) + ",";
  std::ofstream(dir.file("body")) << data;
  std::string seen_body, seen_te;
  start([&](HTTPServerRequest& request) {
    seen_body = request.body;
    seen_te = request.headers.get("Transfer-Encoding", "");
    request.response().write(std::to_string(request.body.size()));
  });
  std::string out = curl("-H 'Transfer-Encoding: chunked' --data-binary @" + dir.file("body") +
                         " " + url("/upload"));
  EXPECT_EQ(out, std::to_string(data.size()));
  EXPECT_EQ(seen_te, "chunked");
  EXPECT_EQ(seen_body, data);
}

TEST_F(HTTPServerTest, CurlExpectContinueGetsTheGoAheadForALargeBody) {
  TempDir dir;
  std::string data(2 * 1024 * 1024, 'x');
  std::ofstream(dir.file("body")) << data;
  std::size_t received = 0;
  start([&](HTTPServerRequest& request) {
    received = request.body.size();
    request.response().write("got it");
  });
  std::string out =
      curl("-v -H 'Expect: 100-continue' --data-binary @" + dir.file("body") + " " + url("/big"));
  EXPECT_NE(out.find("< HTTP/1.1 100 (Continue)"), std::string::npos) << out.substr(0, 2000);
  EXPECT_NE(out.find("got it"), std::string::npos);
  EXPECT_EQ(received, data.size());
}

TEST_F(HTTPServerTest, CurlHeadGetsTheLengthButNoBody) {
  std::vector<std::string> methods;
  start([&](HTTPServerRequest& request) {
    methods.push_back(request.method);
    request.response().write("Hello, world!");
  });
  std::string out = curl("-I " + url("/"));
  EXPECT_NE(out.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 13\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("Hello"), std::string::npos) << out;
  EXPECT_EQ(methods, std::vector<std::string>{"HEAD"});
}

TEST_F(HTTPServerTest, CurlDecodesAStreamedChunkedResponse) {
  start([](HTTPServerRequest& request) -> Future<void> {
    auto& response = request.response();
    response.write("first,");
    co_await response.flush();
    co_await gen::sleep(5ms);
    response.write("second");
    co_await response.finish();
  });
  std::string out = curl("-i " + url("/stream"));
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << out;
  EXPECT_EQ(body_of(out), "first,second");
}

TEST_F(HTTPServerTest, CurlOverTlsKeepsTheConnectionAlive) {
  tls_support::TestCertificates certs;
  std::vector<std::string> protocols;
  start(
      [&](HTTPServerRequest& request) {
        protocols.push_back(request.protocol);
        echo_path(request);
      },
      options([&](HTTPServerOptions& o) { o.ssl_options = certs.server(); }));
  std::string out =
      curl("-v --cacert " + certs.cert("ca") + " " + url("/a", "https") + " " + url("/b", "https"));
  EXPECT_LT(out.find("path=/a;"), out.find("path=/b;")) << out;
  EXPECT_NE(out.find("path=/b;"), std::string::npos) << out;
  EXPECT_NE(out.find("Re-using existing connection"), std::string::npos) << out;
  EXPECT_EQ(protocols, (std::vector<std::string>{"https", "https"}));
}

// ---- Raw sockets: framing and keep-alive ------------------------------------------------

TEST_F(HTTPServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start([](HTTPServerRequest& request) -> Future<void> {
    if (request.path == "/slow") co_await gen::sleep(30ms);
    echo_path(request);
  });
  std::string out = wait(loop_, exchange(port_,
                                         "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                                         "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
                                         "POST /post HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                                         "GET /last HTTP/1.1\r\nConnection: close\r\n\r\n"));
  std::size_t slow = out.find("path=/slow;"), fast = out.find("path=/fast;");
  std::size_t post = out.find("path=/post;"), last = out.find("path=/last;");
  ASSERT_NE(last, std::string::npos) << out;
  EXPECT_LT(slow, fast);
  EXPECT_LT(fast, post);
  EXPECT_LT(post, last);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
}

TEST_F(HTTPServerTest, RequestCarriesMethodPathQueryHeadersAndPeer) {
  HTTPServerRequest seen;
  start([&](HTTPServerRequest& request) {
    seen.method = request.method;
    seen.uri = request.uri;
    seen.path = request.path;
    seen.query = request.query;
    seen.query_arguments = request.query_arguments;
    seen.headers = request.headers;
    seen.remote_ip = request.remote_ip;
    seen.host = request.host;
  });
  std::string out = wait(loop_, exchange(port_,
                                         "GET /p%20q?a=1&a=2&b=x+y HTTP/1.1\r\nHost: h:1\r\n"
                                         "X-Multi: 1\r\nx-multi: 2\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(out.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.uri, "/p%20q?a=1&a=2&b=x+y");
  EXPECT_EQ(seen.path, "/p%20q");
  EXPECT_EQ(seen.query, "a=1&a=2&b=x+y");
  EXPECT_EQ(seen.query_arguments["a"], (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(seen.query_arguments["b"], std::vector<std::string>{"x y"});
  EXPECT_EQ(seen.headers.get_list("X-MULTI"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(seen.remote_ip, "127.0.0.1");
  EXPECT_EQ(seen.host, "h:1");
}

TEST_F(HTTPServerTest, Http10WithoutKeepAliveIsClosedAfterOneResponse) {
  start(echo_path);
  std::string out = wait(loop_, exchange(port_, "GET /one HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(out.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(body_of(out), "path=/one;");
  EXPECT_EQ(out.find("Connection:"), std::string::npos) << out;
}

TEST_F(HTTPServerTest, Http10KeepAliveIsHonouredAndAnnounced) {
  start(echo_path);
  std::string out = wait(loop_, exchange(port_,
                                         "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                                         "GET /b HTTP/1.0\r\n\r\n"));
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("path=/a;"), std::string::npos);
  EXPECT_NE(out.find("path=/b;"), std::string::npos);
}

TEST_F(HTTPServerTest, Http10StreamedResponseEndsWithTheConnection) {
  start([](HTTPServerRequest& request) -> Future<void> {
    request.response().write("part1,");
    co_await request.response().flush();
    request.response().write("part2");
  });
  std::string out =
      wait(loop_, exchange(port_, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_EQ(out.find("Transfer-Encoding"), std::string::npos) << out;
  EXPECT_EQ(body_of(out), "part1,part2");
}

TEST_F(HTTPServerTest, ChunkedRequestBodyWithTrailersIsDecoded) {
  std::string seen;
  start([&](HTTPServerRequest& request) { seen = request.body; });
  std::string out = wait(loop_, exchange(port_,
                                         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                                         "Connection: close\r\n\r\n"
                                         "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n"));
  EXPECT_EQ(out.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(seen, "abcde");
}

TEST_F(HTTPServerTest, FormBodyArgumentsJoinTheQueryArguments) {
  QueryArguments arguments;
  start([&](HTTPServerRequest& request) { arguments = request.arguments; });
  (void)wait(loop_, exchange(port_,
                             "POST /?a=1 HTTP/1.1\r\nConnection: close\r\n"
                             "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
                             "Content-Length: 7\r\n\r\na=2&b=3"));
  EXPECT_EQ(arguments["a"], (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(arguments["b"], std::vector<std::string>{"3"});
}

TEST_F(HTTPServerTest, NoContentResponseHasNoBodyOrLength) {
  start([](HTTPServerRequest& request) { request.response().set_status(204); });
  std::string out = wait(loop_, exchange(port_, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
}

TEST_F(HTTPServerTest, CallbackThatThrowsGets500AndTheConnectionCloses) {
  testing::LogCapture logs;
  start([](HTTPServerRequest& request) {
    request.response().write("partial");
    throw std::runtime_error("boom");
  });
  std::string out = wait(loop_, exchange(port_, "GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(out.substr(0, 34), "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(out.find("partial"), std::string::npos);
  EXPECT_EQ(out.find("HTTP/1.1", 10), std::string::npos) << "one answer, then closed: " << out;
  EXPECT_EQ(logs.count("boom"), 1u) << logs.text();
}

// ---- Limits ---------------------------------------------------------------------------

TEST_F(HTTPServerTest, OversizedHeadGets431AndTheConnectionCloses) {
  int calls = 0;
  start([&](HTTPServerRequest&) { ++calls; },
        options([](HTTPServerOptions& o) { o.max_header_size = 1024; }));
  std::string out = wait(
      loop_, exchange(port_, "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"));
  EXPECT_EQ(out.substr(0, 46), "HTTP/1.1 431 Request Header Fields Too Large\r\n");
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(calls, 0);
}

TEST_F(HTTPServerTest, HeadThatNeverEndsGets431WithoutBufferingMore) {
  start([](HTTPServerRequest&) {}, options([](HTTPServerOptions& o) { o.max_header_size = 4096; }));
  // No blank line ever: the server must answer once the limit passes.
  std::string out = wait(loop_, exchange(port_, "GET / HTTP/1.1\r\n" + std::string(100000, 'a')));
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 431");
}

TEST_F(HTTPServerTest, OversizedContentLengthGets413AndTheConnectionCloses) {
  int calls = 0;
  start([&](HTTPServerRequest&) { ++calls; },
        options([](HTTPServerOptions& o) { o.max_body_size = 100; }));
  std::string out = wait(loop_, exchange(port_, "POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"));
  EXPECT_EQ(out.substr(0, 35), "HTTP/1.1 413 Content Too Large\r\nCon");
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(calls, 0);
}

TEST_F(HTTPServerTest, OversizedChunkedBodyGets413) {
  int calls = 0;
  start([&](HTTPServerRequest&) { ++calls; },
        options([](HTTPServerOptions& o) { o.max_body_size = 100; }));
  std::string out = wait(loop_, exchange(port_,
                                         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                         "50\r\n" +
                                             std::string(80, 'a') + "\r\n50\r\n"));
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 413");
  EXPECT_EQ(calls, 0);
}

TEST_F(HTTPServerTest, MalformedRequestsGet400AndTheConnectionCloses) {
  int calls = 0;
  start([&](HTTPServerRequest&) { ++calls; });
  for (std::string bad :
       {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    std::string out = wait(loop_, exchange(port_, bad + "GET / HTTP/1.1\r\n\r\n"));
    EXPECT_EQ(out, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        << bad;
  }
  EXPECT_EQ(calls, 0);
}

TEST_F(HTTPServerTest, SlowlorisHeadIsCutOffAtTheHeaderTimeout) {
  int calls = 0;
  start([&](HTTPServerRequest&) { ++calls; },
        options([](HTTPServerOptions& o) { o.header_timeout = 300ms; }));
  auto dribble = [&]() -> Future<std::size_t> {
    auto stream = std::make_shared<IOStream>(::socket(AF_INET, SOCK_STREAM, 0));
    co_await stream->connect(SocketAddress::from_ip("127.0.0.1", port_));
    std::string request = "GET / HTTP/1.1\r\nX-Slow: " + std::string(100, 'a') + "\r\n\r\n";
    std::size_t sent = 0;
    bool closed = false;
    stream->set_close_callback([&closed] { closed = true; });
    // One byte per 100 ms; the peer's close shows up as a failed write or
    // as the close callback (the stream reads nothing, so a read watches it).
    auto reader = stream->read_until_close();
    try {
      for (; sent < request.size() && !closed && !reader.done(); ++sent) {
        co_await stream->write(request.substr(sent, 1));
        co_await gen::sleep(100ms);
      }
    } catch (const StreamClosedError&) {
    }
    std::string answer = co_await reader;
    EXPECT_EQ(answer, "") << "closed without a response";
    stream->close();
    co_return sent;
  };
  std::size_t sent = wait(loop_, dribble());
  EXPECT_LT(sent, 60u) << "the server waited far past header_timeout";
  EXPECT_GE(sent, 2u);
  EXPECT_EQ(calls, 0);
}

TEST_F(HTTPServerTest, IdleKeptAliveConnectionIsClosedAfterTheIdleTimeout) {
  int calls = 0;
  start(
      [&](HTTPServerRequest& request) {
        ++calls;
        request.response().write("ok");
      },
      options([](HTTPServerOptions& o) { o.idle_connection_timeout = 200ms; }));
  // After one answered request the client says nothing; the server closes.
  std::string out = wait(loop_, exchange(port_, "GET / HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(body_of(out), "ok");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(HTTPServerTest, ClientLeavingMidBodyDoesNotDisturbOthers) {
  int calls = 0;
  start([&](HTTPServerRequest& request) {
    ++calls;
    echo_path(request);
  });
  auto leave = [&]() -> Future<void> {
    auto stream = std::make_shared<IOStream>(::socket(AF_INET, SOCK_STREAM, 0));
    co_await stream->connect(SocketAddress::from_ip("127.0.0.1", port_));
    co_await stream->write("POST /upload HTTP/1.1\r\nContent-Length: 100000\r\n\r\npartial body");
    co_await gen::sleep(20ms);  // the server is waiting for the rest
    EXPECT_EQ(server_->connection_count(), 1u);
    stream->close();
    co_await gen::sleep(20ms);
  };
  wait(loop_, leave());
  EXPECT_EQ(server_->connection_count(), 0u);
  std::string out =
      wait(loop_, exchange(port_, "GET /after HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(body_of(out), "path=/after;");
  EXPECT_EQ(calls, 1);
}

TEST_F(HTTPServerTest, NoKeepAliveClosesAfterEveryResponse) {
  start(echo_path, options([](HTTPServerOptions& o) { o.no_keep_alive = true; }));
  std::string out = wait(loop_, exchange(port_, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"));
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(out.find("path=/a;"), std::string::npos);
  EXPECT_EQ(out.find("path=/b;"), std::string::npos);
}

TEST_F(HTTPServerTest, CloseAllConnectionsEndsOpenConnections) {
  start(echo_path);
  auto hold = [&]() -> Future<std::string> {
    auto stream = std::make_shared<IOStream>(::socket(AF_INET, SOCK_STREAM, 0));
    co_await stream->connect(SocketAddress::from_ip("127.0.0.1", port_));
    co_await stream->write("GET / HTTP/1.1\r\n\r\n");
    co_await stream->read_until("path=/;");
    EXPECT_EQ(server_->connection_count(), 1u);
    server_->close_all_connections();
    co_return co_await stream->read_until_close();
  };
  EXPECT_EQ(wait(loop_, hold()), "");
}

}  // namespace
}  // namespace tornado

// ---- wrk as a real client ------------------------------------------------------------

namespace tornado {
namespace {

// The figures of one wrk run, from its summary ("N requests in 1.00s, ...";
// "Socket errors: ..." and "Non-2xx or 3xx responses: N" only when nonzero).
struct WrkRun {
  long requests = -1;
  bool socket_errors = true;
  bool non_2xx = true;
};

WrkRun parse_wrk(const std::string& out) {
  WrkRun run;
  std::size_t at = out.find(" requests in ");
  if (at != std::string::npos) {
    std::size_t start = out.find_last_not_of("0123456789", at - 1) + 1;
    run.requests = std::stol(out.substr(start, at - start));
  }
  run.socket_errors = out.find("Socket errors:") != std::string::npos;
  run.non_2xx = out.find("Non-2xx") != std::string::npos;
  return run;
}

bool have_wrk() { return std::system("command -v wrk >/dev/null 2>&1") == 0; }

TEST_F(HTTPServerTest, WrkKeepsTenKeptAliveConnectionsBusyWithoutAnError) {
  if (!have_wrk()) GTEST_SKIP() << "wrk is not installed (tests/deps.sh installs it)";
  long served = 0;
  start([&](HTTPServerRequest& request) {
    ++served;
    request.response().write("Hello, world!");
  });
  // One second of load; `timeout` bounds it should wrk itself hang.
  Command wrk(loop_, "timeout 20 wrk -t1 -c10 -d1s " + url("/") + " 2>&1");
  std::string out = wait(loop_, wrk.output());
  WrkRun run = parse_wrk(out);
  EXPECT_GT(run.requests, 0) << out;
  EXPECT_FALSE(run.socket_errors) << out;
  EXPECT_FALSE(run.non_2xx) << out;
  // wrk counts the responses it read; the server also answered those in flight at the end.
  EXPECT_GE(served, run.requests) << out;
  EXPECT_EQ(curl(url("/")), "Hello, world!") << "the server still serves after the load";
}

}  // namespace
}  // namespace tornado
