// trace::start()'s machinery: per-thread rings drained by one sink thread
// into an Output (a file, or a live reader over a socket).
//
// Emitting threads only ever touch their own ring. Every few milliseconds the
// sink thread drains every ring, writes the strings interned since its last
// pass (before the events that may use them) and then the events.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "tornado/trace.h"
#include "trace_endpoint.h"
#include "trace_ring.h"

namespace tornado::trace::detail {

/// Where the sink thread sends the encoded trace. Sink thread only.
class Output {
 public:
  enum class Status {
    idle,       // no reader: nothing is traced
    attached,   // a reader has just completed the handshake: start a session
    streaming,  // keep sending
    lost,       // the reader went away: stop tracing
  };
  virtual ~Output() = default;
  /// Connects, handshakes, flushes, watches the reader. Called every pass.
  virtual Status service() = 0;
  /// Whether send() may be called now (a slow reader makes this false, and
  /// the rings fill and drop instead of the loop waiting).
  virtual bool has_room() const = 0;
  virtual void send(std::string bytes) = 0;
  /// send() of the parts one after the other. A file writes them with one
  /// writev, straight from the rings; the default joins them first.
  virtual void send_parts(std::span<const std::string_view> parts);
  /// The last bytes of the trace; waits a bounded time for them to leave.
  virtual void finish(std::string bytes) = 0;
  /// How long the sink thread may sleep between passes.
  virtual std::chrono::milliseconds pass_interval() const { return std::chrono::milliseconds(5); }
};

/// What the last transport's sink thread did, recorded as it ended: for
/// benchmarks (events per second of the sink thread's own CPU time).
struct TransportStats {
  std::uint64_t events_sent = 0;  // events drained while a reader was attached
  std::uint64_t cpu_ns = 0;       // the sink thread's CPU time
};
TransportStats last_transport_stats();

std::unique_ptr<Output> make_file_output(int fd);
std::unique_ptr<Output> make_live_output(std::string spec, Endpoint endpoint);

class Transport final : public Sink {
 public:
  Transport(std::unique_ptr<Output> output, std::uint64_t generation);
  ~Transport() override;  // finishes the trace

  void on_string(std::uint32_t, std::string_view) override {}  // the sink thread reads the table
  void on_event(const Event& event) override {
    // Half full: wake the sink thread now rather than at its next pass, so a
    // burst faster than one ring per pass interval is drained, not dropped.
    // (notify_one makes no system call while the sink thread is busy.)
    if (ring_for_this_thread().push_counting(event) == tornado::detail::TraceRing::kCapacity / 2) {
      wakeup_.notify_one();
    }
  }

 private:
  struct ThreadRing {
    std::uint64_t generation = 0;
    std::shared_ptr<tornado::detail::TraceRing> ring;
  };

  tornado::detail::TraceRing& ring_for_this_thread();
  void run();
  std::size_t pass(bool last);  // returns how many events it drained
  void begin_session();
  void end_session();
  void drain(bool last);
  std::size_t send_from_rings(std::string strings);
  std::string encode(bool last);

  std::unique_ptr<Output> output_;
  const std::uint64_t generation_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<tornado::detail::TraceRing>> rings_;
  // Sink thread only:
  std::vector<Event> events_;
  std::uint32_t next_string_ = 1;
  bool in_session_ = false;
  std::set<std::uint16_t> awaiting_snapshot_;
  std::uint64_t events_sent_ = 0;  // loops whose events wait for their snapshot
  std::thread thread_;
};

}  // namespace tornado::trace::detail
