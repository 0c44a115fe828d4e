// SSLIOStream and IOStream::start_tls (iostream.h): TLS streams over
// loopback TCP, against each other and against real `openssl s_server` /
// `openssl s_client` peers, with certificates made in set-up.
#include "tornado/iostream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "support.h"
#include "tls_support.h"
#include "tornado/gen.h"
#include "tornado/ssl_options.h"
#include "tornado/testing.h"
#include "tornado/trace.h"

namespace tornado {
namespace {

using ::testing::HasSubstr;
using namespace tls_support;
using test_support::kTestTimeout;

// The fd inside `fd`, as a new descriptor the caller owns (Fd has no release()).
int take(Fd& fd) {
  int copy = ::dup(fd.get());
  fd.reset();
  return copy;
}

struct StreamPair {
  std::shared_ptr<SSLIOStream> client;
  std::shared_ptr<SSLIOStream> server;
};

// The reason `handshake` failed with, or "(succeeded)".
Future<std::string> ssl_failure(Future<void> handshake) {
  try {
    co_await handshake;
  } catch (const SSLError& e) {
    co_return e.reason();
  }
  co_return std::string("(succeeded)");
}

class SSLIOStreamTest : public CertificatesTest {
 protected:
  template <class F>
  auto run(F&& func) {
    return loop.run_sync(std::forward<F>(func), kTestTimeout);
  }

  StreamPair tls_pair(const SSLOptions& server_options, const SSLOptions& client_options,
                      const StreamOptions& server_stream = {}) {
    TcpPair pair = tcp_pair();
    auto server =
        std::make_shared<SSLIOStream>(take(pair.server), server_options, true, "", server_stream);
    auto client =
        std::make_shared<SSLIOStream>(take(pair.client), client_options, false, "localhost");
    return {client, server};
  }
  StreamPair tls_pair() { return tls_pair(certs().server(), certs().client()); }

  // The port `openssl s_server -accept 127.0.0.1:0` reports.
  static std::uint16_t accepted_port(Child& server) {
    EXPECT_TRUE(server.wait_output("ACCEPT 127.0.0.1:")) << server.output();
    std::string output = server.output();
    std::size_t at = output.find("ACCEPT 127.0.0.1:");
    if (at == std::string::npos) return 0;
    return static_cast<std::uint16_t>(std::stoi(output.substr(at + 17)));
  }

  // Our client against `openssl s_server` presenting certificate `name`:
  // the reason the handshake failed, or "(succeeded)".
  std::string client_handshake_against(const std::string& name) {
    Child s_server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", certs().cert(name),
                    "-key", certs().key(name)},
                   certs().path("s_server-" + name + ".out"));
    std::uint16_t port = accepted_port(s_server);
    if (port == 0) return "(no server)";
    auto stream =
        std::make_shared<SSLIOStream>(::socket(AF_INET, SOCK_STREAM, 0), certs().client());
    std::string reason = run([&] {
      return ssl_failure(stream->connect(SocketAddress::from_ip("127.0.0.1", port), "localhost"));
    });
    stream->close();
    return reason;
  }

  testing::CurrentLoop loop;
};

// The next connection on `listener`, or an empty Fd after 10 s.
Fd accept_within_timeout(const Listener& listener) {
  pollfd ready{listener.fd.get(), POLLIN, 0};
  if (::poll(&ready, 1, 10'000) != 1) return Fd();
  return accept_one(listener);
}

// ---- Between two of our streams ---------------------------------------------

TEST_F(SSLIOStreamTest, HandshakesAndEchoesBetweenTwoStreams) {
  StreamPair pair = tls_pair();

  std::string echoed = run([&]() -> Future<std::string> {
    Future<void> sent = pair.client->write("hello over TLS\n");
    std::string line = co_await pair.server->read_until("\n");
    co_await pair.server->write(line);
    co_await sent;
    co_return co_await pair.client->read_until("\n");
  });

  EXPECT_EQ(echoed, "hello over TLS\n");
  EXPECT_EQ(pair.client->protocol(), "TLSv1.3");
  EXPECT_FALSE(pair.client->cipher().empty());
  EXPECT_EQ(pair.client->peer_certificate_subject(), "CN=localhost");
  EXPECT_EQ(pair.server->server_name(), "localhost") << "the client sent SNI";
  pair.client->close();
  pair.server->close();
}

TEST_F(SSLIOStreamTest, WaitForHandshakeResolvesOnBothSidesAndAtOnceAfterwards) {
  StreamPair pair = tls_pair();
  int resolved = 0;

  run([&]() -> Future<void> {
    Future<void> client = pair.client->wait_for_handshake();
    Future<void> server = pair.server->wait_for_handshake();
    co_await client;
    ++resolved;
    co_await server;
    ++resolved;
    co_await pair.client->wait_for_handshake();  // done already
    ++resolved;
  });

  EXPECT_EQ(resolved, 3);
  pair.client->close();
  pair.server->close();
}

TEST_F(SSLIOStreamTest, SecondWaitForHandshakeWhileWaitingIsAUsageError) {
  StreamPair pair = tls_pair();
  Future<void> first = pair.client->wait_for_handshake();

  EXPECT_THROW((void)pair.client->wait_for_handshake(), UsageError);
  run([&]() -> Future<void> {
    co_await pair.server->wait_for_handshake();
    co_await first;
  });
  pair.client->close();
  pair.server->close();
}

TEST_F(SSLIOStreamTest, WritesIssuedBeforeTheHandshakeAreSentAfterIt) {
  // Small and large pieces queued as separate chunks: the small ones go out
  // gathered into records, the large ones as they are.
  StreamPair pair = tls_pair();
  std::vector<Future<void>> writes;
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    std::string piece = i % 10 == 9
                            ? std::string(20'000 + static_cast<std::size_t>(i), 'L')
                            : std::string(static_cast<std::size_t>(1 + i), char('a' + i % 26));
    expected += piece;
    writes.push_back(pair.client->write(std::move(piece)));
  }

  std::string got = run([&] { return pair.server->read_bytes(expected.size()); });

  EXPECT_TRUE(got == expected) << got.size() << " of " << expected.size() << " bytes";
  int done = 0;
  for (auto& write : writes) done += write.done() ? 1 : 0;
  EXPECT_EQ(done, 100);
  pair.client->close();
  pair.server->close();
}

TEST_F(SSLIOStreamTest, MegabytesBothWaysArriveIntact) {
  StreamPair pair = tls_pair();
  std::string data(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 % 251);

  auto [at_server, at_client] = run([&]() -> Future<std::pair<std::string, std::string>> {
    Future<void> sent = pair.client->write(data);
    std::string got = co_await pair.server->read_bytes(data.size());
    co_await sent;
    sent = pair.server->write(got);
    std::string back = co_await pair.client->read_bytes(data.size());
    co_await sent;
    co_return std::make_pair(got, back);
  });

  EXPECT_TRUE(at_server == data) << at_server.size() << " bytes at the server";
  EXPECT_TRUE(at_client == data) << at_client.size() << " bytes at the client";
  EXPECT_EQ(pair.client->stats().bytes_written, data.size());
  EXPECT_EQ(pair.client->stats().bytes_read, data.size());
  pair.client->close();
  pair.server->close();
}

TEST_F(SSLIOStreamTest, ReadsFindBytesOpenSslAlreadyDecryptedWithoutTheFdBeingReadable) {
  // 64-byte reads from the session leave most of each 16 KiB record inside
  // OpenSSL: the second read must find it there, not wait for the fd.
  StreamOptions small;
  small.read_chunk_size = 64;
  StreamPair pair = tls_pair(certs().server(), certs().client(), small);
  std::string first(5000, 'a');
  std::string second(3000, 'b');

  auto lines = run([&]() -> Future<std::pair<std::string, std::string>> {
    co_await pair.client->write(first + "\n" + second + "\n");
    std::string a = co_await pair.server->read_until("\n");
    std::string b = co_await pair.server->read_until("\n");
    co_return std::make_pair(a, b);
  });

  EXPECT_EQ(lines.first, first + "\n");
  EXPECT_EQ(lines.second, second + "\n");
  pair.client->close();
  pair.server->close();
}

TEST_F(SSLIOStreamTest, CloseSendsCloseNotifySoThePeerSeesACleanEnd) {
  StreamPair pair = tls_pair();

  std::string rest = run([&]() -> Future<std::string> {
    co_await pair.client->write("last words");
    co_await pair.server->read_bytes(4);
    pair.client->close();
    co_return co_await pair.server->read_until_close();
  });

  EXPECT_EQ(rest, " words");
  EXPECT_EQ(pair.server->error(), nullptr) << "closed cleanly, not with an error";
  pair.server->close();
}

TEST_F(SSLIOStreamTest, ClientWithoutServerHostnameIsAUsageErrorAndClosesTheSocket) {
  TcpPair tcp = tcp_pair();

  EXPECT_THROW((void)std::make_shared<SSLIOStream>(take(tcp.client), certs().client()), UsageError);
  // The fd count check in TearDown says the socket was closed.
}

TEST_F(SSLIOStreamTest, StreamOpenedAndHandshakeTraceEvents) {
  trace::MemorySink sink;
  std::vector<trace::Event> events;
  {
    testing::ScopedTrace tracing(sink);
    StreamPair pair = tls_pair();
    run([&]() -> Future<void> {
      Future<void> server = pair.server->wait_for_handshake();
      co_await pair.client->wait_for_handshake();
      co_await server;
    });
    pair.client->close();
    pair.server->close();
    events = sink.events();
  }

  int opened_tls = 0, begun = 0, finished = 0;
  for (const trace::Event& e : events) {
    if (e.kind == trace::Kind::stream_opened &&
        e.b == static_cast<std::uint64_t>(trace::StreamKind::tls)) {
      ++opened_tls;
    }
    if (e.kind == trace::Kind::tls_handshake_begun) ++begun;
    if (e.kind == trace::Kind::tls_handshake_finished) {
      ++finished;
      EXPECT_THAT(sink.string(e.name), HasSubstr("TLSv1.3 TLS_"));
    }
  }
  EXPECT_EQ(opened_tls, 2);
  EXPECT_EQ(begun, 2);
  EXPECT_EQ(finished, 2);
}

// ---- Rejected certificates and bad peers ----------------------------------------

TEST_F(SSLIOStreamTest, HostnameMismatchIsRejected) {
  testing::LogCapture log;
  EXPECT_EQ(client_handshake_against("wrong_host"), "certificate verify failed: hostname mismatch");
  EXPECT_EQ(log.count("TLS handshake failed"), 1u) << log.text();
}

TEST_F(SSLIOStreamTest, CertificateFromAnUntrustedCaIsRejected) {
  testing::LogCapture log;
  EXPECT_EQ(client_handshake_against("untrusted"),
            "certificate verify failed: unable to get local issuer certificate");
  EXPECT_EQ(log.count("TLS handshake failed"), 1u) << log.text();
}

TEST_F(SSLIOStreamTest, ExpiredCertificateIsRejected) {
  testing::LogCapture log;
  EXPECT_EQ(client_handshake_against("expired"),
            "certificate verify failed: certificate has expired");
  EXPECT_EQ(log.count("TLS handshake failed"), 1u) << log.text();
}

TEST_F(SSLIOStreamTest, FailedHandshakeFailsPendingReadsAndWritesWithTheSSLErrorInside) {
  testing::LogCapture log;
  StreamPair pair = tls_pair(certs().server("wrong_host"), certs().client());
  int closed_callbacks = 0;
  pair.client->set_close_callback([&] { ++closed_callbacks; });
  Future<std::string> read = pair.client->read_until("\n");
  Future<void> write = pair.client->write("never sent");

  std::string reason = run([&]() -> Future<std::string> {
    (void)pair.server->read_bytes(1);  // drives the server's side; fails when the client gives up
    co_return co_await ssl_failure(pair.client->wait_for_handshake());
  });
  run([] { return gen::sleep(std::chrono::milliseconds(1)); });  // the close callback's turn

  EXPECT_EQ(reason, "certificate verify failed: hostname mismatch");
  for (std::exception_ptr failure : {read.exception(), write.exception()}) {
    try {
      std::rethrow_exception(failure);
    } catch (const StreamClosedError& e) {
      EXPECT_THROW(std::rethrow_exception(e.real_error()), SSLError);
    }
  }
  EXPECT_EQ(closed_callbacks, 1);
  EXPECT_TRUE(pair.client->closed());
  pair.server->close();
}

TEST_F(SSLIOStreamTest, GarbagePeerFailsOnlyItsOwnConnection) {
  testing::LogCapture log;
  TcpPair garbage = tcp_pair();
  auto victim = std::make_shared<SSLIOStream>(take(garbage.server), certs().server(), true);
  StreamPair good = tls_pair();
  ASSERT_EQ(::write(garbage.client.get(), "GET / HTTP/1.0\r\n\r\n", 18), 18);

  auto [reason, echoed] = run([&]() -> Future<std::pair<std::string, std::string>> {
    Future<std::string> failed = ssl_failure(victim->wait_for_handshake());
    co_await good.client->write("still fine\n");
    std::string line = co_await good.server->read_until("\n");
    co_return std::make_pair(co_await failed, line);
  });

  EXPECT_FALSE(reason.empty());
  EXPECT_NE(reason, "(succeeded)");
  EXPECT_EQ(echoed, "still fine\n");
  EXPECT_TRUE(victim->closed());
  EXPECT_FALSE(good.server->closed());
  EXPECT_EQ(log.count("TLS handshake failed"), 1u) << log.text();
  good.client->close();
  good.server->close();
}

// ---- Real OpenSSL peers ----------------------------------------------------------

TEST_F(SSLIOStreamTest, OurClientTalksToOpensslServer) {
  Child s_server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", certs().cert("server"),
                  "-key", certs().key("server")},
                 certs().path("s_server.out"));
  std::uint16_t port = accepted_port(s_server);
  ASSERT_NE(port, 0);
  auto stream = std::make_shared<SSLIOStream>(::socket(AF_INET, SOCK_STREAM, 0), certs().client());

  run([&]() -> Future<void> {
    co_await stream->connect(SocketAddress::from_ip("127.0.0.1", port), "localhost");
    co_await stream->write("hello from tornado\n");
  });
  EXPECT_TRUE(s_server.wait_output("hello from tornado")) << s_server.output();
  s_server.send("hello from s_server\n");
  std::string reply = run([&] { return stream->read_until("\n"); });
  stream->close();

  EXPECT_EQ(reply, "hello from s_server\n");
  EXPECT_TRUE(s_server.wait_output("DONE")) << "close_notify reached it: " << s_server.output();
}

TEST_F(SSLIOStreamTest, OpensslClientTalksToOurServerStream) {
  Listener listener = listen_loopback();
  Child s_client({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(listener.port),
                  "-servername", "localhost", "-CAfile", certs().cert("ca"), "-verify_return_error",
                  "-verify_hostname", "localhost"},
                 certs().path("s_client.out"));
  Fd fd = accept_within_timeout(listener);
  ASSERT_GE(fd.get(), 0) << s_client.output();
  auto stream = std::make_shared<SSLIOStream>(take(fd), certs().server(), true);

  s_client.send("hello from s_client\n");
  std::string request = run([&] { return stream->read_until("\n"); });
  run([&] { return stream->write("hello from tornado\n"); });
  stream->close();

  EXPECT_EQ(request, "hello from s_client\n");
  EXPECT_EQ(stream->server_name(), "");  // closed: the session is gone
  std::optional<int> status = s_client.wait_exit();
  ASSERT_TRUE(status) << s_client.output();
  EXPECT_THAT(s_client.output(), HasSubstr("Verify return code: 0 (ok)"));
  EXPECT_THAT(s_client.output(), HasSubstr("hello from tornado"));
}

// ---- start_tls ---------------------------------------------------------------------

TEST_F(SSLIOStreamTest, StartTlsInTheMiddleOfAPlainTextExchange) {
  TcpPair tcp = tcp_pair();
  auto plain_client = std::make_shared<IOStream>(take(tcp.client));
  auto plain_server = std::make_shared<IOStream>(take(tcp.server));
  int close_callbacks = 0;
  plain_server->set_close_callback([&] { ++close_callbacks; });

  auto [secret, greeting] = run([&]() -> Future<std::pair<std::string, std::string>> {
    co_await plain_client->write("STARTTLS\r\n");
    EXPECT_EQ(co_await plain_server->read_until("\r\n"), "STARTTLS\r\n");
    co_await plain_server->write("220 Go ahead\r\n");
    std::string go = co_await plain_client->read_until("\r\n");
    Future<std::shared_ptr<SSLIOStream>> server_tls =
        plain_server->start_tls(true, certs().server());
    std::shared_ptr<SSLIOStream> client =
        co_await plain_client->start_tls(false, certs().client(), "localhost");
    std::shared_ptr<SSLIOStream> server = co_await server_tls;
    co_await client->write("secret\r\n");
    std::string got = co_await server->read_until("\r\n");
    client->close();
    co_await server->read_until_close();
    co_return std::make_pair(got, go);
  });
  run([] { return gen::sleep(std::chrono::milliseconds(1)); });  // the close callback's turn

  EXPECT_EQ(greeting, "220 Go ahead\r\n");
  EXPECT_EQ(secret, "secret\r\n");
  EXPECT_TRUE(plain_client->closed()) << "the plain streams gave their sockets away";
  EXPECT_EQ(plain_client->fileno(), -1);
  EXPECT_EQ(close_callbacks, 1) << "the close callback moved to the TLS stream";
}

TEST_F(SSLIOStreamTest, StartTlsOnlyOnAnIdleStream) {
  TcpPair tcp = tcp_pair();
  auto client = std::make_shared<IOStream>(take(tcp.client));
  auto server = std::make_shared<IOStream>(take(tcp.server));

  Future<std::string> pending = server->read_until("\n");
  EXPECT_THROW((void)server->start_tls(true, certs().server()), UsageError) << "a read is pending";
  run([&]() -> Future<void> {
    co_await client->write("line\nmore");
    co_await pending;
  });
  run([] { return gen::sleep(std::chrono::milliseconds(20)); });
  EXPECT_THROW((void)server->start_tls(true, certs().server()), UsageError) << "data is buffered";
  client->close();
  server->close();
  EXPECT_THROW((void)server->start_tls(true, certs().server()), UsageError) << "closed";
}

TEST_F(SSLIOStreamTest, StartTlsAgainstOpensslSClientStarttlsSmtp) {
  Listener listener = listen_loopback();
  Child s_client(
      {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(listener.port), "-starttls",
       "smtp", "-servername", "localhost", "-CAfile", certs().cert("ca"), "-verify_return_error"},
      certs().path("s_client_smtp.out"));
  Fd fd = accept_within_timeout(listener);
  ASSERT_GE(fd.get(), 0) << s_client.output();
  auto plain = std::make_shared<IOStream>(take(fd));

  std::string ehlo, line;
  std::shared_ptr<SSLIOStream> tls;
  run([&]() -> Future<void> {
    co_await plain->write("220 tornado ESMTP\r\n");
    ehlo = co_await plain->read_until("\r\n");
    co_await plain->write("250-tornado\r\n250 STARTTLS\r\n");
    co_await plain->read_until("\r\n");  // STARTTLS
    co_await plain->write("220 Go ahead\r\n");
    tls = co_await plain->start_tls(true, certs().server());
  });
  s_client.send("MAIL FROM:<a@example.com>\r\n");
  run([&]() -> Future<void> {
    line = co_await tls->read_until("\r\n");
    co_await tls->write("250 OK\r\n");
  });
  tls->close();

  EXPECT_THAT(ehlo, HasSubstr("EHLO"));
  EXPECT_EQ(line, "MAIL FROM:<a@example.com>\r\n");
  std::optional<int> status = s_client.wait_exit();
  ASSERT_TRUE(status) << s_client.output();
  EXPECT_THAT(s_client.output(), HasSubstr("Verify return code: 0 (ok)"));
  EXPECT_THAT(s_client.output(), HasSubstr("250 OK"));
}

}  // namespace
}  // namespace tornado
