// Specification of web.h: Application routing (RE2 patterns, groups),
// RequestHandler methods, arguments, status and headers, error pages and the
// access log, served by a real HTTPServer to real sockets and curl (after
// Tornado's web_test.py).
#include "tornado/web.h"

#include <dirent.h>
#include <stdio.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "support.h"
#include "tornado/gen.h"
#include "tornado/httpserver.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/testing.h"

namespace tornado {
namespace {

using namespace std::chrono_literals;
using test_support::wait;

// ---- Handlers under test ------------------------------------------------------------

class HelloHandler : public RequestHandler {
  Future<void> get(Args) override {
    write("Hello, world!");
    co_return;
  }
};

class UserHandler : public RequestHandler {
  Future<void> get(Args args) override {
    write("user " + args.at(0) + " sort=" + get_argument("sort", "name"));
    co_return;
  }
};

class TwoGroupsHandler : public RequestHandler {
  Future<void> get(Args args) override {
    write(args.at(0) + "|" + args.at(1));
    co_return;
  }
};

class ArgumentsHandler : public RequestHandler {
  Future<void> get(Args) override {
    write("q=" + get_argument("q"));
    co_return;
  }
  Future<void> post(Args) override {
    std::string all;
    for (const auto& v : get_arguments("a")) all += v + ",";
    write(all + " body=" + get_body_argument("a").value_or("-") +
          " query=" + get_query_argument("a").value_or("-"));
    co_return;
  }
};

class StatusHandler : public RequestHandler {
  Future<void> put(Args) override {
    set_status(201);
    set_header("X-Made", "yes");
    add_header("X-Multi", "1");
    add_header("X-Multi", "2");
    clear_header("Server");
    write(request().body);
    co_return;
  }
  Future<void> delete_(Args) override {
    set_status(418, "Teapot Time");
    co_return;
  }
};

class SlowHandler : public RequestHandler {
  Future<void> get(Args) override {
    co_await gen::sleep(10ms);
    write("slept");
  }
};

class ErrorHandler : public RequestHandler {
  Future<void> get(Args) override {
    std::string kind = get_argument("kind");
    write("never sent");
    if (kind == "http") throw HTTPError(403, "not for you");
    if (kind == "plain") throw std::runtime_error("kaboom");
    co_return;
  }
};

class CustomErrorHandler : public RequestHandler {
  Future<void> get(Args) override { throw HTTPError(409); }
  void write_error(int status_code, const std::exception_ptr&) override {
    set_header("Content-Type", "text/plain");
    write("custom " + std::to_string(status_code));
  }
};

class PrepareHandler : public RequestHandler {
 public:
  explicit PrepareHandler(int* gets) : gets_(gets) {}

 private:
  Future<void> prepare() override {
    if (request().path == "/guarded") {
      set_status(401);
      co_await finish();
    }
  }
  Future<void> get(Args) override {
    ++*gets_;
    write("in");
    co_return;
  }
  int* gets_;
};

class StreamHandler : public RequestHandler {
  Future<void> get(Args) override {
    write("one,");
    co_await flush();
    write("two");
    co_await finish();
  }
};

class RedirectHandler : public RequestHandler {
  Future<void> get(Args) override { co_await redirect("/hello"); }
};

class FinishCountingHandler : public RequestHandler {
 public:
  explicit FinishCountingHandler(int* finishes) : finishes_(finishes) {}

 private:
  Future<void> get(Args) override {
    write("x");
    co_return;
  }
  void on_finish() override { ++*finishes_; }
  int* finishes_;
};

// ---- Fixture ----------------------------------------------------------------------------

class WebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = test_support::open_fd_count();
    Application app({
        url<HelloHandler>("/hello"),
        url<UserHandler>("/user/([0-9]+)"),
        url<TwoGroupsHandler>("/pair/([^/]+)/([^/]+)"),
        url<ArgumentsHandler>("/args"),
        url<StatusHandler>("/status"),
        url<SlowHandler>("/slow"),
        url<ErrorHandler>("/error"),
        url<CustomErrorHandler>("/custom-error"),
        url<PrepareHandler>("/(?:guarded|open)", &gets_),
        url<StreamHandler>("/stream"),
        url<RedirectHandler>("/redirect"),
        url<FinishCountingHandler>("/counted", &finishes_),
    });
    server_ = std::make_unique<HTTPServer>(app);
    server_->listen(0, "127.0.0.1", AF_INET);
    port_ = server_->addresses().at(0).port();
  }
  void TearDown() override {
    server_.reset();
    loop_.run_sync([] { return gen::sleep(10ms); });
    EXPECT_EQ(test_support::open_fd_count(), fds_before_) << "an fd was left open";
  }

  // One request on its own connection; the whole response back.
  std::string fetch(std::string request) {
    auto go = [](std::uint16_t port, std::string text) -> Future<std::string> {
      auto stream = std::make_shared<IOStream>(::socket(AF_INET, SOCK_STREAM, 0));
      co_await stream->connect(SocketAddress::from_ip("127.0.0.1", port));
      co_await stream->write(std::move(text));
      co_return co_await stream->read_until_close();
    };
    return wait(loop_, go(port_, std::move(request)));
  }
  std::string get(std::string_view path) {
    return fetch("GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  }
  static std::string body_of(const std::string& response) {
    std::size_t end = response.find("\r\n\r\n");
    return end == std::string::npos ? "" : response.substr(end + 4);
  }
  static std::string status_of(const std::string& response) {
    return response.substr(0, response.find("\r\n"));
  }

  testing::CurrentLoop loop_;
  std::size_t fds_before_ = 0;
  int gets_ = 0;
  int finishes_ = 0;
  std::unique_ptr<HTTPServer> server_;
  std::uint16_t port_ = 0;
};

// ---- Routing -----------------------------------------------------------------------------

TEST_F(WebTest, RouteServesItsHandlerWithDefaultHeaders) {
  std::string out = get("/hello");
  EXPECT_EQ(status_of(out), "HTTP/1.1 200 OK");
  EXPECT_EQ(body_of(out), "Hello, world!");
  EXPECT_NE(out.find("Content-Type: text/html; charset=UTF-8\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 13\r\n"), std::string::npos);
  EXPECT_NE(out.find("Server: tornado-cpp\r\n"), std::string::npos);
  EXPECT_NE(out.find("Date: "), std::string::npos);
}

TEST_F(WebTest, PatternGroupsBecomeTheHandlersArguments) {
  EXPECT_EQ(body_of(get("/user/42")), "user 42 sort=name");
  EXPECT_EQ(body_of(get("/user/7?sort=age")), "user 7 sort=age");
}

TEST_F(WebTest, GroupsArriveUnescapedButPlusStaysAPlus) {
  EXPECT_EQ(body_of(get("/pair/a%20b/c+d")), "a b|c+d");
}

TEST_F(WebTest, PatternMustMatchTheWholePath) {
  EXPECT_EQ(status_of(get("/user/42/more")), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(status_of(get("/user/x")), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(status_of(get("/hello/")), "HTTP/1.1 404 Not Found");
}

TEST_F(WebTest, UnknownPathGetsTheDefaultErrorPage) {
  std::string out = get("/nowhere");
  EXPECT_EQ(status_of(out), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(body_of(out), "<html><title>404: Not Found</title><body>404: Not Found</body></html>");
}

TEST_F(WebTest, MethodTheHandlerLacksGets405) {
  std::string out = fetch("POST /hello HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(out), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(status_of(fetch("BREW /hello HTTP/1.1\r\nConnection: close\r\n\r\n")),
            "HTTP/1.1 405 Method Not Allowed");
}

TEST_F(WebTest, BadRoutePatternIsRejectedAtConstruction) {
  EXPECT_THROW(Application({url<HelloHandler>("/(unclosed")}), ValueError);
}

// ---- Arguments -----------------------------------------------------------------------------

TEST_F(WebTest, GetArgumentReadsTheQuery) {
  EXPECT_EQ(body_of(get("/args?q=a+b%21")), "q=a b!");
  EXPECT_EQ(body_of(get("/args?q=1&q=2")), "q=2") << "the last value wins";
}

TEST_F(WebTest, MissingArgumentGets400) {
  std::string out = get("/args");
  EXPECT_EQ(status_of(out), "HTTP/1.1 400 Missing argument q");
  EXPECT_NE(body_of(out).find("400: Missing argument q"), std::string::npos) << out;
}

TEST_F(WebTest, FormBodyArgumentsJoinQueryArguments) {
  std::string out = fetch(
      "POST /args?a=1 HTTP/1.1\r\nConnection: close\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=2&a=3");
  EXPECT_EQ(body_of(out), "1,2,3, body=3 query=1");
}

// ---- Output ---------------------------------------------------------------------------------

TEST_F(WebTest, StatusAndHeadersAreSent) {
  std::string out =
      fetch("PUT /status HTTP/1.1\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody");
  EXPECT_EQ(status_of(out), "HTTP/1.1 201 Created");
  EXPECT_NE(out.find("X-Made: yes\r\n"), std::string::npos);
  EXPECT_NE(out.find("X-Multi: 1\r\nX-Multi: 2\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Server:"), std::string::npos);
  EXPECT_EQ(body_of(out), "body");
  EXPECT_EQ(status_of(fetch("DELETE /status HTTP/1.1\r\nConnection: close\r\n\r\n")),
            "HTTP/1.1 418 Teapot Time");
}

TEST_F(WebTest, CoroutineHandlerMayWaitBeforeWriting) { EXPECT_EQ(body_of(get("/slow")), "slept"); }

TEST_F(WebTest, FlushSendsChunksBeforeFinish) {
  std::string out = get("/stream");
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << out;
  EXPECT_EQ(body_of(out), "4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n");
}

TEST_F(WebTest, RedirectSetsLocation) {
  std::string out = get("/redirect");
  EXPECT_EQ(status_of(out), "HTTP/1.1 302 Found");
  EXPECT_NE(out.find("Location: /hello\r\n"), std::string::npos);
}

TEST_F(WebTest, PrepareThatFinishesSkipsTheMethod) {
  EXPECT_EQ(status_of(get("/guarded")), "HTTP/1.1 401 Unauthorized");
  EXPECT_EQ(gets_, 0);
  EXPECT_EQ(body_of(get("/open")), "in");
  EXPECT_EQ(gets_, 1);
}

TEST_F(WebTest, OnFinishRunsOncePerRequest) {
  (void)get("/counted");
  (void)get("/counted");
  EXPECT_EQ(finishes_, 2);
}

TEST_F(WebTest, HeadWithoutAHeadMethodGets405) {
  EXPECT_EQ(status_of(fetch("HEAD /hello HTTP/1.1\r\nConnection: close\r\n\r\n")),
            "HTTP/1.1 405 Method Not Allowed");
}

// ---- Errors and the access log -----------------------------------------------------------------

TEST_F(WebTest, HTTPErrorSendsItsStatusAndLogsItsMessage) {
  testing::LogCapture logs;
  std::string out = get("/error?kind=http");
  EXPECT_EQ(status_of(out), "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(body_of(out), "<html><title>403: Forbidden</title><body>403: Forbidden</body></html>");
  EXPECT_EQ(logs.count("not for you"), 1u) << logs.text();
  EXPECT_EQ(logs.errors(), 0u) << logs.text();
}

TEST_F(WebTest, UncaughtExceptionSends500AndLogsIt) {
  testing::LogCapture logs;
  std::string out = get("/error?kind=plain");
  EXPECT_EQ(status_of(out), "HTTP/1.1 500 Internal Server Error");
  EXPECT_EQ(out.find("never sent"), std::string::npos);
  EXPECT_EQ(logs.count("kaboom"), 1u) << logs.text();
}

TEST_F(WebTest, WriteErrorCanBeOverridden) {
  std::string out = get("/custom-error");
  EXPECT_EQ(status_of(out), "HTTP/1.1 409 Conflict");
  EXPECT_EQ(body_of(out), "custom 409");
  EXPECT_NE(out.find("Content-Type: text/plain\r\n"), std::string::npos);
}

TEST_F(WebTest, EveryRequestWritesOneAccessLogLine) {
  testing::LogCapture logs;
  (void)get("/hello");
  (void)get("/nowhere?x=1");
  (void)get("/error?kind=plain");
  EXPECT_EQ(logs.count("200 GET /hello (127.0.0.1) "), 1u) << logs.text();
  EXPECT_EQ(logs.count("404 GET /nowhere?x=1 (127.0.0.1) "), 1u) << logs.text();
  EXPECT_EQ(logs.count("500 GET /error?kind=plain (127.0.0.1) "), 1u) << logs.text();
  EXPECT_EQ(logs.count("ms"), 3u) << logs.text();
}

TEST_F(WebTest, CurlFetchesHelloWorldTwiceOnOneConnection) {
  std::string out;
  std::thread curl([&] {
    std::string command = "curl --max-time 8 -sS http://127.0.0.1:" + std::to_string(port_) +
                          "/hello http://127.0.0.1:" + std::to_string(port_) + "/hello 2>&1";
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[256];
      std::size_t n;
      while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
      ::pclose(pipe);
    }
    loop_.add_callback([this] { loop_.stop(); });
  });
  // Bounded: the watchdog stops the loop if curl never returns.
  auto watchdog = loop_.call_later(test_support::kTestTimeout, [this] { loop_.stop(); });
  loop_.start();
  loop_.remove_timeout(watchdog);
  curl.join();
  EXPECT_EQ(out, "Hello, world!Hello, world!");
}

}  // namespace
}  // namespace tornado
