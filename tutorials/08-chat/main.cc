// Step 8: a chat server. Each line a client sends joins a shared history; a Condition wakes
// each connection's writer to send it on. A client that falls 256 KiB behind is dropped.
//
//   tutorial-08-chat [--demo]    serves on a free port, runs three clients (demo.cc), exits
//   tutorial-08-chat --port N    serves on 127.0.0.1:N until SIGINT or SIGTERM; try nc
#include <sys/socket.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/locks.h"
#include "tornado/tcpserver.h"

using tornado::Future, tornado::IOLoop, tornado::IOStream;

// In demo.cc: alice, bob and sloth chat on 127.0.0.1:port; prints what they heard.
Future<void> demo(std::uint16_t port);

namespace {

struct Room {
  std::vector<std::string> history;  // every line said, in order
  tornado::Condition said{"said"};   // "the history grew"
  void say(std::string line) {
    history.push_back(std::move(line) + '\n');
    said.notify_all();
  }
};

// Sends one client the history from `cursor` on, as it grows, never waiting for
// the client to read: a write past the stream's limit throws StreamBufferFullError.
Future<void> writer(Room& room, std::shared_ptr<IOStream> stream, std::string name,
                    std::size_t cursor) {
  try {
    while (!stream->closed()) {
      if (cursor == room.history.size()) {
        co_await room.said.wait();
      } else {  // not awaited; if it fails, the stream closes: only mark the failure seen
        Future<void> sent = stream->write(room.history[cursor++]);
        sent.add_done_callback([](Future<void> f) { (void)f.exception(); });
      }
    }
  } catch (const tornado::StreamBufferFullError& e) {
    std::cout << "server: dropped slow client " << name << " (" << e.what() << ")\n";
    std::cerr << "server: " << stream->describe() << "\n";  // its buffers: timing-dependent
    stream->close(std::current_exception());                // its reader gets StreamClosedError
  }
}

// One connection: the first line is the client's name, each later one a message.
struct ChatServer : tornado::TCPServer {
  Room room;
  Future<void> handle_stream(std::shared_ptr<IOStream> stream, tornado::SocketAddress) override {
    stream->set_max_write_buffer_size(256 * 1024);  // the most queued for this client
    // A small kernel send buffer: Linux would grow it to MiBs, all filled before the limit.
    int kernel_buffer = 64 * 1024;
    ::setsockopt(stream->fileno(), SOL_SOCKET, SO_SNDBUF, &kernel_buffer, sizeof kernel_buffer);
    std::string name = co_await stream->read_until("\n", 64);
    name.pop_back();
    stream->set_name(name);
    stream->set_close_callback([this, name] { room.say(name + " left"); });  // for any reason
    (void)writer(room, stream, name, room.history.size());  // runs until the stream closes
    room.say(name + " joined");
    for (;;) {  // until the stream closes: the read then throws StreamClosedError
      std::string line = co_await stream->read_until("\n", 64 * 1024);  // longer lines close it
      room.say(name + ": " + line.substr(0, line.size() - 1));
    }
  }
};

IOLoop* g_loop = nullptr;

void stop_on_signal(int) {
  g_loop->add_callback_from_signal([] { g_loop->stop(); });
}

}  // namespace

int main(int argc, char** argv) {
  bool serve_forever = argc > 2 && std::string_view(argv[1]) == "--port";
  IOLoop loop;
  g_loop = &loop;
  ChatServer server;  // on port 0 the kernel picks a free one
  server.listen(static_cast<std::uint16_t>(serve_forever ? std::atoi(argv[2]) : 0), "127.0.0.1");
  std::uint16_t port = server.addresses().front().port();
  if (serve_forever) {
    std::signal(SIGINT, stop_on_signal);
    std::signal(SIGTERM, stop_on_signal);
    std::cout << "chat server on 127.0.0.1:" << port << " (Ctrl-C stops it)" << std::endl;
    loop.start();
  } else {
    loop.run_sync([port] { return demo(port); }, std::chrono::seconds(10));
  }
}
