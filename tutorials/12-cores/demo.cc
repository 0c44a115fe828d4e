// Step 12's --demo: this process is the client. Its child supervises the
// workers (fork_processes never returns in the process that calls it), so
// this one can ask, print a summary, stop them all, and wait for every one.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cores.h"
#include "tornado/gen.h"
#include "tornado/httpclient.h"
#include "tornado/ioloop.h"

using tornado::Future;

namespace {

// 20 requests per worker, each on a new connection (no keep-alive), so the
// kernel picks a worker for each one.
Future<void> ask(std::uint16_t port, int workers) {
  tornado::HTTPClientOptions options;
  options.max_idle_per_host = 0;
  tornado::AsyncHTTPClient http(options);
  std::string url = "http://127.0.0.1:";
  url.append(std::to_string(port)).append("/");
  std::vector<Future<tornado::HTTPResponse>> requests;
  for (int i = 0; i < 20 * workers; ++i) requests.push_back(http.fetch(url));
  std::vector<tornado::HTTPResponse> responses = co_await tornado::gen::multi(requests);
  std::map<std::string, int> answers;  // how many answers each worker gave
  for (const tornado::HTTPResponse& response : responses) ++answers[response.body];
  std::cout << responses.size() << " requests answered, by " << answers.size() << " workers\n";
  for (const auto& [who, count] : answers) std::cerr << count << " answers from " << who;
}

// SIGTERM to the supervisor, which exits, and PR_SET_PDEATHSIG passes it on
// to every worker; orphaned, they become our children (we are their
// subreaper), and we wait for each. Returns how many exited with 0.
int stop_all(pid_t supervisor) {
  ::kill(supervisor, SIGTERM);
  int clean = 0, status = 0;
  for (pid_t pid; (pid = ::wait(&status)) > 0 || errno == EINTR;) {
    if (pid > 0 && pid != supervisor && WIFEXITED(status) && WEXITSTATUS(status) == 0) ++clean;
  }
  return clean;
}

}  // namespace

int cores::demo(int workers) {
  std::uint16_t port = 0;
  std::vector<int> sockets = bind_one_port(port, workers);  // connections queue from now on
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // orphans of the supervisor become our children
  pid_t client = ::getpid();
  pid_t supervisor = ::fork();  // before any IOLoop or thread exists, as fork_processes needs
  if (supervisor == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // if the client dies, so does the supervisor
    return ::getppid() == client ? run_workers(sockets, /*max_restarts=*/0) : 1;
  }
  for (int fd : sockets) ::close(fd);  // the client accepts nothing
  int code = 0;
  try {
    tornado::IOLoop loop;
    loop.run_sync([&] { return ask(port, workers); }, std::chrono::seconds(8));
  } catch (const std::exception& e) {
    std::cout << "the demo failed: " << e.what() << '\n';
    code = 1;
  }
  int clean = stop_all(supervisor);
  std::cout << "SIGTERM to the supervisor: " << clean << " workers stopped cleanly\n";
  return clean == workers ? code : 1;
}
