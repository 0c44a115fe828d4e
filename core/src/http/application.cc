// Application: RE2 routes to RequestHandler factories, and the access log.
#include <re2/re2.h>

#include <cstdio>
#include <optional>
#include <string_view>

#include "tornado/log.h"
#include "tornado/web.h"

namespace tornado {

namespace {

// What answers a path no route matches.
class NotFoundHandler : public RequestHandler {
  Future<void> prepare() override { throw HTTPError(404); }
};

}  // namespace

struct Application::Impl {
  struct Compiled {
    std::unique_ptr<RE2> pattern;
    std::function<std::unique_ptr<RequestHandler>()> factory;
  };
  static std::optional<RequestHandler::Args> match(const Compiled& route, std::string_view path);

  std::vector<Compiled> routes;
};

Application::Application(std::vector<Route> routes) {
  auto impl = std::make_shared<Impl>();
  RE2::Options options;
  options.set_log_errors(false);
  for (Route& route : routes) {
    auto pattern = std::make_unique<RE2>(route.pattern, options);
    if (!pattern->ok()) {
      throw ValueError("Bad route pattern " + route.pattern + ": " + pattern->error());
    }
    impl->routes.push_back({std::move(pattern), std::move(route.factory)});
  }
  impl_ = std::move(impl);
}

Application::~Application() = default;
Application::Application(const Application&) = default;
Application& Application::operator=(const Application&) = default;

// The route's groups (%-unescaped) if `path` matches its whole pattern.
std::optional<RequestHandler::Args> Application::Impl::match(const Compiled& route,
                                                             std::string_view path) {
  // RE2 reports the groups as views of `path`, after group 0 (the whole
  // match); with no groups to report it need not find any, which is faster.
  std::size_t groups = static_cast<std::size_t>(route.pattern->NumberOfCapturingGroups());
  std::vector<re2::StringPiece> found(groups == 0 ? 0 : groups + 1);
  re2::StringPiece text(path.data(), path.size());
  if (!route.pattern->Match(text, 0, text.size(), RE2::ANCHOR_BOTH, found.data(),
                            static_cast<int>(found.size()))) {
    return std::nullopt;
  }
  RequestHandler::Args args;
  args.reserve(groups);
  for (std::size_t i = 1; i <= groups; ++i) {
    args.push_back(url_unescape(std::string_view(found[i].data(), found[i].size()), false));
  }
  return args;
}

Future<void> Application::operator()(HTTPServerRequest& request) const {
  for (const auto& route : impl_->routes) {
    if (auto args = Impl::match(route, request.path)) {
      return RequestHandler::execute(route.factory(), request, std::move(*args), *this);
    }
  }
  return RequestHandler::execute(std::make_unique<NotFoundHandler>(), request, {}, *this);
}

void Application::log_request(const RequestHandler& handler) const {
  int status = handler.get_status();
  log::Level level = status < 400   ? log::Level::info
                     : status < 500 ? log::Level::warning
                                    : log::Level::error;
  if (level < log::level()) return;  // dropped anyway: skip the formatting
  const HTTPServerRequest& request = handler.request();
  char elapsed[32];
  int n = std::snprintf(elapsed, sizeof elapsed, ") %.2fms", request.request_time() * 1000.0);
  std::string line = std::to_string(status);
  line.append(" ").append(request.method).append(" ").append(request.uri);
  line.append(" (").append(request.remote_ip).append(elapsed, static_cast<std::size_t>(n));
  log::write(level, line);
}

}  // namespace tornado
