// Specification of process.h: Subprocess with pipe streams, exit codes and
// signals, fd redirection, spawn failures, reaping many children at once
// (pidfd and SIGCHLD), and fork_processes/task_id in a forked helper (ported
// in part from Tornado's process_test.py). Real child processes throughout.
#include "tornado/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "support.h"
#include "tornado/errors.h"
#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/testing.h"

namespace tornado {
namespace {

using test_support::kTestTimeout;
using test_support::TempDir;
using test_support::wait;

// ---- Fixtures --------------------------------------------------------------------

// A loop for each test; afterwards no fd is left open and no child is left
// unreaped (a zombie would make waitpid(-1, WNOHANG) return its pid).
class SubprocessTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = test_support::open_fd_count(); }
  void TearDown() override {
    EXPECT_EQ(test_support::open_fd_count(), fds_before_) << "an fd was left open";
    EXPECT_LE(::waitpid(-1, nullptr, WNOHANG), 0) << "a child was left unreaped";
  }

  testing::CurrentLoop loop_;
  std::size_t fds_before_ = 0;
};

SubprocessOptions piped_stdout() {
  SubprocessOptions options;
  options.stdout = Subprocess::STREAM;
  return options;
}

// Everything the child writes to stdout, then its exit code.
Future<std::pair<std::string, int>> output_and_code(Subprocess& proc) {
  std::string out = co_await proc.stdout()->read_until_close();
  int code = co_await proc.wait_for_exit(false);
  co_return std::pair{out, code};
}

// ---- Pipes -----------------------------------------------------------------------

TEST_F(SubprocessTest, CatRoundTripsOneMebibyteThroughStdinAndStdout) {
  std::string data(1 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7919) >> 3);
  SubprocessOptions options = piped_stdout();
  options.stdin = Subprocess::STREAM;
  Subprocess cat({"cat"}, options);

  auto round_trip = [&]() -> Future<std::string> {
    auto reading = cat.stdout()->read_until_close();
    co_await cat.stdin()->write(data);
    cat.stdin()->close();
    std::string echoed = co_await reading;
    EXPECT_EQ(co_await cat.wait_for_exit(), 0);
    co_return echoed;
  };
  std::string echoed = loop_.run_sync(round_trip, kTestTimeout);
  EXPECT_EQ(echoed.size(), data.size());
  EXPECT_TRUE(echoed == data) << "the bytes came back changed";
}

TEST_F(SubprocessTest, StderrAsStreamCarriesWhatTheChildWritesThere) {
  SubprocessOptions options = piped_stdout();
  options.stderr = Subprocess::STREAM;
  Subprocess proc({"sh", "-c", "echo out; echo err >&2"}, options);
  EXPECT_EQ(wait(loop_, proc.stderr()->read_until_close()), "err\n");
  EXPECT_EQ(wait(loop_, output_and_code(proc)), std::pair(std::string("out\n"), 0));
}

TEST_F(SubprocessTest, StreamsAreNullUnlessAskedFor) {
  Subprocess proc({"true"}, piped_stdout());
  EXPECT_EQ(proc.stdin(), nullptr);
  EXPECT_NE(proc.stdout(), nullptr);
  EXPECT_EQ(proc.stderr(), nullptr);
  EXPECT_EQ(wait(loop_, output_and_code(proc)).second, 0);
}

// ---- Redirection -----------------------------------------------------------------

TEST_F(SubprocessTest, AGivenFdReceivesTheChildsOutputAndStaysTheCallers) {
  TempDir dir;
  std::string path = dir.file("out.txt");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  SubprocessOptions options;
  options.stdout = Stdio::fd(fd);
  Subprocess proc({"echo", "to a file"}, options);
  EXPECT_EQ(wait(loop_, proc.wait_for_exit()), 0);
  EXPECT_EQ(::fcntl(fd, F_GETFD), FD_CLOEXEC) << "the caller's fd must stay open and unchanged";
  ::close(fd);
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  EXPECT_EQ(line, "to a file");
}

TEST_F(SubprocessTest, InheritedStderrIsTheParentsOwn) {
  char target[256] = {};
  ASSERT_GT(::readlink("/proc/self/fd/2", target, sizeof target - 1), 0);
  Subprocess proc({"readlink", "/proc/self/fd/2"}, piped_stdout());
  EXPECT_EQ(wait(loop_, output_and_code(proc)), std::pair(std::string(target) + "\n", 0));
}

// The fds of this process that a child may inherit: those without close-on-exec.
std::string inheritable_fds() {
  std::vector<int> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::stoi(entry.path().filename().string());
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) fds.push_back(fd);
  }
  std::sort(fds.begin(), fds.end(),
            [](int a, int b) { return std::to_string(a) < std::to_string(b); });
  std::string out;
  for (int fd : fds) out += std::to_string(fd) + "\n";
  return out;
}

// Taken before main() runs, so before any loop, stream or child exists.
const std::string kInheritableAtStart = inheritable_fds();

TEST_F(SubprocessTest, TheChildInheritsNoneOfTheFdsThisLibraryOpens) {
  // The loop's epoll fd and waker, the pidfd, our ends of the pipes: all
  // close-on-exec, so the shell sees only what the parent left inheritable.
  SubprocessOptions options = piped_stdout();
  options.stdin = Subprocess::STREAM;
  Subprocess proc({"sh", "-c", "ls /proc/$$/fd"}, options);
  proc.stdin()->close();
  EXPECT_EQ(wait(loop_, output_and_code(proc)), std::pair(kInheritableAtStart, 0))
      << "0, 1, 2 and what the test runner left open, nothing more";
  EXPECT_EQ(inheritable_fds(), kInheritableAtStart) << "an fd of ours lacks close-on-exec";
}

TEST_F(SubprocessTest, CwdAndEnvReplaceTheParents) {
  TempDir dir;
  std::string cwd = std::filesystem::canonical(dir.file("")).string();
  SubprocessOptions options = piped_stdout();
  options.cwd = cwd;
  options.env = std::map<std::string, std::string>{{"GREETING", "hi"}};
  Subprocess proc({"sh", "-c", "pwd; echo $GREETING; echo ${HOME-unset}"}, options);
  EXPECT_EQ(wait(loop_, output_and_code(proc)), std::pair(cwd + "\nhi\nunset\n", 0));
}

// ---- Spawn failures --------------------------------------------------------------

TEST_F(SubprocessTest, AProgramThatDoesNotExistThrowsSystemErrorNamingIt) {
  try {
    Subprocess proc({"tornado-no-such-program", "x"}, piped_stdout());
    ADD_FAILURE() << "started " << proc.describe();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    EXPECT_NE(std::string(e.what()).find("'tornado-no-such-program'"), std::string::npos)
        << e.what();
  }
}

TEST_F(SubprocessTest, AMissingCwdThrowsInsteadOfStartingTheChild) {
  SubprocessOptions options;
  options.cwd = "/nonexistent/tornado-test";
  EXPECT_THROW(Subprocess({"true"}, options), std::system_error);
}

TEST_F(SubprocessTest, AnEmptyArgvIsAValueError) { EXPECT_THROW(Subprocess({}, {}), ValueError); }

// ---- Exit codes and signals ------------------------------------------------------

TEST_F(SubprocessTest, WaitForExitGivesTheExitCode) {
  Subprocess three({"sh", "-c", "exit 3"});
  Subprocess zero({"true"});
  EXPECT_EQ(wait(loop_, three.wait_for_exit(false)), 3);
  EXPECT_EQ(wait(loop_, zero.wait_for_exit()), 0);
  EXPECT_EQ(three.returncode(), 3);
}

TEST_F(SubprocessTest, AChildKilledBySignalGivesMinusTheSignalNumber) {
  Subprocess sleeper({"sleep", "30"});
  EXPECT_FALSE(sleeper.returncode().has_value());
  ASSERT_EQ(::kill(sleeper.pid(), SIGKILL), 0);
  EXPECT_EQ(wait(loop_, sleeper.wait_for_exit(false)), -9);
}

TEST_F(SubprocessTest, RaiseErrorFailsWithCalledProcessErrorNamingArgvAndCode) {
  Subprocess proc({"sh", "-c", "exit 3"});
  try {
    wait(loop_, proc.wait_for_exit());
    ADD_FAILURE() << "exit 3 did not raise";
  } catch (const CalledProcessError& e) {
    EXPECT_EQ(e.returncode(), 3);
    EXPECT_EQ(e.argv(), (std::vector<std::string>{"sh", "-c", "exit 3"}));
    EXPECT_STREQ(e.what(), "Command 'sh -c exit 3' returned non-zero exit status 3.");
  }
}

TEST_F(SubprocessTest, CalledProcessErrorForASignalNamesTheSignal) {
  Subprocess sleeper({"sleep", "30"});
  ::kill(sleeper.pid(), SIGTERM);
  EXPECT_EQ(test_support::failure_of(loop_, sleeper.wait_for_exit()),
            "Command 'sleep 30' died of signal 15.");
}

TEST_F(SubprocessTest, EveryWaiterIsResolvedEachWithItsOwnRaiseError) {
  Subprocess proc({"sh", "-c", "exit 2"});
  Future<int> raising = proc.wait_for_exit();
  Future<int> quiet = proc.wait_for_exit(false);
  EXPECT_EQ(wait(loop_, quiet), 2);
  EXPECT_THROW(wait(loop_, raising), CalledProcessError);
}

// ---- Exit callback and late waits ------------------------------------------------

TEST_F(SubprocessTest, ExitCallbackRunsOnceOnALaterIteration) {
  Subprocess proc({"sh", "-c", "exit 4"});
  std::vector<int> codes;
  proc.set_exit_callback([&](int code) { codes.push_back(code); });
  EXPECT_TRUE(codes.empty());
  EXPECT_EQ(wait(loop_, proc.wait_for_exit(false)), 4);
  for (int i = 0; i < 3; ++i) testing::run_one_iteration(loop_);
  EXPECT_EQ(codes, std::vector<int>{4});
}

TEST_F(SubprocessTest, ExitCallbackSetAfterTheExitRunsOnTheNextIteration) {
  Subprocess proc({"true"});
  EXPECT_EQ(wait(loop_, proc.wait_for_exit()), 0);
  int calls = 0;
  proc.set_exit_callback([&](int code) {
    EXPECT_EQ(code, 0);
    ++calls;
  });
  EXPECT_EQ(calls, 0) << "the callback must not run inside set_exit_callback";
  testing::run_one_iteration(loop_);
  EXPECT_EQ(calls, 1);
  testing::run_one_iteration(loop_);
  EXPECT_EQ(calls, 1);
}

TEST_F(SubprocessTest, WaitForExitAfterTheExitResolvesWithTheSameCode) {
  Subprocess proc({"sh", "-c", "exit 5"});
  EXPECT_EQ(wait(loop_, proc.wait_for_exit(false)), 5);
  EXPECT_EQ(wait(loop_, proc.wait_for_exit(false)), 5);
  EXPECT_THROW(wait(loop_, proc.wait_for_exit()), CalledProcessError);
}

TEST_F(SubprocessTest, DestroyingTheSubprocessStillReapsTheChildAndRunsItsCallback) {
  Future<int> exited;
  pid_t pid = 0;
  {
    SubprocessOptions options;
    options.stdin = Subprocess::STREAM;
    Subprocess cat({"cat"}, options);  // exits when its stdin closes with the Subprocess
    pid = cat.pid();
    cat.set_exit_callback([exited](int code) mutable { exited.set_result(code); });
  }
  EXPECT_EQ(wait(loop_, exited), 0);
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1) << "the child was not reaped";
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(SubprocessTest, DescribeNamesArgvPidAndState) {
  Subprocess proc({"sh", "-c", "exit 1"});
  std::string pid = std::to_string(proc.pid());
  EXPECT_EQ(proc.describe(), "Subprocess [sh -c exit 1] (pid " + pid + ", running)");
  (void)wait(loop_, proc.wait_for_exit(false));
  EXPECT_EQ(proc.describe(), "Subprocess [sh -c exit 1] (pid " + pid + ", exited 1)");
}

// ---- Many children, both ways of watching ----------------------------------------

class ManyChildren : public SubprocessTest, public ::testing::WithParamInterface<ExitWatch> {};

// Fifty children blocked reading one pipe all exit together when it closes;
// each is reported exactly once, with its own code.
TEST_P(ManyChildren, FiftyExitingAtOnceAreEachReapedExactlyOnce) {
  constexpr int kChildren = 50;
  int gate[2];
  ASSERT_EQ(::pipe2(gate, O_CLOEXEC), 0);
  std::vector<Subprocess> procs;
  std::vector<int> calls(kChildren, 0);
  std::vector<Future<int>> exits;
  for (int i = 0; i < kChildren; ++i) {
    SubprocessOptions options;
    options.stdin = Stdio::fd(gate[0]);
    options.exit_watch = GetParam();
    procs.emplace_back(
        std::vector<std::string>{"sh", "-c", "read x; exit " + std::to_string(i % 7)}, options);
    procs.back().set_exit_callback([&calls, i](int code) {
      EXPECT_EQ(code, i % 7);
      ++calls[static_cast<std::size_t>(i)];
    });
    exits.push_back(procs.back().wait_for_exit(false));
  }
  ::close(gate[0]);
  ::close(gate[1]);  // every child's read sees EOF now
  std::vector<int> codes = wait(loop_, gen::multi(exits));
  for (int i = 0; i < 3; ++i) testing::run_one_iteration(loop_);
  for (int i = 0; i < kChildren; ++i) {
    EXPECT_EQ(codes[static_cast<std::size_t>(i)], i % 7)
        << procs[static_cast<std::size_t>(i)].describe();
  }
  EXPECT_EQ(std::count(calls.begin(), calls.end(), 1), kChildren);
}

INSTANTIATE_TEST_SUITE_P(Subprocess, ManyChildren,
                         ::testing::Values(ExitWatch::automatic, ExitWatch::sigchld),
                         [](const ::testing::TestParamInfo<ExitWatch>& watch) {
                           return watch.param == ExitWatch::automatic ? "Automatic" : "Sigchld";
                         });

TEST_F(SubprocessTest, SigchldWatchReportsSignalsAndRemovesItsHandlerWhenDone) {
  struct sigaction before {};
  ::sigaction(SIGCHLD, nullptr, &before);
  SubprocessOptions options;
  options.exit_watch = ExitWatch::sigchld;
  Subprocess sleeper({"sleep", "30"}, options);
  struct sigaction during {};
  ::sigaction(SIGCHLD, nullptr, &during);
  EXPECT_NE(during.sa_handler, before.sa_handler) << "the SIGCHLD handler should be installed";
  ::kill(sleeper.pid(), SIGKILL);
  EXPECT_EQ(wait(loop_, sleeper.wait_for_exit(false)), -9);
  struct sigaction after {};
  ::sigaction(SIGCHLD, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler) << "the previous SIGCHLD handler should be back";
}

// ---- fork_processes and task_id ----------------------------------------------------

// Runs `body(out)` in a forked helper process (so the test process, which may
// have threads, is never the one fork_processes forks), and returns what it
// and its workers wrote to `out` and the helper's exit status.
struct HelperResult {
  std::string output;
  int status = -1;
};

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

HelperResult run_in_helper(const std::function<void(int out)>& body) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  std::fflush(nullptr);  // or the helper's exit would flush the buffered output again
  pid_t helper = ::fork();
  if (helper == 0) {
    ::setpgid(0, 0);  // so a hung helper and its workers can be killed together
    ::close(pipe_fds[0]);
    body(pipe_fds[1]);
    ::_exit(100);  // body must not return
  }
  ::close(pipe_fds[1]);
  HelperResult result;
  auto deadline = std::chrono::steady_clock::now() + kTestTimeout;
  char buffer[256];
  for (;;) {  // until every writer (helper and workers) is gone, or the deadline
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ADD_FAILURE() << "the helper did not finish; output so far: " << result.output;
      ::kill(-helper, SIGKILL);
      break;
    }
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    result.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  EXPECT_EQ(::waitpid(helper, &result.status, 0), helper);
  return result;
}

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

// Each worker reports "<returned id> <task_id()>" and exits 0.
void report_and_exit(int out, std::optional<int> id) {
  write_all(out,
            std::to_string(id.value_or(-1)) + " " + std::to_string(task_id().value_or(-1)) + "\n");
  ::_exit(0);
}

void report_throw(int out, const std::exception& e) {
  write_all(out, std::string("threw: ") + e.what() + "\n");
  ::_exit(0);
}

TEST(ForkProcesses, EachWorkerGetsItsTaskIdAndTheParentExitsCleanly) {
  HelperResult r = run_in_helper([](int out) {
    try {
      report_and_exit(out, fork_processes(2, 0));
    } catch (const std::exception& e) {
      report_throw(out, e);
    }
  });
  EXPECT_EQ(sorted_lines(r.output), (std::vector<std::string>{"0 0", "1 1"}));
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << "status " << r.status;
}

TEST(ForkProcesses, AFailedWorkerIsRestartedUnderTheSameTaskId) {
  TempDir dir;
  std::string marker = dir.file("failed-once");
  HelperResult r = run_in_helper([&marker](int out) {
    try {
      std::optional<int> id = fork_processes(2, 1);
      if (id == 1 && !std::filesystem::exists(marker)) {
        std::ofstream(marker).put('x');
        write_all(out, "1 failing\n");
        ::_exit(3);
      }
      report_and_exit(out, id);
    } catch (const std::exception& e) {
      report_throw(out, e);
    }
  });
  EXPECT_EQ(sorted_lines(r.output), (std::vector<std::string>{"0 0", "1 1", "1 failing"}));
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << "status " << r.status;
}

TEST(ForkProcesses, AWorkerKilledBySignalCountsAsFailed) {
  HelperResult r = run_in_helper([](int out) {
    try {
      std::optional<int> id = fork_processes(1, 0);
      write_all(out, "worker " + std::to_string(id.value_or(-1)) + "\n");
      ::raise(SIGKILL);
    } catch (const std::exception& e) {
      report_throw(out, e);
    }
  });
  EXPECT_EQ(sorted_lines(r.output),
            (std::vector<std::string>{"threw: Too many child restarts, giving up", "worker 0"}));
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << "status " << r.status;
}

TEST(ForkProcesses, RefusesWhenThisThreadAlreadyHasALoop) {
  testing::CurrentLoop loop;
  EXPECT_THROW((void)fork_processes(2), UsageError);
  EXPECT_LE(::waitpid(-1, nullptr, WNOHANG), 0) << "nothing should have been forked";
}

TEST(TaskId, IsNoneOutsideForkedWorkers) { EXPECT_EQ(task_id(), std::nullopt); }

}  // namespace
}  // namespace tornado
