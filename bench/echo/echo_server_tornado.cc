// echo_server_tornado: the echo benchmark's server on tornado-cpp, one
// coroutine per connection, on a TCPServer (or, with --accept-handler, on
// netutil's add_accept_handler directly: the same coroutine without what
// TCPServer adds per connection).
//
//   echo_server_tornado [--port N] [--accept-handler]
//
// Prints "port N" on stdout once listening (port 0 picks a free one) and runs
// until SIGTERM or SIGINT. Tracing: TORNADO_TRACE=file:PATH or unix:PATH, as
// for any program linked with the core.
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tornado/concurrent.h"
#include "tornado/errors.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/netutil.h"
#include "tornado/tcpserver.h"

namespace {

using tornado::Future;
using tornado::IOStream;

// Echoes whatever arrives (up to one read chunk at a time) until the peer
// goes away.
Future<void> serve(std::shared_ptr<IOStream> stream) {
  stream->set_nodelay(true);  // as every server in this benchmark
  try {
    for (;;) {
      std::string data = co_await stream->read_bytes(64 * 1024, /*partial=*/true);
      co_await stream->write(std::move(data));
    }
  } catch (const tornado::StreamClosedError&) {
    // The client hung up: the normal end of a connection.
  }
}

// 10,000 idle connections need more fds than the usual soft limit of 1,024.
void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

bool has_flag(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return true;
  }
  return false;
}

std::uint16_t parse_port(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0) {
      return static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    }
  }
  return 0;
}

// "port N" on stdout: how bench/echo/run.sh learns the port it was given.
void print_port(int listener) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  std::printf(
      "port %d\n",
      tornado::SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&address), size).port());
  std::fflush(stdout);
}

tornado::IOLoop* g_loop = nullptr;

void on_signal(int) {
  g_loop->add_callback_from_signal([] { g_loop->stop(); });
}

// SIGTERM ends the run cleanly, so a file trace gets its end record.
void stop_on_signals(tornado::IOLoop& loop) {
  g_loop = &loop;
  struct sigaction action {};
  action.sa_handler = on_signal;
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  raise_fd_limit();
  tornado::IOLoop loop;
  stop_on_signals(loop);
  std::vector<int> sockets = tornado::bind_sockets(parse_port(argc, argv), "127.0.0.1", AF_INET,
                                                   /*backlog=*/1024);
  if (has_flag(argc, argv, "--accept-handler")) {
    auto stop_accepting = tornado::add_accept_handler(
        sockets[0],
        [](int fd, tornado::SocketAddress) { (void)serve(std::make_shared<IOStream>(fd)); });
    print_port(sockets[0]);
    loop.start();
    stop_accepting();
    ::close(sockets[0]);
    return 0;
  }
  tornado::TCPServer server([](std::shared_ptr<IOStream> stream, tornado::SocketAddress) {
    return serve(std::move(stream));
  });
  server.add_sockets(sockets);  // the server owns them now
  print_port(sockets[0]);
  loop.start();
  return 0;
}
