// The demo's server for step 1: it answers one HTTP request with plain
// blocking calls, on a thread of its own, so the demo needs no network.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace {

void serve_one(int listener) {
  int conn = accept(listener, nullptr, nullptr);  // SO_RCVTIMEO bounds this wait
  std::string request;                            // read up to the blank line that ends it
  for (char c; !request.ends_with("\r\n\r\n") && recv(conn, &c, 1, 0) == 1;) request += c;
  std::string reply = "HTTP/1.0 200 OK\r\nContent-Length: 15\r\n\r\nHello, epoll!\r\n";
  send(conn, reply.data(), reply.size(), MSG_NOSIGNAL);
  close(conn);  // HTTP/1.0: closing ends the response
  close(listener);
}

}  // namespace

std::thread start_server(sockaddr_in& address) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  address = {AF_INET, 0, {htonl(INADDR_LOOPBACK)}, {}};  // 127.0.0.1, port 0: any free port
  socklen_t size = sizeof address;
  bind(listener, reinterpret_cast<sockaddr*>(&address), size);
  listen(listener, 1);
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);  // the port it was given
  timeval patience{.tv_sec = 5, .tv_usec = 0};  // accept() gives up if no client comes
  setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  return std::thread(serve_one, listener);
}
