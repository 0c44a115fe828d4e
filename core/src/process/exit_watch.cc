// Noticing a child's exit without polling, in one of two ways:
//
// - pidfd (Linux 5.3+): pidfd_open(pid) gives an fd that becomes readable
//   when that very process exits; the loop watches it like a socket.
// - SIGCHLD (Tornado's way, and the fallback): a process-wide handler asks
//   one loop, through add_callback_from_signal(), to try waitpid(WNOHANG) on
//   every child still waited for. The handler is installed while such a
//   child exists and removed when none is left.
//
// Either way only our own pids are waited for, so children that other code
// started are left for it to reap.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>

#include "process/child_state.h"

namespace tornado::detail {

namespace {

// ---- pidfd ------------------------------------------------------------------

void on_pidfd_ready(ChildState& child) {
  if (!child.try_reap()) return;
  auto keep = child.shared_from_this();  // the handler being removed holds a reference
  child.loop->remove_handler(child.pidfd);
  ::close(child.pidfd);
  child.pidfd = -1;
  child.exited();
}

bool watch_with_pidfd(const std::shared_ptr<ChildState>& child) {
  long fd = ::syscall(SYS_pidfd_open, child->pid, 0);  // close-on-exec by definition
  if (fd < 0) return false;                            // ENOSYS before Linux 5.3, or filtered out
  child->pidfd = static_cast<int>(fd);
  // The child's state owns the pidfd: IOLoop::close(all_fds) lets it close it.
  detail::add_owned_handler(
      *child->loop, child->pidfd,
      [child](int, std::uint32_t ready) {
        if (ready != detail::kCloseOwnedFd) {
          on_pidfd_ready(*child);
        } else if (child->pidfd >= 0) {
          ::close(child->pidfd);
          child->pidfd = -1;
        }
      },
      IOLoop::READ, Site{std::source_location::current(), "Subprocess exit"});
  return true;
}

// ---- SIGCHLD ----------------------------------------------------------------

// The loop that runs the reaper; the signal handler reads only this.
std::atomic<IOLoop*> g_reaper_loop{nullptr};

struct SigchldReaper {
  std::mutex mutex;
  std::map<pid_t, std::shared_ptr<ChildState>> waiting;
  struct sigaction previous {};
  bool installed = false;
};

SigchldReaper& reaper() {
  static auto* instance = new SigchldReaper;  // never destroyed: a handler may still run at exit
  return *instance;
}

void reap_waiting_children();

void on_sigchld(int /*signal*/) {
  int saved = errno;
  IOLoop* loop = g_reaper_loop.load();
  if (loop != nullptr) loop->add_callback_from_signal([] { reap_waiting_children(); });
  errno = saved;
}

void install_locked(SigchldReaper& r, IOLoop& loop) {
  struct sigaction action {};
  action.sa_handler = on_sigchld;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  g_reaper_loop.store(&loop);
  ::sigaction(SIGCHLD, &action, &r.previous);
  r.installed = true;
}

void uninstall_locked(SigchldReaper& r) {
  if (!r.installed) return;
  ::sigaction(SIGCHLD, &r.previous, nullptr);
  g_reaper_loop.store(nullptr);
  r.installed = false;
}

// Runs on the reaper's loop; each reaped child is finished on its own loop.
void reap_waiting_children() {
  SigchldReaper& r = reaper();
  std::vector<std::shared_ptr<ChildState>> done;
  {
    std::lock_guard lock(r.mutex);
    for (auto it = r.waiting.begin(); it != r.waiting.end();) {
      if (it->second->try_reap()) {
        done.push_back(std::move(it->second));
        it = r.waiting.erase(it);
      } else {
        ++it;
      }
    }
    if (r.waiting.empty()) uninstall_locked(r);
  }
  IOLoop* here = IOLoop::current(false);
  for (auto& child : done) {
    if (child->loop == here) {
      child->exited();
    } else {
      child->loop->add_callback([child] { child->exited(); });
    }
  }
}

void watch_with_sigchld(const std::shared_ptr<ChildState>& child) {
  SigchldReaper& r = reaper();
  IOLoop* loop = nullptr;
  {
    std::lock_guard lock(r.mutex);
    r.waiting[child->pid] = child;
    if (!r.installed) install_locked(r, *child->loop);
    loop = g_reaper_loop.load();
  }
  // The child may have exited before the handler was in place.
  loop->add_callback([] { reap_waiting_children(); });
}

}  // namespace

void watch_child(const std::shared_ptr<ChildState>& child, ExitWatch how) {
  if (how == ExitWatch::automatic && watch_with_pidfd(child)) return;
  watch_with_sigchld(child);
}

}  // namespace tornado::detail

namespace tornado {

void Subprocess::uninitialize() {
  detail::SigchldReaper& r = detail::reaper();
  std::lock_guard lock(r.mutex);
  detail::uninstall_locked(r);
}

}  // namespace tornado
