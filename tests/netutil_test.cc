// Specification of netutil.h: SocketAddress, bind_sockets, bind_unix_socket,
// add_accept_handler (including its back-off when fds run out, in a forked
// child with a lowered RLIMIT_NOFILE), is_valid_ip and the resolver (ported
// in part from Tornado's netutil_test.py).
#include "tornado/netutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "support.h"
#include "tornado/errors.h"
#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/testing.h"

namespace tornado {
namespace {

using test_support::kTestTimeout;
using test_support::wait;

SocketAddress local_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
}

int connect_blocking(const SocketAddress& address) {
  int fd = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::connect(fd, address.data(), address.size()), 0) << address.to_string();
  return fd;
}

using NetutilTest = test_support::LoopTest;

// ---- SocketAddress ---------------------------------------------------------------

TEST(SocketAddress, DescribesItselfLikeAnAddressTuple) {
  EXPECT_EQ(SocketAddress::from_ip("127.0.0.1", 8888).to_string(), "127.0.0.1:8888");
  EXPECT_EQ(SocketAddress::from_ip("::1", 80).to_string(), "[::1]:80");
  EXPECT_EQ(SocketAddress::from_ip("::1", 80).family(), AF_INET6);
  EXPECT_EQ(SocketAddress::from_unix_path("/tmp/x.sock").to_string(), "unix:/tmp/x.sock");
  EXPECT_EQ(SocketAddress().to_string(), "(unspecified)");
  EXPECT_EQ(SocketAddress::from_ip("10.0.0.1", 1), SocketAddress::from_ip("10.0.0.1", 1));
  EXPECT_FALSE(SocketAddress::from_ip("10.0.0.1", 1) == SocketAddress::from_ip("10.0.0.1", 2));
  EXPECT_THROW(SocketAddress::from_ip("localhost", 1), ValueError);
  EXPECT_THROW(SocketAddress::from_unix_path(std::string(200, 'x')), ValueError);
}

// ---- is_valid_ip -----------------------------------------------------------------

TEST(IsValidIp, AcceptsNumericAddressesOnly) {
  for (const char* ip : {"127.0.0.1", "4.4.4.4", "::1", "2620:0:1cfe:face:b00c::3"}) {
    EXPECT_TRUE(is_valid_ip(ip)) << ip;
  }
  for (std::string ip :
       {std::string("www.google.com"), std::string("localhost"), std::string("4.4.4.4<"),
        std::string(" 127.0.0.1"), std::string(""), std::string(" "), std::string("\n"),
        std::string("\x00", 1), std::string(100000, 'a')}) {
    EXPECT_FALSE(is_valid_ip(ip)) << ip.substr(0, 20);
  }
}

// ---- bind_sockets ----------------------------------------------------------------

TEST_F(NetutilTest, PortZeroGivesEveryFamilyTheSamePort) {
  std::vector<int> sockets = bind_sockets(0);
  ASSERT_FALSE(sockets.empty());
  std::uint16_t port = local_address(sockets[0]).port();
  EXPECT_NE(port, 0);
  for (int fd : sockets) EXPECT_EQ(local_address(fd).port(), port);
  for (int fd : sockets) ::close(fd);
}

TEST_F(NetutilTest, BoundSocketsAreListeningNonBlockingAndReuseAddr) {
  std::vector<int> sockets = bind_sockets(0, "127.0.0.1");
  ASSERT_EQ(sockets.size(), 1u);
  int value = 0;
  socklen_t length = sizeof value;
  ::getsockopt(sockets[0], SOL_SOCKET, SO_REUSEADDR, &value, &length);
  EXPECT_EQ(value, 1);
  ::getsockopt(sockets[0], SOL_SOCKET, SO_ACCEPTCONN, &value, &length);
  EXPECT_EQ(value, 1);
  EXPECT_LT(::accept(sockets[0], nullptr, nullptr), 0);  // nothing waiting, and no blocking
  EXPECT_EQ(errno, EAGAIN);
  ::close(sockets[0]);
}

TEST_F(NetutilTest, ReusePortLetsTwoSocketsListenOnOnePort) {
  std::vector<int> first = bind_sockets(0, "127.0.0.1", AF_INET, kDefaultBacklog, true);
  std::uint16_t port = local_address(first.at(0)).port();
  std::vector<int> second = bind_sockets(port, "127.0.0.1", AF_INET, kDefaultBacklog, true);
  EXPECT_EQ(local_address(second.at(0)).port(), port);
  try {
    (void)bind_sockets(port, "127.0.0.1");
    ADD_FAILURE() << "a socket without SO_REUSEPORT bound a taken port";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
  }
  ::close(first[0]);
  ::close(second[0]);
}

TEST_F(NetutilTest, BindSocketsForIpv6OnlyListensOnIpv6) {
  std::vector<int> sockets = bind_sockets(0, "::1", AF_INET6);
  ASSERT_EQ(sockets.size(), 1u);
  EXPECT_EQ(local_address(sockets[0]).family(), AF_INET6);
  int v6only = 0;
  socklen_t length = sizeof v6only;
  ::getsockopt(sockets[0], IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &length);
  EXPECT_EQ(v6only, 1);
  ::close(sockets[0]);
}

// ---- bind_unix_socket ------------------------------------------------------------

TEST_F(NetutilTest, UnixSocketCarriesAStreamAndReplacesAStaleSocketFile) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tornado-netutil-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "sock").string();
  int stale = bind_unix_socket(path);
  ::close(stale);  // leaves the socket file behind
  int listener = bind_unix_socket(path);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::shared_ptr<IOStream> server;
  auto remove = add_accept_handler(
      listener, [&](int fd, SocketAddress) { server = std::make_shared<IOStream>(fd); });
  auto client = std::make_shared<IOStream>(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  wait(loop(), client->connect(SocketAddress::from_unix_path(path)));
  (void)client->write("over unix\n");
  loop().run_sync(
      [&]() -> Future<void> {
        while (!server) co_await gen::sleep(std::chrono::milliseconds(1));
      },
      kTestTimeout);
  EXPECT_EQ(wait(loop(), server->read_until("\n")), "over unix\n");
  EXPECT_NE(client->describe().find("unix:" + path), std::string::npos) << client->describe();
  remove();
  client->close();
  server->close();
  ::close(listener);
  std::string regular = (dir / "regular").string();
  std::ofstream(regular) << "not a socket";
  EXPECT_THROW(bind_unix_socket(regular), ValueError);
  EXPECT_TRUE(std::filesystem::exists(regular));
  std::filesystem::remove_all(dir);
}

// ---- add_accept_handler ----------------------------------------------------------

TEST_F(NetutilTest, AcceptHandlerCallsBackPerConnectionUntilRemoved) {
  int listener = bind_sockets(0, "127.0.0.1").at(0);
  SocketAddress address = local_address(listener);
  std::vector<int> accepted;
  std::vector<SocketAddress> peers;
  auto remove = add_accept_handler(listener, [&](int fd, SocketAddress peer) {
    accepted.push_back(fd);
    peers.push_back(peer);
  });
  int a = connect_blocking(address);
  int b = connect_blocking(address);
  loop().run_sync(
      [&]() -> Future<void> {
        while (accepted.size() < 2) co_await gen::sleep(std::chrono::milliseconds(1));
      },
      kTestTimeout);
  EXPECT_EQ(peers[0], local_address(a));
  EXPECT_EQ(peers[1], local_address(b));
  remove();
  int c = connect_blocking(address);
  wait(loop(), gen::sleep(std::chrono::milliseconds(50)));
  EXPECT_EQ(accepted.size(), 2u);
  for (int fd : accepted) ::close(fd);
  for (int fd : {a, b, c, listener}) ::close(fd);
}

// In a child with room for exactly three more fds: ten clients wait; three
// are accepted, then EMFILE. The acceptor must log once
// and pause rather than wake the loop for a listener that stays readable.
// Exit codes name what went wrong.
int emfile_child(int listener) {
  IOLoop loop;
  loop.make_current();
  trace::MemorySink sink;
  testing::ScopedTrace scoped(sink);
  testing::LogCapture logs;
  // One iteration first: whatever the loop (and the sanitizers' first checks
  // of its types) needs an fd for is set up while fds are still free.
  testing::run_one_iteration(loop);
  int highest = 0;
  for (int fd = 0; fd < 1024; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) highest = fd;
  }
  rlimit limit{static_cast<rlim_t>(highest + 4), static_cast<rlim_t>(highest + 4)};
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 10;
  // Fill every free slot (there may be gaps below `highest`), then free three.
  std::vector<int> filler;
  for (int fd; (fd = ::dup(0)) >= 0;) filler.push_back(fd);
  for (int i = 0; i < 3 && !filler.empty(); ++i) {
    ::close(filler.back());
    filler.pop_back();
  }
  std::vector<int> accepted;
  auto remove =
      add_accept_handler(listener, [&](int fd, SocketAddress) { accepted.push_back(fd); });
  int code = 0;
  std::size_t first_wave = 0;
  loop.call_later(std::chrono::seconds(1), [&] {
    first_wave = accepted.size();
    std::size_t wakeups = 0;
    for (const trace::Event& e : sink.events()) {
      wakeups +=
          e.kind == trace::Kind::fd_ready && e.object == static_cast<std::uint64_t>(listener);
    }
    if (first_wave != 3)
      code = 11;
    else if (wakeups > 50)
      code = 12;  // a spinning acceptor wakes thousands of times
    else if (logs.count("Too many open files") != 1)
      code = 13;
    for (int fd : accepted) ::close(fd);  // room again: accepting resumes after the pause
    accepted.clear();
  });
  loop.call_later(std::chrono::milliseconds(1600), [&] { loop.stop(); });
  loop.start();
  if (code == 0 && accepted.size() != 3) code = 14;  // three more after the pause
  remove();
  // Free fds before the sanitizers' checks in the destructors below need one.
  for (int fd : accepted) ::close(fd);
  for (int fd : filler) ::close(fd);
  return code;
}

TEST_F(NetutilTest, RunningOutOfFdsPausesAcceptingInsteadOfSpinning) {
  int listener = bind_sockets(0, "127.0.0.1").at(0);
  SocketAddress address = local_address(listener);
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(emfile_child(listener));
  std::vector<int> clients;
  for (int i = 0; i < 10; ++i) clients.push_back(connect_blocking(address));
  int status = -1;
  for (int i = 0; i < 1000 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) ::usleep(10'000);
  if (!WIFEXITED(status) && !WIFSIGNALED(status)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ADD_FAILURE() << "the child did not finish";
  }
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see emfile_child for what the code means";
  for (int fd : clients) ::close(fd);
  ::close(listener);
}

// ---- Resolver --------------------------------------------------------------------

TEST_F(NetutilTest, DefaultExecutorResolverResolvesLocalhost) {
  DefaultExecutorResolver resolver;
  Resolver::Result result = wait(loop(), resolver.resolve("localhost", 8080, AF_INET));
  ASSERT_FALSE(result.empty());
  EXPECT_EQ(result[0].first, AF_INET);
  EXPECT_EQ(result[0].second, SocketAddress::from_ip("127.0.0.1", 8080));
  Resolver::Result numeric = wait(loop(), resolver.resolve("::1", 443));
  ASSERT_EQ(numeric.size(), 1u);
  EXPECT_EQ(numeric[0].second.to_string(), "[::1]:443");
}

TEST_F(NetutilTest, DefaultExecutorResolverFailsForAnUnknownName) {
  DefaultExecutorResolver resolver;
  EXPECT_THROW(wait(loop(), resolver.resolve("no-such-host.invalid", 80)), std::system_error);
}

}  // namespace
}  // namespace tornado
