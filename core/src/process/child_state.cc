// ChildState: turning a reaped child's status into a return code and
// handing it to the exit callback and the wait_for_exit() futures.
#include "process/child_state.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <system_error>

#include "tornado/log.h"

namespace tornado::detail {

ChildState::~ChildState() {
  if (pidfd >= 0) ::close(pidfd);
  // Normally reaped long ago; if the loop closed first, reap it if it can be.
  if (!reaped) (void)try_reap();
}

bool ChildState::try_reap() {
  if (reaped) return true;
  int raw = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid, &raw, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  reaped = true;
  if (r > 0) {
    status = raw;
  } else {
    lost = std::make_exception_ptr(std::system_error(
        errno, std::generic_category(),
        "waitpid(" + std::to_string(pid) +
            ") failed: something else reaped the child (is SIGCHLD set to SIG_IGN?)"));
  }
  return true;
}

void ChildState::exited() {
  if (status) {
    returncode = WIFSIGNALED(*status) ? -WTERMSIG(*status) : WEXITSTATUS(*status);
  } else {
    log::error(log::cat(describe(), ": exit status lost: ", log::describe(lost)));
  }
  std::vector<Waiter> now = std::move(waiters);
  waiters.clear();
  for (Waiter& w : now) resolve(w.future, w.raise_error);
  run_exit_callback();
}

void ChildState::run_exit_callback() {
  if (!returncode || !exit_callback) return;
  Subprocess::ExitCallback callback = std::move(exit_callback);
  exit_callback = nullptr;
  callback(*returncode);
}

void ChildState::resolve(Future<int>& future, bool raise_error) const {
  if (future.done()) return;  // cancelled by its owner
  if (lost) return future.set_exception(lost);
  if (raise_error && *returncode != 0) {
    return future.set_exception(CalledProcessError(*returncode, argv));
  }
  future.set_result(*returncode);
}

std::string ChildState::describe() const {
  std::ostringstream out;
  out << "Subprocess [";
  for (std::size_t i = 0; i < argv.size(); ++i) out << (i == 0 ? "" : " ") << argv[i];
  out << "] (pid " << pid << ", ";
  if (returncode) {
    out << "exited " << *returncode;
  } else if (lost) {
    out << "exit status lost";
  } else {
    out << "running";
  }
  out << ")";
  return out.str();
}

}  // namespace tornado::detail
