// BaseIOStream: reads, writes and closing, after tornado/iostream.py (6.x),
// with Tornado 5.1's streaming callbacks. The read path is
//   read_*() -> try_inline_read() -> read_to_buffer_loop() -> find_read_pos()
// and, when the fd must be waited for, handle_events() -> handle_read().
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <sstream>
#include <utility>

#include "iostream/stream_state.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/log.h"

namespace tornado {

using detail::ReadRequest;
using Kind = ReadRequest::Kind;

namespace {

constexpr std::size_t kMaxIovecs = 64;  // per writev; IOV_MAX is 1024

// Resets and broken pipes are how peers normally go away: not worth a log line.
bool is_connreset(const std::error_code& e) {
  return e.category() == std::system_category() &&
         (e.value() == ECONNRESET || e.value() == ECONNABORTED || e.value() == EPIPE ||
          e.value() == ETIMEDOUT);
}

std::exception_ptr system_error_ptr(std::error_code e) {
  return std::make_exception_ptr(std::system_error(e));
}

int errno_of(const std::exception_ptr& cause) {
  if (!cause) return 0;
  try {
    std::rethrow_exception(cause);
  } catch (const std::system_error& e) {
    const std::error_category& c = e.code().category();
    return c == std::system_category() || c == std::generic_category() ? e.code().value() : 0;
  } catch (...) {
    return 0;
  }
}

template <class T>
void fail(Future<T>& future, const std::exception_ptr& cause) {
  if (future.done()) return;
  future.set_exception(StreamClosedError(cause));
  (void)future.exception();  // a failure nobody awaits is not worth a log line
}

}  // namespace

BaseIOStream::IoResult BaseIOStream::IoResult::from_syscall(long result) {
  if (result >= 0) return {Status::done, static_cast<std::size_t>(result), {}};
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    return {Status::would_block, 0, {}};
  return {Status::error, 0, std::error_code(errno, std::system_category())};
}

BaseIOStream::BaseIOStream(IOLoop& loop, const StreamOptions& options)
    : s_(std::make_unique<detail::StreamState>(loop, options)) {
  std::size_t half = std::max<std::size_t>(1, options.max_buffer_size / 2);
  s_->read_chunk_size = std::clamp<std::size_t>(options.read_chunk_size, 1, half);
  s_->node.trace_id = trace::new_object_id();
  s_->loop_id = loop.id();
  detail::link_stream(s_->node, this);
}

BaseIOStream::~BaseIOStream() {
  // Reached with io_state set only when the loop dropped our handler (it
  // holds a reference otherwise), so the loop is not told anything here.
  detail::unlink_stream(s_->node);
  if (!s_->closed) trace_closed();
}

void BaseIOStream::opened() {
  if (s_->node.trace_id == 0) return;
  trace::emit(trace::Kind::stream_opened, s_->loop_id, s_->node.trace_id, trace::intern(describe()),
              static_cast<std::uint64_t>(fileno()), static_cast<std::uint64_t>(kind()));
}

// ---- Reading ------------------------------------------------------------------

void BaseIOStream::start_read() {
  if (s_->read.kind != Kind::none) {
    throw UsageError("Already reading on " + describe() +
                     ": wait for the pending read's Future before starting another");
  }
  s_->clear_read();
}

Future<std::string> BaseIOStream::start_string_read() {
  start_read();
  Future<std::string> future(Site{std::source_location::current(), "IOStream read"});
  s_->read.future = future;
  return future;
}

Future<std::string> BaseIOStream::read_bytes(std::size_t n, bool partial) {
  Future<std::string> future = start_string_read();
  s_->read.kind = Kind::bytes;
  s_->read.bytes = n;
  s_->read.partial = partial;
  begin_inline_read();
  return future;
}

Future<std::string> BaseIOStream::read_bytes(std::size_t n, StreamingCallback callback,
                                             bool partial) {
  Future<std::string> future = start_string_read();
  s_->read.kind = Kind::bytes;
  s_->read.bytes = n;
  s_->read.partial = partial;
  s_->cold_state().read.streaming = std::make_shared<StreamingCallback>(std::move(callback));
  begin_inline_read();
  return future;
}

Future<std::string> BaseIOStream::read_until(std::string_view delimiter,
                                             std::optional<std::size_t> max_bytes) {
  Future<std::string> future = start_string_read();
  s_->read.kind = Kind::delimiter;
  s_->cold_state().read.delimiter = delimiter;
  s_->read.max_bytes = max_bytes;
  begin_inline_read();
  return future;
}

Future<std::string> BaseIOStream::read_until_regex(std::string_view pattern,
                                                   std::optional<std::size_t> max_bytes) {
  detail::ColdStreamState& cold = s_->cold_state();
  if (!cold.regex || cold.regex->pattern() != pattern) {
    RE2::Options options;
    options.set_encoding(RE2::Options::EncodingLatin1);  // bytes, as Python's bytes patterns
    options.set_log_errors(false);
    auto regex = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
    if (!regex->ok()) throw ValueError("read_until_regex: bad pattern: " + regex->error());
    cold.regex = std::move(regex);
  }
  Future<std::string> future = start_string_read();
  s_->read.kind = Kind::regex;
  s_->read.max_bytes = max_bytes;
  begin_inline_read();
  return future;
}

Future<std::size_t> BaseIOStream::read_into(std::span<char> buffer, bool partial) {
  start_read();
  Future<std::size_t> future(Site{std::source_location::current(), "IOStream read_into"});
  s_->cold_state().read.into_future = future;
  s_->cold_state().read.into = buffer;
  s_->read.kind = Kind::bytes;
  s_->read.bytes = buffer.size();
  s_->read.partial = partial;
  begin_inline_read();
  return future;
}

Future<std::string> BaseIOStream::read_until_close() {
  return read_until_close(StreamingCallback{});
}

Future<std::string> BaseIOStream::read_until_close(StreamingCallback callback) {
  Future<std::string> future = start_string_read();
  if (callback) {
    s_->cold_state().read.streaming = std::make_shared<StreamingCallback>(std::move(callback));
  }
  s_->read.kind = Kind::until_close;
  if (s_->closed) {
    run_streaming_callback();
    finish_read(s_->read_buffer.size());
    return future;
  }
  begin_inline_read();
  return future;
}

void BaseIOStream::begin_inline_read() {
  try {
    try_inline_read();
  } catch (const UnsatisfiableReadError& e) {
    log::info(log::cat("Unsatisfiable read, closing connection: ", e.what()));
    close(std::current_exception());
  }
}

void BaseIOStream::try_inline_read() {
  run_streaming_callback();
  if (auto pos = find_read_pos()) return read_from_buffer(*pos);
  if (s_->closed) {
    s_->clear_read();  // the read never started: nothing is left pending
    check_closed();
  }
  if (s_->drained && (s_->io_state & IOLoop::READ) && is_plain_fd()) {
    return add_io_state(IOLoop::READ);
  }
  if (auto pos = read_to_buffer_loop()) return read_from_buffer(*pos);
  if (!s_->closed) add_io_state(IOLoop::READ);
}

std::optional<std::size_t> BaseIOStream::read_to_buffer_loop() {
  // How much the pending read can use: pull no more than that from the fd,
  // so a slow consumer of a fast peer keeps a small buffer (flow control).
  const ReadRequest& r = s_->read;
  std::optional<std::size_t> target;
  if (r.kind == Kind::bytes) {
    target = r.bytes;
  } else if (r.max_bytes) {
    target = r.max_bytes;
  } else if (r.kind == Kind::none) {
    target = 0;
  }
  std::size_t next_find_pos = 0;
  while (!s_->closed) {
    if (read_to_buffer() == 0) break;
    run_streaming_callback();
    std::size_t size = s_->read_buffer.size();
    if (target && size >= *target) break;
    // A regex search starts over each time, so search again only once the
    // buffer has doubled (Tornado's rule); a delimiter search resumes anyway.
    if (size >= next_find_pos) {
      if (auto pos = find_read_pos()) return pos;
      next_find_pos = size * 2;
    }
  }
  return find_read_pos();
}

std::size_t BaseIOStream::read_to_buffer() {
  detail::ReadBuffer& buffer = s_->read_buffer;
  std::span<char> space = buffer.prepare(s_->read_chunk_size);
  IoResult r;
  try {
    r = read_from_fd(space.first(s_->read_chunk_size));
  } catch (...) {
    log::warning(
        log::cat("Read error on ", describe(), ": ", log::describe(std::current_exception())));
    close(std::current_exception());
    return 0;
  }
  switch (r.status) {
    case IoResult::Status::done:
      break;
    case IoResult::Status::would_block:
      // Nothing came: do not keep a read_chunk_size block per idle stream.
      buffer.release_if_empty();
      s_->drained = true;
      return 0;
    case IoResult::Status::eof:
      close();
      return 0;
    case IoResult::Status::error:
      if (!is_connreset(r.error)) {
        log::warning(log::cat("Read error on ", describe(), ": ", r.error.message()));
      }
      close(r.error);
      return 0;
  }
  if (r.bytes == 0) return 0;
  s_->drained = r.bytes < s_->read_chunk_size;
  buffer.commit(r.bytes);
  s_->bytes_read += r.bytes;
  trace::emit(trace::Kind::stream_read, s_->loop_id, s_->node.trace_id, 0, r.bytes, buffer.size());
  if (buffer.size() > s_->max_buffer_size) {
    log::error(log::cat("Reached maximum read buffer size on ", describe()));
    close(std::make_exception_ptr(StreamBufferFullError("Reached maximum read buffer size")));
    return 0;
  }
  return r.bytes;
}

std::optional<std::size_t> BaseIOStream::find_read_pos() {
  ReadRequest& r = s_->read;
  std::string_view data = s_->read_buffer.view();
  switch (r.kind) {
    case Kind::bytes:
      if (data.size() >= r.bytes || (r.partial && !data.empty())) {
        return std::min(r.bytes, data.size());
      }
      return std::nullopt;
    case Kind::delimiter: {
      if (data.empty()) return std::nullopt;
      // Resume where the last search stopped, minus a delimiter's length
      // less one: a match may straddle old and new bytes.
      const std::string& delimiter = s_->cold->read.delimiter;
      std::size_t overlap = delimiter.empty() ? 0 : delimiter.size() - 1;
      std::size_t from = r.scanned > overlap ? r.scanned - overlap : 0;
      std::size_t loc = data.find(delimiter, from);
      s_->bytes_scanned += (loc == std::string_view::npos ? data.size() : loc) - from;
      if (loc != std::string_view::npos) {
        check_max_bytes(loc + delimiter.size());
        return loc + delimiter.size();
      }
      r.scanned = data.size();
      check_max_bytes(data.size());
      return std::nullopt;
    }
    case Kind::regex: {
      if (data.empty()) return std::nullopt;
      re2::StringPiece match;
      re2::StringPiece text(data.data(), data.size());
      s_->bytes_scanned += data.size();
      if (s_->cold->regex->Match(text, 0, text.size(), RE2::UNANCHORED, &match, 1)) {
        auto end = static_cast<std::size_t>(match.data() + match.size() - data.data());
        check_max_bytes(end);
        return end;
      }
      check_max_bytes(data.size());
      return std::nullopt;
    }
    case Kind::until_close:
    case Kind::none:
      return std::nullopt;
  }
  return std::nullopt;
}

void BaseIOStream::check_max_bytes(std::size_t size) const {
  const ReadRequest& r = s_->read;
  if (!r.max_bytes || size <= *r.max_bytes) return;
  std::string what = r.kind == Kind::regex ? "regex '" + s_->cold->regex->pattern() + "'"
                                           : "delimiter '" + s_->cold->read.delimiter + "'";
  throw UnsatisfiableReadError(log::cat(what, " not found within ", *r.max_bytes, " bytes"));
}

void BaseIOStream::run_streaming_callback() {
  ReadRequest& r = s_->read;
  detail::ReadExtras* extras = s_->read_extras();
  if (extras == nullptr || !extras->streaming || s_->read_buffer.empty()) return;
  std::size_t n = s_->read_buffer.size();
  if (r.kind == Kind::bytes) {
    n = std::min(r.bytes, n);
    r.bytes -= n;
  }
  if (n == 0) return;
  // Chunks go through the loop, in order, before the read's Future resolves
  // (its done-callbacks are scheduled later). A throwing callback closes the
  // stream, as in Tornado 5.1, and the loop logs the exception.
  s_->loop.add_callback([callback = extras->streaming, chunk = s_->read_buffer.take(n),
                         self = weak_from_this()]() mutable {
    try {
      (*callback)(std::move(chunk));
    } catch (...) {
      if (auto stream = self.lock()) stream->close(std::current_exception());
      throw;
    }
  });
}

void BaseIOStream::read_from_buffer(std::size_t pos) { finish_read(pos); }

void BaseIOStream::finish_read(std::size_t size) {
  ReadRequest r = std::move(s_->read);
  detail::ReadExtras* extras = s_->read_extras();
  if (extras != nullptr && extras->into_future) {
    Future<std::size_t> into_future = std::move(*extras->into_future);
    s_->read_buffer.take_into(extras->into.first(size));
    s_->clear_read();
    future_set_result_unless_cancelled(into_future, size);
  } else {
    s_->clear_read();
    std::string data = s_->read_buffer.take(size);
    if (r.future) future_set_result_unless_cancelled(*r.future, std::move(data));
  }
  maybe_add_error_listener();
}

void BaseIOStream::handle_read() {
  // UnsatisfiableReadError goes up to handle_events, which closes the stream.
  if (auto pos = read_to_buffer_loop()) read_from_buffer(*pos);
}

// ---- Writing ------------------------------------------------------------------

Future<void> BaseIOStream::write(std::string data) { return write_impl(std::move(data)); }

Future<void> BaseIOStream::write(std::string_view data) { return write_impl(data); }

template <class Data>
Future<void> BaseIOStream::write_impl(Data&& data) {
  check_closed();
  detail::WriteBuffer& buffer = s_->write_buffer;
  std::size_t size = data.size();
  if (size != 0 &&
      size > s_->max_write_buffer_size - std::min(buffer.size(), s_->max_write_buffer_size)) {
    throw StreamBufferFullError("Reached maximum write buffer size");
  }
  bool borrowed = false;
  if constexpr (std::is_same_v<std::decay_t<Data>, std::string>) {
    buffer.append(std::move(data));
  } else if (size <= detail::WriteBuffer::kSmallWrite) {
    buffer.append_copy(data);
  } else {
    buffer.append_borrowed(data);  // sent from the caller's memory below, if it can be
    borrowed = true;
  }
  std::uint64_t index = s_->total_write_index += size;
  Future<void> future(Site{std::source_location::current(), "IOStream write"});
  if (buffer.empty() && !s_->connecting && size != 0 && is_plain_fd()) {
    // Nothing queued: send from the caller's bytes, and queue (copy) only
    // what the fd does not take. Most writes end here, sent whole.
    iovec chunk{const_cast<char*>(data.data()), size};
    std::size_t sent = write_some(std::span<const iovec>(&chunk, 1), size);
    if (s_->closed) {
      fail(future, s_->error);
      return future;
    }
    if (sent == size) {
      future_set_result_unless_cancelled(future);
    } else {
      buffer.append_copy(std::string_view(data).substr(sent));
      s_->write_futures.emplace_back(index, future);
      add_io_state(IOLoop::WRITE);
    }
    maybe_add_error_listener();
    return future;
  }
  if (s_->connecting) {
    s_->write_futures.emplace_back(index, future);
  } else {
    handle_write();  // sends what the fd takes now; earlier writes' futures resolve
    if (s_->closed) {
      fail(future, s_->error);
    } else if (s_->total_write_done_index >= index) {
      // All sent, and so was everything before it: the usual case needs no
      // queue entry (nor the memory one keeps per idle connection).
      future_set_result_unless_cancelled(future);
    } else {
      s_->write_futures.emplace_back(index, future);
    }
    if (writing()) add_io_state(IOLoop::WRITE);
    maybe_add_error_listener();
  }
  if (borrowed) s_->write_buffer.own_borrowed();
  return future;
}

void BaseIOStream::handle_write() {
  detail::WriteBuffer& buffer = s_->write_buffer;
  while (!buffer.empty()) {
    iovec chunks[kMaxIovecs];
    std::size_t n = buffer.fill(chunks, kMaxIovecs);
    std::size_t sent = write_some(std::span<const iovec>(chunks, n), buffer.size());
    if (s_->closed) return;
    if (sent == 0) break;
    buffer.advance(sent);
  }
  resolve_written_futures();
}

std::size_t BaseIOStream::write_some(std::span<const iovec> chunks, std::size_t pending) {
  IoResult r;
  try {
    r = write_to_fd(chunks);
  } catch (...) {
    log::warning(
        log::cat("Write error on ", describe(), ": ", log::describe(std::current_exception())));
    close(std::current_exception());
    return 0;
  }
  if (r.status == IoResult::Status::would_block) return 0;
  if (r.status != IoResult::Status::done) {
    if (!is_connreset(r.error)) {
      log::warning(log::cat("Write error on ", describe(), ": ", r.error.message()));
    }
    close(r.error);
    return 0;
  }
  s_->total_write_done_index += r.bytes;
  s_->bytes_written += r.bytes;
  if (r.bytes != 0) {
    trace::emit(trace::Kind::stream_written, s_->loop_id, s_->node.trace_id, 0, r.bytes,
                pending - r.bytes);  // what is left to send
  }
  return r.bytes;
}

void BaseIOStream::resolve_written_futures() {
  auto& futures = s_->write_futures;
  std::size_t& head = s_->write_futures_head;
  while (head < futures.size() && futures[head].first <= s_->total_write_done_index) {
    Future<void> future = std::move(futures[head].second);
    ++head;
    future_set_result_unless_cancelled(future);
  }
  if (head == futures.size()) {
    futures.clear();
    head = 0;
  }
}

// ---- Events from the loop -----------------------------------------------------

void BaseIOStream::add_io_state(std::uint32_t events) {
  if (s_->closed) return;
  if (s_->io_state == 0) {
    auto self = weak_from_this().lock();
    if (!self) {
      throw UsageError(
          "A stream must be owned by a std::shared_ptr (std::make_shared<IOStream>(fd))");
    }
    s_->io_state = IOLoop::ERROR | events;
    // The loop holds the stream while it waits for the fd (see iostream.h).
    // IOLoop::close(all_fds) asks the stream to close rather than closing the
    // fd under it (which the stream would then close a second time).
    detail::add_owned_handler(
        s_->loop, fileno(),
        [self](int, std::uint32_t ready) {
          if (ready == detail::kCloseOwnedFd) {
            self->close();
          } else {
            self->handle_events(ready);
          }
        },
        s_->io_state, Site{std::source_location::current(), "IOStream"});
  } else if ((s_->io_state & events) != events) {
    s_->io_state |= events;
    s_->loop.update_handler(fileno(), s_->io_state);
  }
}

void BaseIOStream::handle_events(std::uint32_t events) {
  auto self = shared_from_this();  // close() retires the loop's reference
  if (s_->closed) {
    log::warning(log::cat("Got events for closed stream ", describe()));
    return;
  }
  try {
    if (s_->connecting) handle_connect();
    if (s_->closed) return;
    if (events & IOLoop::READ) {
      s_->drained = false;
      handle_read();
    }
    if (s_->closed) return;
    if (events & IOLoop::WRITE) handle_write();
    if (s_->closed) return;
    if (events & IOLoop::ERROR) {
      s_->error = get_fd_error();
      // Close on the next iteration, after what handle_read/handle_write
      // scheduled has run.
      s_->loop.add_callback([self] { self->close(); });
      return;
    }
    update_io_state();
  } catch (const UnsatisfiableReadError& e) {
    log::info(log::cat("Unsatisfiable read, closing connection: ", e.what()));
    close(std::current_exception());
  } catch (const std::exception& e) {
    log::error(log::cat("Uncaught exception in ", describe(), ", closing connection: ", e.what()));
    close(std::current_exception());
  }
}

void BaseIOStream::update_io_state() {
  std::uint32_t state = IOLoop::ERROR;
  if (reading()) state |= IOLoop::READ;
  if (writing()) state |= IOLoop::WRITE;
  // An idle stream still listens, to notice the peer closing; one with
  // unread data need not (the close callback would wait for it anyway).
  if (state == IOLoop::ERROR && s_->read_buffer.empty()) state |= IOLoop::READ;
  if (state != s_->io_state && s_->io_state != 0) {
    s_->io_state = state;
    s_->loop.update_handler(fileno(), state);
  }
}

void BaseIOStream::maybe_add_error_listener() {
  if (s_->io_state != 0 && s_->io_state != IOLoop::ERROR) return;
  if (!s_->closed && s_->read_buffer.empty() && s_->cold && s_->cold->close_callback) {
    add_io_state(IOLoop::READ);
  }
}

// ---- Connecting ---------------------------------------------------------------

bool BaseIOStream::connecting() const noexcept { return s_->connecting; }

Future<void> BaseIOStream::begin_connect() {
  Future<void> future(Site{std::source_location::current(), "IOStream connect"});
  s_->connecting = true;
  s_->cold_state().connect_future = future;
  return future;
}

void BaseIOStream::end_connect() {
  s_->connecting = false;
  trace::emit(trace::Kind::stream_connected, s_->loop_id, s_->node.trace_id, 0,
              static_cast<std::uint64_t>(fileno()));
  if (s_->cold && s_->cold->connect_future) {
    Future<void> future = std::move(*s_->cold->connect_future);
    s_->cold->connect_future.reset();
    future_set_result_unless_cancelled(future);
  }
}

// ---- Closing --------------------------------------------------------------------

void BaseIOStream::close(std::error_code cause) { close(system_error_ptr(cause)); }

void BaseIOStream::close(std::exception_ptr cause) {
  if (!s_->closed) {
    if (cause) s_->error = std::move(cause);
    if (s_->read.kind == Kind::until_close) {
      run_streaming_callback();
      finish_read(s_->read_buffer.size());
    } else if (s_->read.kind != Kind::none) {
      // A read the buffer can satisfy now still succeeds.
      try {
        if (auto pos = find_read_pos()) read_from_buffer(*pos);
      } catch (const UnsatisfiableReadError&) {
      }
    }
    if (s_->io_state != 0) {
      s_->loop.remove_handler(fileno());
      s_->io_state = 0;
    }
    close_fd();
    s_->closed = true;
    trace_closed();
  }
  signal_closed();
}

void BaseIOStream::signal_closed() {
  // Every pending future fails first; the close callback is scheduled after
  // them, so it runs after their done-callbacks.
  ReadRequest read = std::move(s_->read);
  std::optional<Future<std::size_t>> into_future;
  if (detail::ReadExtras* extras = s_->read_extras()) into_future = std::move(extras->into_future);
  s_->clear_read();
  if (read.future) fail(*read.future, s_->error);
  if (into_future) fail(*into_future, s_->error);
  auto futures = std::move(s_->write_futures);
  std::size_t head = s_->write_futures_head;
  s_->write_futures.clear();
  s_->write_futures_head = 0;
  for (std::size_t i = head; i < futures.size(); ++i) fail(futures[i].second, s_->error);
  if (s_->cold && s_->cold->connect_future) {
    Future<void> connect = std::move(*s_->cold->connect_future);
    s_->cold->connect_future.reset();
    fail(connect, s_->error);
  }
  fail_own_futures(s_->error);
  if (s_->cold && s_->cold->close_callback) {
    s_->loop.add_callback(std::exchange(s_->cold->close_callback, CloseCallback{}));
  }
  s_->write_buffer.clear();
}

void BaseIOStream::detach() {
  if (s_->io_state != 0) {
    s_->loop.remove_handler(fileno());
    s_->io_state = 0;
  }
  s_->closed = true;
  if (s_->node.trace_id != 0) {
    trace::emit(trace::Kind::stream_closed, s_->loop_id, s_->node.trace_id,
                trace::intern("detached (start_tls)"), 0);
  }
}

void BaseIOStream::trace_closed() {
  if (s_->node.trace_id == 0) return;
  std::uint32_t reason = s_->error ? trace::intern(log::describe(s_->error)) : 0;
  trace::emit(trace::Kind::stream_closed, s_->loop_id, s_->node.trace_id, reason,
              static_cast<std::uint64_t>(errno_of(s_->error)));
}

void BaseIOStream::set_close_callback(CloseCallback callback) {
  s_->cold_state().close_callback = std::move(callback);
  maybe_add_error_listener();
}

BaseIOStream::CloseCallback BaseIOStream::take_close_callback() {
  if (!s_->cold) return {};
  return std::exchange(s_->cold->close_callback, CloseCallback{});
}

void BaseIOStream::check_closed() const {
  if (s_->closed) throw StreamClosedError(s_->error);
}

// ---- State ----------------------------------------------------------------------

bool BaseIOStream::closed() const noexcept { return s_->closed; }
bool BaseIOStream::reading() const noexcept { return s_->read.kind != Kind::none; }
bool BaseIOStream::writing() const noexcept { return !s_->write_buffer.empty(); }
void BaseIOStream::set_nodelay(bool) {}
void BaseIOStream::set_max_write_buffer_size(std::optional<std::size_t> limit) noexcept {
  s_->max_write_buffer_size = limit.value_or(SIZE_MAX);
}
std::exception_ptr BaseIOStream::error() const noexcept { return s_->error; }
IOLoop& BaseIOStream::io_loop() const noexcept { return s_->loop; }
StreamOptions BaseIOStream::options() const noexcept {
  StreamOptions options;
  options.max_buffer_size = s_->max_buffer_size;
  options.read_chunk_size = s_->read_chunk_size;
  if (s_->max_write_buffer_size != SIZE_MAX) {
    options.max_write_buffer_size = s_->max_write_buffer_size;
  }
  return options;
}
std::uint64_t BaseIOStream::trace_id() const noexcept { return s_->node.trace_id; }
void BaseIOStream::set_name(std::string name) { s_->cold_state().name = std::move(name); }

BaseIOStream::Stats BaseIOStream::stats() const noexcept {
  Stats stats;
  stats.bytes_read = s_->bytes_read;
  stats.bytes_written = s_->bytes_written;
  stats.bytes_scanned = s_->bytes_scanned;
  stats.read_buffer = s_->read_buffer.size();
  stats.write_buffer = s_->write_buffer.size();
  return stats;
}

std::string BaseIOStream::describe() const {
  std::ostringstream out;
  out << (s_->cold && !s_->cold->name.empty() ? s_->cold->name : default_name()) << " (fd "
      << fileno() << ", ";
  if (!s_->closed) {
    out << (s_->connecting ? "connecting" : "open");
  } else if (s_->error) {
    out << "closed: " << log::describe(s_->error);
  } else {
    out << "closed";
  }
  out << ", read buffer " << s_->read_buffer.size() << ", write buffer " << s_->write_buffer.size()
      << ")";
  return out.str();
}

}  // namespace tornado
