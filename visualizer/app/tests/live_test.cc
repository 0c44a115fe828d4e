// tornado-viz attached to a running program: started by it (`-- PROGRAM`), or
// found by --listen when the program dials TORNADO_TRACE; the session can be
// saved, and the saved file replays to the same state.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "json_peek.h"
#include "png_check.h"
#include "tornado/trace_file.h"
#include "viz_process.h"

namespace tornado::viz::testing {
namespace {

TEST(VizLive, RunsTheProgramAndKeepsItsLastStateAfterItExits) {
  TempDir dir;
  std::string json = dir / "state.json", png = dir / "shot.png";
  ASSERT_EQ(
      run_viz({"--headless", "--dump-state", json, "--screenshot", png, "--", TORNADO_SAMPLE}), 0);
  std::string state = read_all(json);
  std::string viewer = member(state, "viewer");
  EXPECT_EQ(member(viewer, "mode"), "\"program\"");
  EXPECT_EQ(member(viewer, "program"), "\"exited with status 0\"");
  EXPECT_EQ(member(viewer, "sessions"), "1");
  EXPECT_EQ(member(viewer, "trace_complete"), "true");
  EXPECT_EQ(member(state, "error"), "\"\"");
  // The program does not wait for the viewer, so its first iterations may
  // pass before it attaches; the last tick, which stops the loop, is seen.
  std::string loops = member(state, "loops");
  EXPECT_EQ(member(loops, "closed"), "true");
  EXPECT_NE(member(loops, "iterations_total"), "0");
  EXPECT_NE(member(member(state, "callbacks"), "recent").find("tick at main.cc"),
            std::string::npos);
  EXPECT_GE(png_facts(png).colours, 40u);
}

// A free TCP port on 127.0.0.1 (bound, then released for the server).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Connects to the echo server (retrying while it starts), has one line
// echoed, and returns the still-open connection.
int connect_and_echo(int port) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      char echo[6] = {};
      if (::send(fd, "hello\n", 6, MSG_NOSIGNAL) == 6 && ::recv(fd, echo, 6, MSG_WAITALL) == 6) {
        return fd;
      }
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return -1;
}

// The "attach to a long-running server" case: the server and its clients
// were busy before the viewer existed, so only the program's snapshot can
// tell the viewer about the connections; they must be on screen.
TEST(VizLive, AttachingToARunningServerShowsTheConnectionsItAlreadyHas) {
  TempDir dir;
  std::string json = dir / "state.json", socket = dir / "viz.sock";
  int port = free_port();
  Child server({TORNADO_ECHO, "--port", std::to_string(port)}, {"TORNADO_TRACE=unix:" + socket});
  int first = connect_and_echo(port), second = connect_and_echo(port);
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);

  Child viz({"xvfb-run", "-a", "-s", "-screen 0 1920x1200x24", TORNADO_VIZ, "--listen",
             "unix:" + socket, "--headless", "--dump-state", json, "--after-seconds", "5"},
            viz_env());
  ASSERT_EQ(viz.wait(), 0);
  ::close(first);
  ::close(second);

  std::string state = read_all(json);
  EXPECT_EQ(member(member(state, "viewer"), "sessions"), "1");
  std::string streams = member(state, "streams");
  std::string server_side = "IOStream 127.0.0.1:" + std::to_string(port) + " -> ";
  int connections = 0;
  for (std::size_t at = streams.find(server_side); at != std::string::npos;
       at = streams.find(server_side, at + 1)) {
    ++connections;
  }
  EXPECT_EQ(connections, 2) << streams.substr(0, 2000);
  std::string fds = member(state, "fds");
  EXPECT_NE(fds.find("listener"), std::string::npos) << fds.substr(0, 2000);
}

TEST(VizLive, ListenSeesAProgramThatDialsItWithTornadoTrace) {
  TempDir dir;
  std::string json = dir / "state.json", socket = dir / "viz.sock";
  std::vector<std::string> argv = {"xvfb-run",
                                   "-a",
                                   "-s",
                                   "-screen 0 1920x1200x24",
                                   TORNADO_VIZ,
                                   "--listen",
                                   "unix:" + socket,
                                   "--headless",
                                   "--dump-state",
                                   json,
                                   "--after-seconds",
                                   "6"};
  Child viz(argv, viz_env());
  // The sample runs for well under a second, and the viewer's start under
  // xvfb-run can take longer on a loaded machine: start the program once the
  // listener is there, or it may finish before its first dial succeeds.
  // (Its redialling, every 250 ms, is tested in tests/trace_live_test.cc.)
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(socket) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(std::filesystem::exists(socket)) << "tornado-viz never listened on " << socket;
  Child sample({TORNADO_SAMPLE}, {"TORNADO_TRACE=unix:" + socket});
  EXPECT_EQ(sample.wait(std::chrono::seconds(30)), 0);
  ASSERT_EQ(viz.wait(), 0);
  std::string state = read_all(json);
  std::string viewer = member(state, "viewer");
  EXPECT_EQ(member(viewer, "mode"), "\"listen\"");
  EXPECT_EQ(member(viewer, "sessions"), "1");
  std::string loops = member(state, "loops");
  EXPECT_EQ(member(loops, "closed"), "true");
  EXPECT_NE(member(loops, "iterations_total"), "0");
  EXPECT_NE(member(member(state, "callbacks"), "recent").find("tick at main.cc"),
            std::string::npos);
  EXPECT_EQ(member(viewer, "trace_complete"), "true");
}

TEST(VizLive, SaveWritesTheSessionAsATraceThatReplaysToTheSameState) {
  TempDir dir;
  std::string saved = dir / "saved.trace", live = dir / "live.json", replay = dir / "replay.json";
  ASSERT_EQ(run_viz({"--save", saved, "--headless", "--dump-state", live, "--", TORNADO_SAMPLE}),
            0);
  trace::Trace t = trace::read_file(saved);
  EXPECT_EQ(t.error, "");
  EXPECT_TRUE(t.complete);
  EXPECT_FALSE(t.events.empty());
  ASSERT_EQ(run_viz({saved, "--headless", "--dump-state", replay}), 0);
  // Everything after the "viewer" object is the model's state: the same.
  std::string a = read_all(live), b = read_all(replay);
  EXPECT_EQ(a.substr(a.find("\"cursor\"")), b.substr(b.find("\"cursor\"")));
}

TEST(VizLive, AProgramThatCannotStartIsAnErrorOnScreen) {
  TempDir dir;
  std::string json = dir / "state.json";
  ASSERT_EQ(run_viz({"--headless", "--dump-state", json, "--", dir / "no-such-program"}), 0);
  std::string error = member(member(read_all(json), "viewer"), "error");
  EXPECT_NE(error.find("cannot start"), std::string::npos) << error;
}

}  // namespace
}  // namespace tornado::viz::testing
