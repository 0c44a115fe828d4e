#include "child_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "tornado/errors.h"

extern char** environ;

namespace tornado::viz {

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& trace_spec) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "TORNADO_TRACE=", 14) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back("TORNADO_TRACE=" + trace_spec);
  std::vector<char*> args, env;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  for (std::string& e : env_strings) env.push_back(e.data());
  args.push_back(nullptr);
  env.push_back(nullptr);
  int rc = ::posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), env.data());
  if (rc != 0) {
    throw Error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
}

ChildProcess::~ChildProcess() {
  if (exited()) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 40 && !exited(); ++i) {  // two seconds to finish its trace
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (exited()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

bool ChildProcess::exited() {
  if (reaped_) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  reaped_ = true;
  if (WIFEXITED(status)) exit_status_ = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) signal_ = WTERMSIG(status);
  return true;
}

std::string ChildProcess::describe() const {
  if (!reaped_) return "running";
  if (exit_status_) return "exited with status " + std::to_string(*exit_status_);
  return "killed by signal " + std::to_string(signal_);
}

}  // namespace tornado::viz
