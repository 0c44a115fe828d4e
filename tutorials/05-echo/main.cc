// Step 5: streams. An echo server on TCPServer: one coroutine per connection
// reads a line with read_until and writes it back. Clients connect with
// TCPClient and talk over IOStreams.
//
//   tutorial-05-echo [--demo]    serves on a free port, runs three clients, exits
//   tutorial-05-echo --port N    serves on 127.0.0.1:N until SIGINT or SIGTERM
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "tornado/errors.h"
#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/tcpclient.h"
#include "tornado/tcpserver.h"

using tornado::Future, tornado::IOLoop, tornado::IOStream;

namespace {

class EchoServer : public tornado::TCPServer {
 public:
  Future<void> handle_stream(std::shared_ptr<IOStream> stream, tornado::SocketAddress) override {
    try {
      for (;;) {
        std::string line = co_await stream->read_until("\n", 4096);  // waits, never blocks
        co_await stream->write(line);
      }
    } catch (const tornado::StreamClosedError&) {
      // The client hung up: this connection's coroutine ends, the others go on.
    }
  }
};

// A client: connects, sends each word as a line, collects the echoes.
Future<std::string> client(std::uint16_t port, std::vector<std::string> words) {
  tornado::TCPClient connector;
  std::shared_ptr<IOStream> stream = co_await connector.connect("127.0.0.1", port);
  std::string heard;
  for (const std::string& word : words) {
    co_await stream->write(word + "\n");
    std::string echo = co_await stream->read_until("\n");
    heard += echo.substr(0, echo.size() - 1) + " ";
  }
  stream->close();
  co_return heard;
}

Future<void> demo(std::uint16_t port) {
  // Three clients at once: their lines interleave on the server's one thread.
  std::vector<Future<std::string>> clients = {
      client(port, {"one", "two", "three"}),
      client(port, {"red", "green", "blue"}),
      client(port, {"alpha", "beta", "gamma"}),
  };
  std::vector<std::string> heard = co_await tornado::gen::multi(clients);
  for (std::size_t i = 0; i < heard.size(); ++i) {
    std::cout << "client " << i + 1 << " heard: " << heard[i] << "\n";
  }
}

IOLoop* g_loop = nullptr;

void stop_on_signal(int) {
  g_loop->add_callback_from_signal([] { g_loop->stop(); });
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view mode = argc > 1 ? argv[1] : "--demo";
  IOLoop loop;
  g_loop = &loop;
  EchoServer server;
  if (mode == "--port" && argc > 2) {
    auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    server.listen(port, "127.0.0.1");
    std::signal(SIGINT, stop_on_signal);
    std::signal(SIGTERM, stop_on_signal);
    std::cout << "echo server on 127.0.0.1:" << port << " (Ctrl-C stops it)" << std::endl;
    loop.start();
    std::cout << "stopped" << std::endl;
    return 0;
  }
  server.listen(0, "127.0.0.1");  // port 0: the kernel picks a free one
  std::uint16_t port = server.addresses().front().port();
  loop.run_sync([port] { return demo(port); }, std::chrono::seconds(10));
  std::cout << "all clients done; the server still has its listening socket\n";
  return 0;
}
