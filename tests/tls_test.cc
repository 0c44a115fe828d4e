// The TLS engine under SSLIOStream (core/src/tls): SSLOptions turned into a
// context, and non-blocking sessions driven by a real IOLoop over loopback
// TCP, against each other and against `openssl s_server` / `s_client`.
#include "tornado/ssl_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "support.h"
#include "tls_support.h"
#include "tornado/testing.h"

namespace tornado {
namespace {

using ::testing::HasSubstr;
using namespace tls_support;
using test_support::kTestTimeout;

class Tls : public CertificatesTest {
 protected:
  static std::shared_ptr<const TlsContext> server_context(const SSLOptions& options) {
    return TlsContext::create(options, TlsSide::server);
  }
  static std::shared_ptr<const TlsContext> client_context(const SSLOptions& options) {
    return TlsContext::create(options, TlsSide::client);
  }
  static std::shared_ptr<const TlsContext> server_context() {
    return server_context(certs().server());
  }
  static std::shared_ptr<const TlsContext> client_context() {
    return client_context(certs().client());
  }

  template <class F>
  auto run(F&& func) {
    return loop.run_sync(std::forward<F>(func), kTestTimeout);
  }

  testing::CurrentLoop loop;
};

Future<void> handshake_both(Peer& client, Peer& server) {
  Future<void> client_done = handshake(client);
  Future<void> server_done = handshake(server);
  co_await client_done;
  co_await server_done;
}

// The reason a handshake failed with, or "(succeeded)".
Future<std::string> handshake_failure(Peer& peer) {
  try {
    co_await handshake(peer);
  } catch (const SSLError& e) {
    co_return e.reason();
  }
  co_return std::string("(succeeded)");
}

struct Failures {
  std::string client;
  std::string server;
};

// Runs both handshakes to their end; each side's failure reason.
Future<Failures> handshake_failures(Peer& client, Peer& server) {
  Future<std::string> client_done = handshake_failure(client);
  Future<std::string> server_done = handshake_failure(server);
  Failures failures;
  failures.client = co_await client_done;
  failures.server = co_await server_done;
  co_return failures;
}

// Keeps the socket buffers small, so a large transfer must wait for writability.
void shrink_buffers(int fd) {
  int size = 16 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

// ---- SSLOptions into a context -------------------------------------------

// Loading a CA store takes milliseconds: a context is made once per thread
// for the same options and the same files, and made afresh when a file
// changes or the options differ.
TEST_F(Tls, ContextsAreReusedForTheSameOptionsAndFiles) {
  SSLOptions options = certs().client();
  auto first = client_context(options);
  EXPECT_EQ(client_context(options), first);
  EXPECT_NE(server_context(certs().server()), first);

  SSLOptions other = options;
  other.alpn_protocols = {"h2"};
  EXPECT_NE(client_context(other), first);

  // The same CA file name, new contents: a new context.
  std::string copy = (certs().path("ca-copy.pem")).string();
  std::filesystem::copy_file(options.ca_file, copy);
  other = options;
  other.ca_file = copy;
  auto from_copy = client_context(other);
  EXPECT_EQ(client_context(other), from_copy);
  std::filesystem::remove(copy);
  std::filesystem::copy_file(certs().cert("server"), copy);  // another file, same name
  EXPECT_NE(client_context(other), from_copy);
  std::filesystem::remove(copy);
}

// Contexts are immutable, so a context made on one thread (an executor's)
// serves every thread.
TEST_F(Tls, AContextMadeOnAnotherThreadIsReusedHere) {
  SSLOptions options = certs().client();
  options.alpn_protocols = {"made-elsewhere"};
  std::shared_ptr<const TlsContext> there;
  std::thread([&] { there = client_context(options); }).join();
  EXPECT_EQ(TlsContext::find(options, TlsSide::client), there);
  EXPECT_EQ(client_context(options), there);
}

TEST_F(Tls, ServerWithoutACertificateIsRejected) {
  try {
    server_context(SSLOptions{});
    FAIL() << "no SSLError";
  } catch (const SSLError& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs SSLOptions::certfile"));
  }
}

TEST_F(Tls, KeyThatDoesNotMatchItsCertificateNamesBothFiles) {
  SSLOptions options = certs().server();
  options.keyfile = certs().key("wrong_host");
  try {
    server_context(options);
    FAIL() << "no SSLError";
  } catch (const SSLError& e) {
    EXPECT_THAT(e.what(), HasSubstr(certs().cert("server")));
    EXPECT_THAT(e.what(), HasSubstr(certs().key("wrong_host")));
    EXPECT_EQ(e.reason(), "key values mismatch");
  }
  EXPECT_EQ(ERR_peek_error(), 0u) << "the failure left OpenSSL errors queued";
}

TEST_F(Tls, MissingCertificateFileIsNamed) {
  SSLOptions options = certs().server();
  options.certfile = certs().path("missing.pem").string();
  try {
    server_context(options);
    FAIL() << "no SSLError";
  } catch (const SSLError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot load certificate chain from '" + options.certfile));
    EXPECT_EQ(e.reason(), "No such file or directory");
  }
}

TEST_F(Tls, UnknownCipherListIsRejected) {
  SSLOptions options = certs().client();
  options.ciphers = "NO-SUCH-CIPHER";
  try {
    client_context(options);
    FAIL() << "no SSLError";
  } catch (const SSLError& e) {
    EXPECT_THAT(e.what(), HasSubstr("NO-SUCH-CIPHER"));
    EXPECT_EQ(e.reason(), "no cipher match");
  }
}

TEST_F(Tls, AlpnNamesMustBeOneTo255Bytes) {
  SSLOptions options = certs().client();
  options.alpn_protocols = {"h2", std::string(256, 'x')};
  EXPECT_THROW(client_context(options), SSLError);
  options.alpn_protocols = {""};
  EXPECT_THROW(client_context(options), SSLError);
}

TEST_F(Tls, ClientCheckingHostnamesNeedsAServerHostname) {
  TcpPair pair = tcp_pair();
  EXPECT_THROW(TlsConnection(client_context(), pair.client.get(), ""), UsageError);
  SSLOptions unchecked = certs().client();
  unchecked.check_hostname = false;
  EXPECT_NO_THROW(TlsConnection(client_context(unchecked), pair.client.get(), ""));
}

// ---- Our client and our server --------------------------------------------

TEST_F(Tls, HandshakeThenDataBothWays) {
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(), pair.client.get(), "localhost");
  Peer server(loop, server_context(), pair.server.get());
  EXPECT_FALSE(client.tls.handshake_done());
  EXPECT_EQ(client.tls.protocol(), "");

  std::string to_server, to_client;
  run([&]() -> Future<void> {
    co_await handshake_both(client, server);
    Future<Received> got = read_bytes(server, 5);
    co_await write_all(client, "hello");
    to_server = (co_await got).data;
    got = read_bytes(client, 5);
    co_await write_all(server, "world");
    to_client = (co_await got).data;
  });

  EXPECT_EQ(to_server, "hello");
  EXPECT_EQ(to_client, "world");
  EXPECT_TRUE(client.tls.handshake_done());
  EXPECT_TRUE(server.tls.handshake_done());
  EXPECT_FALSE(client.tls.server_side());
  EXPECT_TRUE(server.tls.server_side());
  EXPECT_EQ(client.tls.protocol(), "TLSv1.3");
  EXPECT_EQ(server.tls.protocol(), "TLSv1.3");
  EXPECT_FALSE(client.tls.cipher().empty());
  EXPECT_EQ(client.tls.cipher(), server.tls.cipher());
  EXPECT_EQ(client.tls.peer_certificate_subject(), "CN=localhost");
  EXPECT_EQ(server.tls.peer_certificate_subject(), "") << "the client sent no certificate";
  EXPECT_EQ(server.tls.server_name(), "localhost") << "SNI";
  EXPECT_EQ(client.tls.alpn_selected(), "");
  EXPECT_GT(client.want_reads + server.want_reads, 0) << "the handshake waited for its peer";
}

TEST_F(Tls, ServerPicksItsFirstAlpnProtocolThatTheClientOffers) {
  SSLOptions client_options = certs().client();
  client_options.alpn_protocols = {"http/1.1", "h2"};
  SSLOptions server_options = certs().server();
  server_options.alpn_protocols = {"h2", "http/1.1"};
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(client_options), pair.client.get(), "localhost");
  Peer server(loop, server_context(server_options), pair.server.get());

  run([&] { return handshake_both(client, server); });

  EXPECT_EQ(client.tls.alpn_selected(), "h2");
  EXPECT_EQ(server.tls.alpn_selected(), "h2");
}

TEST_F(Tls, AlpnWithNoProtocolInCommonSelectsNone) {
  SSLOptions client_options = certs().client();
  client_options.alpn_protocols = {"h2"};
  SSLOptions server_options = certs().server();
  server_options.alpn_protocols = {"spdy/3"};
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(client_options), pair.client.get(), "localhost");
  Peer server(loop, server_context(server_options), pair.server.get());

  run([&] { return handshake_both(client, server); });

  EXPECT_EQ(client.tls.alpn_selected(), "");
  EXPECT_EQ(server.tls.alpn_selected(), "");
}

TEST_F(Tls, ClientDialingAnIpAddressSendsNoSniAndMatchesTheIpInTheCertificate) {
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(), pair.client.get(), "127.0.0.1");
  Peer server(loop, server_context(), pair.server.get());

  run([&] { return handshake_both(client, server); });

  EXPECT_EQ(server.tls.server_name(), "") << "RFC 6066: no SNI for an address";
  EXPECT_EQ(client.tls.peer_certificate_subject(), "CN=localhost");
}

// ---- Certificate verification ---------------------------------------------

class TlsRejects : public Tls {
 protected:
  // Our client, trusting the test CA, against our server presenting `cert`.
  Failures connect_to(const std::string& cert, const std::string& hostname = "localhost") {
    TcpPair pair = tcp_pair();
    Peer client(loop, client_context(), pair.client.get(), hostname);
    Peer server(loop, server_context(certs().server(cert)), pair.server.get());
    return run([&] { return handshake_failures(client, server); });
  }
};

TEST_F(TlsRejects, ACertificateForAnotherHost) {
  Failures failures = connect_to("wrong_host");
  EXPECT_EQ(failures.client, "certificate verify failed: hostname mismatch");
  EXPECT_THAT(failures.server, HasSubstr("alert")) << "the client told the server why";
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TlsRejects, ACertificateFromAnUntrustedCa) {
  Failures failures = connect_to("untrusted");
  EXPECT_EQ(failures.client, "certificate verify failed: unable to get local issuer certificate");
  EXPECT_THAT(failures.server, HasSubstr("alert"));
}

TEST_F(TlsRejects, AnExpiredCertificate) {
  Failures failures = connect_to("expired");
  EXPECT_EQ(failures.client, "certificate verify failed: certificate has expired");
  EXPECT_THAT(failures.server, HasSubstr("alert"));
}

TEST_F(TlsRejects, NothingWhenTheClientDoesNotVerify) {
  SSLOptions trusting;
  trusting.verify_mode = VerifyMode::none;  // also turns the hostname check off
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(trusting), pair.client.get(), "localhost");
  Peer server(loop, server_context(certs().server("untrusted")), pair.server.get());

  Failures failures = run([&] { return handshake_failures(client, server); });

  EXPECT_EQ(failures.client, "(succeeded)");
  EXPECT_EQ(failures.server, "(succeeded)");
}

TEST_F(TlsRejects, AClientWithoutACertificateWhenTheServerRequiresOne) {
  SSLOptions server_options = certs().server();
  server_options.verify_mode = VerifyMode::required;
  server_options.ca_file = certs().cert("ca");
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(), pair.client.get(), "localhost");
  Peer server(loop, server_context(server_options), pair.server.get());

  Received client_read;
  Failures failures = run([&]() -> Future<Failures> {
    Failures result = co_await handshake_failures(client, server);
    // TLS 1.3: the client finishes first and hears of the refusal as it reads.
    if (result.client == "(succeeded)") client_read = co_await read_to_end(client);
    co_return result;
  });

  EXPECT_EQ(failures.server, "peer did not return a certificate");
  if (failures.client == "(succeeded)") {
    EXPECT_EQ(client_read.end, TlsStatus::failed);
    EXPECT_THAT(client.tls.error(), HasSubstr("certificate required"));
  }
}

TEST_F(Tls, ServerVerifiesAClientCertificateSignedByItsCa) {
  SSLOptions server_options = certs().server();
  server_options.verify_mode = VerifyMode::required;
  server_options.ca_file = certs().cert("ca");
  SSLOptions client_options = certs().client();
  client_options.certfile = certs().cert("client");
  client_options.keyfile = certs().key("client");
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(client_options), pair.client.get(), "localhost");
  Peer server(loop, server_context(server_options), pair.server.get());

  run([&] { return handshake_both(client, server); });

  EXPECT_EQ(server.tls.peer_certificate_subject(), "CN=tornado-client");
}

// ---- Bad peers ------------------------------------------------------------

TEST_F(Tls, GarbageInsteadOfAClientHelloFailsOnlyThatHandshake) {
  TcpPair bad = tcp_pair();
  TcpPair good = tcp_pair();
  Peer bad_server(loop, server_context(), bad.server.get());
  Peer good_client(loop, client_context(), good.client.get(), "localhost");
  Peer good_server(loop, server_context(), good.server.get());
  std::string garbage = "this is not a TLS ClientHello\r\n\r\n";
  ASSERT_EQ(::send(bad.client.get(), garbage.data(), garbage.size(), 0),
            static_cast<ssize_t>(garbage.size()));

  std::string reason = run([&]() -> Future<std::string> {
    Future<std::string> bad_done = handshake_failure(bad_server);
    Future<void> good_done = handshake_both(good_client, good_server);
    std::string failure = co_await bad_done;
    co_await good_done;
    co_return failure;
  });

  EXPECT_EQ(reason, "wrong version number");
  EXPECT_TRUE(good_client.tls.handshake_done());
  EXPECT_TRUE(good_server.tls.handshake_done());
  EXPECT_EQ(good_client.tls.error(), "");
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(Tls, PeerClosingMidHandshakeFailsIt) {
  TcpPair pair = tcp_pair();
  Peer server(loop, server_context(), pair.server.get());
  pair.client.reset();

  std::string reason = run([&] { return handshake_failure(server); });

  EXPECT_EQ(reason, "unexpected eof while reading");
}

// ---- Reading, writing, closing --------------------------------------------

TEST_F(Tls, CloseNotifyEndsTheSessionCleanlyAfterTheLastData) {
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(), pair.client.get(), "localhost");
  Peer server(loop, server_context(), pair.server.get());

  Received received = run([&]() -> Future<Received> {
    co_await handshake_both(client, server);
    co_await write_all(client, "goodbye");
    co_await shutdown(client);
    co_return co_await read_to_end(server);
  });

  EXPECT_EQ(received.data, "goodbye");
  EXPECT_EQ(received.end, TlsStatus::closed);
  EXPECT_EQ(server.tls.shutdown(), TlsStatus::ok) << "answering close_notify";
}

TEST_F(Tls, TcpEndWithoutCloseNotifyIsEofNotAClose) {
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(), pair.client.get(), "localhost");
  Peer server(loop, server_context(), pair.server.get());

  Received received = run([&]() -> Future<Received> {
    co_await handshake_both(client, server);
    co_await write_all(client, "cut");
    ::shutdown(client.fd, SHUT_WR);  // a FIN, but no close_notify: truncation
    co_return co_await read_to_end(server);
  });

  EXPECT_EQ(received.data, "cut");
  EXPECT_EQ(received.end, TlsStatus::eof);
  EXPECT_EQ(server.tls.error(), "unexpected eof while reading");
}

TEST_F(Tls, PendingCountsDecryptedBytesTheSocketNoLongerHolds) {
  TcpPair pair = tcp_pair();
  Peer client(loop, client_context(), pair.client.get(), "localhost");
  Peer server(loop, server_context(), pair.server.get());

  std::string first = run([&]() -> Future<std::string> {
    co_await handshake_both(client, server);
    co_await write_all(server, std::string(1000, 'x'));  // one record
    co_return (co_await read_bytes(client, 10)).data;
  });

  EXPECT_EQ(first, std::string(10, 'x'));
  EXPECT_EQ(client.tls.pending(), 990u);
  pollfd readable{client.fd, POLLIN, 0};
  EXPECT_EQ(::poll(&readable, 1, 0), 0) << "the rest is inside OpenSSL, not in the socket";
  std::vector<char> rest(2000);
  detail::TlsIoResult result = client.tls.read(rest);
  EXPECT_EQ(result.status, TlsStatus::ok);
  EXPECT_EQ(result.bytes, 990u);
  EXPECT_EQ(client.tls.pending(), 0u);
}

std::string pattern(std::size_t size) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return data;
}

TEST_F(Tls, OneMebibyteEachWayInPartialWritesThatWaitForWritability) {
  TcpPair pair = tcp_pair();
  shrink_buffers(pair.client.get());
  shrink_buffers(pair.server.get());
  Peer client(loop, client_context(), pair.client.get(), "localhost");
  Peer server(loop, server_context(), pair.server.get());
  const std::string data = pattern(1 << 20);

  std::string at_server, at_client;
  run([&]() -> Future<void> {
    co_await handshake_both(client, server);
    Future<Received> got = read_bytes(server, data.size());
    co_await write_all(client, data);
    at_server = (co_await got).data;
    got = read_bytes(client, data.size());
    co_await write_all(server, data);
    at_client = (co_await got).data;
  });

  EXPECT_TRUE(at_server == data) << "server got " << at_server.size() << " bytes";
  EXPECT_TRUE(at_client == data) << "client got " << at_client.size() << " bytes";
  EXPECT_GT(client.partial_writes, 0);
  EXPECT_GT(client.want_writes, 0) << "1 MiB does not fit in 16 KiB socket buffers";
  EXPECT_GT(server.want_writes, 0);
}

TEST_F(Tls, RetryingAWriteWithFewerBytesIsAUsageError) {
  TcpPair pair = tcp_pair();
  shrink_buffers(pair.client.get());
  shrink_buffers(pair.server.get());
  Peer client(loop, client_context(), pair.client.get(), "localhost");
  Peer server(loop, server_context(), pair.server.get());
  run([&] { return handshake_both(client, server); });
  const std::string chunk = pattern(64 * 1024);

  detail::TlsIoResult result{TlsStatus::ok};
  for (int i = 0; i < 1000 && result.status == TlsStatus::ok; ++i) result = client.tls.write(chunk);

  ASSERT_EQ(result.status, TlsStatus::want_write) << "the server reads nothing: buffers fill";
  EXPECT_THROW(client.tls.write(std::span(chunk).first(100)), UsageError);
}

// ---- Real OpenSSL peers -----------------------------------------------------

// The port `openssl s_server -accept 127.0.0.1:0` reports it listens on.
std::uint16_t accepted_port(Child& server) {
  EXPECT_TRUE(server.wait_output("ACCEPT 127.0.0.1:")) << server.output();
  std::string output = server.output();
  std::size_t at = output.find("ACCEPT 127.0.0.1:");
  if (at == std::string::npos) return 0;
  return static_cast<std::uint16_t>(std::stoi(output.substr(at + 17)));
}

TEST_F(Tls, OurClientTalksToOpensslServer) {
  Child s_server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", certs().cert("server"),
                  "-key", certs().key("server"), "-servername", "localhost", "-cert2",
                  certs().cert("server"), "-key2", certs().key("server")},
                 certs().path("s_server.out"));
  std::uint16_t port = accepted_port(s_server);
  ASSERT_NE(port, 0);
  Fd fd = connect_loopback(port);
  Peer client(loop, client_context(), fd.get(), "localhost");

  run([&]() -> Future<void> {
    co_await handshake(client);
    co_await write_all(client, "hello from tornado\n");
  });
  EXPECT_TRUE(s_server.wait_output("hello from tornado")) << s_server.output();
  s_server.send("hello from s_server\n");
  Received reply = run([&] { return read_bytes(client, 20); });
  run([&] { return shutdown(client); });

  EXPECT_EQ(reply.data, "hello from s_server\n");
  EXPECT_EQ(client.tls.peer_certificate_subject(), "CN=localhost");
  // With -servername, s_server switches to its -cert2 context on that SNI.
  EXPECT_TRUE(s_server.wait_output("Switching server context")) << "SNI reached it";
  EXPECT_TRUE(s_server.wait_output("DONE")) << "close_notify reached it: " << s_server.output();
}

Fd accept_within_timeout(const Listener& listener) {
  pollfd ready{listener.fd.get(), POLLIN, 0};
  if (::poll(&ready, 1, 10'000) != 1) return Fd();
  return accept_one(listener);
}

TEST_F(Tls, OpensslClientTalksToOurServer) {
  Listener listener = listen_loopback();
  Child s_client({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(listener.port),
                  "-servername", "localhost", "-alpn", "h2", "-CAfile", certs().cert("ca"),
                  "-verify_return_error", "-verify_hostname", "localhost"},
                 certs().path("s_client.out"));
  Fd fd = accept_within_timeout(listener);
  ASSERT_GE(fd.get(), 0) << s_client.output();
  SSLOptions options = certs().server();
  options.alpn_protocols = {"h2", "http/1.1"};
  Peer server(loop, server_context(options), fd.get());

  run([&] { return handshake(server); });
  s_client.send("hello from s_client\n");
  Received request = run([&] { return read_bytes(server, 20); });
  run([&]() -> Future<void> {
    co_await write_all(server, "hello from tornado\n");
    co_await shutdown(server);
  });

  EXPECT_EQ(request.data, "hello from s_client\n");
  EXPECT_EQ(server.tls.server_name(), "localhost");
  EXPECT_EQ(server.tls.alpn_selected(), "h2");
  std::optional<int> status = s_client.wait_exit();
  ASSERT_TRUE(status) << s_client.output();
  std::string output = s_client.output();
  EXPECT_THAT(output, HasSubstr("Verify return code: 0 (ok)"));
  EXPECT_THAT(output, HasSubstr("ALPN protocol: h2"));
  EXPECT_THAT(output, HasSubstr("hello from tornado"));
  EXPECT_THAT(output, HasSubstr("closed")) << "close_notify reached it";
}

TEST_F(Tls, MinimumVersionTls13RefusesAnOpensslClientLimitedToTls12) {
  Listener listener = listen_loopback();
  Child s_client({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(listener.port),
                  "-tls1_2", "-CAfile", certs().cert("ca")},
                 certs().path("s_client12.out"));
  Fd fd = accept_within_timeout(listener);
  ASSERT_GE(fd.get(), 0) << s_client.output();
  SSLOptions options = certs().server();
  options.minimum_version = TlsVersion::tls1_3;
  Peer server(loop, server_context(options), fd.get());

  std::string reason = run([&] { return handshake_failure(server); });

  EXPECT_EQ(reason, "unsupported protocol");
  std::optional<int> status = s_client.wait_exit();
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0) << s_client.output();
}

}  // namespace
}  // namespace tornado
