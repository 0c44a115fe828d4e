// Runs tornado-viz (under `xvfb-run -a`, so each run has its own X server)
// and sample programs as real child processes, each bounded in time, and
// reads back what they wrote.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace tornado::viz::testing {

/// A scratch directory removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string base = std::filesystem::temp_directory_path().string() + "/viz-app-test-XXXXXX";
    path_ = ::mkdtemp(base.data()) != nullptr ? base : "";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// A child process in its own process group (so a timeout kills xvfb-run's
/// X server too), with `extra_env` added to this process's environment.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv,
                 const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (!overridden(*e, extra_env)) env_strings.emplace_back(*e);
    }
    env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> args, env;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    for (std::string& e : env_strings) env.push_back(e.data());
    args.push_back(nullptr);
    env.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    if (::posix_spawnp(&pid_, args[0], nullptr, &attr, args.data(), env.data()) != 0) pid_ = -1;
    posix_spawnattr_destroy(&attr);
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Its exit status, or -1 if it had to be killed after `limit` (or was killed).
  int wait(std::chrono::seconds limit = std::chrono::seconds(45)) {
    if (pid_ <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  static bool overridden(std::string_view entry, const std::vector<std::string>& extra_env) {
    for (const std::string& e : extra_env) {
      if (entry.substr(0, entry.find('=') + 1) == e.substr(0, e.find('=') + 1)) return true;
    }
    return false;
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
};

/// Environment for every tornado-viz run: software OpenGL, and LSan told
/// about Mesa's and X's own leaks (never ours).
inline std::vector<std::string> viz_env() {
  return {"LIBGL_ALWAYS_SOFTWARE=1", "LSAN_OPTIONS=suppressions=" TORNADO_VIZ_LSAN};
}

/// `tornado-viz ARGS` under its own X server; returns the exit status.
inline int run_viz(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"xvfb-run", "-a", "-s", "-screen 0 1920x1200x24", TORNADO_VIZ};
  argv.insert(argv.end(), args.begin(), args.end());
  Child viz(argv, viz_env());
  return viz.wait();
}

/// Records the sample program's trace into `path`; returns its exit status.
inline int record_sample(const std::string& path) {
  Child sample({TORNADO_SAMPLE}, {"TORNADO_TRACE=file:" + path});
  return sample.wait(std::chrono::seconds(20));
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace tornado::viz::testing
