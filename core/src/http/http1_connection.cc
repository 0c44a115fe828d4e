// One HTTP/1.x server connection: read a head, read its body, run the
// callback, finish the response, repeat (tornado/http1connection.py).
#include <string>
#include <string_view>

#include "http/server_state.h"
#include "http/text.h"
#include "tornado/log.h"

namespace tornado::detail {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

// Closes the stream if it is still running when `after` passes.
class StreamDeadline {
 public:
  StreamDeadline(const std::shared_ptr<IOStream>& stream, Duration after)
      : loop_(IOLoop::current()) {
    handle_ = loop_.call_later(after, [weak = std::weak_ptr<IOStream>(stream)] {
      if (auto s = weak.lock()) s->close(std::make_exception_ptr(TimeoutError("HTTP timeout")));
    });
  }
  ~StreamDeadline() { loop_.remove_timeout(handle_); }
  StreamDeadline(const StreamDeadline&) = delete;
  StreamDeadline& operator=(const StreamDeadline&) = delete;

 private:
  IOLoop& loop_;
  TimeoutHandle handle_;
};

// Bytes received and not yet parsed. Reads append; parsing consumes from the front.
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
  // Throws StreamClosedError when the peer has gone.
  Future<void> read_more(IOStream& stream) {
    std::string chunk = co_await stream.read_bytes(kReadChunk, true);
    if (start_ > 0 && start_ * 2 >= data_.size()) {
      data_.erase(0, start_);
      start_ = 0;
    }
    data_ += chunk;
  }

 private:
  std::string data_;
  std::size_t start_ = 0;
};

struct Connection {
  std::shared_ptr<HTTPServerState> server;
  std::shared_ptr<IOStream> stream;
  SocketAddress address;
  InputBuffer input;

  const HTTPServerOptions& options() const { return server->options; }
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

// Waits for a whole head; its length, or 0 after refusing an oversized one.
Future<std::size_t> read_head(Connection& c, bool first) {
  if (!first && c.input.view().empty()) {
    StreamDeadline idle(c.stream, c.options().idle_connection_timeout);
    co_await c.input.read_more(*c.stream);
  }
  std::optional<StreamDeadline> slow;  // armed once we have to wait for the rest
  for (;;) {
    skip_blank_lines(c);
    std::string_view data = c.input.view();
    auto end = find_header_end(data);
    std::size_t size = end ? *end : data.size();
    if (size > c.options().max_header_size) {
      co_await refuse(c, 431);
      co_return 0;
    }
    if (end) co_return *end;
    if (!slow) slow.emplace(c.stream, c.options().header_timeout);
    co_await c.input.read_more(*c.stream);
  }
}

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
    while (c.input.view().size() < n) co_await c.input.read_more(*c.stream);
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
    co_await c.input.read_more(*c.stream);
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
  request.query = q == std::string::npos ? std::string() : request.uri.substr(q + 1);
  request.query_arguments = parse_qs_bytes(request.query);
  request.arguments = request.query_arguments;
  request.host = request.headers.get("Host", "127.0.0.1");
  request.remote_address = c.address;
  request.remote_ip = c.address.ip();
  request.protocol = dynamic_cast<SSLIOStream*>(c.stream.get()) ? "https" : "http";
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

// Runs the callback; a failure becomes a 500 if nothing was sent yet.
Future<void> run_callback(Connection& c, HTTPServerRequest& request, ResponseState& response) {
  std::exception_ptr error;
  try {
    co_await c.server->callback(request);
  } catch (...) {
    error = std::current_exception();
  }
  if (!error) co_return;
  log::error(log::cat("Uncaught exception handling ", request.method, " ", request.uri, " (",
                      request.remote_ip, "): ", log::describe(error)));
  if (response.headers_sent) {
    c.stream->close();
    co_return;
  }
  response.code = 500;
  response.reason.clear();
  response.headers = HTTPHeaders{{"Connection", "close"}};
  response.pending.clear();
}

// Serves one request whose head is the first `head_size` bytes of the
// input; true if the connection stays open for another.
Future<bool> serve_request(Connection& c, std::size_t head_size) {
  RequestHead head;
  BodyFraming framing;
  bool malformed = false;
  try {
    head = parse_request_head(c.input.view().substr(0, head_size));
    framing = body_framing(head);
  } catch (const HTTPInputError& e) {
    log::info(log::cat("Malformed HTTP message from ", c.address.to_string(), ": ", e.what()));
    malformed = true;
  }
  if (malformed) {
    co_await refuse(c, 400);
    co_return false;
  }
  c.input.consume(head_size);
  bool has_body = framing.chunked || framing.length > 0;
  bool expect = iequals(head.headers.get("Expect", ""), "100-continue");
  if (expect && has_body && head.start_line.version == "HTTP/1.1" && c.input.view().empty() &&
      framing.length <= c.options().max_body_size) {
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
  co_await run_callback(c, request, *response);
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
  Connection c{server, stream, std::move(address), {}};
  try {
    bool first = true;
    for (;;) {
      std::size_t head_size = co_await read_head(c, first);
      first = false;
      if (head_size == 0 || !co_await serve_request(c, head_size)) break;
    }
  } catch (const StreamClosedError&) {
    // The peer left, or a timeout closed the stream: the normal end.
  }
  stream->close();
}

}  // namespace tornado::detail
