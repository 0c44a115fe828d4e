// SSLIOStream: an IOStream whose bytes go through a TlsConnection, after
// tornado/iostream.py's SSLIOStream; and IOStream::start_tls.
//
// The handshake is stepped from wherever the stream gets a turn: a read
// (read_from_fd), a write or a writable fd (handle_write), a readable fd
// (handle_read), the end of connect() (handle_connect), wait_for_handshake().
// Each step says which readiness to wait for next; reading()/writing()
// report only that while the handshake runs, so queued data never makes the
// loop spin on a writable fd the handshake cannot use yet.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "tls/tls_connection.h"
#include "tls/tls_context.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/log.h"
#include "tornado/ssl_options.h"

namespace tornado {

using detail::TlsContext;
using detail::TlsSide;
using detail::TlsStatus;

namespace {

// One TLS record's worth of plaintext: small queued chunks are gathered up
// to this so they go out as one record, not one record each.
constexpr std::size_t kRecordSize = 16 * 1024;

bool is_connected(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0;
}

// What the handshake's waiter sees when the stream closes: as in Tornado,
// the SSLError itself; anything else as StreamClosedError.
std::exception_ptr handshake_error(const std::exception_ptr& cause) {
  if (cause) {
    try {
      std::rethrow_exception(cause);
    } catch (const SSLError&) {
      return cause;
    } catch (...) {
    }
  }
  return std::make_exception_ptr(StreamClosedError(cause));
}

// Makes the context, closing `socket` if that fails: the constructor
// promises to own the socket either way.
std::shared_ptr<const TlsContext> context_or_close(int socket, const SSLOptions& options,
                                                   bool server_side) {
  try {
    return TlsContext::create(options, server_side ? TlsSide::server : TlsSide::client);
  } catch (...) {
    ::close(socket);
    throw;
  }
}

}  // namespace

SSLIOStream::SSLIOStream(int socket, const SSLOptions& ssl_options, bool server_side,
                         std::string server_hostname, const StreamOptions& options)
    : SSLIOStream(socket, context_or_close(socket, ssl_options, server_side),
                  std::move(server_hostname), options) {}

SSLIOStream::SSLIOStream(int socket, std::shared_ptr<const TlsContext> context,
                         std::string server_hostname, const StreamOptions& options)
    : IOStream(socket, options, false),
      context_(std::move(context)),
      server_hostname_(std::move(server_hostname)) {
  // A connected socket starts on the next iteration (as Tornado's does), so
  // a stream nobody reads from yet still answers its peer's handshake;
  // otherwise connect() makes the session, when it knows the host name.
  if (is_connected(fd_)) {
    make_session();
    io_loop().add_callback([this, alive = std::weak_ptr<char>(alive_)] {
      if (!alive.expired() && !weak_from_this().expired()) do_handshake();
    });
  }
  opened();
}

SSLIOStream::~SSLIOStream() = default;

void SSLIOStream::make_session() {
  if (!tls_) tls_ = std::make_unique<detail::TlsConnection>(context_, fd_, server_hostname_);
}

Future<void> SSLIOStream::connect(const SocketAddress& address, std::string server_hostname) {
  if (!server_hostname.empty()) server_hostname_ = std::move(server_hostname);
  make_session();  // a missing host name is a UsageError now, not a failed handshake later
  // A failed connect closes the stream, which fails the handshake's Future too.
  (void)IOStream::connect(address);
  return wait_for_handshake();
}

void SSLIOStream::handle_connect() {
  IOStream::handle_connect();
  if (!closed()) do_handshake();
}

Future<void> SSLIOStream::wait_for_handshake() {
  if (handshake_future_) {
    throw UsageError("wait_for_handshake() on " + describe() +
                     ": already waiting; await the first call's Future");
  }
  Future<void> future(Site{std::source_location::current(), "SSLIOStream handshake"});
  if (!accepting_) {
    future.set_result();
    return future;
  }
  if (closed()) {
    future.set_exception(handshake_error(error()));
    return future;
  }
  handshake_future_ = future;
  do_handshake();
  return future;
}

// ---- The handshake ----------------------------------------------------------

// One step; true once the handshake is done. Waits are registered here.
bool SSLIOStream::do_handshake() {
  if (!accepting_) return true;
  if (closed() || connecting() || !tls_) return false;
  if (!handshake_begun_) {
    handshake_begun_ = true;
    trace::emit(trace::Kind::tls_handshake_begun, io_loop().id(), trace_id(), 0,
                tls_->server_side() ? 1 : 0);
  }
  handshake_reading_ = handshake_writing_ = false;
  switch (tls_->handshake()) {
    case TlsStatus::ok:
      finish_handshake();
      return true;
    case TlsStatus::want_read:
      handshake_reading_ = true;
      add_io_state(IOLoop::READ);
      return false;
    case TlsStatus::want_write:
      handshake_writing_ = true;
      add_io_state(IOLoop::WRITE);
      return false;
    default:
      fail_handshake();
      return false;
  }
}

void SSLIOStream::finish_handshake() {
  accepting_ = false;
  if (trace_id() != 0) {
    trace::emit(trace::Kind::tls_handshake_finished, io_loop().id(), trace_id(),
                trace::intern(tls_->protocol() + " " + tls_->cipher()));
  }
  // What waited for the handshake now waits for the fd.
  if (BaseIOStream::writing()) add_io_state(IOLoop::WRITE);
  if (BaseIOStream::reading()) add_io_state(IOLoop::READ);
  if (handshake_future_) {
    Future<void> future = std::move(*handshake_future_);
    handshake_future_.reset();
    future_set_result_unless_cancelled(future);
  }
}

void SSLIOStream::fail_handshake() {
  std::string reason = tls_->error();
  if (trace_id() != 0) {
    trace::emit(trace::Kind::tls_handshake_failed, io_loop().id(), trace_id(),
                trace::intern(reason));
  }
  log::warning(log::cat("TLS handshake failed on ", describe(), ": ", reason));
  close(std::make_exception_ptr(SSLError("TLS handshake failed", reason)));
}

void SSLIOStream::fail_own_futures(const std::exception_ptr& cause) {
  if (!handshake_future_) return;
  Future<void> future = std::move(*handshake_future_);
  handshake_future_.reset();
  if (future.done()) return;
  future.set_exception(handshake_error(cause));
  (void)future.exception();  // already logged (or a plain close): not worth a second line
}

// ---- Events -------------------------------------------------------------------

void SSLIOStream::handle_read() {
  if (accepting_ && !do_handshake()) return;
  if (write_wants_read_) {
    write_wants_read_ = false;
    BaseIOStream::handle_write();
    if (closed()) return;
  }
  BaseIOStream::handle_read();
  // The base reads until OpenSSL wants the fd, except when a read is
  // satisfied first; a new read pending now must not wait for the fd while
  // decrypted bytes sit inside OpenSSL.
  while (!closed() && BaseIOStream::reading() && tls_ && tls_->pending() > 0) {
    BaseIOStream::handle_read();
  }
}

void SSLIOStream::handle_write() {
  if (accepting_ && !do_handshake()) return;
  if (read_wants_write_) {
    read_wants_write_ = false;
    BaseIOStream::handle_read();
    if (closed()) return;
  }
  BaseIOStream::handle_write();
}

bool SSLIOStream::reading() const noexcept {
  return handshake_reading_ || write_wants_read_ || BaseIOStream::reading();
}

bool SSLIOStream::writing() const noexcept {
  if (accepting_) return handshake_writing_;
  return read_wants_write_ || BaseIOStream::writing();
}

// ---- Bytes through the session -------------------------------------------------

BaseIOStream::IoResult SSLIOStream::read_from_fd(std::span<char> buffer) {
  if (accepting_ && !do_handshake()) return IoResult{IoResult::Status::would_block, 0, {}};
  if (!tls_) return IoResult{IoResult::Status::would_block, 0, {}};  // closed by the handshake
  detail::TlsIoResult r = tls_->read(buffer);
  switch (r.status) {
    case TlsStatus::ok:
      return IoResult{IoResult::Status::done, r.bytes, {}};
    case TlsStatus::want_read:
      return IoResult{IoResult::Status::would_block, 0, {}};
    case TlsStatus::want_write:
      read_wants_write_ = true;
      add_io_state(IOLoop::WRITE);
      return IoResult{IoResult::Status::would_block, 0, {}};
    case TlsStatus::closed:
    case TlsStatus::eof:  // a missing close_notify is an ordinary close, as Python's default
      return IoResult{IoResult::Status::eof, 0, {}};
    default:
      throw SSLError("TLS read failed", tls_->error());
  }
}

BaseIOStream::IoResult SSLIOStream::write_to_fd(std::span<const iovec> chunks) {
  if (accepting_ || !tls_) return IoResult{IoResult::Status::would_block, 0, {}};
  std::span<const char> data = coalesce(chunks);
  detail::TlsIoResult r = tls_->write(data);
  switch (r.status) {
    case TlsStatus::ok:
      // An idle stream keeps no 16 KiB gathering buffer (a retry gathers again).
      if (data.data() == scratch_.data()) std::string().swap(scratch_);
      return IoResult{IoResult::Status::done, r.bytes, {}};
    case TlsStatus::want_write:
      return IoResult{IoResult::Status::would_block, 0, {}};
    case TlsStatus::want_read:
      write_wants_read_ = true;
      add_io_state(IOLoop::READ);
      return IoResult{IoResult::Status::would_block, 0, {}};
    default:
      throw SSLError("TLS write failed", tls_->error());
  }
}

// A retry after want_* gathers the same prefix again, at least as long: the
// queue only grows until a write succeeds (TlsConnection::write's rule).
std::span<const char> SSLIOStream::coalesce(std::span<const iovec> chunks) {
  const iovec& first = chunks.front();
  if (chunks.size() == 1 || first.iov_len >= kRecordSize) {
    return {static_cast<const char*>(first.iov_base), first.iov_len};
  }
  scratch_.clear();
  for (const iovec& chunk : chunks) {
    std::size_t n = std::min(chunk.iov_len, kRecordSize - scratch_.size());
    scratch_.append(static_cast<const char*>(chunk.iov_base), n);
    if (scratch_.size() == kRecordSize) break;
  }
  return scratch_;
}

void SSLIOStream::close_fd() {
  // close_notify if the socket takes it now; waiting for it would keep a
  // closed stream alive on a peer that stopped reading.
  if (tls_ && !accepting_) (void)tls_->shutdown();
  tls_.reset();  // before the fd closes: the session refers to it
  IOStream::close_fd();
}

std::string SSLIOStream::default_name() const { return "SSL" + IOStream::default_name(); }

std::string SSLIOStream::protocol() const { return tls_ ? tls_->protocol() : ""; }
std::string SSLIOStream::cipher() const { return tls_ && !accepting_ ? tls_->cipher() : ""; }
std::string SSLIOStream::selected_alpn_protocol() const {
  return tls_ ? tls_->alpn_selected() : "";
}
std::string SSLIOStream::peer_certificate_subject() const {
  return tls_ && !accepting_ ? tls_->peer_certificate_subject() : "";
}
std::string SSLIOStream::server_name() const { return tls_ ? tls_->server_name() : ""; }

// ---- IOStream::start_tls --------------------------------------------------------

namespace {

Future<std::shared_ptr<SSLIOStream>> when_handshaken(std::shared_ptr<SSLIOStream> stream,
                                                     Future<void> handshake) {
  co_await handshake;
  co_return stream;
}

}  // namespace

Future<std::shared_ptr<SSLIOStream>> IOStream::start_tls(bool server_side,
                                                         const SSLOptions& ssl_options,
                                                         std::string server_hostname) {
  if (closed() || reading() || writing() || connecting() || stats().read_buffer != 0) {
    throw ValueError("start_tls on " + describe() +
                     ": the stream is not idle (a read or write pending, data buffered, or "
                     "closed); call it between a finished read and the next one");
  }
  auto context = TlsContext::create(ssl_options, server_side ? TlsSide::server : TlsSide::client);
  if (context->checks_hostname() && server_hostname.empty()) {
    throw UsageError("start_tls: a client that checks hostnames needs a server_hostname");
  }
  StreamOptions options = this->options();
  CloseCallback close_callback = take_close_callback();
  auto stream = std::make_shared<SSLIOStream>(detach_socket(), std::move(context),
                                              std::move(server_hostname), options);
  if (close_callback) stream->set_close_callback(std::move(close_callback));
  return when_handshaken(stream, stream->wait_for_handshake());
}

}  // namespace tornado
