// HTTPResponseWriter: status line, headers and body framing for one response.
#include <cstdio>
#include <string>
#include <utility>

#include "http/server_state.h"
#include "http/text.h"
#include "tornado/log.h"

namespace tornado {

namespace {

using detail::ResponseState;

Future<void> done_future() {
  Future<void> done;
  done.set_result();
  return done;
}

// A body at least this large goes to the stream as a write of its own,
// moved rather than copied behind the head; a smaller one shares the head's
// write, so a small response is one send.
constexpr std::size_t kSeparateBodySize = 16 * 1024;

// Decides how the body is framed; true when finish() must add a
// Content-Length (the length is known: everything is written).
bool decide_framing(ResponseState& s, bool finishing) {
  s.body_allowed = !(s.code < 200 || s.code == 204 || s.code == 304);
  auto te = s.headers.get_first("Transfer-Encoding");
  s.chunked = te && detail::iequals(*te, "chunked");
  bool add_length = false;
  if (s.body_allowed && !te && !s.headers.contains("Content-Length")) {
    if (finishing) {
      add_length = true;
      s.declared_length = s.pending.size();
    } else if (s.http11) {
      s.headers.add("Transfer-Encoding", "chunked");
      s.chunked = true;
    } else {
      s.keep_alive = false;  // an HTTP/1.0 body without a length ends at the close
    }
  }
  if (s.body_allowed && !s.chunked && !add_length) {
    try {
      s.declared_length = parse_content_length(s.headers);
    } catch (const HTTPInputError&) {
      throw UsageError("HTTPResponseWriter: invalid Content-Length header");
    }
  }
  return add_length;
}

// Renders the status line and headers into `out`, reserving room for
// `body_size` more bytes to follow.
void render_head(ResponseState& s, bool finishing, std::size_t body_size, std::string& out) {
  // A length worked out here goes straight to the wire: adding it to
  // s.headers could reallocate them, for a field nobody reads back.
  bool add_length = decide_framing(s, finishing);
  auto connection = s.headers.get_first("Connection");
  if (connection && detail::iequals(*connection, "close")) s.keep_alive = false;
  if (!s.keep_alive && s.http11 && !connection) s.headers.set("Connection", "close");
  if (s.keep_alive && !s.http11) s.headers.set("Connection", "keep-alive");

  std::string_view reason = s.reason.empty() ? reason_phrase(s.code) : s.reason;
  std::size_t size = 50 + reason.size() + body_size;
  for (const auto& [name, value] : s.headers) size += name.size() + value.size() + 4;
  out.reserve(size);
  out.append("HTTP/1.1 ").append(std::to_string(s.code)).append(" ").append(reason).append("\r\n");
  for (const auto& [name, value] : s.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (add_length) {
    out.append("Content-Length: ").append(std::to_string(s.pending.size())).append("\r\n");
  }
  out.append("\r\n");
  s.headers_sent = true;
}

bool body_to_send(const ResponseState& s) {
  return s.body_allowed && !s.head_request && !s.pending.empty();
}

// Appends the pending body (framed) to `out`; a large unframed body is
// left in s.pending for a write of its own.
void append_body(ResponseState& s, std::string& out) {
  s.body_written += s.pending.size();
  if (!body_to_send(s)) {
    s.pending.clear();
  } else if (s.chunked) {
    char size[20];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", s.pending.size());
    out.append(size, static_cast<std::size_t>(n)).append(s.pending).append("\r\n");
    s.pending.clear();
  } else if (s.pending.size() < kSeparateBodySize) {
    out.append(s.pending);
    s.pending.clear();
  }
}

Future<void> send(ResponseState& s, std::string out) {
  if (!out.empty()) s.last_write = s.stream->write(std::move(out));
  if (!s.pending.empty()) s.last_write = s.stream->write(std::exchange(s.pending, {}));
  return s.last_write ? *s.last_write : done_future();
}

// Status line, headers (the first time) and the pending body, framed.
std::string render(ResponseState& s, bool finishing) {
  std::string out;
  std::size_t body = body_to_send(s) && s.pending.size() < kSeparateBodySize ? s.pending.size() : 0;
  if (!s.headers_sent) render_head(s, finishing, body + 32, out);
  append_body(s, out);
  return out;
}

}  // namespace

HTTPResponseWriter::HTTPResponseWriter(std::shared_ptr<detail::ResponseState> state)
    : s_(std::move(state)) {}
HTTPResponseWriter::~HTTPResponseWriter() = default;

void HTTPResponseWriter::set_status(int code, std::string reason) {
  if (s_->headers_sent) throw UsageError("set_status() after the headers were sent");
  if (code < 100 || code > 999)
    throw ValueError("HTTP status out of range: " + std::to_string(code));
  s_->code = code;
  s_->reason = std::move(reason);
}

int HTTPResponseWriter::status() const noexcept { return s_->code; }
HTTPHeaders& HTTPResponseWriter::headers() { return s_->headers; }
bool HTTPResponseWriter::headers_sent() const noexcept { return s_->headers_sent; }
bool HTTPResponseWriter::finished() const noexcept { return s_->finished; }

void HTTPResponseWriter::write(std::string_view chunk) {
  if (s_->finished) throw UsageError("write() after finish()");
  s_->pending.append(chunk);
}

void HTTPResponseWriter::write(std::string&& chunk) {
  if (s_->finished) throw UsageError("write() after finish()");
  if (s_->pending.empty()) {
    s_->pending = std::move(chunk);
  } else {
    s_->pending.append(chunk);
  }
}

Future<void> HTTPResponseWriter::flush() {
  if (s_->finished) return send(*s_, {});
  return send(*s_, render(*s_, false));
}

Future<void> HTTPResponseWriter::finish() {
  if (s_->finished) return send(*s_, {});
  std::string out = render(*s_, true);
  if (s_->chunked && s_->body_allowed && !s_->head_request) out += "0\r\n\r\n";
  s_->finished = true;
  bool length_wrong =
      s_->declared_length && !s_->head_request && *s_->declared_length != s_->body_written;
  if (length_wrong) {
    // The peer cannot find the next response: this connection is done.
    log::error(log::cat("Tried to send ", s_->body_written, " bytes with Content-Length ",
                        *s_->declared_length, "; closing the connection"));
    s_->keep_alive = false;
  }
  return send(*s_, std::move(out));
}

}  // namespace tornado
