// One request and its response on a connected stream (the client half of
// tornado/http1connection.py).
#include "http/client_state.h"
#include "http/text.h"

namespace tornado::detail {

namespace {

std::string render_request(const ParsedUrl& url, const HTTPRequest& request) {
  std::string out = request.method + " " + url.target + " HTTP/1.1\r\n";
  HTTPHeaders headers = request.headers;
  if (!headers.contains("Host")) headers.add("Host", url.host_header);
  if (!headers.contains("User-Agent") && !request.user_agent.empty()) {
    headers.add("User-Agent", request.user_agent);
  }
  bool wants_body = request.body || request.method == "POST" || request.method == "PUT" ||
                    request.method == "PATCH";
  if (wants_body && !headers.contains("Content-Length")) {
    headers.add("Content-Length", std::to_string(request.body ? request.body->size() : 0));
  }
  // As Tornado's simple_httpclient: a POST says what its body is.
  if (request.method == "POST" && !headers.contains("Content-Type")) {
    headers.add("Content-Type", "application/x-www-form-urlencoded");
  }
  out += headers.to_wire();
  out += "\r\n";
  if (request.body) out += *request.body;
  return out;
}

[[noreturn]] void too_large() { throw HTTPClientError(599, "Response body too large"); }

Future<std::string> read_chunked(ClientState& state, IOStream& stream) {
  ChunkedDecoder decoder(state.options.max_body_size);
  std::string body;
  while (!decoder.done()) {
    std::string chunk = co_await stream.read_bytes(64 * 1024, true);
    try {
      std::size_t used = decoder.feed(chunk, body);
      (void)used;  // a server may not pipeline responses, so extra bytes are junk
    } catch (const HTTPInputError&) {
      if (decoder.body_too_large()) too_large();
      throw;
    }
  }
  co_return body;
}

// Reads until the server closes. Plain partial reads, so the limit is
// checked as data arrives and nothing outlives this frame.
Future<std::string> read_to_close(ClientState& state, IOStream& stream) {
  std::string body;
  for (;;) {
    std::string chunk;
    bool closed = false;
    try {
      chunk = co_await stream.read_bytes(64 * 1024, true);
    } catch (const StreamClosedError&) {
      closed = true;
    }
    if (closed) co_return body;
    if (body.size() + chunk.size() > state.options.max_body_size) too_large();
    body += chunk;
  }
}

struct Head {
  HTTPResponse response;
  bool http11 = false;
};

// Reads the status line and headers, skipping 1xx interim responses.
Future<std::optional<Head>> read_head(ClientState& state, IOStream& stream,
                                      std::uint64_t bytes_before) {
  for (;;) {
    std::string head;
    bool stale = false;
    try {
      head = co_await stream.read_until_regex("\r?\n\r?\n", state.options.max_header_size);
    } catch (const StreamClosedError&) {
      if (stream.stats().bytes_read != bytes_before) throw;
      stale = true;
    }
    if (stale) co_return std::nullopt;
    std::size_t eol = head.find('\n');
    std::string_view line = std::string_view(head).substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ResponseStartLine start = parse_response_start_line(line);
    if (start.code >= 100 && start.code < 200) continue;
    Head parsed;
    parsed.http11 = start.version == "HTTP/1.1";
    parsed.response.code = start.code;
    parsed.response.reason =
        start.reason.empty() ? std::string(reason_phrase(start.code)) : start.reason;
    parsed.response.headers = HTTPHeaders::parse(std::string_view(head).substr(eol + 1));
    co_return parsed;
  }
}

}  // namespace

Future<std::optional<HTTPResponse>> exchange(ClientState& state, std::shared_ptr<IOStream> stream,
                                             const ParsedUrl& url, const HTTPRequest& request,
                                             bool& keep_alive) {
  keep_alive = false;
  std::uint64_t bytes_before = stream->stats().bytes_read;
  try {
    co_await stream->write(render_request(url, request));
  } catch (const StreamClosedError&) {
    // A kept-alive connection the server closed: read_head sees it too.
  }
  auto head = co_await read_head(state, *stream, bytes_before);
  if (!head) co_return std::nullopt;
  HTTPResponse& response = head->response;
  bool http11 = head->http11;
  bool no_body = request.method == "HEAD" || response.code == 204 || response.code == 304;
  auto te = response.headers.get("Transfer-Encoding");
  auto length = parse_content_length(response.headers);
  bool framed = no_body || length || te;
  if (no_body) {
  } else if (te) {
    if (!iequals(*te, "chunked")) throw HTTPInputError("Unsupported Transfer-Encoding " + *te);
    response.body = co_await read_chunked(state, *stream);
  } else if (length) {
    if (*length > state.options.max_body_size) too_large();
    response.body = co_await stream->read_bytes(static_cast<std::size_t>(*length));
  } else {
    response.body = co_await read_to_close(state, *stream);
  }
  keep_alive = framed && http11 && !iequals(response.headers.get("Connection", ""), "close");
  co_return std::move(response);
}

}  // namespace tornado::detail
