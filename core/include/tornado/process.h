// Child processes and pre-forked servers (tornado.process).
//
//   Subprocess cat({"cat"}, {.stdin = Subprocess::STREAM, .stdout = Subprocess::STREAM});
//   co_await cat.stdin()->write("hello");
//   cat.stdin()->close();
//   std::string echoed = co_await cat.stdout()->read_until_close();
//   int code = co_await cat.wait_for_exit();  // 0, or throws CalledProcessError
//
// The child's exit is noticed without polling: a pidfd (Linux 5.3+) watched
// by the loop like any other fd, or else SIGCHLD through
// add_callback_from_signal(), as Tornado does. Each Subprocess reaps its own
// child (waitpid on its pid only) as soon as it exits, so no zombie is left
// even if nobody waits for it.
//
// fork_processes() turns one process into n workers, each of which then
// creates its own IOLoop (see its comment for the rule that implies).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tornado/concurrent.h"
#include "tornado/detail/function.h"
#include "tornado/errors.h"
#include "tornado/iostream.h"

namespace tornado {

namespace detail {
struct ChildState;
}

/// A child exited with a nonzero code or was killed by a signal
/// (Python's subprocess.CalledProcessError). returncode() is the exit code,
/// or minus the signal number (-9 for SIGKILL).
class CalledProcessError : public Error {
 public:
  CalledProcessError(int returncode, std::vector<std::string> argv);
  int returncode() const noexcept { return returncode_; }
  const std::vector<std::string>& argv() const noexcept { return argv_; }

 private:
  int returncode_;
  std::vector<std::string> argv_;
};

/// Where one of the child's standard fds (stdin, stdout, stderr) goes.
class Stdio {
 public:
  enum class Kind : std::uint8_t { inherit, stream, fd };
  /// The parent's own fd (the default).
  static constexpr Stdio inherit() noexcept { return Stdio(Kind::inherit, -1); }
  /// A new pipe; the parent's end becomes a PipeIOStream.
  static constexpr Stdio stream() noexcept { return Stdio(Kind::stream, -1); }
  /// An fd of the caller's, e.g. an open file. The caller keeps it and closes it.
  static constexpr Stdio fd(int fd) noexcept { return Stdio(Kind::fd, fd); }

  constexpr Stdio() noexcept = default;
  constexpr Kind kind() const noexcept { return kind_; }
  constexpr int fileno() const noexcept { return fd_; }

 private:
  constexpr Stdio(Kind kind, int fd) noexcept : kind_(kind), fd_(fd) {}
  Kind kind_ = Kind::inherit;
  int fd_ = -1;
};

/// How a Subprocess notices that its child exited.
enum class ExitWatch : std::uint8_t {
  automatic,  ///< a pidfd where the kernel has pidfd_open (5.3+), else SIGCHLD
  sigchld,    ///< always SIGCHLD, Tornado's way (see Subprocess::uninitialize())
};

/// How to start a child (the keyword arguments of Python's Popen that
/// Tornado's Subprocess uses).
struct SubprocessOptions {
  Stdio stdin{};
  Stdio stdout{};
  Stdio stderr{};
  /// The child's working directory; none: the parent's.
  std::optional<std::string> cwd{};
  /// The child's whole environment; none: the parent's. The program is
  /// looked up on the parent's PATH either way.
  std::optional<std::map<std::string, std::string>> env{};
  ExitWatch exit_watch = ExitWatch::automatic;
  /// Sizes of the PipeIOStreams made for Stdio::stream().
  StreamOptions stream_options{};
};

/// A child process whose standard fds may be PipeIOStreams (Tornado's
/// Subprocess). Destroying it neither kills nor waits for the child: the
/// child stays watched, is reaped when it exits, and its exit callback and
/// wait_for_exit() futures still run. Loop thread only (the loop current
/// when it was made, which must outlive the child). A moved-from Subprocess
/// may only be destroyed or assigned to.
class Subprocess {
 public:
  using ExitCallback = detail::Function<void(int returncode)>;
  /// Tornado's Subprocess.STREAM: `.stdout = Subprocess::STREAM`.
  static constexpr Stdio STREAM = Stdio::stream();

  /// Starts argv[0] (searched on PATH) with arguments argv. Throws
  /// std::system_error naming the program if it cannot be run (not found,
  /// not executable, a bad cwd): the failure is seen here, never as a child
  /// that exits with 127. Throws ValueError for an empty argv.
  explicit Subprocess(std::vector<std::string> argv, SubprocessOptions options = {});
  ~Subprocess();
  Subprocess(Subprocess&&) noexcept;
  Subprocess& operator=(Subprocess&&) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const noexcept;
  /// The streams made for Stdio::stream(); null for the others.
  const std::shared_ptr<PipeIOStream>& stdin() const noexcept { return stdin_; }
  const std::shared_ptr<PipeIOStream>& stdout() const noexcept { return stdout_; }
  const std::shared_ptr<PipeIOStream>& stderr() const noexcept { return stderr_; }
  const std::vector<std::string>& argv() const noexcept;
  /// The exit code (minus the signal number if a signal killed it), once
  /// the loop has noticed the exit.
  std::optional<int> returncode() const noexcept;

  /// Calls callback(returncode) once, on a later iteration, when the child
  /// exits (or has exited). Replaces any earlier callback. Loop thread only.
  void set_exit_callback(ExitCallback callback);
  /// Resolves with the return code once the child exits. With raise_error,
  /// a nonzero code fails it with CalledProcessError instead. Any number of
  /// these may wait at once. Loop thread only.
  [[nodiscard]] Future<int> wait_for_exit(bool raise_error = true);

  /// "Subprocess [cat -n] (pid 1234, running)", for logs and test failures.
  std::string describe() const;

  /// Removes the SIGCHLD handler that ExitWatch::sigchld (or a kernel
  /// without pidfd) installed, restoring the previous one. It is installed
  /// again when needed, and removed by itself once no watched child is left.
  /// Call it before destroying the loop that runs it (the loop of the first
  /// child watched that way) if children watched that way are still running.
  static void uninitialize();

 private:
  std::shared_ptr<detail::ChildState> state_;
  std::shared_ptr<PipeIOStream> stdin_;
  std::shared_ptr<PipeIOStream> stdout_;
  std::shared_ptr<PipeIOStream> stderr_;
};

/// Forks num_processes workers (<= 0: one per CPU) and returns, in each
/// worker, its task id (0 .. n-1). The parent never returns: it waits, and
/// restarts a worker that exits with a nonzero code or a signal under the
/// same id, up to max_restarts times in all (< 0: 100, Tornado's default),
/// then throws Error("Too many child restarts, giving up"); once every
/// worker has exited with 0 it calls std::exit(0).
///
/// Fork before creating any IOLoop or thread: a child would share the
/// parent's epoll instance and lose its threads. Throws UsageError if this
/// thread already has a current IOLoop, or if called twice. Main thread only.
std::optional<int> fork_processes(int num_processes, int max_restarts = -1);

/// This worker's task id, or none outside fork_processes() workers.
/// Safe from any thread.
std::optional<int> task_id() noexcept;

}  // namespace tornado
