// TCPServer (tcpserver.h): echo servers on 127.0.0.1 with our own IOStreams,
// SSLIOStreams, `nc` and forked workers as clients.
#include "tornado/tcpserver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "support.h"
#include "tls_support.h"
#include "tornado/gen.h"
#include "tornado/iostream.h"
#include "tornado/process.h"
#include "tornado/testing.h"

namespace tornado {
namespace {

using test_support::kTestTimeout;
using ::testing::HasSubstr;
using tls_support::Child;
using tls_support::open_fd_count;
using tls_support::TestCertificates;

// An echo handler: every line back until the peer leaves; counts bytes.
struct Echo {
  std::size_t connections = 0;
  std::size_t finished = 0;  // handlers that have ended
  std::size_t bytes = 0;

  struct Finish {
    std::size_t& count;
    ~Finish() { ++count; }
  };

  TCPServer::StreamHandler handler() {
    return [this](std::shared_ptr<IOStream> stream, SocketAddress) -> Future<void> {
      ++connections;
      Finish finish{finished};
      for (;;) {  // ends with StreamClosedError when the peer closes: not logged
        std::string line = co_await stream->read_until("\n");
        bytes += line.size();
        co_await stream->write(std::move(line));
      }
    };
  }
};

class TCPServerTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_at_start_ = open_fd_count(); }
  void TearDown() override {
    EXPECT_EQ(open_fd_count(), fds_at_start_) << "a test left an fd open";
  }

  template <class F>
  auto run(F&& func) {
    return loop.run_sync(std::forward<F>(func), kTestTimeout);
  }

  // Starts `server` on a free port of 127.0.0.1 and returns its address.
  static SocketAddress serve(TCPServer& server, int backlog = kDefaultBacklog) {
    server.add_sockets(bind_sockets(0, "127.0.0.1", AF_INET, backlog));
    return server.addresses().at(0);
  }

  static Future<std::shared_ptr<IOStream>> connect(SocketAddress address) {
    auto stream = std::make_shared<IOStream>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    co_await stream->connect(address);
    co_return stream;
  }

  // Connects, sends `line`, and returns what came back before the server
  // closed or `line.size()` bytes arrived.
  static Future<std::string> round_trip(SocketAddress address, std::string line) {
    std::shared_ptr<IOStream> stream = co_await connect(address);
    co_await stream->write(line);
    std::string back;
    try {
      back = co_await stream->read_bytes(line.size());
    } catch (const StreamClosedError&) {
      back = "(closed)";
    }
    stream->close();
    co_return back;
  }

  // Runs the loop until every connection `echo` served has seen its client
  // leave (a server stream notices on a later iteration).
  void drain(const Echo& echo) {
    run([&]() -> Future<void> {
      while (echo.finished < echo.connections) co_await gen::sleep(std::chrono::milliseconds(2));
    });
  }

  testing::CurrentLoop loop;

 private:
  std::size_t fds_at_start_ = 0;
};

TEST_F(TCPServerTest, HandlerEchoesForAClient) {
  Echo echo;
  TCPServer server(echo.handler());
  SocketAddress address = serve(server);

  std::string back = run([&] { return round_trip(address, "hello\n"); });
  drain(echo);

  EXPECT_EQ(back, "hello\n");
  EXPECT_EQ(echo.connections, 1u);
  EXPECT_EQ(echo.bytes, 6u);
}

class UpperCaseServer : public TCPServer {
 protected:
  Future<void> handle_stream(std::shared_ptr<IOStream> stream, SocketAddress) override {
    std::string line = co_await stream->read_until("\n");
    for (char& c : line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    co_await stream->write(line);
    stream->close();
  }
};

TEST_F(TCPServerTest, OverriddenHandleStreamServesEachConnection) {
  UpperCaseServer server;
  SocketAddress address = serve(server);

  auto [a, b] = run([&]() -> Future<std::pair<std::string, std::string>> {
    Future<std::string> first = round_trip(address, "first\n");
    Future<std::string> second = round_trip(address, "second\n");
    co_return std::make_pair(co_await first, co_await second);
  });

  EXPECT_EQ(a, "FIRST\n");
  EXPECT_EQ(b, "SECOND\n");
}

TEST_F(TCPServerTest, AThousandConcurrentClientsEchoEveryByte) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;  // 1,000 clients and 1,000 server streams
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_GE(limit.rlim_cur, 2100u) << "the hard fd limit is too low for this test";
  testing::LogCapture log;
  Echo echo;
  TCPServer server(echo.handler());
  SocketAddress address = serve(server, 1024);
  constexpr int kClients = 1000;

  auto [matched, sent] = run([&]() -> Future<std::pair<int, std::size_t>> {
    std::vector<Future<std::string>> replies;
    std::vector<std::string> lines;
    for (int i = 0; i < kClients; ++i) {
      lines.push_back(std::string(static_cast<std::size_t>(1 + i % 700), char('a' + i % 26)) +
                      "\n");
      replies.push_back(round_trip(address, lines.back()));
    }
    int same = 0;
    std::size_t total = 0;
    for (int i = 0; i < kClients; ++i) {
      same += (co_await replies[static_cast<std::size_t>(i)]) == lines[static_cast<std::size_t>(i)];
      total += lines[static_cast<std::size_t>(i)].size();
    }
    co_return std::make_pair(same, total);
  });
  // The server's streams see their clients leave on the next iterations.
  run([&]() -> Future<void> {
    while (echo.finished < kClients) co_await gen::sleep(std::chrono::milliseconds(5));
  });

  EXPECT_EQ(matched, kClients);
  EXPECT_EQ(echo.connections, static_cast<std::size_t>(kClients));
  EXPECT_EQ(echo.bytes, sent) << "every byte sent reached the server and came back";
  EXPECT_EQ(log.errors(), 0u) << log.text();
}

TEST_F(TCPServerTest, ExceptionInOneHandlerIsLoggedAndClosesOnlyThatConnection) {
  testing::LogCapture log;
  int served = 0;
  TCPServer server([&](std::shared_ptr<IOStream> stream, SocketAddress) -> Future<void> {
    std::string line = co_await stream->read_until("\n");
    if (line == "boom\n") throw std::runtime_error("handler failed on purpose");
    ++served;
    co_await stream->write(line);
    stream->close();
  });
  SocketAddress address = serve(server);

  auto [boom, fine] = run([&]() -> Future<std::pair<std::string, std::string>> {
    Future<std::string> bad = round_trip(address, "boom\n");
    Future<std::string> good = round_trip(address, "fine\n");
    co_return std::make_pair(co_await bad, co_await good);
  });

  EXPECT_EQ(boom, "(closed)");
  EXPECT_EQ(fine, "fine\n");
  EXPECT_EQ(served, 1);
  EXPECT_EQ(log.count("handler failed on purpose"), 1u) << log.text();
  EXPECT_EQ(log.count("Error in connection handler for 127.0.0.1:"), 1u) << log.text();
}

TEST_F(TCPServerTest, HandlerThatThrowsBeforeItsFirstAwaitClosesOnlyThatConnection) {
  testing::LogCapture log;
  TCPServer server;  // neither a handler nor an override: UsageError per connection
  SocketAddress address = serve(server);

  std::string back = run([&] { return round_trip(address, "anyone?\n"); });

  EXPECT_EQ(back, "(closed)");
  EXPECT_EQ(log.count("override handle_stream()"), 1u) << log.text();
}

TEST_F(TCPServerTest, StopStopsAcceptingAndLeavesOpenConnectionsServing) {
  Echo echo;
  TCPServer server(echo.handler());
  SocketAddress address = serve(server);
  std::shared_ptr<IOStream> open = run([&] { return connect(address); });

  server.stop();
  server.stop();  // a second stop does nothing
  std::string refused = test_support::failure_of(loop, connect(address));
  std::string still = run([&]() -> Future<std::string> {
    co_await open->write("still here\n");
    co_return co_await open->read_until("\n");
  });
  open->close();
  drain(echo);

  EXPECT_THAT(refused, HasSubstr("Connection refused"));
  EXPECT_EQ(still, "still here\n");
  EXPECT_TRUE(server.addresses().empty());
}

TEST_F(TCPServerTest, StopInsideAHandlerWhileMoreConnectionsWaitIsSafe) {
  // Tornado issue #2069: stop() while the accept batch still has connections
  // to take must not accept on the closed listener.
  testing::LogCapture log;
  int handled = 0;
  std::unique_ptr<TCPServer> server;
  server = std::make_unique<TCPServer>([&](std::shared_ptr<IOStream> stream, SocketAddress) {
    ++handled;
    server->stop();
    stream->close();
    Future<void> done;
    done.set_result();
    return done;
  });
  SocketAddress address = serve(*server);
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) {  // all three wait in the accept queue
    clients.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::connect(clients.back(), address.data(), address.size()), 0);
  }

  run([] { return gen::sleep(std::chrono::milliseconds(20)); });
  for (int fd : clients) ::close(fd);

  EXPECT_EQ(handled, 1);
  EXPECT_EQ(log.errors(), 0u) << log.text();
  EXPECT_TRUE(server->addresses().empty());
}

TEST_F(TCPServerTest, BindThenStartInOneProcess) {
  Echo echo;
  TCPServer server(echo.handler());
  server.bind(0, "127.0.0.1");
  SocketAddress address = server.addresses().at(0);
  server.start(1);

  EXPECT_EQ(run([&] { return round_trip(address, "started\n"); }), "started\n");
  drain(echo);
  EXPECT_THROW(server.start(1), UsageError);
}

TEST_F(TCPServerTest, MaxBufferSizeReachesEachConnectionsStream) {
  testing::LogCapture log;
  std::exception_ptr why;
  TCPServer server(
      [&](std::shared_ptr<IOStream> stream, SocketAddress) -> Future<void> {
        try {
          (void)co_await stream->read_until("\n");
        } catch (const StreamClosedError& e) {
          why = e.real_error();
        }
      },
      std::nullopt, 1024, 256);
  SocketAddress address = serve(server);

  std::string back = run([&] { return round_trip(address, std::string(4096, 'x')); });

  EXPECT_EQ(back, "(closed)");
  EXPECT_THROW(std::rethrow_exception(why), StreamBufferFullError);
}

TEST_F(TCPServerTest, NcIsAnEchoClient) {
  Echo echo;
  TCPServer server(echo.handler());
  SocketAddress address = serve(server);
  test_support::TempDir dir;
  // -N: shut the socket down for writing at end of input, so the server sees EOF.
  Child nc({"nc", "-N", "127.0.0.1", std::to_string(address.port())}, dir.file("nc.out"));
  nc.send("one\ntwo\n");
  nc.close_stdin();

  run([&]() -> Future<void> {
    while (echo.bytes < 8) co_await gen::sleep(std::chrono::milliseconds(5));
  });
  std::optional<int> status;
  run([&]() -> Future<void> {
    // The server closes once nc's EOF arrives; then nc exits.
    while (!(status = nc.wait_exit(std::chrono::milliseconds(0)))) {
      co_await gen::sleep(std::chrono::milliseconds(5));
    }
  });

  EXPECT_EQ(nc.output(), "one\ntwo\n");
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

// ---- TLS --------------------------------------------------------------------

class TCPServerTlsTest : public tls_support::WithCertificates<TCPServerTest> {
 protected:
  static Future<std::string> tls_round_trip(SocketAddress address, std::string line,
                                            SSLOptions options) {
    auto stream =
        std::make_shared<SSLIOStream>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), options);
    co_await stream->connect(address, "localhost");
    co_await stream->write(line);
    std::string back = co_await stream->read_bytes(line.size());
    stream->close();
    co_return back;
  }
};

TEST_F(TCPServerTlsTest, ServesTlsAndAFailedHandshakeClosesOnlyThatConnection) {
  testing::LogCapture log;
  Echo echo;
  TCPServer server(echo.handler(), certs().server());
  SocketAddress address = serve(server);

  auto [garbage, secure] = run([&]() -> Future<std::pair<std::string, std::string>> {
    Future<std::string> plain = round_trip(address, "GET / HTTP/1.0\r\n\r\n");
    Future<std::string> tls = tls_round_trip(address, "over tls\n", certs().client());
    co_return std::make_pair(co_await plain, co_await tls);
  });
  drain(echo);

  EXPECT_EQ(garbage, "(closed)");
  EXPECT_EQ(secure, "over tls\n");
  EXPECT_EQ(log.count("TLS handshake failed"), 1u) << log.text();
  EXPECT_EQ(log.errors(), 0u) << "the handler's StreamClosedError is not logged: " << log.text();
}

TEST_F(TCPServerTlsTest, BadCertificateFileThrowsSSLErrorAtConstruction) {
  SSLOptions options;
  options.certfile = "/nonexistent/cert.pem";
  EXPECT_THROW(TCPServer server(options), SSLError);
}

TEST_F(TCPServerTlsTest, OpensslSClientTalksToATlsServer) {
  Echo echo;
  TCPServer server(echo.handler(), certs().server());
  SocketAddress address = serve(server);
  Child s_client({"openssl", "s_client", "-connect", address.to_string(), "-servername",
                  "localhost", "-CAfile", certs().cert("ca"), "-verify_return_error"},
                 certs().path("s_client.out"));
  s_client.send("ping over tls\n");

  run([&]() -> Future<void> {  // the loop serves while s_client's output is watched
    while (s_client.output().find("ping over tls") == std::string::npos) {
      co_await gen::sleep(std::chrono::milliseconds(5));
    }
  });
  s_client.close_stdin();  // s_client sends close_notify and exits
  EXPECT_EQ(echo.bytes, 14u);
  EXPECT_THAT(s_client.output(), HasSubstr("Verify return code: 0 (ok)"));
  drain(echo);
}

// ---- Processes ----------------------------------------------------------------

TEST(TCPServerProcesses, StartForksWorkersThatShareTheListeningSocket) {
  // The forking happens in a child of the test, before it makes any loop, as
  // fork_processes() requires; that child supervises two workers.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  // The workers are the supervisor's children; as a subreaper this process
  // inherits and reaps them once the supervisor is gone.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  pid_t supervisor = ::fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    ::setpgid(0, 0);
    try {
      ::close(ready[0]);
      TCPServer server([](std::shared_ptr<IOStream> stream, SocketAddress) -> Future<void> {
        (void)co_await stream->read_until("\n");
        co_await stream->write(std::to_string(*task_id()) + " " + std::to_string(::getpid()) +
                               "\n");
        stream->close();
      });
      server.bind(0, "127.0.0.1");
      std::string port = std::to_string(server.addresses().at(0).port()) + "\n";
      if (::write(ready[1], port.data(), port.size()) < 0) ::_exit(3);
      ::close(ready[1]);
      server.start(2);  // only the workers come back, accepting on IOLoop::current()
      IOLoop::current().start();
    } catch (...) {
    }
    ::_exit(4);  // never run the rest of the test suite in a child
  }
  // However the test ends, no process it started outlives it.
  ::setpgid(supervisor, supervisor);  // its own group: the workers join it
  struct Reaper {
    pid_t supervisor;
    ~Reaper() {
      ::kill(-supervisor, SIGKILL);  // the supervisor and every worker at once
      while (::waitpid(-supervisor, nullptr, 0) > 0) {
      }
      ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    }
  } reaper{supervisor};
  ::close(ready[1]);
  char text[16] = {};
  ssize_t got = ::read(ready[0], text, sizeof text - 1);
  ::close(ready[0]);
  ASSERT_GT(got, 0);
  SocketAddress address =
      SocketAddress::from_ip("127.0.0.1", static_cast<std::uint16_t>(std::stoi(text)));

  std::set<std::string> tasks;
  std::set<pid_t> workers;
  {
    testing::CurrentLoop loop;
    loop.run_sync(
        [&]() -> Future<void> {
          for (int i = 0; i < 200 && tasks.size() < 2; ++i) {
            auto stream =
                std::make_shared<IOStream>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
            co_await stream->connect(address);
            co_await stream->write("who?\n");
            std::string reply = co_await stream->read_until("\n");
            stream->close();
            std::size_t space = reply.find(' ');
            tasks.insert(reply.substr(0, space));
            workers.insert(static_cast<pid_t>(std::stoi(reply.substr(space + 1))));
          }
        },
        kTestTimeout);
  }

  EXPECT_EQ(tasks, (std::set<std::string>{"0", "1"}));
  EXPECT_EQ(workers.size(), 2u);
}

}  // namespace
}  // namespace tornado
