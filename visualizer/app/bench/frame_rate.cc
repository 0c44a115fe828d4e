// viz_app_bench: does the UI keep drawing at 30 frames/s or better while the
// model ingests 2 million events/s? A feeder thread plays a traced program:
// it dials a real LiveSource over a Unix socket, handshakes, and streams a
// realistic mix of loop events at the target rate; the main thread draws the
// full UI (hidden window) following the live end, as a user watching would.
//
//   xvfb-run -a build/release/bench/viz_app_bench [SECONDS] [EVENTS_PER_SECOND]
//
// Prints frames/s, the slowest frame, how many frames took over 33 ms, and
// the events ingested per second. Software OpenGL (Mesa's llvmpipe) draws on
// the same cores, so a GPU-backed desktop does better than this.
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "app.h"
#include "options.h"
#include "session.h"
#include "tornado/trace_file.h"
#include "window.h"

namespace {

using namespace tornado;
using Clock = std::chrono::steady_clock;
using trace::Kind;

constexpr std::uint32_t kSite = 1, kTimerSite = 2;

// One loop iteration's worth of events: three callbacks and a timer.
void one_iteration(std::vector<trace::Event>& out, std::uint64_t n, std::uint64_t& ts,
                   std::uint64_t& id) {
  auto add = [&](Kind kind, std::uint64_t object, std::uint64_t a, std::uint64_t b,
                 std::uint32_t name) {
    out.push_back({ts += 50, kind, 1, name, object, a, b});
  };
  add(Kind::iteration_begin, n, 3, 1, 0);
  for (int i = 0; i < 3; ++i) {
    std::uint64_t cb = ++id;
    add(Kind::callback_scheduled, cb, 0, 0, kSite);
    add(Kind::callback_started, cb, 0, 0, kSite);
    add(Kind::callback_finished, cb, 40, 0, kSite);
  }
  std::uint64_t timer = ++id;
  add(Kind::timer_added, timer, ts + 100, 0, kTimerSite);
  add(Kind::timer_fired, timer, 0, 0, kTimerSite);
  add(Kind::callback_started, timer, 0, 1, kTimerSite);
  add(Kind::callback_finished, timer, 40, 1, kTimerSite);
  add(Kind::iteration_end, n, 0, 0, 0);
}

// Blocks while the viewer is behind (as a traced program's sink would), but
// gives up once `stop` is set: the viewer stops reading when it stops drawing.
bool send_all(int fd, const std::string& bytes, const std::atomic<bool>& stop) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !stop) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Plays a traced program at `rate` events/s until `stop`.
void feed(const std::string& path, double rate, const std::atomic<bool>& stop,
          std::atomic<std::uint64_t>& sent) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  char hello[trace::kReaderHelloSize];
  timeval wait{0, 100'000};  // send() returns every 100 ms to look at `stop`
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      !send_all(fd, trace::encode_header(trace::this_process_header()), stop) ||
      ::recv(fd, hello, sizeof hello, MSG_WAITALL) != static_cast<ssize_t>(sizeof hello)) {
    std::fprintf(stderr, "viz_app_bench: could not attach to the viewer\n");
    ::close(fd);
    return;
  }
  std::string out;
  std::vector<std::pair<std::uint32_t, std::string>> strings = {{kSite, "work at bench.cc:1"},
                                                                {kTimerSite, "tick at bench.cc:2"}};
  trace::append_strings(out, strings);
  send_all(fd, out, stop);
  std::vector<trace::Event> events;
  std::uint64_t ts = 1'000'000'000, id = 0, iteration = 0;
  const auto started = Clock::now();
  while (!stop) {
    double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    if (static_cast<double>(sent) > elapsed * rate) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    events.clear();
    while (events.size() < 8192) one_iteration(events, ++iteration, ts, id);
    out.clear();
    trace::append_events(out, events);
    if (!send_all(fd, out, stop)) break;
    sent += events.size();
  }
  out.clear();
  trace::append_end(out);
  send_all(fd, out, stop);
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  const double rate = argc > 2 ? std::atof(argv[2]) : 2e6;
  std::string dir = std::filesystem::temp_directory_path().string() + "/viz-bench-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return 1;
  viz::AppOptions options;
  options.mode = viz::SourceMode::listen;
  options.listen = "unix:" + dir + "/bench.sock";
  viz::Session session(options);
  viz::Window window(options.width, options.height, true);
  viz::App app(session);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> sent{0};
  std::thread feeder(feed, dir + "/bench.sock", rate, std::cref(stop), std::ref(sent));

  std::uint64_t frames = 0, slow_frames = 0;
  double slowest = 0;
  const auto started = Clock::now();
  auto last = started;
  while (Clock::now() - started < std::chrono::duration<double>(seconds)) {
    window.begin_frame(0);
    app.frame(static_cast<float>(window.width()), static_cast<float>(window.height()), 1.0 / 60);
    window.end_frame();
    auto now = Clock::now();
    const double frame = std::chrono::duration<double>(now - last).count();
    if (frames++ > 0) {
      slowest = std::max(slowest, frame);
      slow_frames += frame > 1.0 / 30 ? 1 : 0;
    }
    last = now;
  }
  const double took = std::chrono::duration<double>(Clock::now() - started).count();
  stop = true;
  feeder.join();
  const double ingested = static_cast<double>(session.model().end());
  std::printf(
      "frames/s %.1f  slowest frame %.1f ms  frames over 33 ms: %llu of %llu  "
      "ingested %.2f M events/s (sent %.2f M/s)  model %.0f ns/event%s\n",
      static_cast<double>(frames) / took, slowest * 1e3,
      static_cast<unsigned long long>(slow_frames), static_cast<unsigned long long>(frames),
      ingested / took / 1e6, static_cast<double>(sent.load()) / took / 1e6,
      session.ingest_ns_per_event(),
      session.error().empty() ? "" : ("  error: " + session.error()).c_str());
  std::filesystem::remove_all(dir);
  return 0;
}
