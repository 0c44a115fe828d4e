// Starting a child with posix_spawnp(). glibc runs the child on a vfork-like
// clone and reports any failure before exec (chdir, dup2, exec itself) as
// posix_spawnp's return value, which is the close-on-exec status pipe
// technique done for us: the caller sees "No such file or directory", not a
// child that exits with 127.
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <vector>

#include "process/child_state.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace tornado::detail {

namespace {

// Owns posix_spawn's two C structures for one call.
struct SpawnSetup {
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
};

// As Python's restore_signals: the child starts with no blocked signals and
// SIGPIPE/SIGXFSZ at their defaults, whatever the parent (a server that
// ignores SIGPIPE, a thread that blocked it around a write) had.
void reset_signals(posix_spawnattr_t& attr) {
  sigset_t none;
  sigset_t defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

// Pointers into `strings`, null-terminated, as exec wants them.
std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string failure_message(const SpawnRequest& request) {
  std::string message = "Subprocess: cannot run '" + request.argv->front() + "'";
  if (request.options->cwd) message += " in '" + *request.options->cwd + "'";
  return message;
}

}  // namespace

pid_t spawn(const SpawnRequest& request) {
  SpawnSetup setup;
  const SubprocessOptions& options = *request.options;
  if (options.cwd) posix_spawn_file_actions_addchdir_np(&setup.actions, options.cwd->c_str());
  // Every child_fds entry is a close-on-exec fd >= 3, so these dup2s never
  // clobber one another and the originals vanish at exec.
  for (int target = 0; target < 3; ++target) {
    int fd = request.child_fds[target];
    if (fd >= 0) posix_spawn_file_actions_adddup2(&setup.actions, fd, target);
  }
  reset_signals(setup.attr);

  std::vector<std::string> args = *request.argv;
  std::vector<char*> argv = c_array(args);
  std::vector<std::string> env_strings;
  if (options.env) {
    for (const auto& [name, value] : *options.env) env_strings.push_back(name + "=" + value);
  }
  std::vector<char*> envp = c_array(env_strings);

  pid_t pid = -1;
  int error = posix_spawnp(&pid, argv[0], &setup.actions, &setup.attr, argv.data(),
                           options.env ? envp.data() : environ);
  if (error != 0) throw std::system_error(error, std::generic_category(), failure_message(request));
  return pid;
}

}  // namespace tornado::detail
