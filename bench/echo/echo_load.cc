// echo_load: the load generator of the echo benchmark. Plain epoll (no
// tornado-cpp, so it costs every server the same), loopback only, and it
// always stops by itself.
//
// Ping-pong (the default): N connections each keep one message of B bytes
// outstanding, send the next as soon as the last came back whole and
// checked, for `warmup` + `duration` seconds; round trips are counted in the
// last `duration` only.
//
//   echo_load --port P [--connections 100] [--size 64] [--warmup 0.5] [--duration 3]
//   -> connections 100 size 64 seconds 3.00 round_trips 123456 rtt_per_s 41152 mb_per_s 2.6
//      server_cpu_ns_per_rt 0 server_main_cpu_ns_per_rt 0
// With --server-pid PID it also reports the server's CPU time per round trip
// (all its threads, and its main thread alone).
//
// Idle memory: opens N connections to the server whose pid is given (each
// echoing one message first with --ping), waits until the server holds them
// all, and reports how much its resident memory grew per connection.
//
//   echo_load --port P --idle 10000 --server-pid PID [--ping]
//   -> idle 10000 ping 1 rss_before_kib 3520 rss_after_kib 11832 bytes_per_connection 851
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  int connections = 100;
  std::size_t size = 64;
  double warmup = 0.5;
  double duration = 3.0;
  int idle = 0;  // > 0: idle-memory mode with this many connections
  int server_pid = 0;
  bool ping = false;
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "echo_load: %s (%s)\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : "0";
    if (arg == "--ping") {
      o.ping = true;
      continue;
    }
    if (arg == "--port")
      o.port = std::atoi(value);
    else if (arg == "--connections")
      o.connections = std::atoi(value);
    else if (arg == "--size")
      o.size = static_cast<std::size_t>(std::atol(value));
    else if (arg == "--warmup")
      o.warmup = std::atof(value);
    else if (arg == "--duration")
      o.duration = std::atof(value);
    else if (arg == "--idle")
      o.idle = std::atoi(value);
    else if (arg == "--server-pid")
      o.server_pid = std::atoi(value);
    else
      fail("unknown option " + arg);
    ++i;
  }
  if (o.port <= 0 || o.size == 0 || o.connections <= 0) fail("needs --port, and positive sizes");
  return o;
}

void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// A blocking connection to 127.0.0.1:port whose reads time out after 5 s, so
// a dead server ends the run instead of hanging it.
int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) fail("connect");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  return fd;
}

// CPU time one thread has used so far, in ns (/proc/.../schedstat: finer
// than the clock ticks of /proc/PID/stat); 0 if it has gone.
std::uint64_t thread_cpu_ns(const std::string& task) {
  std::ifstream stat(task + "/schedstat");
  std::uint64_t ns = 0;
  stat >> ns;
  return ns;
}

struct ServerCpu {
  std::uint64_t all = 0;   // every thread of the server
  std::uint64_t main = 0;  // its main thread, where the servers here run their loop
};

ServerCpu server_cpu(int pid) {
  std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = ::opendir(tasks.c_str());
  if (dir == nullptr) fail("cannot list the server's threads");
  ServerCpu cpu;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::uint64_t ns = thread_cpu_ns(tasks + "/" + entry->d_name);
    cpu.all += ns;
    if (std::atoi(entry->d_name) == pid) cpu.main = ns;
  }
  ::closedir(dir);
  return cpu;
}

// ---- ping-pong ---------------------------------------------------------------

struct Conn {
  int fd = -1;
  std::size_t sent = 0;
  std::size_t received = 0;
  bool want_write = false;
  std::vector<char> in;
};

class PingPong {
 public:
  explicit PingPong(const Options& o) : o_(o), out_(o.size) {
    for (std::size_t i = 0; i < out_.size(); ++i) out_[i] = static_cast<char>('a' + i % 26);
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    conns_.resize(static_cast<std::size_t>(o.connections));
    for (Conn& c : conns_) {
      c.fd = connect_to(o.port);
      ::fcntl(c.fd, F_SETFL, O_NONBLOCK);
      c.in.resize(o.size);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = &c;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev);
    }
  }
  ~PingPong() {
    for (Conn& c : conns_) ::close(c.fd);
    ::close(epfd_);
  }

  void run() {
    for (Conn& c : conns_) send_more(c);
    auto start = Clock::now();
    auto measure_from = start + seconds(o_.warmup);
    auto end = measure_from + seconds(o_.duration);
    std::uint64_t at_warmup = 0;
    ServerCpu cpu_at_warmup;
    bool warm = false;
    std::vector<epoll_event> events(256);
    for (;;) {
      int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), 100);
      if (n < 0 && errno != EINTR) fail("epoll_wait");
      for (int i = 0; i < n; ++i) handle(*static_cast<Conn*>(events[i].data.ptr), events[i].events);
      auto now = Clock::now();
      if (!warm && now >= measure_from) {
        warm = true;
        at_warmup = round_trips_;
        if (o_.server_pid > 0) cpu_at_warmup = server_cpu(o_.server_pid);
        measure_from = now;
      }
      if (now >= end) {
        double s = std::chrono::duration<double>(now - measure_from).count();
        ServerCpu cpu;
        if (o_.server_pid > 0) {
          ServerCpu now_cpu = server_cpu(o_.server_pid);
          cpu = {now_cpu.all - cpu_at_warmup.all, now_cpu.main - cpu_at_warmup.main};
        }
        report(round_trips_ - at_warmup, s, cpu);
        return;
      }
    }
  }

 private:
  static Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  void handle(Conn& c, std::uint32_t events) {
    if (events & EPOLLOUT) send_more(c);
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(c);
  }

  void send_more(Conn& c) {
    while (c.sent < o_.size) {
      ssize_t n = ::send(c.fd, out_.data() + c.sent, o_.size - c.sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0) fail("send");
      c.sent += static_cast<std::size_t>(n);
    }
    watch_writable(c, c.sent < o_.size);
  }

  void receive(Conn& c) {
    ssize_t n = ::recv(c.fd, c.in.data() + c.received, o_.size - c.received, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) fail("the server closed a connection or failed");
    c.received += static_cast<std::size_t>(n);
    if (c.received < o_.size) return;
    if (std::memcmp(c.in.data(), out_.data(), o_.size) != 0)
      fail("the echo differs from what was sent");
    ++round_trips_;
    c.sent = 0;
    c.received = 0;
    send_more(c);
  }

  void watch_writable(Conn& c, bool want) {
    if (c.want_write == want) return;
    c.want_write = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // server_cpu_ns_per_rt: the server's CPU time (all its threads) per round
  // trip, when its pid was given, steadier than round trips/s on a busy
  // machine; server_main_cpu_ns_per_rt: its main (loop) thread's share.
  void report(std::uint64_t trips, double s, ServerCpu cpu) const {
    double per_s = static_cast<double>(trips) / s;
    auto per_trip = [trips](std::uint64_t ns) {
      return trips ? static_cast<double>(ns) / static_cast<double>(trips) : 0.0;
    };
    std::printf(
        "connections %d size %zu seconds %.2f round_trips %llu rtt_per_s %.0f mb_per_s %.1f "
        "server_cpu_ns_per_rt %.0f server_main_cpu_ns_per_rt %.0f\n",
        o_.connections, o_.size, s, static_cast<unsigned long long>(trips), per_s,
        per_s * static_cast<double>(o_.size) / 1e6, per_trip(cpu.all), per_trip(cpu.main));
  }

  const Options& o_;
  std::vector<char> out_;
  std::vector<Conn> conns_;
  int epfd_ = -1;
  std::uint64_t round_trips_ = 0;
};

// ---- idle memory -------------------------------------------------------------

long rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  fail("cannot read VmRSS of the server");
}

int open_fds(int pid) {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) fail("cannot list the server's fds");
  int count = 0;
  while (::readdir(dir) != nullptr) ++count;
  ::closedir(dir);
  return count - 2;  // . and ..
}

void ping(int fd, std::size_t size) {
  std::string out(size, 'x');
  std::string in(size, '\0');
  if (::send(fd, out.data(), size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) fail("send");
  for (std::size_t got = 0; got < size;) {
    ssize_t n = ::recv(fd, in.data() + got, size - got, 0);
    if (n <= 0) fail("no echo within 5 s");
    got += static_cast<std::size_t>(n);
  }
}

// Waits (at most 30 s) until the server has accepted `expected` fds more
// than it had, then a little longer for its coroutines to start.
void wait_for_server(int pid, int expected) {
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (open_fds(pid) < expected) {
    if (Clock::now() > deadline) fail("the server did not accept every connection within 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

void idle_memory(const Options& o) {
  if (o.server_pid <= 0) fail("--idle needs --server-pid");
  // One connection first, so what the server sets up once (its first
  // stream, its first coroutine) is not counted.
  int warm = connect_to(o.port);
  ping(warm, 64);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int fds_before = open_fds(o.server_pid);
  long before = rss_kib(o.server_pid);
  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(o.idle));
  for (int i = 0; i < o.idle; ++i) {
    fds.push_back(connect_to(o.port));
    if (o.ping) ping(fds.back(), 64);
  }
  wait_for_server(o.server_pid, fds_before + o.idle);
  long after = rss_kib(o.server_pid);
  std::printf("idle %d ping %d rss_before_kib %ld rss_after_kib %ld bytes_per_connection %.0f\n",
              o.idle, o.ping ? 1 : 0, before, after,
              static_cast<double>(after - before) * 1024.0 / o.idle);
  for (int fd : fds) ::close(fd);
  ::close(warm);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  raise_fd_limit();
  if (o.idle > 0) {
    idle_memory(o);
  } else {
    PingPong(o).run();
  }
  return 0;
}
