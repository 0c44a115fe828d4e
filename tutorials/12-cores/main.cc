// Step 12: every core. N sockets listen on one port (SO_REUSEPORT); fork_processes(N) makes N
// workers, each with its own IOLoop accepting on its own socket, and the kernel spreads connections
// among them. Each answer says which worker sent it. The --demo scenario is in demo.cc.
//
//   tutorial-12-cores [--demo] [--workers N]  N workers (default 2), 20 requests each, a summary
//   tutorial-12-cores --port P [--workers N]  serves HTTP on 127.0.0.1:P until SIGINT or SIGTERM
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cores.h"
#include "tornado/httpserver.h"
#include "tornado/ioloop.h"
#include "tornado/netutil.h"
#include "tornado/process.h"

using tornado::IOLoop, tornado::bind_sockets, tornado::kDefaultBacklog;

namespace {

IOLoop* g_loop = nullptr;

void stop_on_signal(int) {
  g_loop->add_callback_from_signal([] { g_loop->stop(); });
}

// The supervisor exits at once; PR_SET_PDEATHSIG then stops every worker with SIGTERM.
void stop_supervisor(int) { std::_Exit(0); }

// One trace file per process: file:X becomes file:X.worker-N; with any other sink, no trace.
void trace_to_own_file(int id) {
  std::string spec = std::getenv("TORNADO_TRACE") ? std::getenv("TORNADO_TRACE") : "";
  spec.append(".worker-").append(std::to_string(id));
  ::setenv("TORNADO_TRACE", spec.starts_with("file:") ? spec.c_str() : "", 1);
}

}  // namespace

std::vector<int> cores::bind_one_port(std::uint16_t& port, int count) {
  std::vector<int> sockets;
  for (int i = 0; i < count; ++i) {  // bind_sockets' last argument: SO_REUSEPORT
    sockets.push_back(bind_sockets(port, "127.0.0.1", AF_INET, kDefaultBacklog, true).front());
    sockaddr_in address{};  // the port the kernel chose, if port was 0
    socklen_t size = sizeof address;
    ::getsockname(sockets.back(), reinterpret_cast<sockaddr*>(&address), &size);
    port = ntohs(address.sin_port);
  }
  return sockets;
}

int cores::run_workers(const std::vector<int>& sockets, int max_restarts) {
  pid_t supervisor = ::getpid();
  std::signal(SIGINT, stop_supervisor);  // the workers set their own handlers
  std::signal(SIGTERM, stop_supervisor);
  int id = *tornado::fork_processes(static_cast<int>(sockets.size()), max_restarts);
  // From here on, this is worker `id`, a process of its own.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);       // never outlive the supervisor,
  if (::getppid() != supervisor) return 0;  // even one that died before the line above
  trace_to_own_file(id);
  IOLoop loop;  // made after the fork: a loop made before it would be shared
  g_loop = &loop;
  std::signal(SIGINT, stop_on_signal);
  std::signal(SIGTERM, stop_on_signal);
  std::string hello = "worker ";
  hello.append(std::to_string(id)).append(" (pid ").append(std::to_string(::getpid())) += ")\n";
  tornado::HTTPServer server([&](tornado::HTTPServerRequest& request) {
    request.response().write(hello);  // each process has its own `hello`: nothing is shared
  });
  int own = sockets[static_cast<std::size_t>(id)];
  server.add_socket(own);
  for (int fd : sockets) {
    if (fd != own) ::close(fd);  // the other workers' sockets are theirs alone
  }
  std::cerr << "accepting: " << hello;
  loop.start();
  std::signal(SIGINT, SIG_IGN);   // Ctrl-C's SIGINT is followed by PR_SET_PDEATHSIG's
  std::signal(SIGTERM, SIG_IGN);  // SIGTERM, which must not reach a loop being destroyed
  return 0;
}

int main(int argc, char** argv) {
  int port = 0, workers = 2;
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == std::string_view("--port")) port = std::atoi(argv[i + 1]);
    if (argv[i] == std::string_view("--workers")) workers = std::max(1, std::atoi(argv[i + 1]));
  }
  if (port == 0) return cores::demo(workers);
  auto shared = static_cast<std::uint16_t>(port);
  std::vector<int> sockets = cores::bind_one_port(shared, workers);
  std::cout << workers << " workers on 127.0.0.1:" << port << " (Ctrl-C stops them)" << std::endl;
  return cores::run_workers(sockets, /*max_restarts=*/-1);
}
