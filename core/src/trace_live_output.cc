// The live output: the traced program dials the reader (tornado-viz --listen,
// tornado-trace record), so a reader started late, or restarted, is found on
// the next attempt. Everything is non-blocking and runs on the sink thread:
// a reader that stalls fills its socket, then `kMaxBuffered` bytes here,
// then the rings, which drop and count; the loop never waits.
//
//   idle --connect--> handshake --hello--> streaming --EOF/garbage/error--> idle
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "tornado/log.h"
#include "tornado/trace_file.h"
#include "trace_transport.h"

namespace tornado::trace::detail {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kRetryEvery{250};
constexpr milliseconds kHandshakeTimeout{2000};
constexpr milliseconds kFinishStall{2000};
constexpr milliseconds kFinishLimit{30000};
constexpr std::size_t kMaxBuffered = 4u << 20;

class LiveOutput final : public Output {
 public:
  LiveOutput(std::string spec, Endpoint endpoint)
      : spec_(std::move(spec)), endpoint_(std::move(endpoint)) {}
  ~LiveOutput() override { close_fd(); }

  Status service() override {
    switch (state_) {
      case State::idle:
        return try_connect();
      case State::connecting:
        return check_connected();
      case State::handshake:
        return continue_handshake();
      case State::streaming:
        return watch_reader();
    }
    return Status::idle;
  }

  bool has_room() const override {
    return state_ == State::streaming && out_.size() - sent_ < kMaxBuffered;
  }

  void send(std::string bytes) override {
    out_.append(bytes);
    flush();
  }

  // The end of the trace (up to kMaxBuffered plus the rings' last events)
  // goes to a reader for as long as it keeps taking bytes: a slow reader, a
  // sanitized one, or a viewer on a loaded machine, still gets all of it. A
  // reader that takes nothing for kFinishStall is abandoned, and kFinishLimit
  // bounds how long stop() can be held by one that only trickles.
  void finish(std::string bytes) override {
    if (state_ != State::streaming) return;
    out_.append(bytes);
    auto start = Clock::now();
    auto last_progress = start;
    std::size_t left = out_.size() - sent_;
    std::string why;  // empty: the reader took it all
    while (flush() && !out_.empty()) {
      auto now = Clock::now();
      if (out_.size() - sent_ < left) {
        left = out_.size() - sent_;
        last_progress = now;
      }
      if (now - last_progress >= kFinishStall) {
        why = "took nothing for " + std::to_string(kFinishStall.count()) + " ms";
        break;
      }
      if (now - start >= kFinishLimit) {
        why = "had not taken it all after " + std::to_string(kFinishLimit.count()) + " ms";
        break;
      }
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 50);
    }
    if (!why.empty() && state_ == State::streaming) {
      log::warning("trace: the reader at " + spec_ + " " + why + " of the end of the trace (" +
                   std::to_string(out_.size() - sent_) + " bytes left); closing");
    }
    close_fd();
  }

  milliseconds pass_interval() const override {
    return state_ == State::streaming || state_ == State::handshake ? milliseconds(5)
                                                                    : milliseconds(50);
  }

 private:
  enum class State { idle, connecting, handshake, streaming };

  Status try_connect() {
    if (Clock::now() < next_attempt_) return Status::idle;
    next_attempt_ = Clock::now() + kRetryEvery;
    bool connecting = false;
    fd_ = connect_endpoint(endpoint_, connecting);
    if (fd_ < 0) {
      if (!said_waiting_) {
        log::info("trace: no reader at " + spec_ + " yet (" + std::strerror(errno) +
                  "); trying again every " + std::to_string(kRetryEvery.count()) + " ms");
        said_waiting_ = true;
      }
      return Status::idle;
    }
    if (connecting) {
      state_ = State::connecting;
      deadline_ = Clock::now() + kHandshakeTimeout;
      return Status::idle;
    }
    return start_handshake();
  }

  Status check_connected() {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, 0) == 0) {
      return Clock::now() < deadline_ ? Status::idle : drop("connecting timed out", false);
    }
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      close_fd();  // nobody listening yet: quietly try again later
      return Status::idle;
    }
    return start_handshake();
  }

  Status start_handshake() {
    state_ = State::handshake;
    deadline_ = Clock::now() + kHandshakeTimeout;
    hello_.clear();
    out_ = encode_header(this_process_header());
    flush();
    return continue_handshake();
  }

  Status continue_handshake() {
    if (!flush()) return Status::idle;
    char buf[kReaderHelloSize];
    ssize_t n = ::recv(fd_, buf, kReaderHelloSize - hello_.size(), 0);
    if (n == 0) return drop("it closed the connection during the handshake", false);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return drop(std::string("the connection failed: ") + std::strerror(errno), false);
    if (n > 0) hello_.append(buf, static_cast<std::size_t>(n));
    if (hello_.size() < kReaderHelloSize) {
      return Clock::now() < deadline_ ? Status::idle : drop("it sent no hello within 2 s", false);
    }
    std::uint16_t major = 0, minor = 0;
    if (!decode_reader_hello(hello_, major, minor)) {
      return drop("it sent garbage instead of a reader hello", false);
    }
    if (major < kFormatMajor) {
      return drop("it reads trace format up to " + std::to_string(major) + "." +
                      std::to_string(minor) + " but this program writes " +
                      std::to_string(kFormatMajor) + "." + std::to_string(kFormatMinor),
                  false);
    }
    state_ = State::streaming;
    said_waiting_ = false;
    log::info("trace: streaming to the reader at " + spec_);
    return Status::attached;
  }

  // A reader only ever sends its hello: anything more is garbage.
  Status watch_reader() {
    char byte;
    ssize_t n = ::recv(fd_, &byte, 1, 0);
    if (n == 0) return drop("it closed the connection", true);
    if (n > 0) return drop("it sent unexpected bytes", true);
    if (errno != EAGAIN && errno != EINTR) {
      return drop(std::string("the connection failed: ") + std::strerror(errno), true);
    }
    return flush() ? Status::streaming : Status::lost;
  }

  // Sends what it can without waiting. False if the reader is gone.
  bool flush() {
    while (!out_.empty()) {
      ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) {
        drop(std::string("the connection failed: ") + std::strerror(errno),
             state_ == State::streaming);
        return false;
      }
      sent_ += static_cast<std::size_t>(n);
      if (sent_ == out_.size()) {
        out_.clear();
        sent_ = 0;
      }
    }
    // Compact once the sent prefix dominates, so the buffer does not creep.
    if (sent_ > (1u << 20) && sent_ * 2 > out_.size()) {
      out_.erase(0, sent_);
      sent_ = 0;
    }
    return true;
  }

  Status drop(const std::string& why, bool was_streaming) {
    log::warning("trace: dropping the reader at " + spec_ + " (" + why +
                 "); running untraced until a reader attaches again");
    close_fd();
    return was_streaming ? Status::lost : Status::idle;
  }

  void close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    state_ = State::idle;
    out_.clear();
    sent_ = 0;
  }

  const std::string spec_;
  const Endpoint endpoint_;
  State state_ = State::idle;
  int fd_ = -1;
  std::string out_;
  std::size_t sent_ = 0;
  std::string hello_;
  Clock::time_point next_attempt_{};
  Clock::time_point deadline_{};
  bool said_waiting_ = false;
};

}  // namespace

std::unique_ptr<Output> make_live_output(std::string spec, Endpoint endpoint) {
  return std::make_unique<LiveOutput>(std::move(spec), std::move(endpoint));
}

}  // namespace tornado::trace::detail
