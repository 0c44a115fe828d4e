// TCPClient: resolve, then Happy Eyeballs over the addresses (Tornado's
// _Connector), then TLS if asked (tornado/tcpclient.py).
#include "tornado/tcpclient.h"

#include <unistd.h>

#include <deque>
#include <system_error>
#include <utility>
#include <vector>

#include "tls/tls_context.h"
#include "tornado/gen.h"

namespace tornado {

namespace {

using Attempt = std::pair<int, SocketAddress>;  // (family, address), as Resolver::Result
using Connected = std::pair<std::shared_ptr<IOStream>, Future<void>>;

// A fresh socket of `family`, bound to the source address if one is asked
// for, connecting to `address`. A failure is a failed Future (and no stream).
Connected create_stream(const Attempt& attempt, const ConnectOptions& options) {
  auto failed = [](std::error_code error, const std::string& what) {
    Future<void> future(Site{std::source_location::current(), "TCPClient connect"});
    future.set_exception(std::system_error(error, what));
    return Connected{nullptr, future};
  };
  auto [family, address] = attempt;
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed({errno, std::system_category()}, "socket");
  if (!options.source_ip.empty() || options.source_port != 0) {
    // A port alone binds the loopback address of this family (as Tornado).
    std::string ip = !options.source_ip.empty() ? options.source_ip
                     : family == AF_INET6       ? "::1"
                                                : "127.0.0.1";
    try {
      SocketAddress source = SocketAddress::from_ip(ip, options.source_port);
      if (::bind(fd, source.data(), source.size()) != 0) {
        std::error_code error(errno, std::system_category());
        ::close(fd);
        return failed(error, "bind " + source.to_string());
      }
    } catch (const ValueError& e) {
      ::close(fd);
      return failed(std::make_error_code(std::errc::invalid_argument), e.what());
    }
  }
  StreamOptions stream_options;
  if (options.max_buffer_size) stream_options.max_buffer_size = *options.max_buffer_size;
  auto stream = std::make_shared<IOStream>(fd, stream_options);
  return {stream, stream->connect(address)};
}

// Dials the primary family's addresses one after another, and the
// secondary's once the primary has had `initial` or has failed; the first
// connection wins and the others are closed.
class Connector : public std::enable_shared_from_this<Connector> {
 public:
  Connector(const Resolver::Result& addresses, ConnectOptions options, Duration initial)
      : loop_(IOLoop::current()),
        options_(std::move(options)),
        initial_(initial),
        remaining_(addresses.size()) {
    for (const Attempt& attempt : addresses) {
      queues_[attempt.first == addresses.front().first ? 0 : 1].push_back(attempt);
    }
  }

  Future<std::shared_ptr<IOStream>> start(std::optional<TimePoint> deadline) {
    std::weak_ptr<Connector> self = weak_from_this();
    try_connect(0);
    if (!future_.done()) {
      timeout_ = loop_.call_later(initial_, [self] {
        if (auto connector = self.lock()) connector->on_timeout();
      });
    }
    if (deadline && !future_.done()) {
      connect_timeout_ = loop_.call_at(*deadline, [self] {
        if (auto connector = self.lock()) connector->on_connect_timeout();
      });
    }
    return future_;
  }

 private:
  void try_connect(int queue) {
    if (queues_[queue].empty()) {
      // This queue is done; fail only once the other one is too.
      if (remaining_ == 0 && !future_.done()) {
        future_.set_exception(last_error_ ? last_error_
                                          : std::make_exception_ptr(StreamClosedError()));
        clear_timeouts();
      }
      return;
    }
    Attempt attempt = queues_[queue].front();
    queues_[queue].pop_front();
    auto [stream, connected] = create_stream(attempt, options_);
    if (stream) streams_.push_back(stream);
    connected.add_done_callback([self = shared_from_this(), queue, stream](Future<void> done) {
      self->on_connect_done(queue, stream, done);
    });
  }

  void on_connect_done(int queue, const std::shared_ptr<IOStream>& stream, Future<void>& done) {
    --remaining_;
    if (std::exception_ptr error = done.exception()) {
      forget(stream);
      if (future_.done()) return;
      last_error_ = error;
      try_connect(queue);
      if (timeout_) {
        // The primary failed: try the secondary now rather than after the delay.
        loop_.remove_timeout(std::exchange(timeout_, TimeoutHandle{}));
        on_timeout();
      }
      return;
    }
    clear_timeouts();
    if (future_.done()) {
      stream->close();  // a late arrival
      return;
    }
    forget(stream);
    future_.set_result(stream);
    close_streams();
  }

  void on_timeout() {
    timeout_ = {};
    if (!future_.done()) try_connect(1);
  }

  void on_connect_timeout() {
    connect_timeout_ = {};
    if (!future_.done()) future_.set_exception(TimeoutError("Timeout while connecting"));
    close_streams();
  }

  void clear_timeouts() {
    if (timeout_) loop_.remove_timeout(std::exchange(timeout_, TimeoutHandle{}));
    if (connect_timeout_) loop_.remove_timeout(std::exchange(connect_timeout_, TimeoutHandle{}));
  }

  void forget(const std::shared_ptr<IOStream>& stream) { std::erase(streams_, stream); }

  void close_streams() {
    for (auto& stream : std::exchange(streams_, {})) stream->close();
  }

  IOLoop& loop_;
  ConnectOptions options_;
  Duration initial_;
  std::deque<Attempt> queues_[2];  // primary family, secondary family
  std::size_t remaining_;          // attempts not yet finished or not yet made
  Future<std::shared_ptr<IOStream>> future_{Site{std::source_location::current(), "TCPClient"}};
  std::exception_ptr last_error_;
  TimeoutHandle timeout_;
  TimeoutHandle connect_timeout_;
  std::vector<std::shared_ptr<IOStream>> streams_;  // attempts in flight
};

template <class T>
Future<T> maybe_with_timeout(std::optional<TimePoint> deadline, Future<T> future) {
  return deadline ? gen::with_timeout(*deadline, std::move(future)) : future;
}

}  // namespace

TCPClient::TCPClient(std::shared_ptr<Resolver> resolver, Duration initial_connect_timeout)
    : resolver_(resolver ? std::move(resolver) : std::make_shared<DefaultExecutorResolver>()),
      initial_connect_timeout_(initial_connect_timeout) {}

// The public connect()s are plain functions, so that no temporary of the
// caller's co_await expression has to be a coroutine parameter: GCC 12
// relocates those bitwise, breaking a std::string's small-string buffer.
Future<std::shared_ptr<IOStream>> TCPClient::connect(std::string_view host, std::uint16_t port) {
  return connect_impl(std::string(host), port, ConnectOptions{});
}

Future<std::shared_ptr<IOStream>> TCPClient::connect(std::string_view host, std::uint16_t port,
                                                     ConnectOptions options) {
  return connect_impl(std::string(host), port, std::move(options));
}

namespace {
std::shared_ptr<const detail::TlsContext> make_client_context(const SSLOptions& options) {
  return detail::TlsContext::create(options, detail::TlsSide::client);
}
}  // namespace

Future<std::shared_ptr<IOStream>> TCPClient::connect_impl(std::string host, std::uint16_t port,
                                                          ConnectOptions options) {
  std::optional<TimePoint> deadline;
  if (options.timeout) deadline = IOLoop::current().time() + *options.timeout;
  Resolver::Result addresses =
      co_await maybe_with_timeout(deadline, resolver_->resolve(host, port, options.family));
  if (addresses.empty()) throw StreamClosedError();  // a resolver that found nothing
  auto connector = std::make_shared<Connector>(addresses, options, initial_connect_timeout_);
  std::shared_ptr<IOStream> stream = co_await connector->start(deadline);
  if (!options.ssl_options) co_return stream;

  // start_tls by hand, to keep the TLS stream and close it on a timeout.
  std::shared_ptr<SSLIOStream> tls;
  try {
    // A context seen before is ready; a new one (loading a CA store: tens
    // of milliseconds) is made on the executor, not on the loop thread.
    auto context = detail::TlsContext::find(*options.ssl_options, detail::TlsSide::client);
    if (!context) {
      // Made in a statement of its own: GCC 12 mis-moves class temporaries
      // that live inside a co_await expression.
      auto made =
          IOLoop::current().run_in_executor(nullptr, make_client_context, *options.ssl_options);
      context = co_await maybe_with_timeout(deadline, std::move(made));
    }
    tls = std::make_shared<SSLIOStream>(stream->detach_socket(), std::move(context), host,
                                        stream->options());
  } catch (...) {
    stream->close();
    throw;
  }
  // The deadline closes the stream itself (with_timeout would leave the
  // handshake running, and log its failure after the timeout).
  auto timed_out = std::make_shared<bool>(false);
  TimeoutHandle timer;
  if (deadline) {
    timer = IOLoop::current().call_at(*deadline, [weak = std::weak_ptr(tls), timed_out] {
      *timed_out = true;
      if (auto expired = weak.lock()) expired->close();
    });
  }
  try {
    co_await tls->wait_for_handshake();
  } catch (...) {
    if (timer) IOLoop::current().remove_timeout(timer);
    tls->close();
    if (*timed_out) throw TimeoutError("Timeout during the TLS handshake");
    throw;
  }
  if (timer) IOLoop::current().remove_timeout(timer);
  co_return tls;
}

}  // namespace tornado
