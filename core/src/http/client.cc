// AsyncHTTPClient: slots (max_clients), the connection pool, timeouts and
// redirects around detail::exchange(); HTTPClient, the blocking wrapper.
#include <algorithm>

#include "http/client_state.h"
#include "http/text.h"
#include "tornado/log.h"

namespace tornado {

namespace detail {
namespace {

// A slot among max_clients, given back (to the oldest waiter first) on destruction.
class Slot {
 public:
  explicit Slot(std::shared_ptr<ClientState> state) : state_(std::move(state)) {}
  ~Slot() {
    if (!state_->waiting.empty()) {
      Future<void> next = std::move(state_->waiting.front());
      state_->waiting.pop_front();
      next.set_result();  // the slot passes to it; active stays the same
    } else {
      --state_->active;
    }
  }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  std::shared_ptr<ClientState> state_;
};

Future<void> wait_for_slot(ClientState& state) {
  if (state.active < state.options.max_clients) {
    ++state.active;
    Future<void> ready;
    ready.set_result();
    return ready;
  }
  Future<void> turn;
  state.waiting.push_back(turn);
  return turn;
}

std::shared_ptr<IOStream> take_idle(ClientState& state, const std::string& key) {
  auto it = state.idle.find(key);
  while (it != state.idle.end() && !it->second.empty()) {
    std::shared_ptr<IOStream> stream = std::move(it->second.back());
    it->second.pop_back();
    if (!stream->closed()) return stream;
  }
  return nullptr;
}

void give_back(ClientState& state, const std::string& key, std::shared_ptr<IOStream> stream) {
  auto& pool = state.idle[key];
  if (pool.size() >= state.options.max_idle_per_host) {
    stream->close();
    return;
  }
  pool.push_back(std::move(stream));
}

ConnectOptions connect_options(const ParsedUrl& url, const HTTPRequest& request,
                               TimePoint deadline) {
  ConnectOptions options;
  // request_timeout covers connecting too.
  options.timeout =
      std::min<Duration>(request.connect_timeout, deadline - IOLoop::current().time());
  if (url.https) {
    options.ssl_options = request.ssl_options.value_or(SSLOptions{});
    if (!request.validate_cert) options.ssl_options->verify_mode = VerifyMode::none;
  }
  return options;
}

Future<std::shared_ptr<IOStream>> connect(ClientState& state, const ParsedUrl& url,
                                          const HTTPRequest& request, TimePoint deadline) {
  try {
    co_return co_await state.tcp.connect(url.host, url.port,
                                         connect_options(url, request, deadline));
  } catch (const TimeoutError&) {
  }
  throw HTTPClientError(599, "Timeout while connecting to " + url.key());
}

// Closes `stream` if the request is still running at the deadline.
class RequestDeadline {
 public:
  RequestDeadline(const std::shared_ptr<IOStream>& stream, TimePoint deadline)
      : loop_(IOLoop::current()) {
    handle_ = loop_.call_at(deadline, [this, weak = std::weak_ptr<IOStream>(stream)] {
      expired_ = true;
      if (auto s = weak.lock()) s->close(std::make_exception_ptr(TimeoutError("request_timeout")));
    });
  }
  ~RequestDeadline() { loop_.remove_timeout(handle_); }
  RequestDeadline(const RequestDeadline&) = delete;
  RequestDeadline& operator=(const RequestDeadline&) = delete;
  bool expired() const noexcept { return expired_; }

 private:
  IOLoop& loop_;
  TimeoutHandle handle_;
  bool expired_ = false;
};

bool is_stream_closed(const std::exception_ptr& error);

// Connections are shared only between requests with the same TLS settings.
std::string pool_key(const ParsedUrl& url, const HTTPRequest& request) {
  if (!url.https) return url.key();
  SSLOptions ssl = request.ssl_options.value_or(SSLOptions{});
  return url.key() + (request.validate_cert ? " verified" : " unverified") + " ca=" + ssl.ca_file +
         " capath=" + ssl.ca_path + " cert=" + ssl.certfile;
}

// One request on a pooled or new connection (a stale pooled one is retried once, on a new one).
Future<HTTPResponse> fetch_once(std::shared_ptr<ClientState> state, const HTTPRequest& request) {
  ParsedUrl url = parse_url(request.url);
  TimePoint deadline = IOLoop::current().time() + request.request_timeout;
  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<IOStream> stream =
        attempt == 0 ? take_idle(*state, pool_key(url, request)) : nullptr;
    bool reused = stream != nullptr;
    if (!stream) {
      stream = co_await connect(*state, url, request, deadline);
    }
    RequestDeadline timer(stream, deadline);
    bool keep_alive = false;
    std::optional<HTTPResponse> response;
    std::exception_ptr error;
    try {
      response = co_await exchange(*state, stream, url, request, keep_alive);
    } catch (...) {
      error = std::current_exception();
    }
    if (error || (!response && !reused)) {
      stream->close();
      if (timer.expired()) throw HTTPClientError(599, "Timeout during request");
      if (error && !is_stream_closed(error)) std::rethrow_exception(error);
      throw HTTPClientError(599, "Stream closed");
    }
    if (!response) continue;  // the pooled connection had gone stale
    if (keep_alive) {
      give_back(*state, pool_key(url, request), std::move(stream));
    } else {
      stream->close();
    }
    co_return std::move(*response);
  }
}

bool is_stream_closed(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const StreamClosedError&) {
    return true;
  } catch (...) {
    return false;
  }
}

bool is_redirect(int code) {
  return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

// The request a redirect leads to, as Tornado's _follow_redirects builds it.
HTTPRequest redirected(const HTTPRequest& request, int code, std::string_view location) {
  HTTPRequest next = request;
  next.url = resolve_location(request.url, location);
  next.max_redirects = request.max_redirects - 1;
  next.headers.remove("Host");
  bool to_get = code == 303 || (code == 302 && request.method != "HEAD") ||
                (code == 301 && request.method == "POST");
  if (to_get) {
    next.method = "GET";
    next.body.reset();
    for (const char* name :
         {"Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding"}) {
      next.headers.remove(name);
    }
  }
  return next;
}

}  // namespace
}  // namespace detail

HTTPClientError::HTTPClientError(int code, std::string message,
                                 std::shared_ptr<const HTTPResponse> response)
    : Error("HTTP " + std::to_string(code) + ": " + message),
      code_(code),
      response_(std::move(response)) {}

AsyncHTTPClient::AsyncHTTPClient(HTTPClientOptions options)
    : state_(std::make_shared<detail::ClientState>(std::move(options))) {
  if (state_->options.max_clients == 0) throw ValueError("max_clients must be at least 1");
}

AsyncHTTPClient::~AsyncHTTPClient() { close(); }

void AsyncHTTPClient::close() {
  for (auto& [key, streams] : state_->idle) {
    for (auto& stream : streams) stream->close();
  }
  state_->idle.clear();
}

std::size_t AsyncHTTPClient::idle_connections() const noexcept {
  std::size_t n = 0;
  for (const auto& [key, streams] : state_->idle) n += streams.size();
  return n;
}

Future<HTTPResponse> AsyncHTTPClient::fetch(std::string url, bool raise_error) {
  HTTPRequest request;
  request.url = std::move(url);
  return fetch(std::move(request), raise_error);
}

Future<HTTPResponse> AsyncHTTPClient::fetch(HTTPRequest request, bool raise_error) {
  std::shared_ptr<detail::ClientState> state = state_;
  TimePoint start = IOLoop::current().time();
  (void)detail::parse_url(request.url);  // a bad URL fails before queueing
  co_await detail::wait_for_slot(*state);
  detail::Slot slot(state);
  for (;;) {
    HTTPResponse response = co_await detail::fetch_once(state, request);
    auto location = response.headers.get_first("Location");
    if (request.follow_redirects && request.max_redirects > 0 &&
        detail::is_redirect(response.code) && location) {
      request = detail::redirected(request, response.code, *location);
      continue;
    }
    response.effective_url = request.url;
    response.request = std::move(request);
    response.request_time = std::chrono::duration<double>(IOLoop::current().time() - start).count();
    if (raise_error && (response.code < 200 || response.code >= 300)) {
      std::string reason = response.reason;
      int code = response.code;
      throw HTTPClientError(code, reason, std::make_shared<HTTPResponse>(std::move(response)));
    }
    co_return response;
  }
}

HTTPClient::HTTPClient(HTTPClientOptions options)
    : loop_(std::make_unique<IOLoop>()),
      client_(std::make_unique<AsyncHTTPClient>(std::move(options))) {}

HTTPClient::~HTTPClient() {
  client_.reset();
  loop_->close();
}

HTTPResponse HTTPClient::fetch(std::string url, bool raise_error) {
  HTTPRequest request;
  request.url = std::move(url);
  return fetch(std::move(request), raise_error);
}

HTTPResponse HTTPClient::fetch(HTTPRequest request, bool raise_error) {
  return loop_->run_sync([&] { return client_->fetch(std::move(request), raise_error); });
}

}  // namespace tornado
