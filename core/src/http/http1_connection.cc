// One HTTP/1.x server connection: read a head, read its body, run the
// callback, finish the response, repeat (tornado/http1connection.py).
//
// What a request costs is kept to what it needs: the head is parsed where it
// was read, the connection's timeouts share one lazily re-armed timer, and
// what is the same for every request (the peer's address) is worked out once.
#include <exception>
#include <string>
#include <string_view>

#include "http/server_state.h"
#include "http/text.h"
#include "tornado/log.h"

namespace tornado::detail {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

// The connection's one timeout (waiting for a head, or idle between
// requests). Moving it is a store: its timer fires at the deadline it was
// armed for and, if the deadline has moved later since, re-arms for that. A
// busy connection so touches the loop's timer heap about once per timeout
// rather than once per request.
class Deadline {
 public:
  explicit Deadline(IOStream& stream) : loop_(IOLoop::current()), stream_(stream) {}
  ~Deadline() { loop_.remove_timeout(handle_); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Closes the stream `after` from now unless set() or clear() comes first.
  void set(Duration after) {
    when_ = loop_.time() + after;
    if (!armed_ || when_ < armed_for_) arm();
  }
  void clear() { when_ = TimePoint::max(); }

 private:
  void arm() {
    loop_.remove_timeout(handle_);
    armed_ = true;
    armed_for_ = when_;
    handle_ = loop_.call_at(when_, [this] { fire(); });
  }
  void fire() {
    armed_ = false;
    if (when_ == TimePoint::max()) return;
    if (loop_.time() < when_) return arm();
    stream_.close(std::make_exception_ptr(TimeoutError("HTTP timeout")));
  }

  IOLoop& loop_;
  IOStream& stream_;
  TimeoutHandle handle_;
  TimePoint when_ = TimePoint::max();
  TimePoint armed_for_;
  bool armed_ = false;
};

// Bytes received and not yet parsed; parsing reads them in place and
// consumes from the front. A read into an empty buffer adopts the stream's
// string instead of copying it, and an idle connection holds no buffer.
class InputBuffer {
 public:
  std::string_view view() const { return std::string_view(data_).substr(start_); }
  void consume(std::size_t n) {
    start_ += n;
    if (start_ == data_.size()) {
      data_.clear();
      start_ = 0;
    }
  }
  // Waits for at least one more byte; add() them. The Future fails with
  // StreamClosedError when the peer has gone.
  static Future<std::string> read_more(IOStream& stream) {
    return stream.read_bytes(kReadChunk, true);
  }
  void add(std::string chunk) {
    if (data_.empty()) {
      data_ = std::move(chunk);
      return;
    }
    if (start_ > 0 && start_ * 2 >= data_.size()) {
      data_.erase(0, start_);
      start_ = 0;
    }
    data_.append(chunk);
  }

 private:
  std::string data_;
  std::size_t start_ = 0;
};

struct Connection {
  Connection(std::shared_ptr<HTTPServerState> server_state, std::shared_ptr<IOStream> s,
             SocketAddress peer)
      : server(std::move(server_state)),
        stream(std::move(s)),
        address(std::move(peer)),
        remote_ip(address.ip()),
        protocol(dynamic_cast<SSLIOStream*>(stream.get()) ? "https" : "http"),
        deadline(*stream) {}

  const HTTPServerOptions& options() const { return server->options; }

  std::shared_ptr<HTTPServerState> server;
  std::shared_ptr<IOStream> stream;
  SocketAddress address;
  // What every request on this connection is told, worked out once.
  std::string remote_ip;
  std::string protocol;
  InputBuffer input;
  Deadline deadline;
};

// Answers a request the server refuses, then ends the connection.
Future<void> refuse(Connection& c, int code) {
  std::string response = "HTTP/1.1 " + std::to_string(code) + " " +
                         std::string(reason_phrase(code)) +
                         "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  co_await c.stream->write(std::move(response));
  c.stream->close();
}

void skip_blank_lines(Connection& c) {
  std::string_view data = c.input.view();
  std::size_t n = data.find_first_not_of("\r\n");
  c.input.consume(n == std::string_view::npos ? data.size() : n);
}

// Watches the input for a whole head, and runs the deadline for it: from
// the connection's start for the first head, else from the head's first byte
// (before that byte, the idle timeout). Synchronous, so that waiting for a
// head needs no coroutine of its own.
class HeadWait {
 public:
  static constexpr std::size_t kTooLarge = std::string_view::npos;

  HeadWait(Connection& c, bool first) : c_(c), first_(first) {}
  // The head's length once it is all there, kTooLarge once it cannot fit,
  // else 0: read more and ask again.
  std::size_t head_size() {
    skip_blank_lines(c_);
    std::string_view data = c_.input.view();
    auto end = find_header_end(data);
    if ((end ? *end : data.size()) > c_.options().max_header_size) return kTooLarge;
    if (end) {
      c_.deadline.clear();
      return *end;
    }
    if (!timing_ && (first_ || !data.empty())) {
      c_.deadline.set(c_.options().header_timeout);
      timing_ = true;
    } else if (!timing_ && !idle_) {
      c_.deadline.set(c_.options().idle_connection_timeout);
      idle_ = true;
    }
    return 0;
  }

 private:
  Connection& c_;
  bool first_;
  bool idle_ = false;
  bool timing_ = false;
};

// How the request body is framed; throws HTTPInputError for what Tornado rejects.
struct BodyFraming {
  bool chunked = false;
  std::uint64_t length = 0;
};
BodyFraming body_framing(const RequestHead& head) {
  BodyFraming framing;
  auto te = head.headers.get("Transfer-Encoding");
  auto length = parse_content_length(head.headers);
  if (te) {
    if (length) throw HTTPInputError("Message with both Transfer-Encoding and Content-Length");
    if (!iequals(*te, "chunked") || head.start_line.version != "HTTP/1.1") {
      throw HTTPInputError("Unsupported Transfer-Encoding: " + printable(*te));
    }
    framing.chunked = true;
  }
  framing.length = length.value_or(0);
  return framing;
}

// Reads the body into `body`; false after refusing one too large or malformed.
Future<bool> read_body(Connection& c, const BodyFraming& framing, std::string& body) {
  if (!framing.chunked) {
    if (framing.length > c.options().max_body_size) {
      co_await refuse(c, 413);
      co_return false;
    }
    auto n = static_cast<std::size_t>(framing.length);
    while (c.input.view().size() < n) c.input.add(co_await InputBuffer::read_more(*c.stream));
    body.assign(c.input.view().substr(0, n));
    c.input.consume(n);
    co_return true;
  }
  ChunkedDecoder decoder(c.options().max_body_size);
  for (;;) {
    int refusal = 0;
    try {
      c.input.consume(decoder.feed(c.input.view(), body));
    } catch (const HTTPInputError& e) {
      log::info(log::cat("Malformed HTTP body from ", c.address.to_string(), ": ", e.what()));
      refusal = decoder.body_too_large() ? 413 : 400;
    }
    if (refusal != 0) {
      co_await refuse(c, refusal);
      co_return false;
    }
    if (decoder.done()) co_return true;
    c.input.add(co_await InputBuffer::read_more(*c.stream));
  }
}

bool wants_keep_alive(const HTTPServerOptions& options, const RequestHead& head,
                      const BodyFraming& framing) {
  if (options.no_keep_alive) return false;
  std::string connection = head.headers.get("Connection", "");
  if (head.start_line.version == "HTTP/1.1") return !iequals(connection, "close");
  bool delimited = framing.chunked || head.headers.contains("Content-Length") ||
                   head.start_line.method == "HEAD" || head.start_line.method == "GET";
  return delimited && iequals(connection, "keep-alive");
}

void fill_request(Connection& c, RequestHead& head, HTTPServerRequest& request) {
  request.method = std::move(head.start_line.method);
  request.uri = std::move(head.start_line.path);
  request.version = std::move(head.start_line.version);
  request.headers = std::move(head.headers);
  std::size_t q = request.uri.find('?');
  request.path = request.uri.substr(0, q);
  if (q != std::string::npos) {
    request.query = request.uri.substr(q + 1);
    request.query_arguments = parse_qs_bytes(request.query);
    request.arguments = request.query_arguments;
  }
  request.host = request.headers.get_first("Host").value_or("127.0.0.1");
  request.remote_address = c.address;
  request.remote_ip = c.remote_ip;
  request.protocol = c.protocol;
  request.start_time = IOLoop::current().time();
}

void parse_body_arguments(HTTPServerRequest& request) {
  std::string type = request.headers.get("Content-Type", "");
  std::string_view media = trim(std::string_view(type).substr(0, type.find(';')));
  if (!iequals(media, "application/x-www-form-urlencoded")) return;
  request.body_arguments = parse_qs_bytes(request.body);
  for (const auto& [name, values] : request.body_arguments) {
    auto& all = request.arguments[name];
    all.insert(all.end(), values.begin(), values.end());
  }
}

// After the callback threw: a 500 if nothing was sent yet, else the end of
// the connection.
void on_callback_error(Connection& c, HTTPServerRequest& request, ResponseState& response,
                       const std::exception_ptr& error) {
  log::error(log::cat("Uncaught exception handling ", request.method, " ", request.uri, " (",
                      request.remote_ip, "): ", log::describe(error)));
  if (response.headers_sent) {
    c.stream->close();
    return;
  }
  response.code = 500;
  response.reason.clear();
  response.headers = HTTPHeaders{{"Connection", "close"}};
  response.pending.clear();
}

// Parses the head (the first `head_size` bytes of the input) and takes it
// off the input; false for a malformed one.
bool parse_head(Connection& c, std::size_t head_size, RequestHead& head, BodyFraming& framing) {
  try {
    head = parse_request_head(c.input.view().substr(0, head_size));
    framing = body_framing(head);
  } catch (const HTTPInputError& e) {
    log::info(log::cat("Malformed HTTP message from ", c.address.to_string(), ": ", e.what()));
    return false;
  }
  c.input.consume(head_size);
  return true;
}

// Serves one request whose head is the first `head_size` bytes of the
// input; true if the connection stays open for another.
Future<bool> serve_request(Connection& c, std::size_t head_size) {
  RequestHead head;
  BodyFraming framing;
  if (!parse_head(c, head_size, head, framing)) {
    co_await refuse(c, 400);
    co_return false;
  }
  bool has_body = framing.chunked || framing.length > 0;
  if (has_body && head.start_line.version == "HTTP/1.1" && c.input.view().empty() &&
      framing.length <= c.options().max_body_size &&
      iequals(head.headers.get("Expect", ""), "100-continue")) {
    co_await c.stream->write("HTTP/1.1 100 (Continue)\r\n\r\n");
  }
  auto response = std::make_shared<ResponseState>();
  response->keep_alive = wants_keep_alive(c.options(), head, framing);
  HTTPServerRequest request;
  if (has_body && !co_await read_body(c, framing, request.body)) co_return false;
  response->stream = c.stream;
  response->head_request = head.start_line.method == "HEAD";
  response->http11 = head.start_line.version == "HTTP/1.1";
  request.response_ = std::make_unique<HTTPResponseWriter>(response);
  fill_request(c, head, request);
  parse_body_arguments(request);
  std::exception_ptr error;
  try {
    co_await c.server->callback(request);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) on_callback_error(c, request, *response, error);
  if (c.stream->closed()) co_return false;
  co_await request.response().finish();
  co_return response->keep_alive;
}

// Lists a connection in HTTPServerState::connections while it runs, however it ends.
class ConnectionListing {
 public:
  ConnectionListing(HTTPServerState& server, const std::shared_ptr<IOStream>& stream)
      : server_(server), key_(stream.get()) {
    server_.connections.insert_or_assign(key_, stream);
  }
  ~ConnectionListing() { server_.connections.erase(key_); }
  ConnectionListing(const ConnectionListing&) = delete;
  ConnectionListing& operator=(const ConnectionListing&) = delete;

 private:
  HTTPServerState& server_;
  IOStream* key_;
};

}  // namespace

Future<void> serve_http1_connection(std::shared_ptr<HTTPServerState> server,
                                    std::shared_ptr<IOStream> stream, SocketAddress address) {
  ConnectionListing listing(*server, stream);
  Connection c(server, stream, std::move(address));
  try {
    for (bool first = true;; first = false) {
      HeadWait wait(c, first);
      std::size_t head_size;
      while ((head_size = wait.head_size()) == 0) {
        c.input.add(co_await InputBuffer::read_more(*stream));
      }
      if (head_size == HeadWait::kTooLarge) {
        co_await refuse(c, 431);
        break;
      }
      if (!co_await serve_request(c, head_size)) break;
    }
  } catch (const StreamClosedError&) {
    // The peer left, or a timeout closed the stream: the normal end.
  }
  stream->close();
}

}  // namespace tornado::detail
