// The program `tornado-viz -- PROGRAM ARGS` runs: started with TORNADO_TRACE
// pointing at the viewer, watched for its exit, and stopped (SIGTERM, then
// SIGKILL) if the viewer closes first.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace tornado::viz {

class ChildProcess {
 public:
  /// Starts argv[0] (searched in PATH) with TORNADO_TRACE=`trace_spec` added
  /// to this process's environment. Throws tornado::Error if it cannot.
  ChildProcess(const std::vector<std::string>& argv, const std::string& trace_spec);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Whether it has exited (reaps it without waiting). UI thread only.
  bool exited();
  /// "exited with status 0", "killed by signal 9", or "running".
  std::string describe() const;
  /// Its exit status, if it exited normally.
  std::optional<int> exit_status() const { return exit_status_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::optional<int> exit_status_;
  int signal_ = 0;
};

}  // namespace tornado::viz
