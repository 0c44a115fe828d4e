// trace::start(): per-thread rings drained by one sink thread into a file.
//
// Emitting threads only ever touch their own ring. The sink thread wakes
// every few milliseconds, drains every ring, writes the strings interned
// since its last pass (before the events that may use them) and then the
// events, in large blocks.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "tornado/log.h"
#include "tornado/trace_file.h"
#include "trace_ring.h"

namespace tornado::trace {
namespace {

using tornado::detail::TraceRing;

class FileTransport final : public Sink {
 public:
  FileTransport(int fd, std::uint64_t generation) : fd_(fd), generation_(generation) {
    std::string header = encode_header(this_process_header());
    write_all(header);
    thread_ = std::thread([this] { run(); });
  }

  ~FileTransport() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wakeup_.notify_one();
    thread_.join();
    ::close(fd_);
  }

  void on_string(std::uint32_t, std::string_view) override {}  // the sink thread reads the table

  void on_event(const Event& event) override { ring_for_this_thread().push(event); }

 private:
  struct ThreadRing {
    std::uint64_t generation = 0;
    std::shared_ptr<TraceRing> ring;
  };

  TraceRing& ring_for_this_thread() {
    thread_local ThreadRing mine;
    if (mine.generation != generation_) {
      mine.ring = std::make_shared<TraceRing>();
      mine.generation = generation_;
      std::lock_guard lock(mutex_);
      rings_.push_back(mine.ring);
    }
    return *mine.ring;
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      bool stop =
          wakeup_.wait_for(lock, std::chrono::milliseconds(5), [this] { return stopping_; });
      std::vector<std::shared_ptr<TraceRing>> rings = rings_;
      lock.unlock();
      flush(rings, stop);
      lock.lock();
      if (stop) return;
    }
  }

  void flush(const std::vector<std::shared_ptr<TraceRing>>& rings, bool last) {
    events_.clear();
    for (const auto& ring : rings) {
      if (last) {
        ring->drain_final(events_);  // also reports drops no later event could
      } else {
        ring->drain(events_);
      }
    }
    std::string out;
    auto strings = detail::strings_from(next_string_);
    if (!strings.empty()) {
      append_strings(out, strings);
      next_string_ = strings.back().first + 1;
    }
    constexpr std::size_t kPerRecord = 1 << 16;  // events per record (2.5 MiB)
    for (std::size_t i = 0; i < events_.size(); i += kPerRecord) {
      std::size_t n = std::min(kPerRecord, events_.size() - i);
      append_events(out, std::span<const Event>(events_.data() + i, n));
    }
    if (last) append_end(out);
    write_all(out);
  }

  void write_all(std::string_view bytes) {
    while (!bytes.empty() && !failed_) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        log::error(std::string("trace: writing the trace file failed: ") + std::strerror(errno) +
                   "; the rest of the trace is lost");
        failed_ = true;
        return;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  const int fd_;
  const std::uint64_t generation_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<TraceRing>> rings_;
  std::vector<Event> events_;
  std::uint32_t next_string_ = 1;
  bool failed_ = false;
  std::thread thread_;
};

std::mutex g_transport_mutex;
std::unique_ptr<Sink> g_transport;
std::uint64_t g_generation = 0;

}  // namespace

bool start(std::string_view spec) {
  std::string_view path = spec;
  if (!path.starts_with("file:") || path.size() == 5) {
    log::error("trace: cannot use \"" + std::string(spec) +
               "\": expected file:PATH; running untraced");
    return false;
  }
  path.remove_prefix(5);
  std::string file(path);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    log::error("trace: cannot open " + file + ": " + std::strerror(errno) + "; running untraced");
    return false;
  }
  stop();
  std::lock_guard lock(g_transport_mutex);
  g_transport = std::make_unique<FileTransport>(fd, ++g_generation);
  attach(g_transport.get());
  return true;
}

void stop() {
  std::lock_guard lock(g_transport_mutex);
  if (!g_transport) return;
  if (detail::g_sink.load(std::memory_order_acquire) == g_transport.get()) detach();
  g_transport.reset();
}

namespace detail {

void start_from_environment() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* spec = std::getenv("TORNADO_TRACE");
    if (spec == nullptr || *spec == '\0') return;
    if (start(spec)) std::atexit([] { stop(); });
  });
}

}  // namespace detail
}  // namespace tornado::trace
