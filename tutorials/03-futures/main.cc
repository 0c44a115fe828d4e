// Step 3: futures and coroutines. One fetch written three ways, as in Tornado's
// guide: synchronous, as a coroutine, and by hand with a Future and a done-callback.
//
//   tutorial-03-futures [--demo]   fetches from a server it starts on a second thread
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "tornado/concurrent.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/netutil.h"

using namespace std::chrono_literals;
using tornado::Future, tornado::IOLoop, tornado::IOStream, tornado::SocketAddress;

namespace {

SocketAddress server_address;  // where the server listens

// A coroutine: it reads like synchronous code, but each co_await gives the
// thread back to the loop until the stream has done what was asked.
Future<std::string> asynchronous_fetch() {
  auto stream = std::make_shared<IOStream>(socket(AF_INET, SOCK_STREAM, 0));
  co_await stream->connect(server_address);
  co_await stream->write("GET / HTTP/1.0\r\n\r\n");
  std::string response = co_await stream->read_until_close();  // HTTP/1.0: until the server closes
  co_return response.substr(response.find("\r\n\r\n") + 4);    // the body
}

// Synchronous, like Tornado's HTTPClient: it runs a private loop until the
// fetch is done, and the caller's thread can do nothing else meanwhile.
std::string synchronous_fetch() { return IOLoop().run_sync(asynchronous_fetch, 5s); }

// By hand, what a coroutine does: make a Future, start the work, resolve the
// Future from a done-callback, and return it before any of that happened.
Future<std::string> manual_fetch() {
  Future<std::string> my_future;
  Future<std::string> fetch_future = asynchronous_fetch();
  fetch_future.add_done_callback([my_future](Future<std::string> f) mutable {
    std::cout << "3. done-callback: the fetch is done; set my_future's result\n";
    my_future.set_result(f.result());
  });
  return my_future;
}

Future<void> demo() {
  Future<std::string> fetched = asynchronous_fetch();  // runs until a co_await must wait
  std::cout << "2. asynchronous_fetch() returned; done() = " << fetched.done() << '\n';
  IOLoop::current().add_callback([] { std::cout << "2. meanwhile the loop runs a callback\n"; });
  std::string body = co_await fetched;
  std::cout << "2. co_await gave \"" << body << "\"\n";
  Future<std::string> by_hand = manual_fetch();
  std::cout << "3. manual_fetch() returned; done() = " << by_hand.done() << '\n';
  body = co_await by_hand;
  std::cout << "3. co_await gave \"" << body << "\"\n";
}

// The server has a thread and loop of its own, so a synchronous fetch cannot stall it.
Future<void> answer(std::shared_ptr<IOStream> stream) {
  co_await stream->read_until("\r\n\r\n");
  co_await stream->write("HTTP/1.0 200 OK\r\n\r\nHello from the server");
  stream->close();
}
void serve(int listener, std::promise<IOLoop*>& started) {
  IOLoop loop;
  auto stop_accepting = tornado::add_accept_handler(listener, [&loop](int fd, SocketAddress) {
    loop.spawn_callback([stream = std::make_shared<IOStream>(fd)] { return answer(stream); });
  });
  started.set_value(&loop);
  loop.start();
  stop_accepting();
}

}  // namespace

int main() {  // every run is the demo, so --demo needs no parsing
  int listener = tornado::bind_sockets(0, "127.0.0.1")[0];  // port 0: any free port
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &size);  // which port it got
  server_address = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&bound), size);
  std::promise<IOLoop*> started;
  std::thread server(serve, listener, std::ref(started));
  IOLoop* server_loop = started.get_future().get();

  std::cout << std::boolalpha;  // done() prints as true or false
  std::cout << "1. synchronous_fetch() returned \"" << synchronous_fetch() << "\"\n";
  IOLoop loop;
  loop.run_sync(demo, 5s);

  server_loop->add_callback([server_loop] { server_loop->stop(); });  // safe from any thread
  server.join();
  close(listener);
}
