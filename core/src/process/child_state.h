// What a Subprocess and its exit watcher share: the child's pid, its exit
// status once known, and who is waiting for it. The watcher (a pidfd
// handler, or the SIGCHLD reaper) holds it too, so a Subprocess destroyed
// before its child exits still gets the child reaped.
#pragma once

#include <sys/types.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tornado/ioloop.h"
#include "tornado/process.h"

namespace tornado::detail {

struct ChildState : std::enable_shared_from_this<ChildState> {
  ChildState(IOLoop& owner, pid_t child, std::vector<std::string> args)
      : loop(&owner), pid(child), argv(std::move(args)) {}
  /// Closes the pidfd; reaps the child if it has exited but was not reaped
  /// (its loop closed first).
  ~ChildState();
  ChildState(const ChildState&) = delete;
  ChildState& operator=(const ChildState&) = delete;

  /// waitpid(pid, WNOHANG): true once the child is reaped (or lost).
  bool try_reap();
  /// The child is gone: resolve waiters and run the exit callback. Loop thread.
  void exited();
  void run_exit_callback();
  void resolve(Future<int>& future, bool raise_error) const;
  std::string describe() const;

  struct Waiter {
    Future<int> future;
    bool raise_error;
  };

  IOLoop* loop;
  pid_t pid;
  std::vector<std::string> argv;
  int pidfd = -1;
  bool reaped = false;            // waitpid has returned for pid
  std::optional<int> returncode;  // set by exited()
  std::exception_ptr lost;        // waitpid failed: someone else reaped it
  std::optional<int> status;      // raw waitpid status, between try_reap and exited
  Subprocess::ExitCallback exit_callback;
  std::vector<Waiter> waiters;
};

/// Starts watching `child` for its exit, with a pidfd or SIGCHLD.
void watch_child(const std::shared_ptr<ChildState>& child, ExitWatch how);

/// The file actions and attributes of one spawn: which fd becomes the
/// child's 0, 1 and 2 (-1: inherit the parent's).
struct SpawnRequest {
  const std::vector<std::string>* argv;
  const SubprocessOptions* options;
  int child_fds[3] = {-1, -1, -1};
};
/// posix_spawnp()s the child; throws std::system_error if it cannot run.
pid_t spawn(const SpawnRequest& request);

}  // namespace tornado::detail
