// RequestHandler: buffered output, arguments, error pages and the
// prepare/method/finish sequence of one request (tornado/web.py).
#include <time.h>

#include <array>
#include <ctime>

#include "tornado/log.h"
#include "tornado/web.h"

namespace tornado {

namespace {

Future<void> not_allowed() { throw HTTPError(405); }

// "Sun, 22 Nov 2026 05:42:36 GMT" (RFC 9110 IMF-fixdate).
std::string http_date(std::time_t now) {
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::array<char, 40> text{};
  std::size_t n = std::strftime(text.data(), text.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(text.data(), n);
}

// The headers every response starts with. Date changes once a second, so
// the set is rebuilt then (per thread: each loop has its own), as nginx and
// Tornado cache their date, not per request.
const HTTPHeaders& default_headers() {
  thread_local std::time_t second = -1;
  thread_local HTTPHeaders headers;
  std::time_t now = std::time(nullptr);
  if (now != second) {
    second = now;
    headers = HTTPHeaders{{"Server", "tornado-cpp"},
                          {"Content-Type", "text/html; charset=UTF-8"},
                          {"Date", http_date(now)}};
  }
  return headers;
}

Future<void> done_future() {
  Future<void> done;
  done.set_result();
  return done;
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const std::vector<std::string>* find_values(const QueryArguments& args, std::string_view name) {
  auto it = args.find(name);
  return it == args.end() || it->second.empty() ? nullptr : &it->second;
}

}  // namespace

HTTPError::HTTPError(int status_code, std::string log_message, std::string reason)
    : Error("HTTP " + std::to_string(status_code) + ": " +
            (reason.empty() ? std::string(reason_phrase(status_code)) : reason) +
            (log_message.empty() ? "" : " (" + log_message + ")")),
      status_code_(status_code),
      log_message_(std::move(log_message)),
      reason_(reason.empty() ? std::string(reason_phrase(status_code)) : std::move(reason)) {}

MissingArgumentError::MissingArgumentError(const std::string& name)
    : HTTPError(400, "Missing argument " + name, "Missing argument " + name) {}

RequestHandler::~RequestHandler() = default;

// Not a coroutine: a frame per request for nothing is worth avoiding.
Future<void> RequestHandler::prepare() { return done_future(); }
Future<void> RequestHandler::get(Args) { return not_allowed(); }
Future<void> RequestHandler::head(Args) { return not_allowed(); }
Future<void> RequestHandler::post(Args) { return not_allowed(); }
Future<void> RequestHandler::put(Args) { return not_allowed(); }
Future<void> RequestHandler::delete_(Args) { return not_allowed(); }
Future<void> RequestHandler::patch(Args) { return not_allowed(); }
Future<void> RequestHandler::options(Args) { return not_allowed(); }

void RequestHandler::write_error(int status_code, const std::exception_ptr&) {
  std::string title = std::to_string(status_code) + ": " + html_escape(reason_);
  write("<html><title>" + title + "</title><body>" + title + "</body></html>");
}

// ---- Input ----------------------------------------------------------------------

std::string RequestHandler::get_argument(std::string_view name) const {
  const auto* values = find_values(request_->arguments, name);
  if (values == nullptr) throw MissingArgumentError(std::string(name));
  return values->back();
}

std::string RequestHandler::get_argument(std::string_view name, std::string_view fallback) const {
  const auto* values = find_values(request_->arguments, name);
  return values == nullptr ? std::string(fallback) : values->back();
}

std::vector<std::string> RequestHandler::get_arguments(std::string_view name) const {
  const auto* values = find_values(request_->arguments, name);
  return values == nullptr ? std::vector<std::string>() : *values;
}

std::optional<std::string> RequestHandler::get_query_argument(std::string_view name) const {
  const auto* values = find_values(request_->query_arguments, name);
  return values == nullptr ? std::nullopt : std::optional<std::string>(values->back());
}

std::optional<std::string> RequestHandler::get_body_argument(std::string_view name) const {
  const auto* values = find_values(request_->body_arguments, name);
  return values == nullptr ? std::nullopt : std::optional<std::string>(values->back());
}

// ---- Output -----------------------------------------------------------------------

void RequestHandler::set_status(int status_code, std::string reason) {
  if (status_code < 100 || status_code > 999) {
    throw ValueError("HTTP status out of range: " + std::to_string(status_code));
  }
  status_ = status_code;
  reason_ = reason.empty() ? std::string(reason_phrase(status_code)) : std::move(reason);
}

void RequestHandler::set_header(std::string_view name, std::string_view value) {
  headers_.set(name, value);
}
void RequestHandler::add_header(std::string_view name, std::string_view value) {
  headers_.add(name, value);
}
void RequestHandler::clear_header(std::string_view name) { headers_.remove(name); }

void RequestHandler::write(std::string_view chunk) {
  if (finished_) throw UsageError("Cannot write() after finish()");
  buffer_.append(chunk);
}

void RequestHandler::clear() {
  headers_ = default_headers();
  buffer_.clear();
  set_status(200);
}

// Hands status, headers (the first time) and the buffer to the connection.
void RequestHandler::move_to_writer() {
  HTTPResponseWriter& writer = request_->response();
  if (!writer.headers_sent()) {
    writer.set_status(status_, reason_);
    writer.headers() = std::move(headers_);  // the handler's copy has no use once sent
  }
  writer.write(std::move(buffer_));
  buffer_.clear();
}

Future<void> RequestHandler::flush() {
  move_to_writer();
  return request_->response().flush();
}

Future<void> RequestHandler::finish() {
  if (finished_) return request_->response().finish();
  finished_ = true;
  move_to_writer();
  Future<void> sent = request_->response().finish();
  application_->log_request(*this);
  on_finish();
  return sent;
}

Future<void> RequestHandler::redirect(std::string_view url, bool permanent) {
  if (request_->response().headers_sent())
    throw UsageError("Cannot redirect after headers were sent");
  set_status(permanent ? 301 : 302);
  set_header("Location", url);
  return finish();
}

Future<void> RequestHandler::send_error(int status_code, std::exception_ptr error) {
  if (request_->response().headers_sent()) {
    if (!finished_) return finish();
    return request_->response().finish();
  }
  clear();
  std::string reason;
  try {
    if (error) std::rethrow_exception(error);
  } catch (const HTTPError& e) {
    reason = e.reason();
  } catch (...) {
  }
  set_status(status_code, reason);
  try {
    write_error(status_code, error);
  } catch (...) {
    log::error("Uncaught exception in write_error: " + log::describe(std::current_exception()));
  }
  return finish();
}

// ---- The request's life ---------------------------------------------------------------

Future<void> RequestHandler::dispatch(Args args) {
  const std::string& method = request_->method;
  if (method == "GET") return get(std::move(args));
  if (method == "HEAD") return head(std::move(args));
  if (method == "POST") return post(std::move(args));
  if (method == "PUT") return put(std::move(args));
  if (method == "DELETE") return delete_(std::move(args));
  if (method == "PATCH") return patch(std::move(args));
  if (method == "OPTIONS") return options(std::move(args));
  throw HTTPError(405);
}

Future<void> RequestHandler::handle_exception(std::exception_ptr error) {
  int status = 500;
  try {
    std::rethrow_exception(error);
  } catch (const HTTPError& e) {
    status = e.status_code();
    if (!e.log_message().empty()) {
      log::warning(log::cat(status, " ", request_->method, " ", request_->uri, " (",
                            request_->remote_ip, "): ", e.log_message()));
    }
  } catch (...) {
    log::error(log::cat("Uncaught exception ", request_->method, " ", request_->uri, " (",
                        request_->remote_ip, "): ", log::describe(error)));
  }
  if (finished_) return request_->response().finish();
  return send_error(status, error);
}

Future<void> RequestHandler::execute(std::unique_ptr<RequestHandler> self,
                                     HTTPServerRequest& request, Args args,
                                     const Application& application) {
  RequestHandler& h = *self;  // this coroutine owns the handler until the response is done
  h.request_ = &request;
  h.application_ = &application;
  h.clear();
  std::exception_ptr error;
  try {
    co_await h.prepare();
    if (!h.finished_) co_await h.dispatch(std::move(args));
    if (!h.finished_) co_await h.finish();
  } catch (...) {
    error = std::current_exception();
  }
  if (error) co_await h.handle_exception(error);
}

}  // namespace tornado
