// TCPClient (tcpclient.h): connecting over loopback to TCPServers, to closed
// ports and to "black holes" (a listener whose accept queue is full drops
// SYNs, so a connect to it hangs), with a resolver that returns chosen
// addresses so Happy Eyeballs can be watched on one machine.
#include "tornado/tcpclient.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "support.h"
#include "tls_support.h"
#include "tornado/gen.h"
#include "tornado/tcpserver.h"
#include "tornado/testing.h"

namespace tornado {
namespace {

using test_support::kTestTimeout;
using ::testing::HasSubstr;
using tls_support::CertificatesTest;
using tls_support::open_fd_count;
using tls_support::TestCertificates;

// Options are aggregates with a default for every field, so a designated
// initializer may name any subset; under -Wextra -Werror (as this file is
// built) an omitted field without one would not compile.
TEST(Options, DesignatedInitializersMayNameAnySubset) {
  ConnectOptions connect{.family = AF_INET, .timeout = std::chrono::seconds(1)};
  SSLOptions ssl{.ca_file = "ca.pem", .check_hostname = false};
  StreamOptions stream{.max_write_buffer_size = 4096};
  EXPECT_EQ(connect.family, AF_INET);
  EXPECT_FALSE(connect.ssl_options.has_value());
  EXPECT_EQ(ssl.ca_file, "ca.pem");
  EXPECT_TRUE(ssl.certfile.empty());
  EXPECT_EQ(ssl.minimum_version, TlsVersion::tls1_2);
  EXPECT_EQ(stream.max_buffer_size, 100u * 1024 * 1024);
  EXPECT_EQ(stream.max_write_buffer_size, 4096u);
}

// Answers every question with the same addresses, in the order given.
class FixedResolver : public Resolver {
 public:
  explicit FixedResolver(Result addresses) : addresses_(std::move(addresses)) {}
  Future<Result> resolve(std::string, std::uint16_t, int) override {
    ++calls;
    Future<Result> result;
    result.set_result(addresses_);
    return result;
  }
  int calls = 0;

 private:
  Result addresses_;
};

SocketAddress local_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

// A listener with backlog 0 and its one accept slot taken: the kernel drops
// further SYNs, so connecting to it neither succeeds nor fails.
struct Blackhole {
  explicit Blackhole(const char* ip) {
    listener = bind_sockets(0, ip, AF_UNSPEC, 0).at(0);
    address = local_address(listener);
    filler = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(filler, address.data(), address.size()), 0);
  }
  ~Blackhole() {
    ::close(filler);
    ::close(listener);
  }
  int listener = -1;
  int filler = -1;
  SocketAddress address;
};

// A port nothing listens on (bound, then closed again).
SocketAddress closed_port(const char* ip) {
  int fd = bind_sockets(0, ip).at(0);
  SocketAddress address = local_address(fd);
  ::close(fd);
  return address;
}

// Echoes lines; remembers who connected.
struct EchoServer {
  EchoServer(const char* ip, std::optional<SSLOptions> ssl = std::nullopt)
      : server(
            [this](std::shared_ptr<IOStream> stream, SocketAddress peer) -> Future<void> {
              peers.push_back(peer);
              Done done{finished};
              for (;;) co_await stream->write(co_await stream->read_until("\n"));
            },
            std::move(ssl)) {
    server.add_sockets(bind_sockets(0, ip));
    address = server.addresses().at(0);
  }
  struct Done {
    std::size_t& count;
    ~Done() { ++count; }
  };
  TCPServer server;
  SocketAddress address;
  std::vector<SocketAddress> peers;
  std::size_t finished = 0;
};

class TCPClientTest : public CertificatesTest {
 protected:
  template <class F>
  auto run(F&& func) {
    return loop.run_sync(std::forward<F>(func), kTestTimeout);
  }

  // One line through `stream`, then closes it and lets `server` see it go.
  std::string echo_once(std::shared_ptr<IOStream> stream, EchoServer& server) {
    std::string back = run([&]() -> Future<std::string> {
      co_await stream->write("ping\n");
      co_return co_await stream->read_until("\n");
    });
    stream->close();
    run([&]() -> Future<void> {
      while (server.finished < server.peers.size()) {
        co_await gen::sleep(std::chrono::milliseconds(2));
      }
    });
    return back;
  }

  static std::shared_ptr<Resolver> resolver(Resolver::Result addresses) {
    return std::make_shared<FixedResolver>(std::move(addresses));
  }

  testing::CurrentLoop loop;
};

TEST_F(TCPClientTest, ConnectsWithTheDefaultResolver) {
  EchoServer server("127.0.0.1");
  TCPClient client;

  auto stream = run([&] { return client.connect("127.0.0.1", server.address.port()); });

  EXPECT_EQ(echo_once(stream, server), "ping\n");
  EXPECT_EQ(server.peers.size(), 1u);
}

// Awaited inside a coroutine, as users write it: no temporary of the
// co_await expression may be a coroutine parameter (GCC 12 relocates those
// bitwise; a std::string inside them was freed from the wrong address).
Future<std::shared_ptr<IOStream>> connect_from_a_coroutine(TCPClient& client, std::uint16_t port) {
  co_return co_await client.connect("127.0.0.1", port);
}

TEST_F(TCPClientTest, ConnectAwaitedInACoroutineWithDefaultOptions) {
  EchoServer server("127.0.0.1");
  TCPClient client;

  auto stream = run([&] { return connect_from_a_coroutine(client, server.address.port()); });

  EXPECT_EQ(echo_once(stream, server), "ping\n");
}

TEST_F(TCPClientTest, RefusedConnectionFailsWithItsCause) {
  TCPClient client;
  SocketAddress nobody = closed_port("127.0.0.1");

  try {
    (void)run([&] { return client.connect("127.0.0.1", nobody.port()); });
    ADD_FAILURE() << "connected to a closed port";
  } catch (const StreamClosedError& e) {
    EXPECT_EQ(e.code(), std::error_code(ECONNREFUSED, std::system_category())) << e.what();
  }
}

TEST_F(TCPClientTest, TimeoutFailsWithTimeoutErrorAndClosesTheAttempt) {
  Blackhole hole("127.0.0.1");
  TCPClient client;
  ConnectOptions options;
  options.timeout = std::chrono::milliseconds(100);

  EXPECT_THROW((void)run([&] { return client.connect("127.0.0.1", hole.address.port(), options); }),
               TimeoutError);
  // TearDown's fd count says the hanging attempt was closed.
}

TEST_F(TCPClientTest, SecondFamilyIsTriedAfterTheInitialConnectTimeout) {
  Blackhole hole("::1");
  EchoServer server("127.0.0.1");
  constexpr auto kDelay = std::chrono::milliseconds(50);
  TCPClient client(resolver({{AF_INET6, hole.address}, {AF_INET, server.address}}), kDelay);

  TimePoint started = loop.time();
  auto stream = run([&] { return client.connect("dual.test", 0); });
  Duration took = loop.time() - started;

  EXPECT_EQ(local_address(stream->fileno()).family(), AF_INET) << "the secondary won";
  EXPECT_GE(took, kDelay) << "the secondary waited for the primary's head start";
  EXPECT_EQ(echo_once(stream, server), "ping\n");
  // The primary's attempt was closed: TearDown counts its fd.
}

TEST_F(TCPClientTest, PrimaryFamilyWinsWhenItAnswers) {
  EchoServer six("::1");
  EchoServer four("127.0.0.1");
  TCPClient client(resolver({{AF_INET6, six.address}, {AF_INET, four.address}}),
                   std::chrono::seconds(60));

  auto stream = run([&] { return client.connect("dual.test", 0); });

  EXPECT_EQ(local_address(stream->fileno()).family(), AF_INET6);
  EXPECT_EQ(echo_once(stream, six), "ping\n");
  EXPECT_TRUE(four.peers.empty()) << "the secondary was never tried";
}

TEST_F(TCPClientTest, FailedPrimaryStartsTheSecondaryAtOnce) {
  EchoServer server("127.0.0.1");
  // With a 60 s head start, only an immediate fallback connects within the
  // test's 10 s bound.
  TCPClient client(resolver({{AF_INET6, closed_port("::1")},
                             {AF_INET6, closed_port("::1")},
                             {AF_INET, server.address}}),
                   std::chrono::seconds(60));

  auto stream = run([&] { return client.connect("dual.test", 0); });

  EXPECT_EQ(local_address(stream->fileno()).family(), AF_INET);
  EXPECT_EQ(echo_once(stream, server), "ping\n");
}

TEST_F(TCPClientTest, PrimaryAddressesAreTriedInOrderBeforeGivingUp) {
  EchoServer server("::1");
  TCPClient client(resolver({{AF_INET6, closed_port("::1")}, {AF_INET6, server.address}}),
                   std::chrono::seconds(60));

  auto stream = run([&] { return client.connect("dual.test", 0); });

  EXPECT_EQ(echo_once(stream, server), "ping\n");
}

TEST_F(TCPClientTest, EveryAddressFailingReportsTheLastError) {
  TCPClient client(resolver({{AF_INET6, closed_port("::1")}, {AF_INET, closed_port("127.0.0.1")}}));

  std::string failure = test_support::failure_of(loop, client.connect("dual.test", 0));

  EXPECT_THAT(failure, HasSubstr("Connection refused"));
}

TEST_F(TCPClientTest, SourcePortIsBound) {
  EchoServer server("127.0.0.1");
  std::uint16_t source_port = closed_port("127.0.0.1").port();
  TCPClient client;
  ConnectOptions options;
  options.source_port = source_port;

  auto stream = run([&] { return client.connect("127.0.0.1", server.address.port(), options); });

  EXPECT_EQ(local_address(stream->fileno()).port(), source_port);
  EXPECT_EQ(echo_once(stream, server), "ping\n");
  ASSERT_EQ(server.peers.size(), 1u);
  EXPECT_EQ(server.peers[0].port(), source_port);
}

TEST_F(TCPClientTest, SourceIpThatIsNotLocalFailsTheConnect) {
  EchoServer server("127.0.0.1");
  TCPClient client;
  ConnectOptions options;
  options.source_ip = "192.0.2.1";  // TEST-NET-1: not an address of this machine

  std::string failure =
      test_support::failure_of(loop, client.connect("127.0.0.1", server.address.port(), options));

  EXPECT_THAT(failure, HasSubstr("bind"));
  EXPECT_TRUE(server.peers.empty());
}

TEST_F(TCPClientTest, SslOptionsGiveAVerifiedTlsStream) {
  EchoServer server("127.0.0.1", certs().server());
  TCPClient client(resolver({{AF_INET, server.address}}));
  ConnectOptions options;
  options.ssl_options = certs().client();

  auto stream = run([&] { return client.connect("localhost", 0, options); });

  auto tls = std::dynamic_pointer_cast<SSLIOStream>(stream);
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->peer_certificate_subject(), "CN=localhost");
  EXPECT_EQ(echo_once(stream, server), "ping\n");
}

TEST_F(TCPClientTest, FailedTlsHandshakeFailsTheConnectWithSSLError) {
  testing::LogCapture log;
  EchoServer server("127.0.0.1", certs().server("wrong_host"));
  TCPClient client(resolver({{AF_INET, server.address}}));
  ConnectOptions options;
  options.ssl_options = certs().client();

  std::string reason;
  try {
    (void)run([&] { return client.connect("localhost", 0, options); });
  } catch (const SSLError& e) {
    reason = e.reason();
  }
  run([&]() -> Future<void> {
    while (server.finished < server.peers.size()) co_await gen::sleep(std::chrono::milliseconds(2));
  });

  EXPECT_EQ(reason, "certificate verify failed: hostname mismatch");
}

TEST_F(TCPClientTest, TimeoutCoversTheTlsHandshake) {
  // A plain listener that accepts (the kernel does) but never speaks TLS.
  int listener = bind_sockets(0, "127.0.0.1").at(0);
  SocketAddress address = local_address(listener);
  TCPClient client(resolver({{AF_INET, address}}));
  ConnectOptions options;
  options.ssl_options = certs().client();
  options.timeout = std::chrono::milliseconds(100);

  EXPECT_THROW((void)run([&] { return client.connect("localhost", 0, options); }), TimeoutError);
  ::close(listener);
}

}  // namespace
}  // namespace tornado
