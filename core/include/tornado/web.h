// A small web framework on HTTPServer (the core of tornado.web): routes to
// RequestHandler subclasses, one handler object per request.
//
//   class MainHandler : public RequestHandler {
//     Future<void> get(Args) override {
//       write("Hello, world!");
//       co_return;
//     }
//   };
//   class UserHandler : public RequestHandler {
//     Future<void> get(Args args) override {  // args[0]: the ([0-9]+) group
//       write("user " + args[0] + ", sort=" + get_argument("sort", "name"));
//       co_return;
//     }
//   };
//
//   Application app({url<MainHandler>("/"), url<UserHandler>("/user/([0-9]+)")});
//   HTTPServer server(app);
//   server.listen(8888);
//   IOLoop::current().start();
//
// Patterns are RE2 regular expressions matched against the whole path (still
// %-escaped, as Tornado); their groups, unescaped, become the handler's Args.
// A path no route matches gets 404; a method the handler does not override
// gets 405. An exception escaping a handler becomes an error page: an
// HTTPError's status, else 500 (logged with the request). Every finished
// request writes one access-log line through tornado::log:
// "200 GET /user/7 (127.0.0.1) 0.41ms" (info below 400, warning for 4xx,
// error for 5xx).
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tornado/concurrent.h"
#include "tornado/errors.h"
#include "tornado/httpserver.h"
#include "tornado/httputil.h"

namespace tornado {

/// Thrown from a handler to answer with `status_code` (tornado.web.HTTPError).
/// log_message, if any, is logged (as a warning) but not shown to the client.
class HTTPError : public Error {
 public:
  explicit HTTPError(int status_code = 500, std::string log_message = {}, std::string reason = {});
  int status_code() const noexcept { return status_code_; }
  const std::string& log_message() const noexcept { return log_message_; }
  /// The reason phrase to send (the standard one unless given).
  const std::string& reason() const noexcept { return reason_; }

 private:
  int status_code_;
  std::string log_message_;
  std::string reason_;
};

/// get_argument() without a default, for an argument the request lacks (400).
class MissingArgumentError : public HTTPError {
 public:
  explicit MissingArgumentError(const std::string& name);
};

class Application;

/// Handles one request; subclass it and override the methods you serve.
/// Output is buffered until flush() or finish(); if the handler returns
/// without finish(), it is finished for it. Loop thread only.
class RequestHandler {
 public:
  /// The route's groups, %-unescaped.
  using Args = std::vector<std::string>;

  RequestHandler() = default;
  virtual ~RequestHandler();
  RequestHandler(const RequestHandler&) = delete;
  RequestHandler& operator=(const RequestHandler&) = delete;

  // ---- Override these ------------------------------------------------------

  /// Runs before the method; finishing here skips the method.
  virtual Future<void> prepare();
  /// One per HTTP method; the defaults answer 405.
  virtual Future<void> get(Args args);
  virtual Future<void> head(Args args);
  virtual Future<void> post(Args args);
  virtual Future<void> put(Args args);
  virtual Future<void> delete_(Args args);  // DELETE (delete is a C++ keyword)
  virtual Future<void> patch(Args args);
  virtual Future<void> options(Args args);
  /// Called after the response is finished (to clean up).
  virtual void on_finish() {}
  /// Writes the body of an error page; the default is Tornado's small HTML
  /// page ("404: Not Found"). `error` is what was thrown, if anything.
  virtual void write_error(int status_code, const std::exception_ptr& error);

  // ---- Input ----------------------------------------------------------------

  HTTPServerRequest& request() const { return *request_; }
  /// The last value of argument `name` (query or form body). Throws
  /// MissingArgumentError if there is none.
  std::string get_argument(std::string_view name) const;
  /// The same, with a fallback for a missing argument.
  std::string get_argument(std::string_view name, std::string_view fallback) const;
  /// Every value of `name`, query first, then body.
  std::vector<std::string> get_arguments(std::string_view name) const;
  std::optional<std::string> get_query_argument(std::string_view name) const;
  std::optional<std::string> get_body_argument(std::string_view name) const;

  // ---- Output ---------------------------------------------------------------

  /// The response status; reason defaults to the standard phrase.
  void set_status(int status_code, std::string reason = {});
  int get_status() const noexcept { return status_; }
  /// Replaces (set) or adds to (add) a response header; clear removes it.
  void set_header(std::string_view name, std::string_view value);
  void add_header(std::string_view name, std::string_view value);
  void clear_header(std::string_view name);
  /// Appends to the body. Throws UsageError after finish().
  void write(std::string_view chunk);
  /// Sends the headers and what is buffered so far.
  [[nodiscard]] Future<void> flush();
  /// Ends the response (and logs it). Calls after the first do nothing.
  [[nodiscard]] Future<void> finish();
  /// Answers `url` with 302 (301 if permanent) and finishes.
  [[nodiscard]] Future<void> redirect(std::string_view url, bool permanent = false);
  /// Resets status, headers and buffered body to the defaults.
  void clear();
  /// Replaces the response with an error page and finishes it (if the
  /// headers have gone already, it can only finish).
  [[nodiscard]] Future<void> send_error(int status_code = 500, std::exception_ptr error = nullptr);
  bool finished() const noexcept { return finished_; }

 private:
  friend class Application;
  // Runs `self` on `request`, owning it until the response is done.
  static Future<void> execute(std::unique_ptr<RequestHandler> self, HTTPServerRequest& request,
                              Args args, const Application& application);
  Future<void> dispatch(Args args);
  Future<void> handle_exception(std::exception_ptr error);
  void move_to_writer();

  HTTPServerRequest* request_ = nullptr;
  const Application* application_ = nullptr;
  int status_ = 200;
  std::string reason_;
  HTTPHeaders headers_;
  std::string buffer_;
  bool finished_ = false;
};

/// One route: a pattern and what makes the handler for each request.
struct Route {
  std::string pattern;
  std::function<std::unique_ptr<RequestHandler>()> factory;
};

/// A route to handler type H, made with H(args...) for each request.
template <class H, class... A>
Route url(std::string pattern, A... args) {
  static_assert(std::is_base_of_v<RequestHandler, H>, "url<H>: H must derive from RequestHandler");
  return {std::move(pattern), [args...] { return std::make_unique<H>(args...); }};
}

/// Routes requests to handlers. Pass it to HTTPServer as the callback; copies
/// share the routes. Loop thread only.
class Application {
 public:
  /// Throws ValueError for a pattern RE2 rejects.
  explicit Application(std::vector<Route> routes);
  ~Application();
  Application(const Application&);
  Application& operator=(const Application&);

  /// Finds the route for `request` and runs its handler.
  Future<void> operator()(HTTPServerRequest& request) const;
  /// Writes the access-log line for a finished request (override the sink
  /// with tornado::log::set_sink to send it elsewhere).
  void log_request(const RequestHandler& handler) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace tornado
