// Step 1: an event loop by hand, with epoll and no library. A non-blocking
// HTTP GET: start the connect, then let the loop say when to write and read.
//
//   tutorial-01-epoll [--demo]   fetches / from a tiny server it starts itself (server.cc)
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <thread>

// In server.cc: a thread that answers one HTTP request; `address` is where it listens.
std::thread start_server(sockaddr_in& address);

namespace {

// ---- The loop ---------------------------------------------------------------
int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
std::map<int, std::function<void()>> handlers;  // fd -> what to do when it is ready

void watch(int fd, std::uint32_t events, std::function<void()> handler) {
  epoll_event ev{.events = events, .data = {.fd = fd}};
  epoll_ctl(epoll_fd, handlers.contains(fd) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  handlers[fd] = std::move(handler);
}
void unwatch(int fd) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  handlers.erase(fd);
}
bool run_loop() {  // until nothing is watched; false if nothing happens for 5 s
  epoll_event ready[16];
  while (!handlers.empty()) {
    int n = epoll_wait(epoll_fd, ready, 16, 5000);  // the one place the program waits
    if (n == 0) return false;
    for (int i = 0; i < n; ++i)
      if (auto it = handlers.find(ready[i].data.fd); it != handlers.end())
        std::function<void()>(it->second)();  // a copy: the handler may unwatch its fd
  }
  return true;
}

// ---- A fetch, as three handlers (like the selectors AsyncConnector) -------
struct Fetch {
  int sock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  std::string response;

  void start(sockaddr_in addr) {  // connect() returns at once; EINPROGRESS: "I will tell you"
    if (connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 && errno != EINPROGRESS)
      return finish(std::string("connect failed: ") + std::strerror(errno));
    std::cout << "connect: in progress; watch for writable\n";
    watch(sock, EPOLLOUT, [this] { on_writable(); });
  }
  void on_writable() {  // connected, or failed: SO_ERROR says which
    int error = 0;
    socklen_t size = sizeof error;
    getsockopt(sock, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) return finish(std::string("connect failed: ") + std::strerror(error));
    std::cout << "writable: connected; send the request, watch for readable\n";
    std::string request = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    send(sock, request.data(), request.size(), MSG_NOSIGNAL);  // small: one send takes it all
    watch(sock, EPOLLIN, [this] { on_readable(); });
  }
  void on_readable() {  // some bytes, or the end of the response
    char buffer[4096];
    ssize_t n = recv(sock, buffer, sizeof buffer, 0);
    if (n > 0) response.append(buffer, static_cast<std::size_t>(n));
    if (n > 0 || (n < 0 && errno == EAGAIN)) return;  // wait for more
    finish(n == 0 ? "readable: recv() returned 0, the server closed; done" : "recv failed");
  }
  void finish(const std::string& why) {
    std::cout << why << '\n';
    unwatch(sock);
  }
};

}  // namespace

int main() {  // every run is the demo, so --demo needs no parsing
  sockaddr_in address{};
  std::thread server = start_server(address);
  Fetch fetch;
  fetch.start(address);
  std::cout << "main: the fetch has started, nothing is received yet; run the loop\n";
  bool finished = run_loop();
  server.join();
  for (int fd : {fetch.sock, epoll_fd}) close(fd);
  if (!finished) return std::cerr << "nothing happened for 5 s; giving up\n", 1;
  std::erase(fetch.response, '\r');
  std::cout << "main: the loop ran out of work. The response:\n" << fetch.response;
}
