// HTTPResponseWriter: status line, headers and body framing for one response.
#include <cstdio>
#include <string>

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

// Decides how the body is framed and renders the status line and headers.
std::string render_head(ResponseState& s, bool finishing) {
  s.body_allowed = !(s.code < 200 || s.code == 204 || s.code == 304);
  auto te = s.headers.get_first("Transfer-Encoding");
  s.chunked = te && detail::iequals(*te, "chunked");
  if (s.body_allowed && !te && !s.headers.contains("Content-Length")) {
    if (finishing) {
      s.headers.set("Content-Length", std::to_string(s.pending.size()));
    } else if (s.http11) {
      s.headers.set("Transfer-Encoding", "chunked");
      s.chunked = true;
    } else {
      s.keep_alive = false;  // an HTTP/1.0 body without a length ends at the close
    }
  }
  if (s.body_allowed && !s.chunked) {
    try {
      s.declared_length = parse_content_length(s.headers);
    } catch (const HTTPInputError&) {
      throw UsageError("HTTPResponseWriter: invalid Content-Length header");
    }
  }
  auto connection = s.headers.get_first("Connection");
  if (connection && detail::iequals(*connection, "close")) s.keep_alive = false;
  if (!s.keep_alive && s.http11 && !connection) s.headers.set("Connection", "close");
  if (s.keep_alive && !s.http11) s.headers.set("Connection", "keep-alive");

  std::string reason = s.reason.empty() ? std::string(reason_phrase(s.code)) : s.reason;
  std::string out = "HTTP/1.1 " + std::to_string(s.code) + " " + reason + "\r\n";
  out += s.headers.to_wire();
  out += "\r\n";
  s.headers_sent = true;
  return out;
}

void append_body(ResponseState& s, std::string& out) {
  s.body_written += s.pending.size();
  bool send = s.body_allowed && !s.head_request && !s.pending.empty();
  if (send && s.chunked) {
    char size[20];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", s.pending.size());
    out.append(size, static_cast<std::size_t>(n)).append(s.pending).append("\r\n");
  } else if (send) {
    out += s.pending;
  }
  s.pending.clear();
}

Future<void> send(ResponseState& s, std::string out) {
  if (out.empty()) return s.last_write ? *s.last_write : done_future();
  s.last_write = s.stream->write(std::move(out));
  return *s.last_write;
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

Future<void> HTTPResponseWriter::flush() {
  if (s_->finished) return send(*s_, {});
  std::string out;
  if (!s_->headers_sent) out = render_head(*s_, false);
  append_body(*s_, out);
  return send(*s_, std::move(out));
}

Future<void> HTTPResponseWriter::finish() {
  if (s_->finished) return send(*s_, {});
  std::string out;
  if (!s_->headers_sent) out = render_head(*s_, true);
  append_body(*s_, out);
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
