// Subprocess: pipes for the child's standard fds, the spawn, and the
// parent's side of waiting for the exit.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "process/child_state.h"
#include "tornado/ioloop.h"
#include "tornado/process.h"

namespace tornado {

namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// An fd closed when it goes out of scope unless released.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// The fds of one standard stream: the child's end, and (for a pipe) ours.
struct StdioFds {
  OwnedFd child;
  OwnedFd parent;
};

// Every fd made here is close-on-exec and >= 3, so the spawned child gets
// only what its dup2s put at 0, 1 and 2.
StdioFds open_stdio(const Stdio& stdio, int target) {
  StdioFds fds;
  if (stdio.kind() == Stdio::Kind::stream) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw_errno("Subprocess: pipe2");
    bool child_reads = target == 0;
    fds.child = OwnedFd(ends[child_reads ? 0 : 1]);
    fds.parent = OwnedFd(ends[child_reads ? 1 : 0]);
  } else if (stdio.kind() == Stdio::Kind::fd) {
    int copy = ::fcntl(stdio.fileno(), F_DUPFD_CLOEXEC, 3);
    if (copy < 0) throw_errno("Subprocess: cannot use the given fd");
    fds.child = OwnedFd(copy);
  }
  return fds;
}

std::shared_ptr<PipeIOStream> stream_for(StdioFds& fds, const StreamOptions& options) {
  if (fds.parent.get() < 0) return nullptr;
  return std::make_shared<PipeIOStream>(fds.parent.release(), options);
}

}  // namespace

CalledProcessError::CalledProcessError(int returncode, std::vector<std::string> argv)
    : Error([&] {
        std::string command;
        for (const std::string& arg : argv) command += (command.empty() ? "" : " ") + arg;
        std::string how = returncode < 0
                              ? "died of signal " + std::to_string(-returncode)
                              : "returned non-zero exit status " + std::to_string(returncode);
        return "Command '" + command + "' " + how + ".";
      }()),
      returncode_(returncode),
      argv_(std::move(argv)) {}

Subprocess::Subprocess(std::vector<std::string> argv, SubprocessOptions options) {
  if (argv.empty()) throw ValueError("Subprocess: argv is empty; pass at least the program");
  IOLoop& loop = IOLoop::current();
  StdioFds fds[3] = {open_stdio(options.stdin, 0), open_stdio(options.stdout, 1),
                     open_stdio(options.stderr, 2)};
  detail::SpawnRequest request{&argv, &options};
  for (int i = 0; i < 3; ++i) request.child_fds[i] = fds[i].child.get();
  pid_t pid = detail::spawn(request);
  for (StdioFds& f : fds) f.child = OwnedFd();  // the child has its copies now

  state_ = std::make_shared<detail::ChildState>(loop, pid, std::move(argv));
  detail::watch_child(state_, options.exit_watch);
  stdin_ = stream_for(fds[0], options.stream_options);
  stdout_ = stream_for(fds[1], options.stream_options);
  stderr_ = stream_for(fds[2], options.stream_options);
}

Subprocess::~Subprocess() = default;
Subprocess::Subprocess(Subprocess&&) noexcept = default;
Subprocess& Subprocess::operator=(Subprocess&&) noexcept = default;

pid_t Subprocess::pid() const noexcept { return state_->pid; }

const std::vector<std::string>& Subprocess::argv() const noexcept { return state_->argv; }

std::optional<int> Subprocess::returncode() const noexcept { return state_->returncode; }

void Subprocess::set_exit_callback(ExitCallback callback) {
  state_->exit_callback = std::move(callback);
  if (state_->returncode) {
    state_->loop->add_callback([state = state_] { state->run_exit_callback(); });
  }
}

Future<int> Subprocess::wait_for_exit(bool raise_error) {
  Future<int> future(Site{std::source_location::current(), "Subprocess.wait_for_exit"});
  if (state_->returncode || state_->lost) {
    state_->resolve(future, raise_error);
  } else {
    state_->waiters.push_back({future, raise_error});
  }
  return future;
}

std::string Subprocess::describe() const { return state_->describe(); }

}  // namespace tornado
