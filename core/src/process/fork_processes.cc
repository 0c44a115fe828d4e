// fork_processes(): one process becomes n workers; the parent stays behind
// only to restart workers that fail (Tornado's pre-fork model).
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <system_error>
#include <thread>

#include "tornado/ioloop.h"
#include "tornado/log.h"
#include "tornado/process.h"

namespace tornado {

namespace {

std::atomic<int> g_task_id{-1};  // -1: not a worker

int cpu_count() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

void check_can_fork() {
  if (g_task_id.load() >= 0) {
    throw UsageError("fork_processes: already called; this process is worker " +
                     std::to_string(g_task_id.load()));
  }
  if (IOLoop* loop = IOLoop::current(false)) {
    throw UsageError("fork_processes: this thread already has a loop (" + loop->describe() +
                     "), which every worker would share; create IOLoops only after "
                     "fork_processes() returns");
  }
}

// Forks worker `id`: returns the id in the worker, none in the parent.
std::optional<int> start_child(int id, std::map<pid_t, int>& children) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork_processes: fork");
  if (pid == 0) {
    g_task_id.store(id);
    return id;
  }
  children[pid] = id;
  return std::nullopt;
}

// Logs how worker `id` ended; true if it failed and should be restarted.
bool failed(int id, pid_t pid, int status) {
  std::string who = log::cat("child ", id, " (pid ", pid, ")");
  if (WIFSIGNALED(status)) {
    log::warning(log::cat(who, " killed by signal ", WTERMSIG(status), ", restarting"));
  } else if (WEXITSTATUS(status) != 0) {
    log::warning(log::cat(who, " exited with status ", WEXITSTATUS(status), ", restarting"));
  } else {
    log::info(log::cat(who, " exited normally"));
    return false;
  }
  return true;
}

}  // namespace

std::optional<int> fork_processes(int num_processes, int max_restarts) {
  check_can_fork();
  if (num_processes <= 0) num_processes = cpu_count();
  if (max_restarts < 0) max_restarts = 100;
  log::info(log::cat("Starting ", num_processes, " processes"));
  std::map<pid_t, int> children;
  for (int i = 0; i < num_processes; ++i) {
    if (auto id = start_child(i, children)) return id;
  }
  int restarts = 0;
  while (!children.empty()) {
    int status = 0;
    pid_t pid = ::wait(&status);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "fork_processes: wait");
    }
    auto it = children.find(pid);
    if (it == children.end()) continue;  // not one of the workers
    int id = it->second;
    children.erase(it);
    if (!failed(id, pid, status)) continue;
    if (++restarts > max_restarts) throw Error("Too many child restarts, giving up");
    if (auto new_id = start_child(id, children)) return new_id;
  }
  // Every worker finished cleanly: exit rather than return into code that
  // would go on to start a server in the parent too.
  std::exit(0);
}

std::optional<int> task_id() noexcept {
  int id = g_task_id.load();
  if (id < 0) return std::nullopt;
  return id;
}

}  // namespace tornado
