// trace::start() and stop(): the Transport (rings + sink thread) and the
// file output. The live output is in trace_live_output.cc.
#include "trace_transport.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "tornado/log.h"
#include "tornado/trace_file.h"
#include "trace_registry.h"

namespace tornado::trace::detail {

using tornado::detail::TraceRing;

namespace {
std::mutex g_stats_mutex;
TransportStats g_last_stats;
}  // namespace

Transport::Transport(std::unique_ptr<Output> output, std::uint64_t generation)
    : output_(std::move(output)), generation_(generation) {
  pass(false);  // a file starts its session at once, so no early event is lost
  thread_ = std::thread([this] { run(); });
}

Transport::~Transport() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_one();
  thread_.join();
}

TraceRing& Transport::ring_for_this_thread() {
  thread_local ThreadRing mine;
  if (mine.generation != generation_) {
    mine.ring = std::make_shared<TraceRing>();
    mine.generation = generation_;
    std::lock_guard lock(mutex_);
    rings_.push_back(mine.ring);
  }
  return *mine.ring;
}

void Transport::run() {
  ::pthread_setname_np(::pthread_self(), "tornado-trace");  // as top and gdb show it
  std::unique_lock lock(mutex_);
  bool busy = false;
  for (;;) {
    // A pass that found a lot goes straight on to the next: under a burst
    // the sink thread keeps draining instead of sleeping while rings fill.
    if (!stopping_ && !busy) wakeup_.wait_for(lock, output_->pass_interval());
    bool stop = stopping_;
    lock.unlock();
    std::size_t drained = pass(stop);
    events_sent_ += drained;
    busy = drained >= TraceRing::kCapacity / 8;
    lock.lock();
    if (stop) break;
  }
  timespec cpu{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
  std::lock_guard stats_lock(g_stats_mutex);
  g_last_stats = {events_sent_, static_cast<std::uint64_t>(cpu.tv_sec) * 1'000'000'000u +
                                    static_cast<std::uint64_t>(cpu.tv_nsec)};
}

TransportStats last_transport_stats() {
  std::lock_guard lock(g_stats_mutex);
  return g_last_stats;
}

std::size_t Transport::pass(bool last) {
  switch (output_->service()) {
    case Output::Status::attached:
      begin_session();
      break;
    case Output::Status::lost:
      end_session();
      return 0;
    case Output::Status::idle:
      return 0;
    case Output::Status::streaming:
      break;
  }
  std::size_t drained = 0;
  if (last) {
    if (trace::detail::g_sink.load(std::memory_order_acquire) == this) detach();
    drain(true);
    output_->finish(encode(true));
    in_session_ = false;
  } else if (output_->has_room() && awaiting_snapshot_.empty()) {
    drained = send_from_rings(encode(false));  // encode(): the new strings
  } else if (output_->has_room()) {
    drain(false);
    drained = events_.size();
    output_->send(encode(false));
  }
  return drained;
}

// The common case, no loop awaiting its snapshot: `strings`, then one events
// record per ring, sent straight from the rings' slots.
std::size_t Transport::send_from_rings(std::string strings) {
  std::vector<std::shared_ptr<TraceRing>> rings;
  {
    std::lock_guard lock(mutex_);
    rings = rings_;
  }
  std::vector<std::string_view> parts{strings};
  std::vector<std::array<char, 8>> headers(rings.size());
  std::vector<std::size_t> taken(rings.size());
  auto bytes = [](std::span<const Event> run) {
    return std::string_view(reinterpret_cast<const char*>(run.data()), run.size_bytes());
  };
  std::size_t total = 0;
  for (std::size_t i = 0; i < rings.size(); ++i) {
    TraceRing::Readable r = rings[i]->readable();
    taken[i] = r.size();
    if (taken[i] == 0) continue;
    std::string header;
    append_events(header, {});
    auto length = static_cast<std::uint32_t>(taken[i] * sizeof(Event));
    std::memcpy(header.data() + 4, &length, sizeof length);
    std::memcpy(headers[i].data(), header.data(), 8);
    parts.push_back(std::string_view(headers[i].data(), 8));
    parts.push_back(bytes(r.first));
    if (!r.second.empty()) parts.push_back(bytes(r.second));
    total += taken[i];
  }
  output_->send_parts(parts);
  for (std::size_t i = 0; i < rings.size(); ++i) rings[i]->consume(taken[i]);
  return total;
}

void Output::send_parts(std::span<const std::string_view> parts) {
  std::string joined;
  for (std::string_view part : parts) joined.append(part);
  send(std::move(joined));
}

// A reader has attached: what is already in the rings predates it (or a
// previous reader), so it is dropped; the reader is sent every string, then
// each loop's snapshot, then the events that follow it.
void Transport::begin_session() {
  drain(false);
  events_.clear();
  next_string_ = 1;
  in_session_ = true;
  attach(this);
  std::vector<std::uint16_t> loops = tornado::detail::request_snapshots();
  awaiting_snapshot_ = std::set<std::uint16_t>(loops.begin(), loops.end());
}

void Transport::end_session() {
  if (trace::detail::g_sink.load(std::memory_order_acquire) == this) detach();
  drain(false);
  events_.clear();
  in_session_ = false;
}

// Moves every ring's events into events_, leaving out a loop's events until
// its snapshot begins: the snapshot describes what they would have changed.
void Transport::drain(bool last) {
  std::vector<std::shared_ptr<TraceRing>> rings;
  {
    std::lock_guard lock(mutex_);
    rings = rings_;
  }
  std::size_t first = events_.size();
  for (const auto& ring : rings) {
    if (last) {
      ring->drain_final(events_);  // also reports drops no later event could
    } else {
      ring->drain(events_);
    }
  }
  if (awaiting_snapshot_.empty()) return;
  auto kept = std::remove_if(events_.begin() + static_cast<std::ptrdiff_t>(first), events_.end(),
                             [this](const Event& e) {
                               if (!awaiting_snapshot_.contains(e.loop)) return false;
                               if (e.kind != Kind::snapshot_begin) return true;
                               awaiting_snapshot_.erase(e.loop);
                               return false;
                             });
  events_.erase(kept, events_.end());
}

std::string Transport::encode(bool last) {
  std::string out;
  auto strings = strings_from(next_string_);
  if (!strings.empty()) {
    append_strings(out, strings);
    next_string_ = strings.back().first + 1;
  }
  constexpr std::size_t kPerRecord = 1 << 16;  // events per record (2.5 MiB)
  for (std::size_t i = 0; i < events_.size(); i += kPerRecord) {
    std::size_t n = std::min(kPerRecord, events_.size() - i);
    append_events(out, std::span<const Event>(events_.data() + i, n));
  }
  events_.clear();
  if (last) append_end(out);
  return out;
}

namespace {

// A file is its own reader: attached from the start, always with room
// (a slow disk only delays the sink thread; the rings absorb the rest).
class FileOutput final : public Output {
 public:
  explicit FileOutput(int fd) : fd_(fd) {}
  ~FileOutput() override { ::close(fd_); }

  Status service() override {
    if (started_) return Status::streaming;
    started_ = true;
    write_all(encode_header(this_process_header()));
    return Status::attached;
  }
  bool has_room() const override { return true; }
  void send(std::string bytes) override { write_all(bytes); }
  void send_parts(std::span<const std::string_view> parts) override {
    std::vector<iovec> iov;
    for (std::string_view part : parts) {
      if (!part.empty()) iov.push_back({const_cast<char*>(part.data()), part.size()});
    }
    std::size_t next = 0;
    while (next < iov.size() && !failed_) {
      int count = static_cast<int>(std::min<std::size_t>(iov.size() - next, IOV_MAX));
      ssize_t n = ::writev(fd_, iov.data() + next, count);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail();
      // Skip what was written; a part written in part stays, trimmed.
      auto left = static_cast<std::size_t>(n);
      while (next < iov.size() && left >= iov[next].iov_len) left -= iov[next++].iov_len;
      if (left > 0) {
        iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + left;
        iov[next].iov_len -= left;
      }
    }
  }
  void finish(std::string bytes) override { write_all(bytes); }

 private:
  void write_all(std::string_view bytes) {
    while (!bytes.empty() && !failed_) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail();
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void fail() {
    log::error(std::string("trace: writing the trace file failed: ") + std::strerror(errno) +
               "; the rest of the trace is lost");
    failed_ = true;
  }

  const int fd_;
  bool started_ = false;
  bool failed_ = false;
};

std::mutex g_transport_mutex;
std::unique_ptr<Transport> g_transport;
std::uint64_t g_generation = 0;

std::unique_ptr<Output> open_output(std::string_view spec) {
  Endpoint endpoint;
  std::string why;
  if (!parse_endpoint(spec, endpoint, why)) {
    log::error("trace: cannot use \"" + std::string(spec) + "\": " + why + "; running untraced");
    return nullptr;
  }
  if (endpoint.kind != Endpoint::Kind::file) {
    return make_live_output(std::string(spec), std::move(endpoint));
  }
  int fd = ::open(endpoint.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    log::error("trace: cannot open " + endpoint.path + ": " + std::strerror(errno) +
               "; running untraced");
    return nullptr;
  }
  return make_file_output(fd);
}

}  // namespace

std::unique_ptr<Output> make_file_output(int fd) { return std::make_unique<FileOutput>(fd); }

}  // namespace tornado::trace::detail

namespace tornado::trace {

bool start(std::string_view spec) {
  std::unique_ptr<detail::Output> output = detail::open_output(spec);
  if (!output) return false;
  stop();
  std::lock_guard lock(detail::g_transport_mutex);
  detail::g_transport =
      std::make_unique<detail::Transport>(std::move(output), ++detail::g_generation);
  return true;
}

void stop() {
  std::lock_guard lock(detail::g_transport_mutex);
  if (!detail::g_transport) return;
  if (detail::g_sink.load(std::memory_order_acquire) == detail::g_transport.get()) detach();
  detail::g_transport.reset();
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
