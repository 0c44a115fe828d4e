// Byte streams over non-blocking fds (tornado.iostream).
//
//   auto stream = std::make_shared<IOStream>(socket(AF_INET, SOCK_STREAM, 0));
//   co_await stream->connect(SocketAddress::from_ip("127.0.0.1", 8888));
//   co_await stream->write("GET / HTTP/1.0\r\n\r\n");
//   std::string header = co_await stream->read_until("\r\n\r\n");
//
// Every read and write returns a Future. One read may be pending at a time;
// writes queue up and resolve in order.
//
// Ownership: a stream is always owned by a std::shared_ptr (make it with
// std::make_shared). Once it has had to wait for its fd (a read or write
// that could not finish at once, a connect, a close callback listening for
// the peer) the loop holds one reference until the stream closes, so a
// coroutine or a close callback may hold the last other one. close() a
// stream you are done with; one the loop never held closes its fd when the
// last reference goes. A stream must not outlive its IOLoop.
//
// Closing (as Tornado 6): data already received stays readable after the
// peer closes; read_until_close() never fails because of a close; any other
// read that the buffer cannot satisfy fails with StreamClosedError, whose
// real_error() is the cause; the close callback runs once, on a later loop
// iteration, after every pending future has failed. close() discards unsent
// data. Calling a read or write on a stream that is already closed (and
// whose buffer cannot satisfy the read) throws StreamClosedError at once.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "tornado/concurrent.h"
#include "tornado/detail/function.h"
#include "tornado/errors.h"
#include "tornado/netutil.h"
#include "tornado/trace.h"

namespace tornado {

class IOLoop;
struct SSLOptions;
class SSLIOStream;
namespace detail {
struct StreamState;
class TlsContext;
class TlsConnection;
}  // namespace detail

/// Sizes a stream is built with (Tornado's constructor arguments).
struct StreamOptions {
  /// The read buffer may not grow past this; passing it closes the stream
  /// with StreamBufferFullError.
  std::size_t max_buffer_size = 100 * 1024 * 1024;
  /// The most one read from the fd asks for; capped at max_buffer_size / 2.
  std::size_t read_chunk_size = 64 * 1024;
  /// A write that would queue more than this throws StreamBufferFullError;
  /// none means unlimited.
  std::optional<std::size_t> max_write_buffer_size{};
};

/// The read/write/close machinery shared by IOStream, PipeIOStream and
/// SSLIOStream. Everything here is for the loop's thread (the loop current
/// when the stream was made).
class BaseIOStream : public std::enable_shared_from_this<BaseIOStream> {
 public:
  /// Receives the chunks of a streaming read, on later loop iterations.
  using StreamingCallback = detail::Function<void(std::string chunk)>;
  using CloseCallback = detail::Function<void()>;

  virtual ~BaseIOStream();
  BaseIOStream(const BaseIOStream&) = delete;
  BaseIOStream& operator=(const BaseIOStream&) = delete;

  // ---- Reading (one at a time: starting a second throws UsageError) --------

  /// Exactly `n` bytes; with partial, as soon as at least one is there (at
  /// most n).
  [[nodiscard]] Future<std::string> read_bytes(std::size_t n, bool partial = false);
  /// Tornado 5.1's streaming form: the n bytes go to `callback` in chunks as
  /// they arrive, and the Future resolves (with "") once all n have.
  [[nodiscard]] Future<std::string> read_bytes(std::size_t n, StreamingCallback callback,
                                               bool partial = false);
  /// Everything up to and including `delimiter`. If it is not within
  /// max_bytes, the stream closes with UnsatisfiableReadError.
  [[nodiscard]] Future<std::string> read_until(std::string_view delimiter,
                                               std::optional<std::size_t> max_bytes = {});
  /// Everything up to and including the end of the first match of `pattern`
  /// (RE2 syntax, bytes as Latin-1; linear time). Throws ValueError for a bad
  /// pattern. max_bytes as read_until().
  [[nodiscard]] Future<std::string> read_until_regex(std::string_view pattern,
                                                     std::optional<std::size_t> max_bytes = {});
  /// Fills `buffer` (which must stay valid until the Future resolves) and
  /// resolves with the byte count: buffer.size(), or with partial whatever
  /// arrived first (at least 1).
  [[nodiscard]] Future<std::size_t> read_into(std::span<char> buffer, bool partial = false);
  /// Everything until the stream closes. Never fails because of the close.
  [[nodiscard]] Future<std::string> read_until_close();
  /// Tornado 5.1's streaming form: data goes to `callback` in chunks; the
  /// Future resolves with "" when the stream closes.
  [[nodiscard]] Future<std::string> read_until_close(StreamingCallback callback);

  // ---- Writing -------------------------------------------------------------

  /// Sends `data`: as much as the fd takes at once, the rest queued (a moved
  /// std::string is queued without a copy). The Future resolves once it has
  /// all gone to the fd. Throws StreamBufferFullError (and queues nothing) if
  /// the queue would pass max_write_buffer_size.
  [[nodiscard]] Future<void> write(std::string data);
  [[nodiscard]] Future<void> write(std::string_view data);
  [[nodiscard]] Future<void> write(const char* data) { return write(std::string_view(data)); }

  // ---- Closing and state ---------------------------------------------------

  /// Closes the stream (once; later calls do nothing). `cause` becomes
  /// error() and the real_error() of the StreamClosedErrors that pending
  /// futures fail with.
  void close(std::exception_ptr cause = nullptr);
  void close(std::error_code cause);
  /// Calls `callback` once, on a later iteration, when the stream closes
  /// (for any reason). Replaces any earlier callback.
  void set_close_callback(CloseCallback callback);
  bool closed() const noexcept;
  /// True while a read is pending.
  virtual bool reading() const noexcept;
  /// True while written data waits to go to the fd.
  virtual bool writing() const noexcept;
  /// Sets TCP_NODELAY (send small writes at once); does nothing on
  /// streams other than TCP.
  virtual void set_nodelay(bool value);
  /// Tornado's `stream.max_write_buffer_size = n`, for a stream made by
  /// someone else (TCPServer): a later write that would leave more than n
  /// bytes queued throws StreamBufferFullError; none means unlimited.
  void set_max_write_buffer_size(std::optional<std::size_t> limit) noexcept;
  /// Why the stream closed, or null (still open, or closed cleanly).
  std::exception_ptr error() const noexcept;
  /// The fd, or -1 once closed.
  virtual int fileno() const noexcept = 0;

  // ---- Diagnostics -----------------------------------------------------------

  /// Names the stream in describe() and trace events ("client 3").
  void set_name(std::string name);
  /// "IOStream 127.0.0.1:41234 -> 127.0.0.1:8888 (fd 7, open, read buffer 0,
  /// write buffer 12)", for logs and test failures.
  std::string describe() const;
  struct Stats {
    std::size_t read_buffer = 0;      // bytes received, not yet consumed
    std::size_t write_buffer = 0;     // bytes queued, not yet sent
    std::uint64_t bytes_read = 0;     // from the fd, ever
    std::uint64_t bytes_written = 0;  // to the fd, ever
    std::uint64_t bytes_scanned = 0;  // examined by read_until searches, ever
  };
  Stats stats() const noexcept;
  /// The stream's id in trace events (0 when made while tracing was off).
  std::uint64_t trace_id() const noexcept;

 protected:
  // ---- For subclasses (SSLIOStream follows Tornado's structure) ------------
  //
  // A subclass supplies the fd operations; the base decides when to call
  // them. handle_read()/handle_write() run when the fd is readable/writable
  // and may be overridden to do something first (a TLS handshake) before
  // calling the base version. add_io_state() adds interest in READ or WRITE;
  // close(cause) reports a failure. read_from_fd and write_to_fd may also
  // throw: the stream then closes with the exception as its cause.

  /// What one read_from_fd()/write_to_fd() did.
  struct IoResult {
    enum class Status : std::uint8_t { done, would_block, eof, error };
    Status status = Status::done;
    std::size_t bytes = 0;  // with done
    std::error_code error;  // with error
    /// From a read(2)/write(2)-style return value and errno.
    static IoResult from_syscall(long result);
  };

  BaseIOStream(IOLoop& loop, const StreamOptions& options);

  /// Reads into `buffer` (never empty).
  virtual IoResult read_from_fd(std::span<char> buffer) = 0;
  /// Writes from `chunks` in order (never empty); eof is not a valid answer.
  virtual IoResult write_to_fd(std::span<const iovec> chunks) = 0;
  /// Closes the fd (called once, from close()).
  virtual void close_fd() = 0;
  /// The fd's pending error (SO_ERROR), or null. Asked when the loop reports
  /// ERROR for the fd.
  virtual std::exception_ptr get_fd_error() { return nullptr; }
  /// Whether the fd carries the stream's bytes as they are, so its
  /// readiness tells of all unread data and a write may go straight to it;
  /// false when a layer (TLS) holds data and a state of its own.
  virtual bool is_plain_fd() const noexcept { return true; }
  /// What the stream_opened trace event says it is.
  virtual trace::StreamKind kind() const noexcept = 0;
  /// The first word of describe() and its addresses ("IOStream a -> b").
  virtual std::string default_name() const = 0;

  /// The fd is readable: read into the buffer and finish the pending read.
  virtual void handle_read();
  /// The fd is writable: send queued data and resolve finished writes.
  virtual void handle_write();
  /// One write of `chunks` to the fd, which are the first of `pending`
  /// bytes to send: the bytes it took (0 if it would block); on an error,
  /// closes the stream and returns 0.
  std::size_t write_some(std::span<const iovec> chunks, std::size_t pending);
  /// Runs before handle_read/handle_write while connecting() is true.
  virtual void handle_connect() {}
  /// A subclass fails its own pending futures (SSLIOStream's handshake)
  /// here, with StreamClosedError(cause): close() calls it after failing the
  /// base's futures and before scheduling the close callback.
  virtual void fail_own_futures(const std::exception_ptr& /*cause*/) {}

  /// Adds `events` (IOLoop::READ/WRITE) to what the stream waits for,
  /// registering the fd with the loop on first use.
  void add_io_state(std::uint32_t events);
  /// Throws StreamClosedError (with error() inside) if closed.
  void check_closed() const;
  /// Stops watching the fd and counts the stream as closed, without
  /// closing the fd or running the close callback, for handing the fd to
  /// another stream (start_tls).
  void detach();
  /// Takes the close callback away (start_tls gives it to the new stream).
  CloseCallback take_close_callback();
  StreamOptions options() const noexcept;
  /// Emits stream_opened; the most-derived constructor calls it last.
  void opened();
  IOLoop& io_loop() const noexcept;
  /// True between begin_connect() and end_connect().
  bool connecting() const noexcept;
  /// Marks the stream connecting (writes queue until it is connected) and
  /// returns the Future connect() hands out; close() fails it.
  Future<void> begin_connect();
  /// The connection is up: resolves connect()'s Future. Queued writes go out
  /// when handle_write() runs next (the fd is writable).
  void end_connect();

 private:
  void handle_events(std::uint32_t events);
  void start_read();
  Future<std::string> start_string_read();
  void begin_inline_read();
  void try_inline_read();
  std::optional<std::size_t> read_to_buffer_loop();
  std::size_t read_to_buffer();
  std::optional<std::size_t> find_read_pos();
  void run_streaming_callback();
  void read_from_buffer(std::size_t pos);
  void finish_read(std::size_t size);
  void maybe_add_error_listener();
  void update_io_state();
  void check_max_bytes(std::size_t size) const;
  void resolve_written_futures();
  template <class Data>
  Future<void> write_impl(Data&& data);
  void signal_closed();
  void trace_closed();

  std::unique_ptr<detail::StreamState> s_;
};

/// A stream over a connected (or connecting) socket: TCP or Unix.
class IOStream : public BaseIOStream {
 public:
  /// Takes ownership of `socket` and makes it non-blocking.
  explicit IOStream(int socket, const StreamOptions& options = {});
  ~IOStream() override;

  /// Connects the socket to `address`. Writes issued before the connection
  /// completes are sent after it. Fails with StreamClosedError (the cause
  /// inside) if the connection fails. server_hostname is for SSLIOStream.
  [[nodiscard]] virtual Future<void> connect(const SocketAddress& address,
                                             std::string server_hostname = {});
  /// Hands the socket to a new SSLIOStream and starts its handshake; this
  /// stream is closed (detached) at once. Only on an idle stream: no read or
  /// write pending and nothing buffered, else UsageError.
  [[nodiscard]] Future<std::shared_ptr<SSLIOStream>> start_tls(bool server_side,
                                                               const SSLOptions& ssl_options,
                                                               std::string server_hostname = {});
  void set_nodelay(bool value) override;
  int fileno() const noexcept override { return fd_; }

 protected:
  friend class TCPClient;  // its TLS connect keeps the SSLIOStream to close on timeout
  IoResult read_from_fd(std::span<char> buffer) override;
  IoResult write_to_fd(std::span<const iovec> chunks) override;
  void close_fd() override;
  std::exception_ptr get_fd_error() override;
  trace::StreamKind kind() const noexcept override;
  std::string default_name() const override;
  void handle_connect() override;
  /// detach() and give up the socket (start_tls); fileno() becomes -1.
  int detach_socket();
  /// For subclasses: the same, but leaves opened() to the subclass's
  /// constructor, so stream_opened names the right kind.
  IOStream(int socket, const StreamOptions& options, bool trace_opened);

  int fd_;

 private:
  trace::StreamKind kind_;
};

/// A TLS stream over a socket (tornado.iostream.SSLIOStream), on OpenSSL.
///
///   auto stream = std::make_shared<SSLIOStream>(socket(AF_INET, SOCK_STREAM, 0), SSLOptions{});
///   co_await stream->connect(address, "example.com");  // TCP, then the TLS handshake
///
/// The handshake never blocks: on a connected socket it starts on the next
/// loop iteration (or with the first read, write or wait_for_handshake(),
/// if sooner), on another at the end of connect(); reads and writes issued
/// before it finishes wait for it. A client sends server_hostname as SNI and, by
/// default, checks the server's certificate against the system CA store and
/// that it names server_hostname. A failed handshake logs one line, closes
/// this stream only, and fails wait_for_handshake() with SSLError (its
/// reason() is OpenSSL's) and other pending futures with StreamClosedError
/// holding that SSLError. close() sends close_notify if the socket takes it
/// at once (it never waits). Loop thread only, as every stream.
class SSLIOStream : public IOStream {
 public:
  /// Takes ownership of `socket`, connected (the handshake can start) or not
  /// yet (call connect()). Throws SSLError for options OpenSSL rejects, and
  /// UsageError for a client on a connected socket that checks hostnames
  /// without a server_hostname; the socket is closed either way.
  SSLIOStream(int socket, const SSLOptions& ssl_options, bool server_side = false,
              std::string server_hostname = {}, const StreamOptions& options = {});
  /// The same with a context shared by many streams (TCPServer, TCPClient):
  /// its side (server or client) is the stream's.
  SSLIOStream(int socket, std::shared_ptr<const detail::TlsContext> context,
              std::string server_hostname = {}, const StreamOptions& options = {});
  ~SSLIOStream() override;

  /// Connects, then handshakes; the Future resolves once both are done (or
  /// fails as wait_for_handshake()). server_hostname, if given, replaces the
  /// constructor's. Throws UsageError as the constructor does.
  [[nodiscard]] Future<void> connect(const SocketAddress& address,
                                     std::string server_hostname = {}) override;
  /// Resolves once the handshake has finished (at once if it has). One
  /// waiter at a time: a second call before the first resolves throws
  /// UsageError.
  [[nodiscard]] Future<void> wait_for_handshake();
  /// True while a read is pending or the handshake waits to receive.
  bool reading() const noexcept override;
  /// True while written data waits to go out; during the handshake, only
  /// while the handshake itself waits to send (queued data waits for it).
  bool writing() const noexcept override;

  /// After the handshake (else ""): "TLSv1.3", "TLS_AES_256_GCM_SHA384", the
  /// ALPN protocol agreed on, the peer certificate's subject
  /// ("CN=localhost"), and the SNI name sent (client) or received (server).
  std::string protocol() const;
  std::string cipher() const;
  std::string selected_alpn_protocol() const;
  std::string peer_certificate_subject() const;
  std::string server_name() const;

 protected:
  IoResult read_from_fd(std::span<char> buffer) override;
  IoResult write_to_fd(std::span<const iovec> chunks) override;
  void close_fd() override;
  trace::StreamKind kind() const noexcept override { return trace::StreamKind::tls; }
  bool is_plain_fd() const noexcept override { return false; }  // OpenSSL buffers records
  std::string default_name() const override;
  void handle_read() override;
  void handle_write() override;
  void handle_connect() override;
  void fail_own_futures(const std::exception_ptr& cause) override;

 private:
  void make_session();
  bool do_handshake();
  void finish_handshake();
  void fail_handshake();
  std::span<const char> coalesce(std::span<const iovec> chunks);

  std::shared_ptr<const detail::TlsContext> context_;
  std::unique_ptr<detail::TlsConnection> tls_;
  std::string server_hostname_;
  std::optional<Future<void>> handshake_future_;
  std::string scratch_;  // small queued chunks gathered into one record
  std::shared_ptr<char> alive_ = std::make_shared<char>();  // expires with the stream
  bool accepting_ = true;                                   // the handshake has not finished
  bool handshake_begun_ = false;
  bool handshake_reading_ = false;
  bool handshake_writing_ = false;
  bool read_wants_write_ = false;  // a read must wait for the fd to take a write first
  bool write_wants_read_ = false;  // and the other way round
};

/// A stream over one end of a pipe (or any fd read(2)/write(2) work on).
class PipeIOStream : public BaseIOStream {
 public:
  /// Takes ownership of `fd` and makes it non-blocking.
  explicit PipeIOStream(int fd, const StreamOptions& options = {});
  ~PipeIOStream() override;
  int fileno() const noexcept override { return fd_; }

 protected:
  IoResult read_from_fd(std::span<char> buffer) override;
  IoResult write_to_fd(std::span<const iovec> chunks) override;
  void close_fd() override;
  trace::StreamKind kind() const noexcept override { return trace::StreamKind::pipe; }
  std::string default_name() const override;

 private:
  int fd_;
};

}  // namespace tornado
